"""The usage page and budgets, in AppTest with signed-in analysts (`at.user`, as `st.user` after st.login()):
/usage adds up to the saved replies' costs for one analyst and for the team; the budget warns at 80 % and refuses at
100 % in chat and compare (admins exempt); a visitor who is not signed in sees only the sign-in screen."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from gateway import config
from gateway.config import load_settings
from gateway.conversation import Conversation
from gateway.reply import Metrics, Outcome, Reply
from gateway.store import get_store
from gateway.usage import Col
from tests.support.pages import open_page, signed_in
from ui.format import usd

ANA = signed_in("Ana@Example.com", "Ana Analyst")
BEN = signed_in("ben@example.com", "Ben Boss")
PAGES = ("pages/chat.py", "pages/compare.py", "pages/models.py", "pages/health.py", "pages/usage.py")


@pytest.fixture
def oidc(request, monkeypatch):
    """AUTH_MODE=oidc, Ben an admin; no proxy (built-in models only) unless the test asks for `app_env` first."""
    for name in config.NAMES:
        if name != "DATABASE_URL" and ("app_env" not in request.fixturenames or not name.startswith("LITELLM")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTH_MODE", "oidc")
    monkeypatch.setenv("ADMIN_EMAILS", "ben@example.com")
    return monkeypatch


def store():
    return get_store(load_settings(secrets={}, dotenv_path=None))


def spend(owner: str, *costs: tuple[str, float, str]) -> None:
    """Save a chat of `owner` with one reply per (model, cost, cost source)."""
    conversation = Conversation("chat")
    for index, (model, cost, source) in enumerate(costs):
        conversation.add_prompt(f"prompt {index}").add(Reply(model, "text", Outcome.COMPLETE, Metrics(
            ttft=0.1 * (index + 1), total=1.0 + index, prompt_tokens=10, completion_tokens=20, cost=cost,
            cost_source=source)))
        store().save_round(conversation, index, owner)
    assert store().flush(5)


def visit(path: str, user: dict | None, **query: str) -> AppTest:
    return open_page(path, user=user, **query)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def saved_cost(owner: str) -> float:
    return sum(summary.cost for summary in store().history(owner, limit=1000))


def test_a_visitor_who_is_not_signed_in_sees_only_sign_in(oidc):
    spend("ana@example.com", ("gpt-x", 0.5, "proxy"))
    for path in PAGES:
        at = visit(path, None, c="0" * 32)
        assert [t.value for t in at.title] == ["Sign in"], path
        assert not at.sidebar.children and not at.metric and not at.dataframe and not at.chat_message, path


def test_usage_adds_up_to_the_saved_replies_for_me_and_for_the_team(oidc):
    spend("ana@example.com", ("gpt-x", 0.0125, "proxy"), ("gpt-x", 0.0031, "catalogue"), ("claude-y", 0.2, "proxy"))
    spend("ben@example.com", ("gpt-x", 1.25, "proxy"))
    ana_total, ben_total = saved_cost("ana@example.com"), saved_cost("ben@example.com")

    ana = visit("pages/usage.py", ANA)
    assert metric(ana, "My spend · this month") == usd(ana_total) == metric(ana, "My spend · today")
    models = ana.dataframe[0].value
    assert models[Col.COST].sum() == pytest.approx(ana_total)
    assert models.set_index(Col.MODEL)[Col.ESTIMATED]["gpt-x"] == pytest.approx(0.0031)  # marked as estimated
    assert not any(h.value == "Team" for h in ana.header)  # not an admin: no team view
    assert "ben@example.com" not in str([d.value for d in ana.dataframe])

    ben = visit("pages/usage.py", BEN)
    assert metric(ben, "My spend · this month") == usd(ben_total)
    assert metric(ben, "Team spend · this month") == usd(ana_total + ben_total)
    team = next(d.value for d in ben.dataframe if Col.ANALYST in d.value.columns)
    assert team.set_index(Col.ANALYST)[Col.COST].to_dict() == pytest.approx(
        {"ana@example.com": ana_total, "ben@example.com": ben_total})


def test_the_budget_warns_then_refuses_chat_and_compare(app_env, oidc):
    oidc.setenv("ANALYST_MONTHLY_BUDGET_USD", "1.00")
    spend("ana@example.com", ("upstream-echo", 0.85, "proxy"))  # 85 %: a warning, still sending
    at = visit("pages/chat.py", ANA, model="upstream-echo")
    assert any("85%" in w.value for w in at.warning)
    at.chat_input(key="chat_prompt").set_value("still allowed").run()
    assert at.session_state["chat_conversation"].rounds[-1].reply().text.strip() == "echo: still allowed"

    spend("ana@example.com", ("upstream-echo", 0.20, "proxy"))  # 105 %: refused
    at.chat_input(key="chat_prompt").set_value("over the budget").run()
    refused = at.session_state["chat_conversation"].rounds[-1]
    assert refused.prompt == "over the budget"  # the prompt is kept
    reply = refused.reply()
    assert reply.outcome is Outcome.FAILED and reply.error.kind == "budget_exceeded"
    assert "Not sent" in reply.error.message and reply.metrics.total is None  # never sent
    assert any("new requests are not sent" in e.value for e in at.error)

    compare = visit("pages/compare.py", ANA, models="upstream-echo,demo-fast")
    expected = next(c.value for c in compare.caption if "Expected cost of the next prompt" in c.value)
    assert "no price for `upstream-echo`" in expected  # demo-fast has prices: an estimate before sending
    assert "about \\$0.0" in expected  # `$` escaped: a second one in a caption would make LaTeX of the text between
    compare.chat_input(key="compare_prompt").set_value("compare this").run()
    round_ = compare.session_state["comparison"].rounds[-1]
    assert round_.prompt == "compare this"
    assert {r.error.kind for r in round_.replies.values()} == {"budget_exceeded"}
    assert all(r.metrics.total is None for r in round_.replies.values())


def test_admins_are_not_held_to_the_budget(app_env, oidc):
    oidc.setenv("ANALYST_MONTHLY_BUDGET_USD", "0.10")
    spend("ben@example.com", ("upstream-echo", 0.50, "proxy"))
    at = visit("pages/chat.py", BEN, model="upstream-echo")
    at.chat_input(key="chat_prompt").set_value("admin request").run()
    assert at.session_state["chat_conversation"].rounds[-1].reply().text.strip() == "echo: admin request"
    assert any("as an admin" in w.value for w in at.warning)


def test_sign_in_off_says_so_and_everything_is_the_local_analysts(oidc):
    oidc.delenv("AUTH_MODE")
    at = visit("pages/usage.py", None)
    assert any("Sign-in is off" in c.value for c in at.sidebar.caption)


def test_the_usage_page_offers_the_analysts_whole_data_as_one_download_of_their_own_work(oidc):
    from ui.my_data import _built

    spend("ana@example.com", ("gpt-x", 0.5, "proxy"))
    spend("ben@example.com", ("gpt-x", 1.25, "proxy"))
    ana = visit("pages/usage.py", ANA)
    assert "Your data" in [h.value for h in ana.subheader]
    assert any(e.proto.label == "Download all my data (JSON)" for e in ana.get("download_button"))
    built = _built(store(), "ana@example.com")  # what the button hands her when clicked
    assert '"owner": "ana@example.com"' in built and "ben@example.com" not in built
