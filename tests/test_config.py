"""Settings come from the environment, secrets and .env; bad values are named, never raised."""

from gateway.config import DEFAULT_BASE_URL, load_settings, normalize_base_url


def settings_from(**env):
    return load_settings(env, secrets={}, dotenv_path=None)


def test_litellm_is_opt_in():
    assert settings_from().litellm_enabled is False
    assert settings_from().litellm_base_url == DEFAULT_BASE_URL


def test_enabled_accepts_the_usual_spellings():
    for value in ("true", "TRUE", "1", "yes", "On"):
        assert settings_from(LITELLM_ENABLED=value).litellm_enabled, value
    for value in ("false", "0", "no", "off", ""):
        assert not settings_from(LITELLM_ENABLED=value).litellm_enabled, value


def test_a_bad_boolean_is_named():
    settings = settings_from(LITELLM_ENABLED="maybe")
    assert not settings.litellm_enabled
    assert [p.variable for p in settings.problems] == ["LITELLM_ENABLED"]


def test_base_url_is_normalised():
    for value in ("http://proxy:4000", "http://proxy:4000/", "http://proxy:4000/v1", "http://proxy:4000/v1/"):
        settings = settings_from(LITELLM_BASE_URL=value)
        assert settings.litellm_base_url == "http://proxy:4000"
        assert settings.api_base == "http://proxy:4000/v1"


def test_a_malformed_url_names_the_variable_and_disables_litellm():
    for value in ("not a url", "ftp://proxy", "http://", "http://host:notaport"):
        settings = settings_from(LITELLM_ENABLED="true", LITELLM_BASE_URL=value)
        assert [p.variable for p in settings.problems] == ["LITELLM_BASE_URL"], value
        assert "LITELLM_BASE_URL" in str(settings.problems[0])
        assert settings.litellm_enabled and not settings.litellm_usable


def test_numbers_fall_back_to_defaults_with_a_message():
    settings = settings_from(MODELS_CACHE_TTL="five minutes", CONNECT_TIMEOUT="-1")
    assert settings.models_cache_ttl == 300
    assert settings.connect_timeout == 2.0
    assert {p.variable for p in settings.problems} == {"MODELS_CACHE_TTL", "CONNECT_TIMEOUT"}
    assert settings_from(MODELS_CACHE_TTL="60").models_cache_ttl == 60


