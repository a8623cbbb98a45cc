"""How long a sign-in lasts: signing out refuses every identity cookie issued before it (copies included), a session
ends after SESSION_MAX_HOURS or the provider token's lifetime, and a page left open behind a sign-in proxy is sent
back through it. The rules (gateway/analyst.py), the sign-out times kept in the store, and the pages (AppTest)."""

from __future__ import annotations

import time

import pytest
from streamlit.testing.v1 import AppTest

from gateway import config
from gateway.analyst import (
    Analyst,
    Ended,
    describe_hours,
    header_session_end,
    session_end,
    session_hours,
    sign_out_time,
)
from gateway.config import load_settings
from gateway.store import Store, get_store
from gateway.store import sign_outs as sign_out_times
from gateway.store.records import Unavailable
from gateway.store.sign_outs import SignOuts
from tests.support.pages import RUN_TIMEOUT, signed_in

ANA = Analyst("ana@example.com", "Ana")
HOUR = 3600.0


def settings_from(**env):
    return load_settings(env, secrets={}, dotenv_path=None)


# --- The rules ------------------------------------------------------------------------------------------------------

def test_a_sign_in_lasts_as_long_as_the_providers_token_by_default():
    claims = {"iat": 1000, "exp": 1000 + HOUR}
    settings = settings_from()
    assert session_hours(claims, settings) == 1
    assert session_end(ANA, claims, settings, signed_out_at=None, now=1000 + HOUR - 1) is None
    ended = session_end(ANA, claims, settings, signed_out_at=None, now=1000 + HOUR)
    assert isinstance(ended, Ended) and "a sign-in lasts 1 hour" in ended.reason and "Sign in again" in ended.reason


def test_session_max_hours_sets_how_long_a_sign_in_lasts_whatever_the_token_says():
    claims = {"iat": 1000, "exp": 1000 + HOUR}
    settings = settings_from(SESSION_MAX_HOURS="8")
    assert settings.session_max_hours == 8 and settings.public()["SESSION_MAX_HOURS"] == 8
    assert session_end(ANA, claims, settings, signed_out_at=None, now=1000 + 7.9 * HOUR) is None
    assert isinstance(session_end(ANA, claims, settings, signed_out_at=None, now=1000 + 8 * HOUR), Ended)
    short = settings_from(SESSION_MAX_HOURS="0.25")
    assert isinstance(session_end(ANA, claims, short, signed_out_at=None, now=1000 + 15 * 60), Ended)


@pytest.mark.parametrize("value", ["soon", "0", "-2", "inf", "nan"])
def test_a_bad_session_max_hours_is_named_and_the_token_decides(value):
    settings = settings_from(SESSION_MAX_HOURS=value)
    assert settings.session_max_hours is None
    assert [p.variable for p in settings.problems] == ["SESSION_MAX_HOURS"]


def test_a_sign_in_issued_before_the_analysts_last_sign_out_is_refused():
    settings = settings_from()
    before = {"iat": 1000, "exp": 1000 + HOUR}
    ended = session_end(ANA, before, settings, signed_out_at=1500.5, now=1600)
    assert isinstance(ended, Ended) and ended.reason.startswith("You signed out")
    after = {"iat": 1501, "exp": 1501 + HOUR}  # signed in again
    assert session_end(ANA, after, settings, signed_out_at=1500.5, now=1600) is None


def test_a_sign_in_that_does_not_say_when_it_was_made_is_refused():
    for claims in ({}, {"iat": "yesterday"}, {"iat": True}, {"iat": float("nan")}):
        ended = session_end(ANA, claims, settings_from(), signed_out_at=None, now=1000)
        assert isinstance(ended, Ended) and "iat" in ended.reason


def test_the_sign_out_kept_is_never_before_the_sign_in_it_ends():
    assert sign_out_time({"iat": 1000}, now=1200.5) == 1200.5
    assert sign_out_time({"iat": 1300}, now=1200.5) == 1300  # the provider's clock is ahead of this one
    claims = {"iat": 1300, "exp": 1300 + HOUR}
    assert isinstance(session_end(ANA, claims, settings_from(), signed_out_at=sign_out_time(claims, now=1200.5),
                                  now=1201), Ended)


def test_a_page_open_behind_the_proxy_is_sent_back_through_it_after_a_session():
    settings = settings_from(SESSION_MAX_HOURS="2")
    assert header_session_end(ANA, 1000, settings, now=1000 + 2 * HOUR - 1) is None
    ended = header_session_end(ANA, 1000, settings, now=1000 + 2 * HOUR)
    assert isinstance(ended, Ended) and "Reload it" in ended.reason
    assert header_session_end(ANA, 1000, settings_from(), now=1000 + 11 * HOUR) is None  # 12 hours by default
    assert isinstance(header_session_end(ANA, 1000, settings_from(), now=1000 + 12 * HOUR), Ended)


