"""The Usage page's API tokens (AUTH_MODE=oidc), in AppTest with signed-in analysts: a token is shown once when it is
created, listed by its name and first characters, revoked with a click (and then refused by the API's check); an
analyst sees only their own; names are the analyst's text, shown as text."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from gateway import api_tokens, config
from gateway.config import load_settings
from gateway.store import get_store
from gateway.store.api_tokens import ApiTokens
from tests.support.pages import RUN_TIMEOUT, open_page, signed_in
from ui.markdown import plain

APP = "../home.py"
ANA = signed_in("ana@example.com", "Ana Analyst")
BEN = signed_in("ben@example.com", "Ben Boss")
HOSTILE = "![x](https://example.invalid/pixel.png) **bold** :red[red]"


@pytest.fixture
def oidc(monkeypatch):
    for name in config.NAMES:
        if name != "DATABASE_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTH_MODE", "oidc")
    return monkeypatch


def store():
    return get_store(load_settings(secrets={}, dotenv_path=None))


def visit(user: dict) -> AppTest:
    return open_page("pages/usage.py", user=user)


def create(at: AppTest, name: str) -> AppTest:
    at.text_input(key="api_token_name").input(name)
    at.button(key="api_token_create").click().run()
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> str:
    """Everything the page drew as text (Markdown sources, captions, alerts, code, tooltips)."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [c.value for c in at.code]
    parts += [a.value for kind in (at.success, at.warning, at.error, at.info) for a in kind]
    parts += [b.label + (b.help or "") for b in at.button]
    return "\n".join(parts)


def test_a_token_is_shown_once_then_listed_by_its_prefix_and_revoked(oidc):
    at = visit(ANA)
    assert any(h.value == "API tokens" for h in at.header)
    assert "You have no API tokens." in shown(at)

    create(at, "my notebook")
    [code] = at.code
    token = code.value
    assert token.startswith("dash_") and len(token) == 48
    assert any("Copy it now" in s.value for s in at.success)
    assert api_tokens.owner_of(store(), token) == "ana@example.com"  # the API takes it as Ana
    row = next(m.value for m in at.markdown if "my notebook" in m.value)
    assert token[:12] in row and token[12:] not in row

    at.run()  # any later run: the token is gone from the page, the list stays
    assert not at.code and token not in shown(at) and token[:12] in shown(at)
    assert token not in str(at.session_state)  # nothing keeps it

    [(revoke_key, _)] = [(b.key, b) for b in at.button if (b.key or "").startswith("api_token_revoke_")]
    at.button(key=revoke_key).click().run()
    assert not at.exception, at.exception
    assert "You have no API tokens." in shown(at) and token[:12] not in shown(at)
    assert api_tokens.owner_of(store(), token) is None  # refused from now on


def test_an_analyst_sees_only_their_own_tokens(oidc):
    ana = create(visit(ANA), "ana's script")
    ana_token = ana.code[0].value
    ben = visit(BEN)
    assert "ana's script" not in shown(ben) and ana_token[:12] not in shown(ben)
    assert "You have no API tokens." in shown(ben)
    assert [t.name for t in ApiTokens(store()).listed("ana@example.com")] == ["ana's script"]


def test_a_token_name_is_shown_as_text_and_a_missing_one_is_asked_for(oidc):
    at = create(visit(ANA), HOSTILE)
    row = next(m.value for m in at.markdown if "pixel" in m.value)
    assert plain(HOSTILE) in row and "![x](" not in row  # no image, no bold, no colour
    assert plain(HOSTILE) in next(s.value for s in at.success)
    revoke = next(b for b in at.button if (b.key or "").startswith("api_token_revoke_"))
    assert plain(HOSTILE) in revoke.help and "![x](" not in revoke.help

    create(at, "   ")
    assert not at.code and any("Give the token a name" in w.value for w in at.warning)
    assert len(ApiTokens(store()).listed("ana@example.com")) == 1


def test_no_token_section_without_oidc_sign_in(oidc):
    oidc.setenv("AUTH_MODE", "none")
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.run()
    at.switch_page("pages/usage.py").run()
    assert not at.exception and not any(h.value == "API tokens" for h in at.header)
