"""Settings: read from the environment, then `.streamlit/secrets.toml`, then a `.env` file, in that order.

`load_settings()` never raises. A malformed value is reported as a `ConfigProblem` naming the variable,
and the setting it governs is switched off (LiteLLM) or falls back to its default (timeouts, TTL).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from dotenv import dotenv_values

from gateway.errors import mask_key, register_secrets

DEFAULT_BASE_URL = "http://localhost:4000"
DEFAULT_CACHE_TTL = 300
DEFAULT_MAX_REPLY_CHARS = 200_000
DEFAULT_MAX_ATTACHMENT_MB = 20  # attachments (gateway/attachments/): per file,
DEFAULT_MAX_ATTACHMENTS = 5  # files per message,
DEFAULT_MAX_CONVERSATION_ATTACHMENTS_MB = 100  # and stored per conversation
DEFAULT_DATABASE_URL = "sqlite:///data/dashboard.db"  # relative to the app's root
DEFAULT_MAX_RESPONSE_MB = 50.0
DEFAULT_MAX_PROMPT_CHARS = 1_000_000  # ~250k tokens: above most context windows, far below what freezes a page
DEFAULT_EVAL_CONCURRENCY = 4  # calls an evaluation run makes at once
DEFAULT_UNPRICED_USD_PER_1K_TOKENS = 0.01  # what a model without a price costs against budgets (gateway/budget.py)
AUTH_MODES = ("none", "oidc", "header")  # who is asking: nobody (one local analyst), Streamlit's sign-in, a header
DEFAULT_AUTH_HEADER = "X-Forwarded-Email"  # what oauth2-proxy sets
DEFAULT_AUTH_PROXY_SECRET_HEADER = "X-Auth-Proxy-Secret"  # where the sign-in proxy puts AUTH_PROXY_SECRET
DEFAULT_MAX_OUTPUT_TOKENS = 131_072  # the largest max_tokens a request may ask for (the API refuses more)
DEFAULT_SESSION_HOURS = 12.0  # how long a session lasts when nothing else says (header mode; a token without `exp`)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
T = TypeVar("T")


@dataclass(frozen=True)
class Variable:
    """One setting the app reads: its environment name, the `Settings` field it fills, and how it is shown."""

    name: str
    label: str  # how the health page's configuration table names it
    secret: bool = False  # shown masked, and redacted from every message

    @property
    def field(self) -> str:
        return self.name.lower()


# Every setting the app reads, in the order pages show them: the one list (tests and `make run` import it).
VARIABLES = (
    Variable("LITELLM_ENABLED", "LiteLLM"),
    Variable("LITELLM_BASE_URL", "Base URL"),
    Variable("LITELLM_API_KEY", "LiteLLM key", secret=True),
    Variable("OPENAI_API_KEY", "OpenAI key (direct)", secret=True),
    Variable("ANTHROPIC_API_KEY", "Anthropic key (direct)", secret=True),
    Variable("MODELS_CACHE_TTL", "Model cache TTL"),
    Variable("CONNECT_TIMEOUT", "Connect timeout"),
    Variable("REQUEST_TIMEOUT", "Request timeout"),
    Variable("MAX_REPLY_CHARS", "Longest reply kept"),
    Variable("DATABASE_URL", "Database"),
    Variable("MAX_RESPONSE_MB", "Largest proxy answer read (MB)"),
    Variable("MAX_PROMPT_CHARS", "Longest prompt sent"),
    Variable("REPLY_IMAGE_HOSTS", "Hosts replies may show images from"),
    Variable("MAX_ATTACHMENT_MB", "Largest attachment (MB)"),
    Variable("MAX_ATTACHMENTS", "Attachments per message"),
    Variable("MAX_CONVERSATION_ATTACHMENTS_MB", "Attachments per conversation (MB)"),
    Variable("EVAL_CONCURRENCY", "Evaluation calls at once"),
    # Analysts (gateway/analyst.py). Per-analyst keys and budgets are tables in secrets.toml: [analyst_keys],
    # [analyst_budgets] (analyst id = lower-cased e-mail → key / USD).
    Variable("AUTH_MODE", "Sign-in"),
    Variable("AUTH_HEADER", "Identity header"),
    Variable("AUTH_HEADER_PREFIX", "Identity header prefix"),  # e.g. accounts.google.com: (Google IAP)
    Variable("AUTH_PROXY_SECRET", "Sign-in proxy secret", secret=True),
    Variable("AUTH_PROXY_SECRET_HEADER", "Sign-in proxy secret header"),
    Variable("ADMIN_EMAILS", "Admins"),
    Variable("ANALYST_MONTHLY_BUDGET_USD", "Monthly budget per analyst (USD)"),
    Variable("UNPRICED_USD_PER_1K_TOKENS", "Unpriced models count against budgets at (USD per 1,000 tokens)"),
    Variable("API_ALLOW_REMOTE", "API from other hosts"),
    Variable("ALLOWED_HOSTS", "Host names served with sign-in off"),
    Variable("MAX_OUTPUT_TOKENS", "Largest max_tokens asked"),
    Variable("SESSION_MAX_HOURS", "Longest session (hours)"),
)
REDACT_ONLY = ("LITELLM_MASTER_KEY",)  # read only to be redacted: the app never sends it
NAMES = (*(v.name for v in VARIABLES), *REDACT_ONLY)


@dataclass(frozen=True)
class ConfigProblem:
    """One setting that could not be used, and why."""

    variable: str
    message: str

    def __str__(self) -> str:
        return f"{self.variable}: {self.message}"


@dataclass(frozen=True)
class Settings:
    """Everything the gateway needs to know. Keys never appear in its repr."""

    litellm_enabled: bool = False
    litellm_base_url: str = DEFAULT_BASE_URL
    litellm_api_key: str | None = field(default=None, repr=False)
    openai_api_key: str | None = field(default=None, repr=False)
    anthropic_api_key: str | None = field(default=None, repr=False)
    models_cache_ttl: int = DEFAULT_CACHE_TTL
    connect_timeout: float = 2.0
    request_timeout: float = 60.0
    max_reply_chars: int = DEFAULT_MAX_REPLY_CHARS
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)  # may hold a password
    max_response_mb: float = DEFAULT_MAX_RESPONSE_MB  # the largest proxy answer read (discovery, health)
    max_prompt_chars: int = DEFAULT_MAX_PROMPT_CHARS  # the longest prompt sent; longer ones are refused
    reply_image_hosts: frozenset[str] = frozenset()  # hosts whose images replies may show; none by default
    max_attachment_mb: float = DEFAULT_MAX_ATTACHMENT_MB
    max_attachments: int = DEFAULT_MAX_ATTACHMENTS
    max_conversation_attachments_mb: float = DEFAULT_MAX_CONVERSATION_ATTACHMENTS_MB
    eval_concurrency: int = DEFAULT_EVAL_CONCURRENCY
    auth_mode: str = "none"  # one of AUTH_MODES
    auth_header: str = DEFAULT_AUTH_HEADER
    auth_header_prefix: str = ""  # removed from the header's value, which must start with it; "": no prefix
    auth_proxy_secret: str | None = field(default=None, repr=False)  # header mode: the proxy proves itself with it
    auth_proxy_secret_header: str = DEFAULT_AUTH_PROXY_SECRET_HEADER
    admin_emails: tuple[str, ...] = ()  # lower-cased
    analyst_monthly_budget_usd: float | None = None  # None: no budget
    unpriced_usd_per_1k_tokens: float = DEFAULT_UNPRICED_USD_PER_1K_TOKENS  # 0: unpriced replies are free
    # From secrets.toml only: analyst id → LiteLLM virtual key ([analyst_keys]) / monthly budget ([analyst_budgets]).
    analyst_keys: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    analyst_budgets: tuple[tuple[str, float], ...] = ()
    # Set by for_analyst() when an analyst's own key replaced LITELLM_API_KEY: still redacted everywhere.
    shared_api_key: str | None = field(default=None, repr=False)
    api_allow_remote: bool = False  # serve the open HTTP API (/api/…) to other hosts, not only to loopback
    # Host names (besides loopback names and IP addresses) the app answers to while sign-in is off, or in any mode
    # once set: a page elsewhere that rebinds its own name to this machine is refused (api/policy.py). `*`: any.
    allowed_hosts: frozenset[str] = frozenset()
    max_output_tokens: int = DEFAULT_MAX_OUTPUT_TOKENS
    # How long a signed-in session lasts (gateway/analyst.py `session_end`); None: the provider's ID token's lifetime
    # (oidc), DEFAULT_SESSION_HOURS (header).
    session_max_hours: float | None = None
    problems: tuple[ConfigProblem, ...] = ()

    @property
    def litellm_usable(self) -> bool:
        """LiteLLM is switched on and its URL is valid."""
        return self.litellm_enabled and not any(p.variable == "LITELLM_BASE_URL" for p in self.problems)

    @property
    def api_base(self) -> str:
        """The OpenAI-compatible base URL of the proxy (ends in /v1)."""
        return f"{self.litellm_base_url}/v1"

    @property
    def max_response_bytes(self) -> int:
        return int(self.max_response_mb * 1024 * 1024)

    @property
    def secrets(self) -> tuple[str | None, ...]:
        """The keys, for redaction."""
        keys = tuple(getattr(self, v.field) for v in VARIABLES if v.secret)
        return (*keys, self.shared_api_key, *(key for _, key in self.analyst_keys), _password(self.database_url))

    def for_analyst(self, analyst_id: str) -> Settings:
        """These settings as one analyst's calls and discovery use them: their own LiteLLM key when `[analyst_keys]`
        names one, else the shared key. The shared key stays among `secrets` (redacted)."""
        own = dict(self.analyst_keys).get(analyst_id)
        if not own or own == self.litellm_api_key:
            return self
        return replace(self, litellm_api_key=own, shared_api_key=self.shared_api_key or self.litellm_api_key)

    def monthly_budget(self, analyst_id: str) -> float | None:
        """The analyst's monthly budget in USD ([analyst_budgets] beats ANALYST_MONTHLY_BUDGET_USD); None: none."""
        return dict(self.analyst_budgets).get(analyst_id, self.analyst_monthly_budget_usd)

    def public(self) -> dict[str, object]:
        """The settings as they may be shown on a page: keys masked, the database's password hidden."""
        return {v.name: _shown(v, getattr(self, v.field)) for v in VARIABLES}


