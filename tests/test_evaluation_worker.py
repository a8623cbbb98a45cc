"""An evaluation run against the real proxy and the demo models: the quote, the background worker (bounded
concurrency, rate limits retried with back-off), Stop, and a resume by a new worker on a newly opened store (as after
an app restart) that sends only the missing cells and ends with the demo models' known pass rates."""

from __future__ import annotations

import time

import pytest

from gateway.catalogue import fetch_models
from gateway.evaluation import quote as quoting
from gateway.evaluation import results, worker
from gateway.evaluation.prompt_sets import PromptSet, parse
from gateway.evaluation.runs import EvalRun, RunStatus
from gateway.store import Store
from gateway.store.evaluation import Evaluations
from tests.conftest import ROOT
from tests.support.proxy import settings_for

MODELS = ["eval-quick", "eval-creative", "eval-flaky"]  # demo-quick, demo-creative, demo-flaky
PASSES = {"eval-quick": 14, "eval-creative": 16, "eval-flaky": 11}  # README: the sample set's known pass rates
OWNER = "ana@example.com"


@pytest.fixture
def settings(proxy):
    return settings_for(proxy, EVAL_CONCURRENCY="6")


def sample_set() -> PromptSet:
    return PromptSet("sample", parse((ROOT / "examples" / "prompt-set.csv").read_bytes(), "prompt-set.csv"))


def test_the_quote_counts_every_prompt_with_the_proxy_and_states_its_output_estimate(settings):
    models = {m.key: m for m in fetch_models(settings).models}
    run = EvalRun.of(sample_set(), MODELS)
    found = quoting.quote(run, models, settings, quoting.history_medians({"eval-quick": (37.0, 2)}))
    assert found.counted == found.pairs == 60
    by_model = {m.model: m for m in found.models}
    assert by_model["eval-quick"].output_basis == "history" and by_model["eval-quick"].output_tokens_each == 37
    assert by_model["eval-flaky"].output_basis == "default"
    quick = models["eval-quick"]
    assert by_model["eval-quick"].cost == pytest.approx(quick.cost(by_model["eval-quick"].input_tokens, 37 * 20))
    assert 100 < by_model["eval-quick"].input_tokens < 600  # 20 short prompts
    assert found.total == pytest.approx(sum(m.cost for m in found.models))
    assert "counted by the proxy for all 60 calls" in found.basis and "37 output tokens a reply" in found.basis
    assert "the median of its 2 saved replies" in found.basis  # the replies it has, however few
    capped = quoting.quote(EvalRun.of(sample_set(), MODELS, run.params.__class__(max_tokens=50)), models, settings)
    assert {m.output_basis for m in capped.models} == {"max_tokens"} and "at most" in capped.basis


def test_stop_half_way_then_resume_after_a_restart_runs_only_the_missing_cells(settings, tmp_path):
    url = f"sqlite:///{tmp_path}/eval.db"
    models = {m.key: m for m in fetch_models(settings).models}
    first_store = Store.open(url)
    evaluations = Evaluations(first_store)
    run = EvalRun.of(sample_set(), MODELS)
    assert evaluations.create_run(run, OWNER) is True
    first = worker.start(run, OWNER, evaluations, settings, models)
    assert isinstance(first, worker.EvalWorker) and first.concurrency == 6
    deadline = time.monotonic() + 120
    while first.progress().done < 24 and time.monotonic() < deadline:
        time.sleep(0.1)
    first.stop()
    assert first.wait(15)
    before = {(c.row, c.model): c for c in evaluations.cells(run.id, OWNER)}
    assert 24 <= len(before) < 60, len(before)
    assert evaluations.load_run(run.id, OWNER).state() is RunStatus.STOPPED
    first_store.close()

    restarted = Evaluations(Store.open(url))  # a new process would open the same database
    reopened = restarted.load_run(run.id, OWNER)
    assert reopened.cells_done == len(before)
    second = worker.start(reopened, OWNER, restarted, settings, models)
    assert isinstance(second, worker.EvalWorker) and second is not first
    assert second.wait(180), second.progress()
    progress = second.progress()
    assert progress.done == 60 and progress.message == ""
    assert second._done_now == 60 - len(before)  # sent exactly the missing cells: no finished cell ran again

    cells = restarted.cells(run.id, OWNER)
    assert len(cells) == 60 and len({(c.row, c.model) for c in cells}) == 60
    for cell in cells:  # the cells saved before the stop are the very same calls
        if (cell.row, cell.model) in before:
            assert cell.reply.metrics.call_id == before[(cell.row, cell.model)].reply.metrics.call_id
    summary = results.summary(reopened, cells).set_index(results.Col.MODEL)
    assert summary[results.Col.PASSED].to_dict() == PASSES
    assert restarted.load_run(run.id, OWNER).state() is RunStatus.FINISHED
    flaky = [c for c in cells if c.model == "eval-flaky" and c.reply.error is not None]
    rate_limited = [c for c in flaky if c.reply.error.kind == "rate_limited"]
    assert len(flaky) == 9 and rate_limited and all(c.attempts == worker.MAX_ATTEMPTS for c in rate_limited)
    assert restarted.load_run(run.id, OWNER).cost == pytest.approx(sum(c.reply.metrics.cost or 0 for c in cells))
