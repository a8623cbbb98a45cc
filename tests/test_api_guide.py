"""A client written to the integration guide lists the demo models from a fresh `make run`, unchanged: the guide's
troubleshooting `curl …/api/models`, the same GET from a raw HTTP client, and its `fetchModels` (the guide's
TypeScript, run by Node as examples/guide-client.mjs) all get a bare array of `{id, name, provider, contextWindow}`
with `provider: "litellm"` for the proxy's models."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator

import pytest
import yaml

from api.models import guide_json, source_headers, usable
from gateway.catalogue import Catalogue
from gateway.models import builtin_models
from tests.conftest import ROOT
from tests.support.stack import StackRun

GUIDE_FIELDS = {"id", "name", "provider", "contextWindow"}
# The demo models `make run` serves, and their windows, as litellm_config.yaml declares them
DEMO_MODELS = {entry["model_name"]: entry["model_info"]["max_input_tokens"]
               for entry in yaml.safe_load((ROOT / "litellm_config.yaml").read_text())["model_list"]
               if entry["model_name"].startswith("demo-")}


def test_the_demo_models_are_known():
    assert {"demo-quick", "demo-thorough", "demo-creative", "demo-flaky", "demo-vision"} <= set(DEMO_MODELS)
    assert DEMO_MODELS["demo-quick"] == 16384


def test_a_direct_model_is_listed_by_its_own_provider_and_only_once_its_key_is_set():
    with_openai = builtin_models(openai_key=True, anthropic_key=False)
    listed = [guide_json(m) for m in usable(with_openai)]
    assert listed and {m["provider"] for m in listed} == {"openai"}
    assert {"id": "gpt-4o", "name": "gpt-4o (direct)", "provider": "openai", "contextWindow": 128000} in listed
    assert usable(builtin_models(openai_key=False, anthropic_key=False)) == []


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh `make run`: its own proxy, demo models and app (no key, no .env beforehand)."""
    run = StackRun(tmp_path_factory.mktemp("stack"))
    try:
        yield run.wait_for_url()
        assert run.interrupt() == 0
    finally:
        run.kill()


def check_guide_answer(models: object) -> None:
    assert isinstance(models, list), models
    assert all(set(m) == GUIDE_FIELDS for m in models), models
    demo = {m["id"]: m for m in models if m["id"].startswith("demo-")}
    assert {name: (m["name"], m["provider"], m["contextWindow"]) for name, m in demo.items()} == {
        name: (name, "litellm", window) for name, window in DEMO_MODELS.items()}


@pytest.mark.proxy
def test_the_guides_curl_lists_the_demo_models(stack):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed here (the raw HTTP test below makes the same request)")
    answer = subprocess.run(["curl", "-s", "-i", f"{stack}/api/models"], capture_output=True, text=True, timeout=60,
                            check=True).stdout
    head, _, body = answer.replace("\r\n", "\n").partition("\n\n")
    assert head.startswith("HTTP/1.1 200") and "content-type: application/json" in head.lower()
    assert "x-models-source: live" in head.lower() or "x-models-source: cached" in head.lower()
    check_guide_answer(json.loads(body))


@pytest.mark.proxy
def test_a_raw_http_get_lists_the_demo_models(stack):
    with urllib.request.urlopen(f"{stack}/api/models", timeout=60) as response:
        assert response.status == 200 and response.headers["Content-Type"] == "application/json"
        check_guide_answer(json.load(response))


@pytest.mark.proxy
def test_the_guides_fetch_models_gets_its_array(stack):
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node is not installed here: examples/guide-client.mjs needs it")
    ran = subprocess.run([node, str(ROOT / "examples" / "guide-client.mjs"), stack], capture_output=True, text=True,
                         timeout=60)
    assert ran.returncode == 0, ran.stderr
    lines = dict(line.split("\t", 1) for line in ran.stdout.splitlines())
    assert all(lines[name] == f"{name}\tvia LiteLLM\t{window}" for name, window in DEMO_MODELS.items()), lines


def test_without_a_proxy_list_the_headers_say_so_and_give_no_age():
    headers = source_headers(Catalogue(builtin_models(openai_key=False, anthropic_key=False), "disabled"), 0.0)
    assert headers == {"X-Models-Source": "builtin_only", "X-Models-Status": "disabled"}
