"""The write-behind queue on its own (no database): changes merge while they wait, a failed change is retried
with whatever newer arrived meanwhile, a change the database refuses for good is dropped and counted."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from gateway.conversation import Conversation
from gateway.reply import Outcome, Reply
from gateway.store import rows, writer
from gateway.store.writer import WriteBehind

DOWN = sa.exc.OperationalError("INSERT …", {}, Exception("connection refused"))
REFUSED = sa.exc.IntegrityError("INSERT …", {}, Exception("violates a constraint"))


class Recorder:
    """A `write` that records what it was given, can be held, and fails when told to."""

    def __init__(self) -> None:
        self.written: list[Any] = []
        self.failures: list[tuple[BaseException, bool]] = []
        self.fail_with: list[BaseException] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def write(self, change: Any) -> None:
        self.entered.set()
        assert self.gate.wait(10)
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.written.append(change)

    def queue(self) -> WriteBehind:
        return WriteBehind(self.write, lambda old, new: old + new, probe=lambda: None, on_success=lambda: None,
                           on_failure=lambda error, retrying: self.failures.append((error, retrying)))


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "FIRST_BACKOFF", 0.01)


def test_changes_to_one_key_merge_while_they_wait() -> None:
    recorder = Recorder()
    queue = recorder.queue()
    recorder.gate.clear()
    queue.put("conv-1", "ana", ["turn 1"])
    assert recorder.entered.wait(5)  # turn 1 is being written
    queue.put("conv-1", "ana", ["turn 2"])
    queue.put("conv-2", "ben", ["other"])
    queue.put("conv-1", "ana", ["turn 3"])
    assert queue.pending() == 3  # one being written, two waiting
    recorder.gate.set()
    assert queue.wait(timeout=5)
    assert recorder.written == [["turn 1"], ["turn 2", "turn 3"], ["other"]]
    queue.close()


def test_a_failed_change_is_retried_with_what_arrived_meanwhile() -> None:
    recorder = Recorder()
    queue = recorder.queue()
    recorder.gate.clear()
    recorder.fail_with = [DOWN, DOWN]
    queue.put("conv-1", "ana", ["turn 1"])
    assert recorder.entered.wait(5)
    queue.put("conv-1", "ana", ["turn 2"])
    recorder.gate.set()
    assert queue.wait(timeout=5)
    assert recorder.written == [["turn 1", "turn 2"]]
    assert [retrying for _, retrying in recorder.failures] == [True, True]
    assert queue.lost == 0
    queue.close()


def test_a_change_the_database_refuses_is_dropped_and_counted() -> None:
    recorder = Recorder()
    queue = recorder.queue()
    recorder.fail_with = [REFUSED]
    queue.put("bad", "ana", ["poison"])
    queue.put("good", "ana", ["fine"])
    assert queue.wait(timeout=5)
    assert recorder.written == [["fine"]]
    assert queue.lost == 1 and recorder.failures == [(REFUSED, False)]
    queue.close()


def test_waiting_for_one_analyst_does_not_wait_for_another() -> None:
    recorder = Recorder()
    queue = recorder.queue()
    recorder.gate.clear()
    queue.put("ben's", "ben", ["slow"])
    assert recorder.entered.wait(5)
    assert queue.wait("ana", timeout=0.01) is True
    assert queue.wait("ben", timeout=0.01) is False
    recorder.gate.set()
    assert queue.wait("ben", timeout=5)
    queue.close()


def test_too_many_waiting_changes_drop_the_oldest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writer, "MAX_PENDING", 2)
    recorder = Recorder()
    queue = recorder.queue()
    recorder.gate.clear()
    queue.put("first", "ana", [0])
    assert recorder.entered.wait(5)
    for key in ("a", "b", "c"):
        queue.put(key, "ana", [key])
    assert queue.lost == 1
    recorder.gate.set()
    assert queue.wait(timeout=5)
    assert recorder.written == [[0], ["b"], ["c"]]
    queue.close()


def test_closing_writes_what_waits() -> None:
    recorder = Recorder()
    queue = recorder.queue()
    for i in range(20):
        queue.put(i, "ana", [i])
    assert queue.close(timeout=5)
    assert recorder.written == [[i] for i in range(20)]


def test_snapshots_of_one_conversation_merge_newest_round_first() -> None:
    conv = Conversation("chat")
    for prompt in ("one", "two"):
        conv.add_prompt(prompt).add(Reply("m", prompt, Outcome.COMPLETE))
    head = rows.header(conv, "ana", 1.0)
    one, two = (round_.key for round_ in conv.rounds)  # snapshots hold rounds by key
    first = rows.Snapshot(head, {one: rows.round_rows(conv.rounds[0], 0, 1.0)})
    conv.rounds[0].runs["m"][0].text = "changed"
    second = rows.Snapshot(head, {one: rows.round_rows(conv.rounds[0], 0, 2.0),
                                  two: rows.round_rows(conv.rounds[1], 1, 2.0)})
    merged = first.then(second)
    assert set(merged.rounds) == {one, two} and merged.rounds[one].replies[0]["text"] == "changed"
    assert not merged.whole
    whole = rows.Snapshot(head, {}, whole=True, drop=frozenset({one}))
    assert first.then(whole) == whole  # a whole conversation that let the round go replaces what waited
    assert whole.then(first).whole and list(whole.then(first).rounds) == [one]


def test_the_snapshot_does_not_follow_later_changes_to_the_record() -> None:
    conv = Conversation("chat")
    reply = conv.add_prompt("p").add(Reply("m", "partial", Outcome.STREAMING))
    snapshot = rows.round_rows(conv.rounds[0], 0, 1.0)
    reply.text, reply.outcome = "partial and more", Outcome.COMPLETE
    assert (snapshot.replies[0]["text"], snapshot.replies[0]["outcome"]) == ("partial", "streaming")
