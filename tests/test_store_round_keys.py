"""Rounds are saved by their key: saving a round again updates it where it is, and a round new to the store never
overwrites another tab's round at the same place (it goes in the order the prompts were sent). The rules are in
gateway/store/queries.py; the two-process version of this is tests/test_store_shared_conversation.py.

Every store test runs on SQLite and on PostgreSQL (`store` / `database_url`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway import exports
from gateway.conversation import Conversation, Round
from gateway.reply import Metrics, Outcome, Reply
from gateway.store import Store, queries, rows

ANA = "ana@example.com"


def answered(conv: Conversation, prompt: str, at: float, model: str = "m") -> Round:
    round_ = conv.add_prompt(prompt)
    round_.created_at = at
    round_.add(Reply(model, f"reply to {prompt}", Outcome.COMPLETE, Metrics(cost=0.01)))
    return round_


def prompts(store: Store, conversation_id: str) -> list[str]:
    return [r.prompt for r in store.load(conversation_id, ANA).rounds]


@pytest.fixture
def other(database_url: str, store: Store) -> Iterator[Store]:
    """A second process (a second replica) on the same database."""
    opened = Store.open(database_url)
    yield opened
    opened.close()


@pytest.fixture
def tabs(store: Store, other: Store) -> tuple[Conversation, Conversation]:
    """One saved conversation (two rounds) open in two tabs, each on its own replica."""
    conv = Conversation("chat", models=["m"])
    for i, prompt in enumerate(("one", "two")):
        answered(conv, prompt, 100.0 + i)
        store.save_round(conv, i, ANA)
    assert store.flush()
    return store.load(conv.id, ANA), other.load(conv.id, ANA)


# --- where a round new to the store goes ----------------------------------------------------------------------------

@pytest.mark.parametrize(("stored", "expected"), [
    ([], (3, False)),  # nothing there: its own place
    ([(3, 5.0, "b")], (4, False)),  # taken by a round sent before it: after it
    ([(3, 20.0, "b")], (3, True)),  # taken by a round sent after it: its place, that one moves down
    ([(3, 10.0, "a")], (4, False)),  # sent at the same time: the smaller key first
    ([(3, 10.0, "c")], (3, True)),
    ([(3, 5.0, "b"), (4, 6.0, "c"), (5, 20.0, "d")], (5, True)),  # between the rounds sent before and after it
    ([(6, 20.0, "b")], (3, False)),  # a free place before a later round: nothing moves
    ([(3, 5.0, "b"), (7, 20.0, "c")], (4, False)),
])
def test_a_new_round_goes_before_the_first_round_sent_after_it(stored, expected) -> None:
    assert queries.place(3, 10.0, "b", stored) == expected


# --- saving again: in place -----------------------------------------------------------------------------------------

def test_a_round_saved_again_is_updated_in_place(store: Store) -> None:
    conv = Conversation("chat", models=["m"])
    first = answered(conv, "first", 1.0)
    answered(conv, "typo", 2.0)
    for i in range(2):
        store.save_round(conv, i, ANA)
    first.add(Reply("m", "another run", Outcome.COMPLETE, run=2))  # Run ×N
    store.save_round(conv, 0, ANA)
    conv.regenerate()  # the last round's replies dropped and answered again
    conv.rounds[-1].add(Reply("m", "regenerated", Outcome.STOPPED))
    store.save_round(conv, 1, ANA)
    key = conv.rounds[-1].key
    conv.edit_last_prompt("fixed").add(Reply("m", "better", Outcome.COMPLETE))
    assert conv.rounds[-1].key == key  # an edited prompt is the same round
    store.save_round(conv, 1, ANA)
    loaded = store.load(conv.id, ANA)
    assert loaded.to_dict() == conv.to_dict()
    assert [r.prompt for r in loaded.rounds] == ["first", "fixed"]
    assert [len(runs) for runs in (loaded.rounds[0].runs["m"], loaded.rounds[1].runs["m"])] == [2, 1]
    assert store.history(ANA)[0].turns == 2


# --- two tabs, one conversation -------------------------------------------------------------------------------------

def test_two_tabs_adding_a_round_each_keep_both_in_the_order_they_were_sent(store: Store, other: Store,
                                                                            tabs) -> None:
    a, b = tabs
    answered(a, "from a", 200.0)
    answered(b, "from b", 201.0)
    other.save_round(b, 2, ANA)  # b's reply ended first: it took place 2
    assert other.flush()
    store.save_round(a, 2, ANA)  # a's round does not overwrite it: it was sent first, so it goes first
    assert store.flush()
    assert prompts(store, a.id) == ["one", "two", "from a", "from b"]

    # Each tab goes on with the rounds it has, although b's round has moved: saved in place, new ones after.
    b.rounds[2].add(Reply("m", "b's second run", Outcome.COMPLETE, run=2))
    other.save_round(b, 2, ANA)
    assert other.flush()
    answered(a, "a again", 300.0)
    store.save_round(a, 3, ANA)
    a.rounds[2].add(Reply("m", "a's second run", Outcome.COMPLETE, run=2))
    store.save_round(a, 2, ANA)
    answered(b, "b again", 301.0)
    other.save_round(b, 3, ANA)
    assert store.flush() and other.flush()

    loaded = store.load(a.id, ANA)
    assert [r.prompt for r in loaded.rounds] == ["one", "two", "from a", "from b", "a again", "b again"]
    assert [[reply.text for reply in r.runs["m"]] for r in loaded.rounds[2:4]] == [
        ["reply to from a", "a's second run"], ["reply to from b", "b's second run"]]
    assert len({r.key for r in loaded.rounds}) == 6
    assert store.history(ANA)[0].turns == 6


def test_two_tabs_in_one_process_keep_both_rounds_even_when_their_saves_are_merged(store: Store, tabs) -> None:
    a, b = tabs
    answered(b, "from b", 201.0)
    answered(a, "from a", 200.0)
    store.save_round(b, 2, ANA)  # queued together: one write of both (one queue entry per conversation)
    store.save_round(a, 2, ANA)
    assert prompts(store, a.id) == ["one", "two", "from a", "from b"]


def test_clearing_in_one_tab_keeps_the_round_another_tab_added_meanwhile(store: Store, other: Store, tabs) -> None:
    a, b = tabs
    answered(b, "b, not seen by a", 201.0)
    other.save_round(b, 2, ANA)
    assert other.flush()
    a.clear()  # what a shows: "one" and "two"
    answered(a, "fresh start", 300.0)
    store.save_conversation(a, ANA)
    assert prompts(store, a.id) == ["b, not seen by a", "fresh start"]
    assert store.history(ANA)[0].turns == 2


def test_a_round_from_another_tab_in_the_same_process_does_not_bring_back_what_a_clear_deleted(store: Store,
                                                                                                 tabs) -> None:
    a, _ = tabs
    b = store.load(a.id, ANA)  # both tabs on this replica
    a.clear()
    store.save_conversation(a, ANA)
    answered(b, "b goes on", 300.0)  # b still shows "one" and "two": only its new round is saved
    store.save_round(b, 2, ANA)
    assert prompts(store, a.id) == ["b goes on"]


def test_a_cleared_conversation_drops_the_rounds_it_had_even_from_a_merged_save(store: Store) -> None:
    conv = Conversation("chat", models=["m"])
    answered(conv, "one", 1.0)
    store.save_round(conv, 0, ANA)
    conv.clear()
    store.save_conversation(conv, ANA)  # queued after the round: the merged write drops it
    assert prompts(store, conv.id) == []
    answered(conv, "again", 2.0)
    store.save_round(conv, 0, ANA)
    assert prompts(store, conv.id) == ["again"]


def test_merging_snapshots_keeps_rounds_unless_the_newer_one_drops_them() -> None:
    conv = Conversation("chat", models=["m"])
    one, two = answered(conv, "one", 1.0), answered(conv, "two", 2.0)
    head = rows.header(conv, ANA, 3.0)
    older = rows.Snapshot(head, {one.key: rows.round_rows(one, 0, 3.0), two.key: rows.round_rows(two, 1, 3.0)})
    newer = rows.Snapshot(head, {}, whole=True, drop=frozenset({one.key}), view={"diff": ["a", "b"]})
    merged = older.then(newer)
    assert set(merged.rounds) == {two.key} and merged.whole and merged.drop == frozenset({one.key})
    assert merged.view == {"diff": ["a", "b"]}
    again = merged.then(rows.Snapshot(head, {one.key: rows.round_rows(one, 0, 4.0)}))  # saved again after all
    assert set(again.rounds) == {one.key, two.key} and again.drop == frozenset()
    assert again.view == {"diff": ["a", "b"]} and again.whole  # a later save without a view keeps it
    assert isinstance(again.drop, frozenset)
    later = rows.Snapshot(rows.header(conv, ANA, conv.created_at + 60))
    view_only = rows.Snapshot(rows.header(conv, ANA, conv.created_at), view={})  # (Store.save_view: no new time)
    assert later.then(view_only).header.updated_at == conv.created_at + 60 and later.then(view_only).view == {}


def test_a_record_made_again_with_the_same_round_key_is_saved_in_place(store: Store) -> None:
    def made() -> Conversation:  # as an evaluation row opened as a comparison (gateway/evaluation/results.py)
        conv = Conversation("compare", models=["a", "b"], id="eval-row")
        conv.rounds.append(Round("the row's prompt", key="e" * 32))
        return conv

    first = made()
    store.save_conversation(first, ANA)
    answered(first, "a follow-up", 2.0)
    store.save_round(first, 1, ANA)
    store.save_conversation(made(), ANA)  # opened again
    assert prompts(store, "eval-row") == ["the row's prompt", "a follow-up"]


# --- keys in exports ------------------------------------------------------------------------------------------------

def test_an_export_keeps_round_keys_and_an_import_never_repeats_one() -> None:
    conv = Conversation("chat", models=["m"])
    answered(conv, "one", 1.0)
    answered(conv, "two", 2.0)
    imported = exports.import_json(exports.to_json(conv))
    assert [r.key for r in imported.rounds] == [r.key for r in conv.rounds]
    data = conv.to_dict()
    data["rounds"][1]["key"] = data["rounds"][0]["key"]  # a hand-edited file
    data["rounds"].append({"prompt": "no key (an older export)"})
    data["rounds"].append({"prompt": "not one of ours", "key": "x" * 500})
    keys = [r.key for r in Conversation.from_dict(data).rounds]
    assert keys[0] == conv.rounds[0].key and len(set(keys)) == 4 and all(len(key) == 32 for key in keys)
