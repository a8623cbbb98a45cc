"""Attachments saved with their conversation, on SQLite and on a real PostgreSQL: they come back when it is
reopened, are written once per round, and go when the conversation is purged."""

from __future__ import annotations

import time

from gateway.attachments import prepare
from gateway.conversation import Conversation
from gateway.reply import Outcome, Reply
from gateway.store import Store
from gateway.store.store import DELETED_RETENTION
from tests.test_attachments import pdf, png
from tests.test_store import ANA, BEN, rows_in, save


def with_files() -> Conversation:
    conv = Conversation("chat", models=["m"])
    first = conv.add_prompt("Look", [prepare("chart.png", png(300, 200, "RGBA")), prepare("s.csv", b"a,b\n1,2\n"),
                                     prepare("r.pdf", pdf("Revenue grew"))])
    first.add(Reply("m", "Seen", Outcome.COMPLETE))
    conv.add_prompt("No files").add(Reply("m", "Ok", Outcome.COMPLETE))
    return conv


def test_attachments_come_back_when_the_conversation_is_reopened(store: Store) -> None:
    conv = with_files()
    save(store, conv)
    store.flush()
    back = store.load(conv.id, ANA)
    assert back is not None
    image, table, document = back.rounds[0].attachments
    original = conv.rounds[0].attachments
    assert image == original[0] and image.data == original[0].data and (image.width, image.height) == (300, 200)
    assert table == original[1] and (table.rows, table.cols) == (1, 2)
    assert document == original[2] and document.pages == 1
    assert back.rounds[1].attachments == []
    assert back.history() == conv.history()  # the same content parts: the image byte for byte, the texts
    assert store.load(conv.id, BEN) is None  # someone else's files are not theirs to see


def test_a_round_saved_again_keeps_its_files_once(store: Store) -> None:
    conv = with_files()
    save(store, conv)
    conv.rounds[0].add(Reply("m", "Seen again", Outcome.COMPLETE, run=2))
    store.save_round(conv, 0, ANA)
    store.flush()
    assert rows_in(store, "attachments") == 3
    conv.rounds[0].attachments.pop()  # a round whose files changed is rewritten
    store.save_round(conv, 0, ANA)
    store.flush()
    assert [a.name for a in store.load(conv.id, ANA).rounds[0].attachments] == ["chart.png", "s.csv"]


def test_purging_a_conversation_deletes_its_files(store: Store) -> None:
    conv = with_files()
    save(store, conv)
    assert store.delete(conv.id, ANA) is True
    store.housekeep(now=time.time() + DELETED_RETENTION + 60)
    store.flush()
    assert rows_in(store, "attachments") == 0 and rows_in(store, "rounds") == 0