def _shown(variable: Variable, value: object) -> object:
    if variable.secret:
        return mask_key(value if isinstance(value, str) else None)
    if variable.name == "DATABASE_URL":
        return _hide_password(str(value))
    if variable.name in ("REPLY_IMAGE_HOSTS", "ALLOWED_HOSTS"):
        return ", ".join(sorted(value)) or "none"  # type: ignore[call-overload]
    if isinstance(value, tuple):
        return ", ".join(value) or "none"
    return value


def load_settings(environ: Mapping[str, str] | None = None, *, secrets: Mapping[str, object] | None = None,
                  dotenv_path: str | Path | None = ".env") -> Settings:
    """Read the settings. `environ` defaults to os.environ, `secrets` to st.secrets (when a file exists)."""
    secrets = _streamlit_secrets() if secrets is None else secrets
    raw = _merge(os.environ if environ is None else environ, secrets, _dotenv(dotenv_path))
    problems: list[ConfigProblem] = []

    enabled = _parse_bool(raw, "LITELLM_ENABLED", problems)
    base_url = normalize_base_url(raw.get("LITELLM_BASE_URL") or DEFAULT_BASE_URL)
    if base_url is None:
        problems.append(ConfigProblem(
            "LITELLM_BASE_URL", f"{raw['LITELLM_BASE_URL']!r} is not a URL; expected e.g. {DEFAULT_BASE_URL}"))
        base_url = raw["LITELLM_BASE_URL"].strip()
    register_secrets(raw.get("LITELLM_API_KEY"), raw.get("OPENAI_API_KEY"), raw.get("ANTHROPIC_API_KEY"),
                     raw.get("LITELLM_MASTER_KEY"), raw.get("AUTH_PROXY_SECRET"),  # redacted from every error
                     _password(raw.get("DATABASE_URL", "")))
    analyst_keys = _table(secrets, "analyst_keys", _key, problems)
    register_secrets(*(key for _, key in analyst_keys))  # each analyst's own key: redacted like the shared one
    return Settings(
        litellm_enabled=enabled,
        litellm_base_url=base_url,
        litellm_api_key=raw.get("LITELLM_API_KEY") or None,
        openai_api_key=raw.get("OPENAI_API_KEY") or None,
        anthropic_api_key=raw.get("ANTHROPIC_API_KEY") or None,
        models_cache_ttl=int(_parse_number(raw, "MODELS_CACHE_TTL", DEFAULT_CACHE_TTL, problems, minimum=0)),
        connect_timeout=_parse_number(raw, "CONNECT_TIMEOUT", 2.0, problems, minimum=0.1),
        request_timeout=_parse_number(raw, "REQUEST_TIMEOUT", 60.0, problems, minimum=1.0),
        max_reply_chars=int(_parse_number(raw, "MAX_REPLY_CHARS", DEFAULT_MAX_REPLY_CHARS, problems, minimum=1000)),
        database_url=_parse_database_url(raw, problems),
        max_response_mb=_parse_number(raw, "MAX_RESPONSE_MB", DEFAULT_MAX_RESPONSE_MB, problems, minimum=0.01),
        max_prompt_chars=int(_parse_number(raw, "MAX_PROMPT_CHARS", DEFAULT_MAX_PROMPT_CHARS, problems, minimum=1)),
        reply_image_hosts=parse_hosts(raw.get("REPLY_IMAGE_HOSTS", "")),
        max_attachment_mb=_parse_number(raw, "MAX_ATTACHMENT_MB", DEFAULT_MAX_ATTACHMENT_MB, problems, minimum=0.01),
        max_attachments=int(_parse_number(raw, "MAX_ATTACHMENTS", DEFAULT_MAX_ATTACHMENTS, problems, minimum=1)),
        max_conversation_attachments_mb=_parse_number(raw, "MAX_CONVERSATION_ATTACHMENTS_MB",
                                                      DEFAULT_MAX_CONVERSATION_ATTACHMENTS_MB, problems,
                                                      minimum=0.01),
        eval_concurrency=int(_parse_number(raw, "EVAL_CONCURRENCY", DEFAULT_EVAL_CONCURRENCY, problems, minimum=1)),
        auth_mode=_parse_auth_mode(raw, problems),
        auth_header=raw.get("AUTH_HEADER") or DEFAULT_AUTH_HEADER,
        auth_header_prefix=raw.get("AUTH_HEADER_PREFIX", "").strip(),
        auth_proxy_secret=raw.get("AUTH_PROXY_SECRET") or None,
        auth_proxy_secret_header=raw.get("AUTH_PROXY_SECRET_HEADER") or DEFAULT_AUTH_PROXY_SECRET_HEADER,
        admin_emails=tuple(sorted({e.strip().lower() for e in raw.get("ADMIN_EMAILS", "").split(",") if e.strip()})),
        analyst_monthly_budget_usd=_parse_budget(raw, problems),
        unpriced_usd_per_1k_tokens=_parse_number(raw, "UNPRICED_USD_PER_1K_TOKENS",
                                                 DEFAULT_UNPRICED_USD_PER_1K_TOKENS, problems, minimum=0),
        analyst_keys=analyst_keys,
        analyst_budgets=_table(secrets, "analyst_budgets", _usd, problems),
        api_allow_remote=_parse_bool(raw, "API_ALLOW_REMOTE", problems),
        allowed_hosts=frozenset(h.strip().lower().rstrip(".") for h in raw.get("ALLOWED_HOSTS", "").split(",")
                                if h.strip()),
        max_output_tokens=int(_parse_number(raw, "MAX_OUTPUT_TOKENS", DEFAULT_MAX_OUTPUT_TOKENS, problems,
                                            minimum=1)),
        session_max_hours=_parse_session_hours(raw, problems),
        problems=tuple(problems),
    )


