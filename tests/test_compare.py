"""Comparing models: concurrent streams against the real proxy, each model's thread, numbers and diffs."""

from __future__ import annotations

import threading
import time

import pytest

from gateway.catalogue import fetch_models
from gateway.compare import CompareRun, jobs_for, run_all
from gateway.compare.links import parse_models_param
from gateway.compare.stats import Col, fastest_and_cheapest, percentile, results_frame, stats_frame
from gateway.conversation import Conversation, Round
from gateway.diff import word_diff
from gateway.models import ModelRecord, find_model
from gateway.params import ChatParams
from gateway.reply import Metrics, Outcome, Reply
from ui.compare_results import chart_data
from ui.diff import diff_markdown

DELAY = 3.5  # mock_delay of compare-a/b/c in tests/proxy_config.yaml


@pytest.fixture
def models(settings):
    catalogue = fetch_models(settings)
    return lambda *keys: [find_model(catalogue.models, key) for key in keys]


def send(models, prompt, *, params=None, repeats=1, comparison=None):
    comparison = comparison or Conversation("compare")
    params = {m.key: params or ChatParams() for m in models}
    return jobs_for(comparison, models, prompt, params, repeats)


# --- Concurrency against the real proxy ----------------------------------------------------------------------------

def test_three_slow_models_finish_in_about_the_time_of_one(settings, models):
    started = time.perf_counter()
    run_all(send(models("compare-a"), "Capital of France?"), settings)
    alone = time.perf_counter() - started

    started = time.perf_counter()
    runs = run_all(send(models("compare-a", "compare-b", "compare-c"), "Capital of France?"), settings)
    together = time.perf_counter() - started

    assert alone >= DELAY
    assert together < 2 * alone, f"three took {together:.2f} s, one {alone:.2f} s: not concurrent"
    replies = {key: runs[key][-1] for key in runs}
    assert replies["compare-b"].text == "The capital of France is Paris, on the river Seine."
    assert all(r.outcome is Outcome.COMPLETE and r.metrics.ttft >= DELAY for r in replies.values())


def test_a_failing_model_does_not_hold_up_the_others(settings, models, proxy):
    run = CompareRun(send(models("compare-a", "error-rate-limit", "demo-fast"), "Hi"), settings).start()
    assert run.wait(60)
    replies = run.snapshot()

    failed = replies["error-rate-limit"]
    assert failed.outcome is Outcome.FAILED and "Rate limited" in failed.error.message and failed.error.hint
    assert failed.error.kind == "rate_limited" and failed.metrics.finish_reason is None
    assert failed.metrics.total < replies["compare-a"].metrics.ttft  # it ended before the slow one began
    assert proxy.master_key not in failed.error.message
    assert replies["demo-fast"].text == "Hello! I am the fast demo model."
    assert replies["compare-a"].outcome is Outcome.COMPLETE


def test_stop_ends_every_stream_and_keeps_the_partial_replies(settings, models):
    run = CompareRun(send(models("stream-1", "compare-b"), "Count"), settings).start()
    while not run.snapshot()["stream-1"].text:  # stream-1 streams 35 words over ~3.5 s
        assert not run.wait(0.05), "stream-1 ended before it could be stopped"

    run.stop()
    stopped = run.snapshot()

    assert run.wait(0)
    assert stopped["stream-1"].outcome is Outcome.STOPPED and 0 < len(stopped["stream-1"].text.split()) < 35
    assert stopped["compare-b"].outcome is Outcome.STOPPED and stopped["compare-b"].text == ""
    assert stopped["stream-1"].metrics.finish_reason is None and stopped["stream-1"].metrics.ttft > 0
    assert stopped["stream-1"].metrics.total > 0 and stopped["compare-b"].metrics.total > 0
    deadline = time.monotonic() + 60
    while any(t.name.startswith("compare-") and t.is_alive() for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a worker kept running after stop"
        time.sleep(0.05)
    assert run.snapshot() == stopped  # nothing arrived after the stop

    comparison = Conversation("compare")
    run.record(comparison, "Count", {"stream-1": ChatParams(), "compare-b": ChatParams()})
    assert comparison.thread("stream-1")[1]["content"] == stopped["stream-1"].text
    assert comparison.thread("compare-b") == []


def test_follow_ups_continue_each_models_own_thread(settings, models):
    chosen = models("upstream-echo", "demo-fast")
    params = {m.key: ChatParams() for m in chosen}
    comparison = Conversation("compare")
    for prompt in ("first question", "second question"):
        run = CompareRun(jobs_for(comparison, chosen, prompt, params), settings).start()
        run.wait(60)
        run.record(comparison, prompt, params)

    assert comparison.rounds[1].replies["upstream-echo"].text.strip() == "echo: second question"
    assert [m["role"] for m in comparison.thread("demo-fast")] == ["user", "assistant"] * 2
    assert comparison.thread("upstream-echo")[2] == {"role": "user", "content": "second question"}


def test_run_n_times_reports_every_run(settings, models):
    runs = run_all(send(models("demo-fast", "upstream-echo"), "Hi", repeats=3), settings)

    assert [r.run for r in runs["demo-fast"]] == [1, 2, 3]
    stats = stats_frame(runs).set_index(Col.MODEL)
    assert stats.loc["demo-fast", Col.RUNS] == 3 and stats.loc["demo-fast", Col.FAILED] == 0
    assert stats.loc["demo-fast", Col.TTFT_MEDIAN] <= stats.loc["demo-fast", Col.TTFT_P95]
    assert stats.loc["demo-fast", Col.MEAN_COST] > 0  # demo-fast has prices in its model_info


# --- The conversation --------------------------------------------------------------------------------------------

def reply(key, text="", outcome=Outcome.COMPLETE, **metrics):
    return Reply(key, text=text, outcome=outcome, metrics=Metrics(**metrics))


def test_a_model_without_a_reply_has_no_turn_in_its_thread():
    comparison = Conversation("compare", [Round("Q1", {}, {"a": [reply("a", "A1")],
                                                          "b": [reply("b", "", Outcome.FAILED)]})])
    jobs = jobs_for(comparison, [_model("a"), _model("b")], "Q2",
                    {"a": ChatParams(system_prompt="Be brief."), "b": ChatParams()})

    assert jobs[0].messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Q1"},
                                {"role": "assistant", "content": "A1"}, {"role": "user", "content": "Q2"}]
    assert jobs[1].messages == [{"role": "user", "content": "Q2"}]


