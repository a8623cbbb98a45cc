"""An analyst's data export: everything the app keeps for them in one JSON document, and nothing of anyone else's.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json

from gateway import account_export
from gateway import prompt_library as library
from gateway.conversation import Conversation
from gateway.evaluation.prompt_sets import PromptRow, PromptSet
from gateway.evaluation.runs import Cell, EvalRun
from gateway.evaluation.votes import Verdict, Vote, compare_subject
from gateway.exports import import_json
from gateway.reply import Metrics, Outcome, Reply
from gateway.sharing import links
from gateway.store import Store, Unavailable
from gateway.store.evaluation import Evaluations
from gateway.store.prompts import PromptLibrary

ANA, BOB = "ana@example.com", "bob@example.com"


def saved(store: Store, owner: str, kind: str, prompt: str, reply: str) -> Conversation:
    conversation = Conversation(kind, models=["demo-fast", "demo-slow"] if kind == "compare" else [])
    round_ = conversation.add_prompt(prompt)
    for model in (["demo-fast", "demo-slow"] if kind == "compare" else ["demo-fast"]):
        round_.add(Reply(model, f"{reply} ({model})", Outcome.COMPLETE, Metrics(ttft=0.1, total=0.4, cost=0.001)))
    store.save_conversation(conversation, owner)
    return conversation


def test_the_export_holds_all_of_the_analysts_work_and_none_of_anyone_elses(store: Store) -> None:
    chat = saved(store, ANA, "chat", "Ana's chat prompt", "Ana's chat reply")
    compared = saved(store, ANA, "compare", "Ana's comparison prompt", "Ana's comparison reply")
    saved(store, BOB, "chat", "Bob's chat prompt", "Bob's reply")
    assert store.flush()
    evaluations = Evaluations(store)
    prompt_set = PromptSet("Ana's set", (PromptRow("SELECT 1?", expected="1"),))
    run = EvalRun.of(prompt_set, ["demo-fast", "demo-slow"])
    assert evaluations.save_set(prompt_set, ANA) is True and evaluations.create_run(run, ANA) is True
    assert evaluations.save_cell(run.id, ANA, Cell(0, Reply("demo-fast", "1", Outcome.COMPLETE), True)) is True
    subject = compare_subject(compared.id, compared.rounds[0].key)
    models = ("demo-fast", "demo-slow")
    assert evaluations.vote(Vote(subject, models, Verdict.BEST, "demo-fast", comment="Ana's reason"), ANA) is True
    assert evaluations.vote(Vote(subject, models, Verdict.BEST, "demo-slow", comment="Bob's reason"), BOB) is True
    shelf = PromptLibrary(store)
    assert not isinstance(shelf.add(ANA, library.draft("Ana private", "Ana's {{x}}")), Unavailable)
    assert not isinstance(shelf.add(ANA, library.draft("Ana team", "Ana's shared", shared=True)), Unavailable)
    assert not isinstance(shelf.add(BOB, library.draft("Bob team", "Bob's shared", shared=True)), Unavailable)
    data = links.conversation_snapshot(store, ANA, compared)
    assert isinstance(data, dict)
    made = links.create(store, ANA, data, compared.id, enabled=True)
    assert isinstance(made, links.Shared)

    exported = account_export.export_json(store, ANA)
    assert isinstance(exported, str)
    document = json.loads(exported)
    assert document["format"] == account_export.FORMAT and document["owner"] == ANA
    assert {c["id"] for c in document["conversations"]} == {chat.id, compared.id}
    assert [s["name"] for s in document["prompt_sets"]] == ["Ana's set"]
    assert [(r["id"], [c["reply"]["text"] for c in r["cells"]]) for r in document["evaluation_runs"]] == [
        (run.id, ["1"])]
    assert [(v["winner"], v["comment"]) for v in document["votes"]] == [("demo-fast", "Ana's reason")]
    assert sorted(p["name"] for p in document["prompt_library"]) == ["Ana private", "Ana team"]
    assert [s["token"] for s in document["shares"]] == [made.token]
    assert "Bob" not in exported and BOB not in exported  # his chat, his vote, his team prompt

    again = next(c for c in document["conversations"] if c["id"] == compared.id)
    reopened = import_json(json.dumps(again))  # each conversation is its own export: it imports back
    assert reopened.rounds[0].reply("demo-slow").text == "Ana's comparison reply (demo-slow)"  # type: ignore[union-attr]


def test_an_analyst_with_nothing_saved_gets_an_empty_export(store: Store) -> None:
    document = account_export.export(store, "nobody@example.com", now=0)
    assert document == {"format": account_export.FORMAT, "owner": "nobody@example.com",
                        "exported_at": "1970-01-01T00:00:00+00:00", "conversations": [], "prompt_sets": [],
                        "evaluation_runs": [], "votes": [], "prompt_library": [], "shares": []}


def test_a_database_that_does_not_answer_gives_no_half_export() -> None:
    down = Store.open("postgresql+psycopg://analyst:s3cret-pass@127.0.0.1:9/nothing")
    try:
        found = account_export.export_json(down, ANA)
        assert isinstance(found, Unavailable)
        assert "s3cret-pass" not in str(found)
    finally:
        down.close(timeout=0.1)
