"""Settings: every variable the app, `make run` and the proxy read, each declared once, with its default, parser
(bounds), doc and label; read from the environment, then secrets.toml, then a `.env` file, in that order.

`Settings` (the app's) and `StackSettings` (`make run`'s and the proxy's) are dataclasses whose fields are the
declarations (gateway/setting.py); `load_settings()` and `load_stack_settings()` are built from them, and so are the
health page's configuration table, README's settings table and `.env.example` (`python -m scripts.settings_doc
--write`; tests/test_config.py fails when they drift).

`load_settings()` never raises. A malformed value is reported as a `ConfigProblem` naming the variable, and the
setting it governs is switched off (LiteLLM) or falls back to its default (timeouts, TTL).

secrets.toml is read by whoever owns it: gateway/ has no Streamlit, so the app's pages hand Streamlit's secrets in
with `use_secrets()` (ui/secrets.py); scripts and notebooks pass `secrets=` or get none.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from dotenv import dotenv_values

from gateway.errors import mask_key, register_secrets
from gateway.setting import Choice, Custom, Flag, Invalid, Key, Number, Setting, Text, declared, setting

DEFAULT_BASE_URL = "http://localhost:4000"
DEFAULT_DATABASE_URL = "sqlite:///data/dashboard.db"  # relative to the app's root
DEFAULT_UNPRICED_USD_PER_1K_TOKENS = 0.01  # what a model without a price costs against budgets (gateway/budget.py)
DEFAULT_SESSION_HOURS = 12.0  # how long a session lasts when nothing else says (header mode; a token without `exp`)
DEFAULT_MAX_OUTPUT_TOKENS = 131_072  # the largest max_tokens a request may ask for (the API refuses more)
AUTH_MODES = ("none", "oidc", "header")  # who is asking: nobody (one local analyst), Streamlit's sign-in, a header
DATABASES = ("sqlite", "postgresql", "postgresql+psycopg", "postgres")
T = TypeVar("T")
# .env.example's blocks, in order: section → its heading
SECTIONS = {
    "app": "The app (Streamlit)",
    "analysts": "Analysts and sign-in (README \"Analysts and sign-in\")",
    "stack": "The local LiteLLM proxy (`make run`)",
    "providers": "Provider keys: read by the proxy (litellm_config.yaml); OpenAI and Anthropic also by the app's "
                 "direct routes",
    "attachments": "Attachments (files in chat and compare; README \"Attachments\")",
    "evaluation": "Evaluation (prompt-set runs on /evaluate; README \"Evaluation\")",
}


def _base_url(text: str, default: Any) -> str:
    url = normalize_base_url(text)
    if url is None:  # kept as written: LiteLLM is off until it is fixed (Settings.litellm_usable)
        raise Invalid(f"{text!r} is not a URL; expected e.g. {DEFAULT_BASE_URL}", text.strip())
    return url


def _database_url(text: str, default: Any) -> str:
    scheme = text.split(":", 1)[0].lower() if "://" in text else ""
    if scheme not in DATABASES:
        raise Invalid(f"{_hide_password(text)!r} is not a supported database URL (sqlite:///path/to/file.db or "
                      f"postgresql+psycopg://user:pass@host/db); using {DEFAULT_DATABASE_URL}", DEFAULT_DATABASE_URL)
    return text


def _budget(text: str, default: Any) -> float:
    try:
        return _usd(text)
    except ValueError:
        raise Invalid(f"{text!r} is not an amount in USD ≥ 0; no budget applies", None) from None


def _session_hours(text: str, default: Any) -> float:
    try:
        hours = float(text)
    except ValueError:
        hours = float("nan")
    if not (hours >= 0.01 and math.isfinite(hours)):
        raise Invalid(f"{text!r} is not a number of hours ≥ 0.01; sessions last as long as the sign-in says (the "
                      "provider's token)", None)
    return hours


def _emails(text: str, default: Any) -> tuple[str, ...]:
    return tuple(sorted({e.strip().lower() for e in text.split(",") if e.strip()}))


def _hosts(text: str, default: Any) -> frozenset[str]:
    return parse_hosts(text)


def _allowed_hosts(text: str, default: Any) -> frozenset[str]:
    return frozenset(h.strip().lower().rstrip(".") for h in text.split(",") if h.strip())  # `*` kept: any host


BASE_URL = Custom(_base_url, "URL (`/v1` optional)")
DATABASE_URL = Custom(_database_url, "`sqlite:///…` / `postgresql+psycopg://…`")
USD = Custom(_budget, "amount ≥ 0 (USD)")
HOURS = Custom(_session_hours, "hours ≥ 0.01")
EMAILS = Custom(_emails, "e-mails, comma-separated")
HOSTS = Custom(_hosts, "hosts, comma-separated")
ALLOWED = Custom(_allowed_hosts, "hosts, comma-separated; `*`: any")
AUTH = Choice(AUTH_MODES, otherwise="invalid",  # failing closed: a typo must not open the app to anyone
              why="; nobody can sign in until it is fixed")
PORT = Number(1, 65535, whole=True)
SECONDS = "Seconds to wait"


@dataclass(frozen=True)
class Settings:
    """Everything the gateway needs to know, each field a declared setting (in the order pages show them) unless
    said otherwise. Keys never appear in its repr."""

    litellm_enabled: bool = setting(
        "LiteLLM", Flag(), False, "Use the LiteLLM proxy for discovery and calls. Off: only the direct "
        "OpenAI/Anthropic models.", shown_default="`false` (`make run`: `true`)", example="true")
    litellm_base_url: str = setting(
        "Base URL", BASE_URL, DEFAULT_BASE_URL, "The proxy's URL, with or without `/v1`. `make run` reuses a proxy "
        "answering here.", read_by=("app", "`make run`"), shown_default=f"`{DEFAULT_BASE_URL}` (`make run`: its proxy)")
    litellm_api_key: str | None = setting(
        "LiteLLM key", Key(), None, "Bearer key the app sends to the proxy: a virtual key or the master key. "
        "`make run` defaults it to the master key.", secret=True, shown_default="none (`make run`: the master key)")
    openai_api_key: str | None = setting(
        "OpenAI key (direct)", Key(), None, "OpenAI models on the proxy (gpt-4, gpt-3.5-turbo); also enables the "
        "app's direct OpenAI models.", secret=True, read_by=("proxy", "app"), section="providers")
    anthropic_api_key: str | None = setting(
        "Anthropic key (direct)", Key(), None, "Anthropic models on the proxy (claude-3-5-sonnet-20241022); also "
        "enables the app's direct Anthropic models.", secret=True, read_by=("proxy", "app"), section="providers")
    models_cache_ttl: int = setting(
        "Model cache TTL", Number(0, whole=True), 300, "Seconds the model list is cached before the proxy is asked "
        "again.")
    connect_timeout: float = setting(
        "Connect timeout", Number(0.1), 2.0, f"{SECONDS} for a connection to the proxy or a provider.")
    request_timeout: float = setting(
        "Request timeout", Number(1.0), 60.0, f"{SECONDS} for a whole answer.")
    max_reply_chars: int = setting(
        "Longest reply kept", Number(1000, whole=True), 200_000, "The longest reply kept, in characters: a reply "
        "is cut there (and says so), so a runaway model cannot fill the page or the database.", commented=True)
    database_url: str = setting(
        "Database", DATABASE_URL, DEFAULT_DATABASE_URL, "Where saved work lives: SQLite (a file, relative to the "
        "app's root) or PostgreSQL (`postgresql+psycopg://user:password@host/db`; the password is never shown). "
        "Also what `alembic upgrade` migrates.", repr=False, commented=True)
    max_response_mb: float = setting(
        "Largest proxy answer read (MB)", Number(0.01), 50.0, "The largest answer read from the proxy's own "
        "endpoints (model list, health, token count), in MB; a larger one is refused with a message.")
    max_prompt_chars: int = setting(
        "Longest prompt sent", Number(1, whole=True), 1_000_000, "The longest prompt sent, in characters (~4 per "
        "token); a longer one is refused before sending, with its token count, and offered back as a download.")
    reply_image_hosts: frozenset[str] = setting(
        "Hosts replies may show images from", HOSTS, frozenset(), "Hosts whose images replies may show "
        "(comma-separated, `*.example.com` for subdomains). Others are drawn as \"🖼 image from host — not "
        "loaded\". See SECURITY.md.")
    max_attachment_mb: float = setting(
        "Largest attachment (MB)", Number(0.01), 20.0, "Largest file that may be attached to a prompt, in MB.",
        section="attachments", commented=True)
    max_attachments: int = setting(
        "Attachments per message", Number(1, whole=True), 5, "Files per message.", section="attachments",
        commented=True)
    max_conversation_attachments_mb: float = setting(
        "Attachments per conversation (MB)", Number(0.01), 100.0, "What one conversation's files may take once "
        "prepared, in MB (they are saved with it).", section="attachments", commented=True)
    eval_concurrency: int = setting(
        "Evaluation calls at once", Number(1, whole=True), 4, "Calls an evaluation run makes at once (at most 32 are "
        "used).", section="evaluation", commented=True)
    judge_model: str = setting(
        "Team default judge", Text(), "", "The model a judge pass starts with on /compare and /evaluate, and the API's "
        "judge when a request names none (a catalogue key, e.g. `gpt-4o`; empty: the first model with `judge` in "
        "its key). Each pass may pick another.", section="evaluation", commented=True)
    # Analysts (gateway/analyst.py). Per-analyst keys and budgets are tables in secrets.toml: [analyst_keys],
    # [analyst_budgets] (analyst id = lower-cased e-mail → key / USD).
    auth_mode: str = setting(
        "Sign-in", AUTH, "none", "Who is asking: `none` (one local analyst), `oidc` (Streamlit's sign-in: [auth] in "
        ".streamlit/secrets.toml) or `header` (an SSO reverse proxy sets AUTH_HEADER; the app must then be reachable "
        "only through that proxy).", section="analysts")
    auth_header: str = setting(
        "Identity header", Text(), "X-Forwarded-Email", "`AUTH_MODE=header`: the header holding the analyst's "
        "e-mail.", section="analysts")
    auth_header_prefix: str = setting(
        "Identity header prefix", Text(), "", "`AUTH_MODE=header`: a prefix the proxy puts before the address, removed "
        "(and required): `accounts.google.com:` for Google IAP. Nothing else is ever cut off.", section="analysts")
    auth_proxy_secret: str | None = setting(
        "Sign-in proxy secret", Key(), None, "`AUTH_MODE=header`: a secret only the sign-in proxy sends (in "
        "`AUTH_PROXY_SECRET_HEADER`); set, a request without it names nobody (401 on the API). Redacted and masked "
        "like a key.", secret=True, section="analysts")
    auth_proxy_secret_header: str = setting(
        "Sign-in proxy secret header", Text(), "X-Auth-Proxy-Secret", "The header that carries `AUTH_PROXY_SECRET`.",
        section="analysts")
    admin_emails: tuple[str, ...] = setting(
        "Admins", EMAILS, (), "Comma-separated e-mails of admins (they see the team's usage and are not held to "
        "budgets).", section="analysts")
    sharing_enabled: bool = setting(
        "Share links", Flag(), True, "Analysts may share read-only links to a chat, a comparison or an evaluation "
        "run (README \"Share links\"). `false`: no link can be made, and every link made before answers that "
        "sharing is off.", section="analysts")
    sharing_public_links: bool = setting(
        "Share links for anyone", Flag(), False, "An analyst sharing a link may choose \"anyone with the link\": "
        "it then opens without signing in. `false`: every link opens only for signed-in analysts.",
        section="analysts")
    analyst_monthly_budget_usd: float | None = setting(
        "Monthly budget per analyst (USD)", USD, None, "Monthly budget per analyst in USD (empty: none); "
        "`[analyst_budgets]` in secrets.toml overrides it per analyst.", section="analysts")
    unpriced_usd_per_1k_tokens: float = setting(
        "Unpriced models count against budgets at (USD per 1,000 tokens)", Number(0),
        DEFAULT_UNPRICED_USD_PER_1K_TOKENS, "What a reply from a model without a price counts against budgets, per "
        "1,000 tokens (prompt and reply); `0`: such replies are free against budgets. See [Admins, budgets and "
        "per-analyst keys](#admins-budgets-and-per-analyst-keys).", section="analysts", commented=True)
    api_allow_remote: bool = setting(
        "API from other hosts", Flag(), False, "Serve the HTTP API (`/api/…`) to other hosts, not only to "
        "loopback (README \"API\": only on a network you trust).", commented=True)
    # Host names (besides loopback names and IP addresses) the app answers to while sign-in is off, or in any mode
    # once set: a page elsewhere that rebinds its own name to this machine is refused (api/policy.py). `*`: any.
    allowed_hosts: frozenset[str] = setting(
        "Host names served with sign-in off", ALLOWED, frozenset(), "Host names the app answers to besides IP "
        "addresses and `localhost`, while sign-in is off (in every mode once set): comma-separated, `*.example.com` "
        "for subdomains, `*` for any. Others get 421 (DNS rebinding).")
    max_output_tokens: int = setting(
        "Largest max_tokens asked", Number(1, whole=True), DEFAULT_MAX_OUTPUT_TOKENS, "The largest `max_tokens` an "
        "API request may ask for (400 above it).", commented=True)
    # How long a signed-in session lasts (gateway/analyst.py `session_end`); None: the provider's ID token's lifetime
    # (oidc), DEFAULT_SESSION_HOURS (header).
    session_max_hours: float | None = setting(
        "Longest session (hours)", HOURS, None, "How long a sign-in lasts, in hours (empty: the lifetime of the "
        "provider's ID token with `AUTH_MODE=oidc`; 12 hours for a page left open behind the sign-in proxy with "
        "`AUTH_MODE=header`). See [Sessions, sign-out and who can reach an analyst's work]"
        "(#sessions-sign-out-and-who-can-reach-an-analysts-work).", section="analysts", commented=True)
    # Not variables. From secrets.toml only: analyst id → LiteLLM virtual key ([analyst_keys]) / monthly budget.
    analyst_keys: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    analyst_budgets: tuple[tuple[str, float], ...] = ()
    # Set by for_analyst() when an analyst's own key replaced LITELLM_API_KEY: still redacted everywhere.
    shared_api_key: str | None = field(default=None, repr=False)
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


@dataclass(frozen=True)
class StackSettings:
    """What `make run` (scripts/run_stack.py) and the proxy read that the app does not."""

    litellm_master_key: str | None = setting(
        "", Key(), None, "The proxy's admin key (LiteLLM will not start without one). Generated into `.env` by "
        "`make run` if unset; the app never sends it (it is only redacted). Keep it secret.", secret=True,
        read_by=("proxy",), shown_default="generated into `.env` by `make run`", section="stack", example="")
    proxy_port: int = setting("", PORT, 4000, "Port of the local proxy `make run` starts (`--proxy-port`).",
                              read_by=("`make run`",), section="stack")
    app_port: int = setting("", PORT, 8501, "Port of the app `make run` starts (`--app-port`).",
                            read_by=("`make run`",), section="stack")
    demo_port: int | None = setting(
        "", PORT, None, "Port of the demo models' server (demo/upstream.py) started beside a local proxy "
        "(`--demo-port`), handed to the proxy as `DEMO_API_BASE`. Unset: 4010, or any free port when 4010 is taken.",
        read_by=("`make run`",), shown_default="`4010`", section="stack", example="4010")
    env_file: str = setting("", Text(), ".env", "The file settings are read from and the master key written to "
                            "(`--env-file`).", read_by=("`make run`",), section="stack", commented=True)
    gemini_api_key: str | None = setting("", Key(), None, "Google AI Studio (gemini-pro).", secret=True,
                                         read_by=("proxy",), section="providers")
    replicate_api_key: str | None = setting("", Key(), None, "Replicate (llama-2-70b).", secret=True,
                                            read_by=("proxy",), section="providers")
    mistral_api_key: str | None = setting("", Key(), None, "Mistral (mistral-medium).", secret=True,
                                          read_by=("proxy",), section="providers")
    problems: tuple[ConfigProblem, ...] = ()


VARIABLES = declared(Settings)  # the app's settings, in the order pages show them
STACK = declared(StackSettings)
ALL = (*VARIABLES, *STACK)  # every documented variable
NAMES = tuple(s.name for s in ALL)  # everything read from the sources (the stack's keys too: they are redacted)
_BY_NAME = {s.name: s for s in ALL}


@dataclass(frozen=True)
class ConfigProblem:
    """One setting that could not be used, and why."""

    variable: str
    message: str

    def __str__(self) -> str:
        return f"{self.variable}: {self.message}"


def _shown(variable: Setting, value: object) -> object:
    if variable.secret:
        return mask_key(value if isinstance(value, str) else None)
    if variable.name == "DATABASE_URL":
        return _hide_password(str(value))
    if isinstance(value, frozenset):  # REPLY_IMAGE_HOSTS, ALLOWED_HOSTS
        return ", ".join(sorted(value)) or "none"
    if isinstance(value, tuple):
        return ", ".join(value) or "none"
    return value


# --- where the values come from -------------------------------------------------------------------------------------

_secrets_source: Callable[[], Mapping[str, object]] | None = None
_source_lock = threading.Lock()


def use_secrets(source: Callable[[], Mapping[str, object]] | None) -> None:
    """Where `load_settings()` reads secrets from when not given `secrets=` (the app: Streamlit's st.secrets, see
    ui/secrets.py). None: no secrets."""
    global _secrets_source
    with _source_lock:
        _secrets_source = source


def read_sources(environ: Mapping[str, str] | None = None, secrets: Mapping[str, object] | None = None,
                 dotenv_path: str | Path | None = ".env") -> dict[str, str]:
    """Every declared variable's text from the first source that sets it: `environ` (default: os.environ), then
    `secrets`, then the `.env` file. Values are stripped; an empty one counts as unset."""
    merged: dict[str, str] = {}
    for source in reversed((os.environ if environ is None else environ, secrets or {}, _dotenv(dotenv_path))):
        for name in NAMES:
            value = source.get(name)
            if value is not None and not isinstance(value, Mapping) and str(value).strip():
                merged[name] = str(value).strip()
    return merged


def parse(declared_settings: tuple[Setting, ...], raw: Mapping[str, str],
          problems: list[ConfigProblem]) -> dict[str, Any]:
    """Field name → value for each setting, from its text in `raw`; a value refused is named in `problems`."""
    values = {}
    for one in declared_settings:
        try:
            values[one.field] = one.read(raw.get(one.name))
        except Invalid as invalid:
            problems.append(ConfigProblem(one.name, invalid.reason))
            values[one.field] = invalid.instead
    return values


def load_settings(environ: Mapping[str, str] | None = None, *, secrets: Mapping[str, object] | None = None,
                  dotenv_path: str | Path | None = ".env") -> Settings:
    """Read the app's settings. `environ` defaults to os.environ, `secrets` to what `use_secrets()` was given."""
    if secrets is None:
        with _source_lock:
            source = _secrets_source
        secrets = _read_secrets(source) if source is not None else {}
    raw = read_sources(environ, secrets, dotenv_path)
    register_secrets(*(raw.get(s.name) for s in ALL if s.secret),  # redacted from every GatewayError from now on
                     _password(raw.get("DATABASE_URL", "")))
    problems: list[ConfigProblem] = []
    values = parse(VARIABLES, raw, problems)
    analyst_keys = _table(secrets, "analyst_keys", _key, problems)
    register_secrets(*(key for _, key in analyst_keys))  # each analyst's own key: redacted like the shared one
    return Settings(**values, analyst_keys=analyst_keys, analyst_budgets=_table(secrets, "analyst_budgets", _usd,
                                                                                problems), problems=tuple(problems))


def load_stack_settings(raw: Mapping[str, str]) -> StackSettings:
    """`make run`'s settings from the merged variables (`read_sources`)."""
    problems: list[ConfigProblem] = []
    values = parse(STACK, raw, problems)
    return StackSettings(**values, problems=tuple(problems))


def setting_named(name: str) -> Setting:
    return _BY_NAME[name]


def _read_secrets(source: Callable[[], Mapping[str, object]]) -> Mapping[str, object]:
    try:
        return source()
    except Exception:  # a broken secrets.toml must not take the app down
        return {}


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


def _dotenv(path: str | Path | None) -> Mapping[str, object]:
    if path is None or not Path(path).is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


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