def normalize_base_url(value: str) -> str | None:
    """`http://host:4000/`, `http://host:4000/v1` and `http://host:4000` all become `http://host:4000`."""
    url = value.strip().rstrip("/")
    if url.endswith("/v1"):
        url = url[: -len("/v1")].rstrip("/")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in url:
        return None
    return url


def parse_hosts(value: str) -> frozenset[str]:
    """`"a.example, *.cdn.example"` → the host names, lower-cased (a `*.` prefix allows every subdomain)."""
    return frozenset(h.strip().lower().rstrip(".") for h in value.split(",") if h.strip().strip("*."))


def _merge(*sources: Mapping[str, object]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for source in reversed(sources):  # later sources are weaker
        for name in NAMES:
            value = source.get(name)
            if value is not None and not isinstance(value, Mapping):
                merged[name] = str(value).strip()
    return merged


def _streamlit_secrets() -> Mapping[str, object]:
    try:
        import streamlit as st

        if st.secrets.load_if_toml_exists():
            return dict(st.secrets)
    except Exception:  # a broken secrets.toml must not take the app down
        pass
    return {}


def _dotenv(path: str | Path | None) -> Mapping[str, object]:
    if path is None or not Path(path).is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def _parse_bool(raw: Mapping[str, str], name: str, problems: list[ConfigProblem]) -> bool:
    value = raw.get(name, "").strip().lower()
    if value in _TRUE:
        return True
    if value not in _FALSE:
        problems.append(ConfigProblem(name, f"{raw[name]!r} is not true/false (use true, 1, yes or on)"))
    return False


def _parse_number(raw: Mapping[str, str], name: str, default: float, problems: list[ConfigProblem], *,
                  minimum: float) -> float:
    value = raw.get(name, "")
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not (number >= minimum and math.isfinite(number)):  # also catches NaN and infinity
        problems.append(ConfigProblem(name, f"{value!r} is not a number ≥ {minimum:g}; using {default:g}"))
        return default
    return number


def _parse_database_url(raw: Mapping[str, str], problems: list[ConfigProblem]) -> str:
    value = raw.get("DATABASE_URL", "")
    if not value:
        return DEFAULT_DATABASE_URL
    scheme = value.split(":", 1)[0].lower() if "://" in value else ""
    if scheme not in ("sqlite", "postgresql", "postgresql+psycopg", "postgres"):
        problems.append(ConfigProblem("DATABASE_URL", f"{_hide_password(value)!r} is not a supported database URL "
                                      f"(sqlite:///path/to/file.db or postgresql+psycopg://user:pass@host/db); "
                                      f"using {DEFAULT_DATABASE_URL}"))
        return DEFAULT_DATABASE_URL
    return value


def _parse_auth_mode(raw: Mapping[str, str], problems: list[ConfigProblem]) -> str:
    value = raw.get("AUTH_MODE", "").strip().lower() or "none"
    if value not in AUTH_MODES:
        # Failing closed: a typo must not open the app to anyone, so it asks for a sign-in nobody can give.
        problems.append(ConfigProblem("AUTH_MODE", f"{raw['AUTH_MODE']!r} is not one of {', '.join(AUTH_MODES)}; "
                                      "nobody can sign in until it is fixed"))
        return "invalid"
    return value


def _parse_budget(raw: Mapping[str, str], problems: list[ConfigProblem]) -> float | None:
    if not raw.get("ANALYST_MONTHLY_BUDGET_USD"):
        return None
    try:
        return _usd(raw["ANALYST_MONTHLY_BUDGET_USD"])
    except ValueError:
        problems.append(ConfigProblem("ANALYST_MONTHLY_BUDGET_USD", f"{raw['ANALYST_MONTHLY_BUDGET_USD']!r} is not "
                                      "an amount in USD ≥ 0; no budget applies"))
        return None


def _parse_session_hours(raw: Mapping[str, str], problems: list[ConfigProblem]) -> float | None:
    if not raw.get("SESSION_MAX_HOURS"):
        return None
    value = raw["SESSION_MAX_HOURS"]
    try:
        hours = float(value)
    except ValueError:
        hours = float("nan")
    if not (hours >= 0.01 and math.isfinite(hours)):
        problems.append(ConfigProblem("SESSION_MAX_HOURS", f"{value!r} is not a number of hours ≥ 0.01; sessions "
                                      "last as long as the sign-in says (the provider's token)"))
        return None
    return hours


def _key(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("not a key")
    return value.strip()


def _usd(value: object) -> float:
    amount = float(str(value).strip().lstrip("$"))
    if not amount >= 0 or amount == float("inf"):
        raise ValueError(value)
    return amount


def _table(secrets: Mapping[str, object], name: str, parse: Callable[[object], T],
           problems: list[ConfigProblem]) -> tuple[tuple[str, T], ...]:
    """A `[name]` table of secrets.toml keyed by analyst id (e-mail, compared lower-cased)."""
    table = secrets.get(name)
    if table is None:
        return ()
    if not isinstance(table, Mapping):
        problems.append(ConfigProblem(name, "must be a table: [" + name + "] with one `\"e-mail\" = value` a line"))
        return ()
    entries: dict[str, T] = {}
    for analyst, value in table.items():
        try:
            entries[str(analyst).strip().lower()] = parse(value)
        except (TypeError, ValueError):
            problems.append(ConfigProblem(name, f"the entry for {analyst!r} is not valid; it is ignored"))
    return tuple(sorted(entries.items()))


def _password(url: str) -> str | None:
    """The password in a database URL, if any (for redaction)."""
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def _hide_password(url: str) -> str:
    password = _password(url)
    return url.replace(f":{password}@", ":***@", 1) if password else url
