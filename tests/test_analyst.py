"""Who is asking: analysts from OpenID Connect claims or a proxy's header, the settings that govern sign-in, per-analyst
keys and budgets, and the budget's warning and refusal."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.analyst import LOCAL, Analyst, Refused, from_claims, from_headers, normalize_email
from gateway.budget import Budget, expected_cost, month
from gateway.config import load_settings
from gateway.errors import redact
from gateway.models import ModelRecord
from gateway.store import LOCAL_OWNER


def settings_from(secrets=None, **env):
    return load_settings(env, secrets=secrets or {}, dotenv_path=None)


# --- Settings -------------------------------------------------------------------------------------------------------

def test_sign_in_is_off_by_default():
    settings = settings_from()
    assert settings.auth_mode == "none" and settings.auth_header == "X-Forwarded-Email"
    assert settings.admin_emails == () and settings.analyst_monthly_budget_usd is None


def test_a_mistyped_auth_mode_lets_nobody_in():
    settings = settings_from(AUTH_MODE="odic")
    assert settings.auth_mode == "invalid"
    assert [p.variable for p in settings.problems] == ["AUTH_MODE"]


def test_admins_and_budgets_are_read():
    settings = settings_from({"analyst_budgets": {"Ana@Example.com": 25, "ben@example.com": "$5.5"}},
                             AUTH_MODE="OIDC", ADMIN_EMAILS=" Boss@Example.com, ,ops@example.com",
                             ANALYST_MONTHLY_BUDGET_USD="10")
    assert settings.auth_mode == "oidc"
    assert settings.admin_emails == ("boss@example.com", "ops@example.com")
    assert settings.monthly_budget("ana@example.com") == 25
    assert settings.monthly_budget("ben@example.com") == 5.5
    assert settings.monthly_budget("cy@example.com") == 10
    assert settings.public()["ADMIN_EMAILS"] == "boss@example.com, ops@example.com"


def test_bad_budgets_are_named_not_raised():
    settings = settings_from({"analyst_budgets": {"ana@example.com": "lots"}}, ANALYST_MONTHLY_BUDGET_USD="-3")
    assert settings.analyst_monthly_budget_usd is None and settings.analyst_budgets == ()
    assert {p.variable for p in settings.problems} == {"ANALYST_MONTHLY_BUDGET_USD", "analyst_budgets"}


def test_an_analysts_own_key_replaces_the_shared_one_and_both_stay_secret():
    shared, own = "sk-shared-key-000011112222", "sk-ana-virtual-key-33334444"
    settings = settings_from({"analyst_keys": {"Ana@Example.com": own}}, LITELLM_API_KEY=shared)
    ana, ben = settings.for_analyst("ana@example.com"), settings.for_analyst("ben@example.com")
    assert ana.litellm_api_key == own and ana.shared_api_key == shared
    assert ben is settings and ben.litellm_api_key == shared  # no mapping: the shared key, as configured
    for one in (settings, ana, ben):
        assert own not in repr(one) and shared not in repr(one) and own not in str(one.public())
        message = redact(f"refused {own} and {shared}", one.secrets)
        assert own not in message and shared not in message


# --- Identity -------------------------------------------------------------------------------------------------------

def test_emails_are_normalised_and_anything_else_refused():
    assert normalize_email("  Ana.Analyst+x@Example.COM ") == "ana.analyst+x@example.com"
    for bad in (None, "", "ana", "ana@localhost", "a b@example.com", "<ana@example.com>", "ana@example.com, b@x.io",
                "x" * 320 + "@example.com", 42):
        assert normalize_email(bad) is None, bad
    assert normalize_email("accounts.google.com:Ana@Example.com", prefix="accounts.google.com:") == "ana@example.com"
    assert normalize_email("accounts.google.com:Ana@Example.com") is None  # a prefix only when one is configured


@pytest.mark.parametrize("given, analyst", [
    ("budget1@example.com.", "budget1@example.com"),  # the trailing dot names the same domain: the same analyst
    ("BOSS@EXAMPLE.COM", "boss@example.com"),
    ("ana@bücher.example", "ana@xn--bcher-kva.example"),  # a Unicode domain in its one ASCII (IDNA) spelling
    ("ana@xn--bcher-kva.example", "ana@xn--bcher-kva.example"),
    ("boss@ex\u0430mple.com", "boss@xn--exmple-4nf.com"),  # a look-alike domain (Cyrillic а) reads as xn--…
    ("evil:x:boss@example.com", None),  # nothing before a colon is ever dropped without AUTH_HEADER_PREFIX
    ("accounts.google.com:boss@example.com", None),
    ("b\u043ess@example.com", None),  # a Cyrillic о in the name: refused, never a second spelling of boss
    ("boss@example.com..", None), ("boss@.example.com", None), ("ana@@example.com", None), ("ana@xn--zz.example", None),
    (".ana@example.com", None), ("a..na@example.com", None), ("ana@exa_mple.com", None), ("ana@example.com\n", "ana@example.com"),
])
def test_an_address_is_exactly_one_normalised_address(given, analyst):
    assert normalize_email(given) == analyst


def test_oidc_claims_make_an_analyst():
    settings = settings_from(ADMIN_EMAILS="ana@example.com")
    assert from_claims({"is_logged_in": True, "email": "Ana@Example.com", "name": "Ana A"}, settings) == \
        Analyst("ana@example.com", "Ana A", admin=True)
    assert from_claims({"is_logged_in": True, "email": "ben@example.com"}, settings) == \
        Analyst("ben@example.com", "ben@example.com", admin=False)
    # Entra ID: no email claim, the sign-in address in preferred_username
    assert from_claims({"is_logged_in": True, "preferred_username": "Cy@Corp.example"}, settings).id == \
        "cy@corp.example"


def test_oidc_without_a_usable_email_is_refused_and_nobody_is_none():
    settings = settings_from()
    assert from_claims({}, settings) is None
    assert from_claims({"is_logged_in": False, "email": "ana@example.com"}, settings) is None
    assert isinstance(from_claims({"is_logged_in": True, "sub": "123"}, settings), Refused)
    assert isinstance(from_claims({"is_logged_in": True, "email": "not an address"}, settings), Refused)
    refused = from_claims({"is_logged_in": True, "email": "ana@example.com", "email_verified": False}, settings)
    assert isinstance(refused, Refused) and "not verified" in refused.reason


def test_a_header_names_the_analyst():
    settings = settings_from(AUTH_MODE="header", ADMIN_EMAILS="ben@example.com")
    assert from_headers({"x-forwarded-email": ["Ana@Example.com"]}, settings) == \
        Analyst("ana@example.com", "ana@example.com")
    assert from_headers({"X-Forwarded-Email": ["ben@example.com"], "X-Forwarded-Preferred-Username": ["Ben"]},
                        settings) == Analyst("ben@example.com", "Ben", admin=True)
    iap = settings_from(AUTH_HEADER="X-Goog-Authenticated-User-Email", AUTH_HEADER_PREFIX="accounts.google.com:")
    assert from_headers({"x-goog-authenticated-user-email": ["accounts.google.com:cy@example.com"]}, iap).id == \
        "cy@example.com"
    for forged in ("evil:x:cy@example.com", "cy@example.com", "accounts.google.com:evil:cy@example.com"):
        assert isinstance(from_headers({"x-goog-authenticated-user-email": [forged]}, iap), Refused), forged


def test_a_header_is_read_as_the_utf_8_the_proxy_sent():
    """Servers hand header bytes over as Latin-1 characters: UTF-8 is decoded, never read as Latin-1 (the bug was
    a Cyrillic о becoming `ð¾`, a brand-new analyst); bytes that are not UTF-8 are refused."""
    settings = settings_from(AUTH_MODE="header")
    as_served = "ana@bücher.example".encode().decode("latin-1")
    assert from_headers({"X-Forwarded-Email": [as_served]}, settings).id == "ana@xn--bcher-kva.example"
    look_alike = "b\u043ess@example.com".encode().decode("latin-1")
    assert isinstance(from_headers({"X-Forwarded-Email": [look_alike]}, settings), Refused)
    assert isinstance(from_headers({"X-Forwarded-Email": ["ana@b\xfccher.example"]}, settings), Refused)  # Latin-1


def test_with_a_proxy_secret_only_the_proxy_can_name_an_analyst():
    settings = settings_from(AUTH_MODE="header", AUTH_PROXY_SECRET="s3cret-from-the-proxy-0042")
    ana = {"X-Forwarded-Email": ["ana@example.com"]}
    assert from_headers({**ana, "X-Auth-Proxy-Secret": ["s3cret-from-the-proxy-0042"]}, settings).id == \
        "ana@example.com"
    for secret in ([], ["wrong"], ["s3cret-from-the-proxy-004"], ["s3cret-from-the-proxy-0042", "other"]):
        refused = from_headers({**ana, "X-Auth-Proxy-Secret": secret}, settings)
        assert isinstance(refused, Refused) and "sign-in proxy" in refused.reason
        assert "s3cret" not in refused.reason
    assert isinstance(from_headers({}, settings), Refused)  # no secret: refused before the identity is even read
    named = settings_from(AUTH_MODE="header", AUTH_PROXY_SECRET="x" * 20, AUTH_PROXY_SECRET_HEADER="X-From-Proxy")
    assert from_headers({**ana, "x-from-proxy": ["x" * 20]}, named).id == "ana@example.com"


class _Headers:
    """What `st.context.headers` is to the pages: every value of a header by name, as the server decoded them."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def __iter__(self):
        return iter(dict.fromkeys(name for name, _ in self.pairs))

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key.lower() == name.lower()]