def test_environment_beats_secrets_beats_dotenv(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("LITELLM_BASE_URL=http://from-dotenv:1\nLITELLM_API_KEY=sk-dotenv-key-123456\n"
                      "OPENAI_API_KEY=sk-openai-from-dotenv\n")
    settings = load_settings({"LITELLM_BASE_URL": "http://from-env:1"},
                             secrets={"LITELLM_API_KEY": "sk-secret-key-123456"}, dotenv_path=dotenv)
    assert settings.litellm_base_url == "http://from-env:1"
    assert settings.litellm_api_key == "sk-secret-key-123456"
    assert settings.openai_api_key == "sk-openai-from-dotenv"


def test_a_missing_secrets_file_does_not_crash():
    assert load_settings({}, dotenv_path=None).problems == ()


def test_keys_never_appear_in_repr_or_public_view():
    settings = settings_from(LITELLM_API_KEY="sk-supersecretvalue-9876", OPENAI_API_KEY="sk-openai-secret-5555")
    assert "supersecret" not in repr(settings)
    public = settings.public()
    assert public["LITELLM_API_KEY"] == "sk-…9876"
    assert "supersecret" not in str(public) and "openai-secret" not in str(public)
    assert public["ANTHROPIC_API_KEY"] == "not set"


# --- Any value (Hypothesis): load_settings never raises, and every number it returns is usable -------------------

import math  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from gateway import redaction  # noqa: E402
from gateway.config import VARIABLES, Settings  # noqa: E402
from tests.support.properties import examples  # noqa: E402


class isolated_registry:
    """load_settings registers every key it reads for redaction, process-wide: random values must not stay there."""

    def __enter__(self):
        self.saved = set(redaction._registered)

    def __exit__(self, *exc):
        redaction._registered.clear()
        redaction._registered.update(self.saved)
        redaction._redact.cache_clear()

VALUES = st.one_of(st.text(max_size=30), st.sampled_from(["inf", "-inf", "nan", "1e309", "-0", "0", "1", "1e300",
                                                          "true", "0x10", " 5 ", "٣", "http://h:1", "http://h:99999"]))


NAMES = [v.name for v in VARIABLES]
MINIMUMS = {"connect_timeout": 0.1, "request_timeout": 1.0, "models_cache_ttl": 0, "max_response_mb": 0.01,
            "max_prompt_chars": 1, "max_reply_chars": 1000, "max_attachment_mb": 0.01, "max_attachments": 1,
            "max_conversation_attachments_mb": 0.01, "eval_concurrency": 1}  # written out: not read from config


@settings(max_examples=examples(400), deadline=None)
@given(st.dictionaries(st.sampled_from(NAMES), VALUES, min_size=1))  # variable names, as an environment has them
def test_any_values_give_usable_settings_and_name_what_was_wrong(env):
    with isolated_registry():
        settings_ = load_settings(env, secrets={}, dotenv_path=None)
    for name, minimum in MINIMUMS.items():
        value = getattr(settings_, name)
        assert math.isfinite(value) and value >= minimum, (name, value)
        if name.upper() not in env:
            assert value == getattr(Settings(), name), "a setting left unset keeps its default"
    assert {p.variable for p in settings_.problems} <= {k for k, v in env.items() if v.strip()}, \
        "only a variable that was set (to something) can be wrong"
    assert isinstance(settings_.litellm_enabled, bool)
    assert settings_.litellm_usable == (settings_.litellm_enabled and normalize_base_url(
        env.get("LITELLM_BASE_URL") or DEFAULT_BASE_URL) is not None)


@settings(max_examples=examples(200), deadline=None)
@given(st.floats(min_value=0.1, max_value=1e6, allow_nan=False), st.floats(allow_nan=True))
def test_a_valid_number_is_used_and_an_invalid_one_is_named(good, any_number):
    with isolated_registry():
        assert settings_from(CONNECT_TIMEOUT=repr(good)).connect_timeout == good
        result = settings_from(CONNECT_TIMEOUT=repr(any_number))
    valid = math.isfinite(any_number) and any_number >= 0.1
    assert (result.connect_timeout == any_number) if valid else (result.connect_timeout == 2.0)
    assert bool(result.problems) is not valid


def test_the_property_test_sees_real_variables():
    """The test above once sampled `Variable` objects as keys, so load_settings saw none of them: every example was
    an empty environment. A value it draws must reach the settings."""
    assert all(isinstance(name, str) and name.isupper() for name in NAMES)
    assert settings_from(**{NAMES[NAMES.index("CONNECT_TIMEOUT")]: "7"}).connect_timeout == 7


# --- One declaration: the docs are written from it, and drift fails -------------------------------------------------

from gateway import config  # noqa: E402
from scripts import settings_doc  # noqa: E402


def test_readme_table_and_env_example_are_what_the_declaration_writes():
    assert settings_doc.drifted() == [], "run: python -m scripts.settings_doc --write"


def test_a_setting_added_without_regenerating_the_docs_is_drift(monkeypatch):
    added = config.Setting("NEW_KNOB", 3, config.Number(1, whole=True), "A knob nobody documented yet.")
    monkeypatch.setattr(settings_doc, "ALL", (*config.ALL, added))
    assert settings_doc.drifted() == [settings_doc.README, settings_doc.ENV_EXAMPLE]


def test_every_example_in_env_example_is_valid():
    """What .env.example suggests parses without a problem (its commented lines too)."""
    env = {s.name: s.example_value for s in config.ALL}
    assert load_settings(env, secrets={}, dotenv_path=None).problems == ()
    assert config.load_stack_settings(env).problems == ()


def test_every_variable_is_a_field_and_every_field_but_the_secrets_tables_is_a_variable():
    import dataclasses

    fields = {f.name for f in dataclasses.fields(Settings)}
    assert {v.field for v in VARIABLES} == fields - {"analyst_keys", "analyst_budgets", "shared_api_key", "problems"}
    assert len(set(config.NAMES)) == len(config.NAMES)


# --- secrets.toml reaches the gateway through one seam (ui/secrets.py), not through Streamlit inside gateway/ -----

def test_the_pages_hand_streamlit_secrets_to_the_settings(monkeypatch):
    import ui  # noqa: F401  (importing the drawing package registers the seam)
    from ui import secrets as ui_secrets

    assert config._secrets_source is ui_secrets.streamlit_secrets
    monkeypatch.setattr(config, "_secrets_source", None)
    config.use_secrets(lambda: {"LITELLM_BASE_URL": "http://from-secrets:1", "analyst_budgets": {"Ana@X.com": 5}})
    settings_ = load_settings({}, dotenv_path=None)
    assert settings_.litellm_base_url == "http://from-secrets:1"
    assert settings_.monthly_budget("ana@x.com") == 5
    config.use_secrets(lambda: 1 / 0)  # a broken secrets file: no secrets, no crash
    assert load_settings({}, dotenv_path=None).litellm_base_url == DEFAULT_BASE_URL
