"""The read-only page (`/shared?s=<token>`) with AppTest, signed in with Streamlit's sign-in (AUTH_MODE=oidc): Bob
sees Ana's comparison, its replies and numbers, with no chat box; nobody signed in sees only the sign-in screen
unless the app allows links for anyone and Ana chose that; revoked and made-up links read alike to Bob and say
"revoked"; an expired link says so; "Make a copy" gives Bob his own comparison and leaves Ana's alone; with sign-in
off the local analyst opens links; with sharing off no link opens. The browser journey is
tests/browser/test_sharing_browser.py."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from gateway.config import load_settings
from gateway.conversation import Conversation
from gateway.reply import Metrics, Outcome, Reply
from gateway.sharing import links
from gateway.sharing.access import MESSAGES, Denied
from gateway.store import LOCAL_OWNER, Store, get_store
from tests.support.pages import open_page, open_signed_in

ANA, BOB = "ana@example.com", "bob@example.com"
PAGE = "pages/shared.py"


@pytest.fixture
def oidc(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("AUTH_MODE", "oidc")
    return monkeypatch


def store() -> Store:
    return get_store(load_settings(secrets={}, dotenv_path=None))


def anas_comparison(owner: str = ANA) -> Conversation:
    comparison = Conversation("compare", models=["demo-fast", "demo-slow"])
    round_ = comparison.add_prompt("Name a prime above 90")
    round_.add(Reply("demo-fast", "97 is prime", Outcome.COMPLETE, Metrics(ttft=0.12, total=0.8, cost=0.0031)))
    round_.add(Reply("demo-slow", "91 is prime", Outcome.COMPLETE, Metrics(ttft=0.4, total=2.5, cost=0.0009)))
    store().save_conversation(comparison, owner)
    assert store().flush(10)
    return comparison


def share(comparison: Conversation, owner: str = ANA, **options: object) -> str:
    data = links.conversation_snapshot(store(), owner, comparison)
    assert isinstance(data, dict)
    made = links.create(store(), owner, data, comparison.id, enabled=True, **options)  # type: ignore[arg-type]
    assert isinstance(made, links.Shared)
    return made.token


def texts(at: AppTest) -> str:
    return " ".join([*(m.value for m in at.markdown), *(c.value for c in at.caption), *(e.value for e in at.error),
                     *(w.value for w in at.warning), *(i.value for i in at.info), *(t.value for t in at.title)])


def test_bob_sees_anas_comparison_read_only_with_its_numbers(oidc):
    token = share(anas_comparison())
    at = open_signed_in(PAGE, BOB, s=token)
    shown = texts(at)
    assert "97 is prime" in shown and "91 is prime" in shown and "Name a prime above 90" in shown
    assert "shared by ana@example.com" in shown
    assert not at.chat_input  # read-only: no chat box
    frame = at.dataframe[0].value
    assert set(frame.iloc[:, 0]) == {"demo-fast", "demo-slow"} and frame.shape[0] == 2  # the numbers, per model
    assert at.button(key="shared_copy").label == "Make a copy"
    listed = links.listed(store(), ANA)
    assert isinstance(listed, list) and listed[0].views == 1
    at.run()  # a rerun is not another view
    assert links.listed(store(), ANA)[0].views == 1  # type: ignore[index]


def test_nobody_signed_in_sees_only_sign_in_unless_the_link_is_for_anyone_and_allowed(oidc):
    comparison = anas_comparison()
    token, for_anyone = share(comparison), share(comparison, public=True)
    for link in (token, for_anyone, "made-up-token-0123456789abcdef"):
        at = open_page(PAGE, s=link)
        assert "97 is prime" not in texts(at)
        assert [t.value for t in at.title] == ["Sign in"] and not at.dataframe, "the sign-in screen only"
    oidc.setenv("SHARING_PUBLIC_LINKS", "true")
    assert "97 is prime" not in texts(open_page(PAGE, s=token))  # not chosen "anyone" by Ana
    at = open_page(PAGE, s=for_anyone)
    assert "97 is prime" in texts(at) and not at.chat_input
    assert ANA not in texts(at)  # the owner's address is not handed out to anyone
    assert not any(b.key == "shared_copy" for b in at.button)  # copying needs an analyst


def test_revoked_and_made_up_links_read_alike_and_say_revoked_and_expired_says_so(oidc):
    comparison = anas_comparison()
    token, expiring = share(comparison), share(comparison, expires_in=links.DAY)
    assert links.revoke(store(), ANA, token) is True
    revoked = texts(open_signed_in(PAGE, BOB, s=token))
    made_up = texts(open_signed_in(PAGE, BOB, s=links.new_token()))
    assert revoked == made_up and MESSAGES[Denied.GONE] in revoked and "revoked" in revoked
    assert "97 is prime" not in revoked
    assert MESSAGES[Denied.REVOKED] in texts(open_signed_in(PAGE, ANA, s=token))
    assert links.set_expiry(store(), ANA, expiring, -1.0) is True  # expired a second ago
    assert MESSAGES[Denied.EXPIRED] in texts(open_signed_in(PAGE, BOB, s=expiring))


def test_make_a_copy_gives_bob_his_own_comparison_and_leaves_anas_alone(oidc):
    comparison = anas_comparison()
    at = open_signed_in(PAGE, BOB, s=share(comparison))
    at.button(key="shared_copy").click().run()
    assert not at.exception
    copies = store().history(BOB, kind="compare")
    assert isinstance(copies, list) and len(copies) == 1 and copies[0].title.startswith("Copy of")
    copy = store().load(copies[0].id, BOB)
    assert isinstance(copy, Conversation) and copy.id != comparison.id
    assert copy.rounds[0].reply("demo-fast").text == "97 is prime"  # type: ignore[union-attr]
    assert at.title[0].value == "Compare" and at.session_state["comparison"].id == copy.id  # opened, to continue
    anas = store().load(comparison.id, ANA)
    assert isinstance(anas, Conversation) and anas == comparison  # unchanged
    assert store().load(comparison.id, BOB) is None


def test_with_sign_in_off_the_local_analyst_opens_links_and_sharing_off_opens_none(monkeypatch):
    token = share(anas_comparison(LOCAL_OWNER), LOCAL_OWNER)
    assert "97 is prime" in texts(open_page(PAGE, s=token))
    monkeypatch.setenv("SHARING_ENABLED", "false")
    shown = texts(open_page(PAGE, s=token))
    assert "97 is prime" not in shown and MESSAGES[Denied.OFF] in shown


def test_the_shared_links_list_shows_views_and_revokes(oidc):
    comparison = anas_comparison()
    token, newest = share(comparison), share(comparison)  # two links to the same work: two entries
    open_signed_in(PAGE, BOB, s=token)
    at = open_signed_in(PAGE, ANA)
    assert at.title[0].value == "Shared links"
    frame = at.dataframe[0].value
    assert list(frame["Views"]) == [0, 1] and list(frame["State"]) == ["never expires"] * 2
    assert any(newest in c.value for c in at.code)  # the newest, picked
    at.button(key=f"shared_revoke_{newest}").click().run()
    assert list(at.dataframe[0].value["State"]) == ["revoked", "never expires"]
    assert any(token in c.value for c in at.code)
    at.button(key=f"shared_revoke_{token}").click().run()
    assert list(at.dataframe[0].value["State"]) == ["revoked", "revoked"]


def test_the_share_buttons_on_chat_and_an_evaluation_run_make_links(monkeypatch):
    """Sign-in off (the local analyst): Share → Create link on a saved chat and on an evaluation run."""
    from gateway.evaluation.prompt_sets import PromptRow, PromptSet
    from gateway.evaluation.runs import Cell, EvalRun
    from gateway.store.evaluation import Evaluations

    chat = Conversation("chat", models=["demo-fast"])
    chat.add_prompt("Hello there").add(Reply("demo-fast", "General Kenobi", Outcome.COMPLETE, Metrics(total=0.3)))
    store().save_conversation(chat, LOCAL_OWNER)
    assert store().flush(10)
    at = open_page("pages/chat.py", c=chat.id)
    at.button(key="share_chat_create").click().run()
    assert not at.exception
    made = links.listed(store(), LOCAL_OWNER)
    assert isinstance(made, list) and [(r.kind, r.source_id) for r in made] == [("chat", chat.id)]
    assert any(made[0].token in c.value for c in at.code)  # the link, to copy
    assert "General Kenobi" in texts(open_page(PAGE, s=made[0].token))
    chat.add_prompt("Second round").add(Reply("demo-fast", "Still here", Outcome.COMPLETE, Metrics(total=0.2)))
    store().save_conversation(chat, LOCAL_OWNER)
    assert store().flush(10)
    assert "Still here" not in texts(open_page(PAGE, s=made[0].token))  # a snapshot: as it was when shared
    at = open_page("pages/chat.py", c=chat.id)
    at.button(key=f"share_chat_update_{made[0].token}").click().run()
    assert "Still here" in texts(open_page(PAGE, s=made[0].token))  # updated: as it is now
    at.button(key=f"share_chat_revoke_{made[0].token}").click().run()
    assert MESSAGES[Denied.REVOKED] in texts(open_page(PAGE, s=made[0].token))

    prompt_set = PromptSet("Greetings", (PromptRow("Hello?"),))
    run = EvalRun.of(prompt_set, ["demo-fast", "demo-slow"])
    evaluations = Evaluations(store())
    assert evaluations.save_set(prompt_set, LOCAL_OWNER) is True and evaluations.create_run(run, LOCAL_OWNER) is True
    assert evaluations.save_cell(run.id, LOCAL_OWNER, Cell(0, Reply("demo-fast", "Hi!", Outcome.COMPLETE))) is True
    at = open_page("pages/evaluate.py", run=run.id)
    at.button(key=f"share_run_{run.id}_create").click().run()
    assert not at.exception
    made = links.listed(store(), LOCAL_OWNER, source_id=run.id)
    assert isinstance(made, list) and [r.kind for r in made] == ["evaluation"]
    shown = open_page(PAGE, s=made[0].token)
    assert "Greetings" in texts(shown) and "Hi!" in texts(shown)


def test_the_list_sets_an_expiry_and_an_admin_sees_and_revokes_everyones(oidc):
    oidc.setenv("ADMIN_EMAILS", "boss@example.com")
    token = share(anas_comparison())
    at = open_signed_in(PAGE, ANA)
    at.selectbox(key=f"shared_expiry_{token}").set_value("7 days").run()
    assert list(at.dataframe[0].value["State"]) == ["expires in 7 days"]
    bobs = open_signed_in(PAGE, BOB)
    assert "No links yet." in texts(bobs) and not bobs.dataframe  # Bob has none, and sees no one else's
    boss = open_signed_in(PAGE, "boss@example.com")
    boss.toggle(key="shared_every").set_value(True).run()
    assert list(boss.dataframe[0].value["Owner"]) == [ANA]
    boss.button(key=f"shared_revoke_{token}").click().run()
    assert list(boss.dataframe[0].value["State"]) == ["revoked"]
    assert MESSAGES[Denied.GONE] in texts(open_signed_in(PAGE, BOB, s=token))
