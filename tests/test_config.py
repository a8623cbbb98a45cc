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
from gateway.config import VARIABLES  # noqa: E402
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


@settings(max_examples=examples(400), deadline=None)
@given(st.dictionaries(st.sampled_from(VARIABLES), VALUES))
def test_any_values_give_usable_settings_and_name_what_was_wrong(env):
    with isolated_registry():
        settings_ = load_settings(env, secrets={}, dotenv_path=None)
    for name, minimum in (("connect_timeout", 0.1), ("request_timeout", 1.0), ("models_cache_ttl", 0),
                          ("max_response_mb", 0.01), ("max_prompt_chars", 1)):
        value = getattr(settings_, name)
        assert math.isfinite(value) and value >= minimum, (name, value)
    assert {p.variable for p in settings_.problems} <= set(VARIABLES)
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