@pytest.mark.parametrize("pairs, analyst", [
    ([("X-Forwarded-Email", "budget1@example.com."), ("X-Auth-Proxy-Secret", "from-the-proxy-0042")],
     "budget1@example.com"),
    ([("X-Forwarded-Email", "boss@example.com")], None),  # no secret: the page names nobody
    ([("X-Forwarded-Email", "evil:x:boss@example.com"), ("X-Auth-Proxy-Secret", "from-the-proxy-0042")], None),
    ([("X-Forwarded-Email", "b\u043ess@example.com".encode().decode("latin-1")),
      ("X-Auth-Proxy-Secret", "from-the-proxy-0042")], None),
])
def test_the_pages_read_the_header_by_the_apis_rule(monkeypatch, pairs, analyst):
    """ui/analyst.py's header path is `from_headers` over `st.context.headers`: the same strict rule as the API."""
    from types import SimpleNamespace

    import ui.analyst

    settings = settings_from(AUTH_MODE="header", AUTH_PROXY_SECRET="from-the-proxy-0042")
    monkeypatch.setattr(ui.analyst, "st", SimpleNamespace(context=SimpleNamespace(headers=_Headers(pairs)),
                                                          session_state={}))  # (how long the page has been open)
    who = ui.analyst.current(settings)
    if analyst is None:
        assert isinstance(who, Refused)
    else:
        assert isinstance(who, Analyst) and who.id == analyst


