"""Exports of a chat or a comparison: CSV rows, JSON that imports back, and a Markdown report. Pure: no proxy."""

import io
import json

import pandas as pd
import pytest

from gateway import exports
from gateway.conversation import Conversation, Round
from gateway.params import ChatParams
from gateway.reply import Metrics, Outcome, Reply, ReplyError


@pytest.fixture
def comparison() -> Conversation:
    params = {"a": ChatParams(system_prompt="Be brief.", temperature=0.5), "b": ChatParams()}
    runs = {"a": [Reply("a", "Paris.", Outcome.COMPLETE, Metrics(ttft=0.2, total=1.0, completion_tokens=2, cost=0.001,
                                                                 finish_reason="stop"))],
            "b": [Reply("b", "", Outcome.FAILED, Metrics(total=0.1), ReplyError("Rate limited", "Wait.",
                                                                                "rate_limited"))]}
    return Conversation("compare", [Round("Capital of France?", params, runs)], models=["a", "b"])


@pytest.fixture
def chat() -> Conversation:
    conversation = Conversation(params=ChatParams(system_prompt="Be brief.", temperature=0.5))
    conversation.add_prompt("Hello").add(Reply("demo-fast", "Hello! I am the fast demo model.", Outcome.COMPLETE,
                                               Metrics(ttft=0.1, total=0.2, completion_tokens=8)),
                                         ChatParams(system_prompt="Be brief.", temperature=0.5))
    conversation.add_prompt("Again").add(Reply("demo-fast", "", Outcome.FAILED, Metrics(total=0.1),
                                               ReplyError("Rate limited.", "Wait a moment.", "rate_limited")))
    return conversation


def test_csv_has_prompt_parameters_reply_outcome_and_numbers(comparison):
    frame = pd.read_csv(io.StringIO(exports.to_csv(comparison))).set_index("model")
    row = frame.loc["a"]
    assert row["prompt"] == "Capital of France?" and row["reply"] == "Paris." and row["outcome"] == "complete"
    assert row["param_system_prompt"] == "Be brief." and row["param_temperature"] == 0.5
    assert row["ttft"] == 0.2 and row["cost"] == 0.001 and row["tokens_per_second"] == pytest.approx(2.5)
    assert frame.loc["b", "error"] == "Rate limited" and frame.loc["b", "outcome"] == "failed"


def test_json_holds_every_run_and_imports_back_as_a_new_conversation(comparison):
    text = exports.to_json(comparison, share_url="http://host/compare?models=a,b")
    data = json.loads(text)
    assert data["models"] == ["a", "b"] and data["share_url"].endswith("models=a,b")
    first = data["rounds"][0]
    assert first["prompt"] == "Capital of France?" and first["params"]["a"]["temperature"] == 0.5
    assert first["runs"]["a"][0]["text"] == "Paris." and first["runs"]["a"][0]["metrics"]["cost"] == 0.001
    assert first["runs"]["b"][0]["outcome"] == "failed" and first["runs"]["b"][0]["error"]["hint"] == "Wait."

    imported = exports.import_json(text)
    assert imported.id != comparison.id and imported.rounds == comparison.rounds and imported.kind == "compare"
    assert "diff" not in data and imported.diff is None  # none picked yet


def test_json_keeps_the_diff_pair_picked(comparison):
    comparison.diff = ("b", "a")
    data = json.loads(exports.to_json(comparison))
    assert data["diff"] == ["b", "a"]
    assert exports.import_json(json.dumps(data)).diff == ("b", "a")
    for broken in (["a"], ["a", "a"], "ab", ["a", 1], None):  # a hand-edited file: no pair, and no error
        assert exports.import_json(json.dumps({**data, "diff": broken})).diff is None


@pytest.mark.parametrize("text, words", [
    ("not json", "not JSON"), ("[1, 2]", "no JSON object"), ('{"format": "x"}', "not a conversation export"),
    ('{"format": "llm-dashboard.conversation/1", "kind": "chat", "rounds": [{"no": "prompt"}]}', "missing"),
])
def test_a_file_that_is_not_an_export_is_refused_in_plain_words(text, words):
    with pytest.raises(ValueError, match=words):
        exports.import_json(text)


def test_markdown_reads_as_a_report(comparison):
    text = exports.to_markdown(comparison)
    assert "## Round 1" in text and "> Capital of France?" in text and "> Paris." in text
    assert "system prompt “Be brief.”, temperature 0.5" in text
    assert "**Error:** Rate limited" in text
    assert "| Model | Outcome | TTFT (s) |" in text and "| a | complete | 0.2 | 1 |" in text


def test_a_chat_exports_its_turns_model_parameters_and_numbers(chat):
    record = json.loads(exports.to_json(chat))
    assert record["kind"] == "chat" and record["params"]["temperature"] == 0.5
    assert [r["prompt"] for r in record["rounds"]] == ["Hello", "Again"]
    first = record["rounds"][0]["runs"]["demo-fast"][0]
    assert first["metrics"]["completion_tokens"] == 8 and first["outcome"] == "complete"
    assert first["metrics"]["tokens_per_second"] == pytest.approx(80)
    second = record["rounds"][1]["runs"]["demo-fast"][0]
    assert second["outcome"] == "failed" and second["error"]["kind"] == "rate_limited"

    markdown = exports.to_markdown(chat, metrics_line=lambda m: f"{m.completion_tokens} tokens")
    assert "# Chat with demo-fast" in markdown and "Be brief." in markdown and "temperature: 0.5" in markdown
    assert "Hello! I am the fast demo model." in markdown and "_8 tokens_" in markdown
    assert "**Error:** Rate limited." in markdown and "Wait a moment." in markdown


def test_a_chat_export_names_its_models_and_its_title():
    chat = Conversation("chat")
    chat.add_prompt("What is the capital of France?").add(Reply("demo-fast", "Paris.", Outcome.COMPLETE))
    data = json.loads(exports.to_json(chat))
    assert data["models"] == ["demo-fast"] and data["title"] == chat.display_title and data["title"]


def test_a_malformed_import_says_what_is_wrong_in_words():
    good = json.loads(exports.to_json(Conversation("chat", [Round("Hi", {}, {"m": [Reply("m", "Hello")]})])))
    del good["rounds"][0]["runs"]["m"][0]["model"]
    with pytest.raises(ValueError) as missing:
        exports.import_json(json.dumps(good))
    assert str(missing.value) == "not a conversation export: a required field, 'model', is missing"
    good["rounds"][0]["runs"] = {"m": 5}
    with pytest.raises(ValueError, match="a field holds the wrong kind of value") as wrong:
        exports.import_json(json.dumps(good))
    assert "Error(" not in str(wrong.value) and "object" not in str(wrong.value)
