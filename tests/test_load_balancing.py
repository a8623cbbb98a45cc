"""One model name load-balanced over several deployments that differ: the catalogue promises what every request is
sure to get (the smallest window, the highest prices) and shows the ranges; the chat holds back a prompt that only
the largest deployment could take. `balanced-3` in tests/proxy_config.yaml: 128k at $3/$12, 32k at $1/$2, 64k at
$2/$8 per 1M tokens."""

import pytest
from streamlit.testing.v1 import AppTest

from gateway.catalogue import fetch_models
from gateway.discovery import parse_model_info
from gateway.models import ModelRecord
from gateway.table import models_frame
from gateway.tokens import fit_before_sending
from tests.support.litellm_versions import CURRENT
from tests.support.pages import RUN_TIMEOUT

pytestmark = pytest.mark.litellm_versions  # every test using the proxy runs against each release

APP = "../home.py"
SPREAD = "32k–128k context · $1–$3 in / $2–$12 out per 1M tokens, across 3 deployments"
LONG = [{"role": "user", "content": "word " * 100_000}]  # ~100k tokens: only the 128k deployment could take it


def balanced(settings) -> ModelRecord:
    return next(m for m in fetch_models(settings).litellm_models if m.id == "balanced-3")


def deployment(window=None, output=None, input_cost=None, output_cost=None, model="openai/x") -> dict:
    info = {"max_input_tokens": window, "max_output_tokens": output, "input_cost_per_token": input_cost,
            "output_cost_per_token": output_cost}
    return {"model_name": "group", "litellm_params": {"model": model}, "model_info": info}


# --- What the proxy's /model/info becomes -----------------------------------------------------------------------------

def test_the_smallest_window_the_highest_prices_and_the_ranges(settings):
    model = balanced(settings)
    assert model.deployments == 3 and model.deployments_differ
    assert (model.context_window, model.context_window_max, model.context_source) == (32_000, 128_000, "proxy")
    assert model.max_output_tokens == 4096
    assert (model.input_price_min, model.input_price) == (pytest.approx(1.0), pytest.approx(3.0))
    assert (model.output_price_min, model.output_price) == (pytest.approx(2.0), pytest.approx(12.0))
    assert model.spread == SPREAD


def test_deployments_that_agree_are_not_flagged(settings):
    gpt = next(m for m in fetch_models(settings).litellm_models if m.id == "gpt-4o")
    assert gpt.deployments == 2 and not gpt.deployments_differ and gpt.spread == ""
    assert gpt.context_window == gpt.context_window_max == 128_000


def test_only_the_windows_differ():
    [model] = parse_model_info({"data": [deployment(8192, input_cost=1e-6), deployment(32768, input_cost=1e-6)]})
    assert (model.context_window, model.context_window_max) == (8192, 32768)
    assert model.spread == "8.19k–32.8k context, across 2 deployments"


def test_only_the_prices_differ():
    [model] = parse_model_info({"data": [deployment(128_000, input_cost=5e-7, output_cost=1e-6),
                                         deployment(128_000, input_cost=2.5e-6, output_cost=1e-6)]})
    assert model.context_window == 128_000 and model.output_price_min == model.output_price == 1.0
    assert model.spread == "$0.5–$2.5 in per 1M tokens, across 2 deployments"


def test_a_deployment_the_proxy_knows_nothing_about_does_not_hide_the_others():
    [model] = parse_model_info({"data": [deployment(model="openai/custom"),
                                         deployment(16_000, 1000, 1e-6, 2e-6, model="openai/gpt-4o")]})
    assert (model.context_window, model.context_source, model.max_output_tokens) == (16_000, "proxy", 1000)
    assert model.deployments == 2 and not model.deployments_differ  # nothing known to compare with


def test_with_no_window_from_the_proxy_the_estimate_has_no_range():
    [model] = parse_model_info({"data": [deployment(model="groq/llama3-8b-8192"), deployment(model="groq/x")]})
    assert (model.context_window, model.context_source, model.context_window_max) == (8192, "estimated", None)


# --- The catalogue table and page ---------------------------------------------------------------------------------

def test_the_table_shows_the_smallest_window_and_the_ranges(settings):
    frame = models_frame(fetch_models(settings).models)
    row = frame.loc["balanced-3"]
    assert (row["Context"], row["Max output"], row["Deployments"]) == (32_000, 4096, 3)
    assert (row["Input $/1M"], row["Output $/1M"]) == (pytest.approx(3.0), pytest.approx(12.0))
    assert row["Deployments differ"] == SPREAD
    assert frame.loc["gpt-4o", "Deployments differ"] == "" and frame.loc["demo-fast", "Deployments differ"] == ""


@pytest.mark.litellm_versions(CURRENT)  # pages draw what the gateway decides: AppTest on the pinned release only
def test_the_catalogue_page_flags_the_group(app_env):
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.run()
    at.switch_page("pages/models.py").run()
    assert not at.exception, at.exception
    row = at.dataframe[0].value.set_index("Model").loc["balanced-3"]
    assert row["Context"] == 32_000 and row["Deployments differ"] == SPREAD
    assert any("1 of the proxy's models load-balance over deployments that differ" in c.value for c in at.caption)


# --- The chat -----------------------------------------------------------------------------------------------------

def test_the_chat_holds_back_a_prompt_only_the_largest_deployment_could_take(settings):
    model = balanced(settings)
    fit = fit_before_sending(model, LONG, settings)  # counted by the proxy, or estimated when it is slow (1.5 s)
    assert fit.limit == 32_000 and not fit.fits
    assert 64_000 < fit.used < model.context_window_max  # it would fit the 128k deployment, and only that one


@pytest.mark.litellm_versions(CURRENT)
def test_the_chat_page_refuses_it_and_keeps_the_prompt(app_env):
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.query_params["model"] = "balanced-3"
    at.run()
    at.switch_page("pages/chat.py").run()
    at.chat_input[0].set_value(LONG[0]["content"]).run()
    assert not at.exception, at.exception
    [prompt, refusal] = at.chat_message
    assert prompt.markdown[0].value.startswith("word word")
    assert "Not sent" in refusal.error[0].value and "takes 32,000" in refusal.error[0].value
    assert "of 32,000 tokens" in at.get("progress")[0].proto.text