def test_a_missing_ambiguous_or_malformed_header_is_nobody():
    settings = settings_from(AUTH_MODE="header")
    assert from_headers({}, settings) is None
    assert from_headers({"X-Forwarded-Email": [""]}, settings) is None
    assert isinstance(from_headers({"X-Forwarded-Email": ["ana"]}, settings), Refused)
    assert isinstance(from_headers({"X-Forwarded-Email": ["ana@example.com", "ben@example.com"]}, settings), Refused)
    assert from_headers({"X-Forwarded-User": ["ana@example.com"]}, settings) is None  # another header


def test_the_local_analyst_owns_what_was_saved_before_sign_in():
    assert LOCAL.owner() == LOCAL_OWNER and LOCAL.email is None and not LOCAL.admin


# --- Budgets --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("spent, level", [(0.0, "ok"), (7.99, "ok"), (8.0, "warning"), (9.99, "warning"),
                                          (10.0, "refused"), (12.0, "refused")])
def test_a_budget_warns_at_80_percent_and_refuses_at_100(spent, level):
    budget = Budget(10.0, spent)
    assert budget.level == level
    assert (budget.refusal() is not None) == (level == "refused")
    assert bool(budget.message()) == (level != "ok")


def test_admins_are_exempt_and_no_budget_checks_nothing():
    assert Budget(10.0, 50.0, exempt=True).refusal() is None
    assert "admin" in Budget(10.0, 50.0, exempt=True).message()
    assert Budget(None, 1e9).level == "none" and Budget(None, 1e9).refusal() is None
    assert Budget(0.0, 0.0).refusal() is not None  # a zero budget: nothing may be sent


def test_the_refusal_is_a_gateway_error_in_plain_words():
    refusal = Budget(10.0, 10.5).refusal()
    assert refusal.kind == "budget_exceeded" and "Not sent" in str(refusal) and "$10.50" in str(refusal)
    assert refusal.hint


def test_the_budget_month_is_the_calendar_month_in_utc():
    at = dt.datetime(2026, 3, 31, 23, 59, tzinfo=dt.UTC).timestamp()
    start, end = month(at)
    assert dt.datetime.fromtimestamp(start, dt.UTC) == dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    assert dt.datetime.fromtimestamp(end, dt.UTC) == dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    start, end = month(dt.datetime(2026, 12, 5, tzinfo=dt.UTC).timestamp())
    assert dt.datetime.fromtimestamp(end, dt.UTC) == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def test_the_expected_cost_of_a_run():
    priced = ModelRecord(id="a", route="litellm", providers=(), input_price=1.0, output_price=2.0)  # $ per 1M tokens
    free = ModelRecord(id="b", route="litellm", providers=())
    expected = expected_cost([(priced, 1000, None), (free, 1000, None)], repeats=3)
    assert expected.cost == pytest.approx(3 * (1000 * 1.0 + 500 * 2.0) / 1e6)
    assert expected.unpriced == ("b",) and expected.assumed
    capped = expected_cost([(priced, 0, 100)])
    assert capped.cost == pytest.approx(100 * 2.0 / 1e6) and not capped.assumed
    assert expected_cost([(free, 10, None)]) is None
