"""Share links, below the pages: a snapshot is the work as it was when shared (a comparison with its owner's vote
result and nobody else's; a blind round its owner has not voted on stays blind), who may open a link and what
everyone else is told (an unknown token and a revoked one alike), expiry, update, revoke, view counts, lists (an
admin's all), the throttle on repeated misses, and "Make a copy". On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from gateway.attachments.record import Attachment
from gateway.conversation import Conversation
from gateway.evaluation.prompt_sets import PromptRow, PromptSet
from gateway.evaluation.runs import Cell, EvalRun
from gateway.evaluation.votes import Verdict, Vote, compare_subject
from gateway.reply import Metrics, Outcome, Reply
from gateway.sharing import links, snapshot
from gateway.sharing.access import MESSAGES, Denied, Opened, decide
from gateway.sharing.throttle import FREE, Misses
from gateway.store import Store
from gateway.store.evaluation import Evaluations

ANA, BOB, CAT = "ana@example.com", "bob@example.com", "cat@example.com"


def comparison(*, blind: bool = False, prompt: str = "Which is larger, 9.11 or 9.9?") -> Conversation:
    conversation = Conversation("compare", models=["demo-fast", "demo-slow"])
    round_ = conversation.add_prompt(prompt, [Attachment("note.txt", "text", "text/plain", 5, text="hello")])
    round_.blind = blind
    round_.add(Reply("demo-fast", "9.9 is larger (demo-fast says)", Outcome.COMPLETE,
                     Metrics(ttft=0.1, total=0.5, completion_tokens=12, cost=0.0012)))
    round_.add(Reply("demo-slow", "9.11", Outcome.COMPLETE, Metrics(ttft=0.3, total=2.0, cost=0.0042)))
    return conversation


def share(store: Store, owner: str, conversation: Conversation, **options: object) -> links.Shared:
    data = links.conversation_snapshot(store, owner, conversation)
    assert isinstance(data, dict)
    made = links.create(store, owner, data, conversation.id, enabled=True, **options)  # type: ignore[arg-type]
    assert isinstance(made, links.Shared)
    return made


def opened(store: Store, token: str, reader: str | None, *, public_allowed: bool = False,
           misses: Misses | None = None, now: float | None = None) -> object:
    return links.open_link(store, token, reader, reader or "127.0.0.1", enabled=True, public_allowed=public_allowed,
                           misses=misses or Misses(), sleep=lambda s: None, now=now)


def test_a_comparison_is_shared_as_it_was_with_its_owners_vote_and_nobody_elses(store: Store) -> None:
    compared = comparison()
    subject = compare_subject(compared.id, compared.rounds[0].key)
    evaluations = Evaluations(store)
    assert evaluations.vote(Vote(subject, ("demo-fast", "demo-slow"), Verdict.BEST, "demo-fast", comment="mine"),
                            ANA) is True
    assert evaluations.vote(Vote(subject, ("demo-fast", "demo-slow"), Verdict.BEST, "demo-slow"), CAT) is True
    made = share(store, ANA, compared)
    assert len(made.token) >= 22  # ≥ 128 bits, URL-safe

    compared.rounds[0].runs["demo-fast"][0].text = "changed after sharing"  # the snapshot does not follow
    answer = opened(store, made.token, BOB)
    assert isinstance(answer, Opened) and not answer.own
    data = answer.share.snapshot
    assert data is not None
    shown = snapshot.conversation_of(data)
    assert shown.rounds[0].reply("demo-fast").text == "9.9 is larger (demo-fast says)"  # type: ignore[union-attr]
    assert shown.rounds[0].reply("demo-slow").metrics.cost == 0.0042  # type: ignore[union-attr]
    assert shown.rounds[0].attachments[0].text == "hello"
    assert snapshot.verdicts(data) == {compared.rounds[0].key: "demo-fast best"}  # Ana's, not Cat's
    assert "mine" not in str(data) and CAT not in str(data)  # no comment, nobody else's vote


def test_a_blind_round_its_owner_has_not_voted_on_stays_blind(store: Store) -> None:
    compared = comparison(blind=True)
    data = links.conversation_snapshot(store, ANA, compared, ("Demo Fast",))
    assert isinstance(data, dict)
    text = str(data)
    assert "demo-fast" not in text and "demo-slow" not in text and "0.0012" not in text
    shown = snapshot.conversation_of(data)
    assert set(shown.rounds[0].runs) == {"Model A", "Model B"}
    assert snapshot.verdicts(data) == {}


def test_who_may_open_a_link(store: Store) -> None:
    made = share(store, ANA, comparison())
    public = share(store, ANA, comparison(), public=True)
    assert isinstance(opened(store, made.token, BOB), Opened)
    assert isinstance(opened(store, made.token, ANA), Opened)
    assert opened(store, made.token, None) is Denied.SIGN_IN
    assert opened(store, made.token, None, public_allowed=True) is Denied.SIGN_IN  # not chosen "anyone"
    assert opened(store, public.token, None) is Denied.SIGN_IN  # chosen, but the app does not allow it
    assert isinstance(opened(store, public.token, None, public_allowed=True), Opened)
    assert opened(store, "made-up-token-000000000000", None) is Denied.SIGN_IN  # nothing said about a token
    off = links.open_link(store, made.token, BOB, BOB, enabled=False, public_allowed=True)
    assert off is Denied.OFF
    with pytest.raises(links.SharingOff):
        links.create(store, ANA, snapshot.of_conversation(comparison()), "x", enabled=False)


def test_an_unknown_token_and_a_revoked_link_look_alike_to_others(store: Store) -> None:
    made = share(store, ANA, comparison())
    assert links.revoke(store, BOB, made.token) is False  # only its owner revokes it
    assert isinstance(opened(store, made.token, BOB), Opened)
    assert links.revoke(store, ANA, made.token) is True
    revoked = opened(store, made.token, BOB)
    unknown = opened(store, links.new_token(), BOB)
    assert revoked is unknown is Denied.GONE
    assert "revoked" in MESSAGES[Denied.GONE]
    assert opened(store, made.token, ANA) is Denied.REVOKED  # its owner is told plainly
    assert opened(store, made.token, None, public_allowed=True) is Denied.SIGN_IN


def test_an_expired_link_says_so_and_a_new_expiry_brings_it_back(store: Store) -> None:
    made = share(store, ANA, comparison(), expires_in=links.DAY)
    created = made.row.created_at
    assert isinstance(opened(store, made.token, BOB, now=created + links.DAY - 1), Opened)
    assert opened(store, made.token, BOB, now=created + links.DAY) is Denied.EXPIRED
    assert links.set_expiry(store, ANA, made.token, None) is True
    assert isinstance(opened(store, made.token, BOB, now=created + 100 * links.DAY), Opened)


def test_updating_takes_a_new_snapshot_and_views_are_counted_for_others_only(store: Store) -> None:
    compared = comparison()
    made = share(store, ANA, compared)
    opened(store, made.token, BOB)
    opened(store, made.token, CAT)
    opened(store, made.token, ANA)  # the owner's own look is not a view
    compared.add_prompt("And 3.3 or 3.25?")
    data = links.conversation_snapshot(store, ANA, compared)
    assert isinstance(data, dict)
    assert links.update(store, BOB, made.token, data, enabled=True) is False  # not Bob's
    assert links.update(store, ANA, made.token, data, enabled=True) is True
    answer = opened(store, made.token, BOB)
    assert isinstance(answer, Opened) and answer.share.snapshot is not None
    assert len(snapshot.conversation_of(answer.share.snapshot).rounds) == 2
    mine = links.listed(store, ANA)
    assert isinstance(mine, list) and [(r.token, r.views) for r in mine] == [(made.token, 3)]
    assert mine[0].snapshot is None  # lists do not carry snapshots


def test_owners_list_their_own_links_and_admins_all(store: Store) -> None:
    ana = share(store, ANA, comparison())
    bob = share(store, BOB, comparison())
    assert [r.token for r in links.listed(store, ANA)] == [ana.token]  # type: ignore[union-attr]
    assert [r.token for r in links.listed(store, BOB, every=True)] == [bob.token]  # type: ignore[union-attr]
    every = links.listed(store, CAT, admin=True, every=True)
    assert {r.token for r in every} == {ana.token, bob.token}  # type: ignore[union-attr]
    assert links.revoke(store, CAT, bob.token, admin=True) is True
    assert opened(store, bob.token, ANA) is Denied.GONE


def test_make_a_copy_gives_the_reader_their_own_comparison(store: Store) -> None:
    compared = comparison()
    made = share(store, ANA, compared)
    answer = opened(store, made.token, BOB)
    assert isinstance(answer, Opened) and answer.share.snapshot is not None
    copy = snapshot.copy_for_reader(answer.share.snapshot)
    assert copy.id != compared.id and copy.rounds[0].key != compared.rounds[0].key
    assert copy.models == ["demo-fast", "demo-slow"] and copy.title.startswith("Copy of ")
    assert copy.rounds[0].attachments[0].text == "hello"
    store.save_conversation(copy, BOB)
    assert store.flush(10)
    assert isinstance(store.load(copy.id, BOB), Conversation)
    assert store.load(copy.id, ANA) is None  # Bob's, not Ana's
    assert store.load(compared.id, BOB) is None


def test_an_evaluation_run_is_shared_with_its_cells(store: Store) -> None:
    prompt_set = PromptSet("SQL questions", (PromptRow("SELECT 1?", expected="1"), PromptRow("Two?")))
    run = EvalRun.of(prompt_set, ["demo-fast", "demo-slow"])
    evaluations = Evaluations(store)
    assert evaluations.save_set(prompt_set, ANA) is True and evaluations.create_run(run, ANA) is True
    assert evaluations.save_cell(run.id, ANA, Cell(0, Reply("demo-fast", "1", Outcome.COMPLETE,
                                                            Metrics(total=0.4)), True)) is True
    assert links.run_snapshot(store, BOB, run.id) is None  # not Bob's to share
    data = links.run_snapshot(store, ANA, run.id)
    assert isinstance(data, dict)
    made = links.create(store, ANA, data, run.id, enabled=True)
    assert isinstance(made, links.Shared)
    answer = opened(store, made.token, BOB)
    assert isinstance(answer, Opened) and answer.share.snapshot is not None
    shown, cells = snapshot.run_of(answer.share.snapshot)
    assert shown.set_name == "SQL questions" and shown.models == ("demo-fast", "demo-slow")
    assert [(c.row, c.model, c.passed) for c in cells] == [(0, "demo-fast", True)]


def test_repeated_misses_from_one_client_are_slowed() -> None:
    clock = [0.0]
    misses = Misses(clock=lambda: clock[0])
    for _ in range(FREE):
        assert misses.delay("10.0.0.9") == 0
        misses.missed("10.0.0.9")
    first = misses.delay("10.0.0.9")
    assert first > 0
    misses.missed("10.0.0.9")
    assert misses.delay("10.0.0.9") == 2 * first  # doubling per miss
    assert misses.delay("10.0.0.8") == 0  # per client
    clock[0] = 10_000.0
    assert misses.delay("10.0.0.9") == 0  # forgotten after the window


def test_misses_through_open_link_are_counted_and_waited_for(store: Store) -> None:
    misses, waited = Misses(), []
    for _ in range(FREE + 2):
        links.open_link(store, links.new_token(), BOB, BOB, enabled=True, public_allowed=False, misses=misses,
                        sleep=waited.append)
    assert waited and waited[-1] > waited[0] > 0
    made = share(store, ANA, comparison())
    links.open_link(store, made.token, CAT, CAT, enabled=True, public_allowed=False, misses=misses,
                    sleep=waited.append)
    assert misses.delay(CAT) == 0  # a hit costs nothing


def test_decide_is_the_same_for_an_unknown_and_a_revoked_token() -> None:
    assert decide(None, BOB, enabled=True, public_allowed=False, now=0) is Denied.GONE


def test_the_owners_json_export_holds_their_links_with_snapshots_and_nobody_elses(store: Store) -> None:
    import json

    kept, revoked = share(store, ANA, comparison()), share(store, ANA, comparison(prompt="Second"))
    share(store, BOB, comparison(prompt="Bob's own"))
    assert links.revoke(store, ANA, revoked.token) is True
    exported = links.export_json(store, ANA)
    assert isinstance(exported, str)
    data = json.loads(exported)
    assert data["format"] == links.EXPORT_FORMAT and data["owner"] == ANA
    assert [(s["token"], s["revokedAt"] is not None) for s in data["shares"]] == [(kept.token, False),
                                                                                  (revoked.token, True)]
    assert data["shares"][1]["snapshot"]["conversation"]["rounds"][0]["prompt"] == "Second"
    assert "Bob's own" not in exported