def test_durations_read_as_words():
    assert [describe_hours(h) for h in (0.01, 0.5, 1, 1.5, 8, 24)] == [
        "1 minute", "30 minutes", "1 hour", "1.5 hours", "8 hours", "24 hours"]


# --- Sign-out times in the store -------------------------------------------------------------------------------------

def test_sign_out_times_are_kept_per_analyst_and_only_move_forward(database_url):
    store = Store.open(database_url)
    try:
        sign_out_times.forget()
        outs = SignOuts(store)
        assert outs.last("ana@example.com") is None
        assert outs.record("ana@example.com", 2000.0) is True
        assert outs.record("ana@example.com", 1500.0) is True  # an older one changes nothing
        assert outs.record("ben@example.com", 1800.0) is True
        sign_out_times.forget()  # read from the database, not this process's memory
        assert outs.last("ana@example.com") == 2000.0 and outs.last("ben@example.com") == 1800.0
        assert outs.record("ana@example.com", 2500.0) is True
        assert outs.last("ana@example.com") == 2500.0  # seen at once by this process
    finally:
        store.close()


def test_a_database_that_does_not_answer_keeps_the_last_time_known(tmp_path, monkeypatch):
    store = Store.open(f"sqlite:///{tmp_path}/db.sqlite")
    try:
        sign_out_times.forget()
        outs = SignOuts(store)
        outs.record("ana@example.com", 2000.0)
        monkeypatch.setattr(store, "_read", lambda owner, query: Unavailable("the database is not answering"))
        monkeypatch.setattr(sign_out_times, "REMEMBER", 0.0)  # every call asks the database
        assert outs.last("ana@example.com") == 2000.0
        assert outs.last("ben@example.com") is None
    finally:
        store.close()


# --- The pages ------------------------------------------------------------------------------------------------------

@pytest.fixture
def oidc(monkeypatch, tmp_path):
    for name in config.NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTH_MODE", "oidc")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/dashboard.db")
    sign_out_times.forget()
    return load_settings()


AUTH = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s" * 32,
                 "client_id": "llm-dashboard", "client_secret": "x",
                 "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}}


def visit(user: dict, path: str = "pages/chat.py") -> AppTest:
    at = AppTest.from_file("../home.py", default_timeout=RUN_TIMEOUT)
    at.user = user
    at.secrets = AUTH
    at.run()
    at.switch_page(path).run()
    assert not at.exception, at.exception
    return at


def shows_only_sign_in(at: AppTest) -> bool:
    return [t.value for t in at.title] == ["Sign in"] and not at.sidebar.button and \
        any(b.label == "Sign in" for b in at.button)


def test_signing_out_refuses_that_sign_in_and_every_older_one_but_not_the_next(oidc):
    ana = signed_in("ana@example.com", "Ana Analyst", iat=int(time.time()) - 60)
    at = visit(ana)
    assert not shows_only_sign_in(at)
    at.sidebar.button(key="analyst_sign_out").click().run()
    assert SignOuts(get_store(oidc)).last("ana@example.com") is not None

    replayed = visit(ana)  # the same identity cookie, in another browser
    assert shows_only_sign_in(replayed)
    assert "You signed out" in replayed.info[0].value
    assert not any("Ana Analyst" in c.value for c in replayed.caption)

    again = signed_in("ana@example.com", "Ana Analyst", iat=int(time.time()) + 1)  # she signs in again
    assert not shows_only_sign_in(visit(again))
    ben = signed_in("ben@example.com", "Ben", iat=int(time.time()) - 60)  # nobody else is signed out
    assert not shows_only_sign_in(visit(ben))


def test_an_expired_sign_in_shows_only_sign_in(oidc):
    issued = int(time.time()) - 7200
    at = visit(signed_in("ana@example.com", "Ana Analyst", iat=issued, exp=issued + 3600))
    assert shows_only_sign_in(at)
    assert "a sign-in lasts 1 hour" in at.info[0].value


def test_a_page_open_behind_the_proxy_longer_than_a_session_asks_for_a_reload(monkeypatch, tmp_path):
    from streamlit.runtime.context import ContextProxy, StreamlitHeaders

    for name in config.NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTH_MODE", "header")
    monkeypatch.setenv("SESSION_MAX_HOURS", "1")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/dashboard.db")
    # AppTest has no request: the proxy's header, as st.context.headers would hold it.
    monkeypatch.setattr(ContextProxy, "headers", property(
        lambda self: StreamlitHeaders([("X-Forwarded-Email", "ana@example.com")])))

    at = AppTest.from_file("../home.py", default_timeout=RUN_TIMEOUT)
    at.run()
    assert not at.exception and [t.value for t in at.title] != ["Sign in"]
    assert any("Signed in as" in c.value for c in at.sidebar.caption)
    at.session_state["_analyst_connected"] = ("ana@example.com", time.time() - 2 * HOUR)  # opened two hours ago
    at.run()
    assert [t.value for t in at.title] == ["Sign in"] and "Reload it" in at.info[0].value
    assert not any("Signed in as" in c.value for c in at.sidebar.caption)