def _model(key):
    return ModelRecord(id=key, route="litellm", providers=("openai",))


def test_per_model_overrides_replace_only_what_they_set():
    shared = ChatParams(system_prompt="Shared.", temperature=0.2, max_tokens=100)
    assert shared.with_overrides({"temperature": 1.0, "top_p": None, "max_tokens": None}) == ChatParams(
        "Shared.", 1.0, None, 100)
    assert shared.with_overrides({"system_prompt": ""}) == shared
    assert shared.with_overrides(None) == shared


def test_models_link_parameter():
    assert parse_models_param("a, b,,a,c") == ["a", "b", "c"]
    assert parse_models_param(None) == []


# --- Numbers -----------------------------------------------------------------------------------------------------

def test_percentile_interpolates_between_ranks():
    values = list(range(1, 21))
    assert percentile(values, 50) == 10.5
    assert percentile(values, 95) == pytest.approx(19.05)
    assert percentile([4.0], 95) == 4.0
    assert percentile([], 50) is None


def test_results_mark_the_fastest_and_the_cheapest_of_the_completed_replies():
    frame = results_frame({
        "quick": reply("quick", "x", total=1.0, cost=0.003),
        "cheap": reply("cheap", "x", total=2.0, cost=0.001),
        "broken": reply("broken", "", Outcome.FAILED, total=0.1, cost=0.0001),
    })
    assert fastest_and_cheapest(frame) == ("quick", "cheap")
    assert dict(zip(frame[Col.MODEL], frame[Col.BEST])) == {"quick": "fastest", "cheap": "cheapest", "broken": ""}


def test_one_model_can_be_both_fastest_and_cheapest():
    frame = results_frame({"a": reply("a", "x", total=1.0, cost=0.001), "b": reply("b", "x", total=2.0, cost=0.01)})
    assert frame.set_index(Col.MODEL).loc["a", Col.BEST] == "fastest, cheapest"


# --- Diff --------------------------------------------------------------------------------------------------------

def test_identical_replies_are_reported_as_such_whatever_the_spacing():
    diff = word_diff("Paris is the capital.", "Paris  is the\ncapital.")
    assert diff.identical and diff.ratio == 1.0


def test_different_replies_show_the_words_each_has():
    diff = word_diff("Paris is the capital of France", "The capital of France is Paris")
    assert not diff.identical
    assert ("insert", "The") in diff.ops and ("equal", "capital of France") in diff.ops
    assert diff.counts == {"equal": 3, "delete": 3, "insert": 3}


def test_diff_markdown_marks_changes_and_escapes_the_text():
    text = diff_markdown(word_diff("a *b* c", "a [x] c"))
    assert text == r"a :red-background[~~\*b\*~~] :green-background[\[x\]] c"


def test_each_chart_marks_the_model_best_at_its_own_measure():
    """The TTFT chart colours the first to answer, the total chart the first to finish, the cost chart the cheapest."""
    frame = results_frame({
        "answers-first": reply("answers-first", "x", ttft=0.1, total=3.0, completion_tokens=300, cost=0.002),
        "ends-first": reply("ends-first", "x", ttft=0.5, total=1.0, completion_tokens=20, cost=0.001),
    })
    marked = {(row["Measure"], row[Col.MODEL]) for _, row in chart_data(frame).iterrows() if row[Col.BEST] != "other"}
    assert marked == {(Col.TTFT, "answers-first"), (Col.TOTAL, "ends-first"), (Col.TOKENS_PER_S, "answers-first"),
                      (Col.COST, "ends-first")}
    assert set(chart_data(frame)[Col.BEST]) == {"fastest", "cheapest", "other"}
