"""The one sending door (gateway/sending.py) without a proxy: which prompts it refuses, how budgets are checked and
held so that concurrent requests cannot pass them together, and how models without a price count."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.budget import RESERVATIONS, BudgetExceeded, Reservation
from gateway.config import load_settings
from gateway.errors import PromptTooLong
from gateway.evaluation import worker
from gateway.evaluation.prompt_sets import PromptRow, PromptSet
from gateway.evaluation.runs import EvalRun
from gateway.models import ModelRecord
from gateway.sending import EmptyPrompt, Sender, admit, budget, check_prompt, expected_cost, visible
from gateway.store import Unavailable

ANA = "ana@example.com"


def settings(**values: str):
    return load_settings({"LITELLM_ENABLED": "false", **values}, secrets={}, dotenv_path=None)


class Ledger:
    """A store that answers only what a budget asks: one analyst's spending this month (known costs, and tokens of
    replies without a price). `delay`: how long each read takes (a slow database widens any race)."""

    def __init__(self, spent: float | Unavailable, unpriced_tokens: int = 0, delay: float = 0.0) -> None:
        self.spent, self.unpriced_tokens, self.delay = spent, unpriced_tokens, delay
        self.reads = 0

    def spending(self, owner: str, *, since: float, until: float):
        self.reads += 1
        time.sleep(self.delay)
        if isinstance(self.spent, Unavailable):
            return self.spent
        return self.spent, self.unpriced_tokens


@pytest.fixture(autouse=True)
def nothing_held():
    """Every test starts, and must end, with no budget held in the process."""
    assert RESERVATIONS.held(ANA) == 0
    yield
    assert RESERVATIONS.held(ANA) == 0, "a reservation was not released"


# --- Prompts ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("prompt", [
    "", " ", "\n\t ", "\u200b", "\u200b\u200c\u200d\u2060\ufeff", "\u00a0\u3000", "\u3164\u115f", "\u2800\u2800",
    "\u034f\u0301", "\U000e0020\U000e0041",  # a combining grapheme joiner and accent; tag characters
])
def test_a_prompt_with_nothing_visible_is_refused_like_a_blank_one(prompt):
    refused = check_prompt(prompt, settings())
    assert isinstance(refused, EmptyPrompt) and refused.kind == "empty_prompt"
    assert refused.message == "Not sent: the prompt is empty (it has no visible characters)."
    assert check_prompt(prompt, settings(), files=True) is None  # files alone may be sent


@pytest.mark.parametrize("prompt", ["x", "\u200bhi", "42", "é", "日本", "😀", "·", "\u200d👍\u200d", "$"])
def test_a_prompt_that_shows_something_passes(prompt):
    assert visible(prompt) and check_prompt(prompt, settings()) is None


def test_an_over_long_prompt_is_refused_first_and_cheaply():
    limited = settings(MAX_PROMPT_CHARS="100")
    assert check_prompt("x" * 100, limited) is None
    refused = check_prompt("\u200b" * 101, limited)  # too long wins over invisible: the length is counted first
    assert isinstance(refused, PromptTooLong) and refused.kind == "prompt_too_long"
    assert refused.message == ("Not sent: this prompt is 101 characters, about 33 tokens (estimated); the app sends "
                               "at most 100 characters in one prompt.")
    started = time.perf_counter()
    assert isinstance(check_prompt("x" * 20_000_000, settings()), PromptTooLong)
    assert time.perf_counter() - started < 0.5  # no scan of 20 MB of text


# --- Budgets ---------------------------------------------------------------------------------------------------------

def test_the_budget_refuses_once_spent_and_admins_are_exempt():
    budgeted = settings(ANALYST_MONTHLY_BUDGET_USD="1")
    refused = admit(Sender(ANA, "chat"), budgeted, Ledger(1.25), 0.01)  # type: ignore[arg-type]
    assert isinstance(refused, BudgetExceeded) and refused.kind == "budget_exceeded"
    assert refused.message == "Not sent: you have spent $1.25 of your $1.00 budget for this month."
    for sender, ledger, config in [
        (Sender(ANA, "chat", admin=True), Ledger(9.0), budgeted),  # admins are exempt
        (Sender(ANA, "chat"), Ledger(Unavailable("down")), budgeted),  # the ledger cannot be read: LiteLLM decides
        (Sender(ANA, "chat"), Ledger(99.0), settings()),  # no budget
    ]:
        held = admit(sender, config, ledger, 0.5)  # type: ignore[arg-type]
        assert isinstance(held, Reservation)
        assert RESERVATIONS.held(ANA) == 0  # nothing to hold where nothing is checked
        held.release()


def test_a_request_that_would_pass_the_budget_is_refused_before_it_is_sent():
    budgeted = settings(ANALYST_MONTHLY_BUDGET_USD="1")
    refused = admit(Sender(ANA, "api"), budgeted, Ledger(0.90), 0.15)  # type: ignore[arg-type]
    assert isinstance(refused, BudgetExceeded)
    assert refused.message == ("Not sent: this is expected to cost about $0.15, and $0.10 of your $1.00 budget for "
                               "this month is left ($0.90 spent).")
    with admit(Sender(ANA, "api"), budgeted, Ledger(0.90), 0.05) as held:  # type: ignore[arg-type]
        assert isinstance(held, Reservation) and RESERVATIONS.held(ANA) == pytest.approx(0.05)
    assert RESERVATIONS.held(ANA) == 0  # released on the way out


def test_five_concurrent_requests_at_86_percent_send_only_the_ones_that_fit():
    """$0.86 of $1.00 spent; five requests expected at $0.05 each arrive at once: two fit ($0.96), three are
    refused. The ledger read is slow (50 ms), so without one check-and-hold per analyst all five would pass."""
    budgeted = settings(ANALYST_MONTHLY_BUDGET_USD="1")
    ledger = Ledger(0.86, delay=0.05)
    start = threading.Barrier(5)

    def request(_: int):
        start.wait()
        return admit(Sender(ANA, "api"), budgeted, ledger, 0.05)  # type: ignore[arg-type]

    with ThreadPoolExecutor(5) as pool:
        outcomes = list(pool.map(request, range(5)))
    sent = [o for o in outcomes if isinstance(o, Reservation)]
    refused = [o for o in outcomes if isinstance(o, BudgetExceeded)]
    assert len(sent) == 2 and len(refused) == 3
    assert RESERVATIONS.held(ANA) == pytest.approx(0.10)
    assert all("held for your requests still on their way" in r.message for r in refused)
    for held in sent:
        held.release()
        held.release()  # twice is harmless
    assert RESERVATIONS.held(ANA) == 0


def test_unpriced_replies_count_at_the_assumed_rate():
    budgeted = settings(ANALYST_MONTHLY_BUDGET_USD="0.01")  # the issue's: 60 unpriced replies, "spent $0.00"
    found = budget(Sender(ANA, "chat"), budgeted, Ledger(0.0, unpriced_tokens=60 * 600))  # type: ignore[arg-type]
    assert found is not None and found.spent == pytest.approx(0.36) and found.unpriced == pytest.approx(0.36)
    refused = admit(Sender(ANA, "chat"), budgeted, Ledger(0.0, 60 * 600), 0.001)  # type: ignore[arg-type]
    assert isinstance(refused, BudgetExceeded)
    assert refused.message == ("Not sent: you have spent $0.36 of your $0.01 budget for this month (of which $0.36 "
                               "assumed for replies without a price).")
    free = settings(ANALYST_MONTHLY_BUDGET_USD="0.01", UNPRICED_USD_PER_1K_TOKENS="0")  # the old behaviour, chosen
    assert budget(Sender(ANA, "chat"), free, Ledger(0.0, 36_000)).spent == 0  # type: ignore[arg-type,union-attr]


def test_an_unpriced_model_is_expected_to_cost_its_tokens_at_the_assumed_rate():
    priced = ModelRecord("gpt-4o", "litellm", ("openai",), input_price=1.0, output_price=2.0)
    unpriced = ModelRecord("home-llama", "litellm", ("ollama",))
    messages = [{"role": "user", "content": "x" * 400}]  # ~107 tokens with the message's own
    config = settings(UNPRICED_USD_PER_1K_TOKENS="0.02")
    assert expected_cost(priced, messages, 100, config) == pytest.approx(priced.cost(107, 100))
    assert expected_cost(unpriced, messages, 100, config) == pytest.approx((107 + 100) * 0.02 / 1000)
    assert expected_cost(unpriced, messages, None, config, repeats=3) == pytest.approx(3 * (107 + 500) * 0.02 / 1000)


# --- Evaluation runs -------------------------------------------------------------------------------------------------

class _Evaluations:
    def __init__(self, ledger: Ledger) -> None:
        self.store = ledger


def test_a_run_whose_quote_does_not_fit_is_refused_in_words_and_a_resume_is_quoted_for_what_is_left():
    rows = tuple(PromptRow(f"question {i}") for i in range(10))
    run = EvalRun.of(PromptSet("ten", rows), ["a", "b"], quote=0.40)  # $0.02 a cell
    budgeted = settings(ANALYST_MONTHLY_BUDGET_USD="1")
    refused = worker.budget_refusal(run, ANA, _Evaluations(Ledger(0.70)), budgeted, {})  # type: ignore[arg-type]
    assert refused is not None and refused.startswith(
        "Not sent: this is expected to cost about $0.40, and $0.30 of your $1.00 budget for this month is left")
    half = {(row, key) for row in range(5) for key in ("a", "b")}  # half the cells are saved: $0.20 is left to run
    assert worker.budget_refusal(run, ANA, _Evaluations(Ledger(0.70)), budgeted, {}, half) is None  # type: ignore[arg-type]
    assert worker.budget_refusal(run, "boss@example.com", _Evaluations(Ledger(5.0)),  # type: ignore[arg-type]
                                 settings(ANALYST_MONTHLY_BUDGET_USD="1", ADMIN_EMAILS="boss@example.com"), {}) is None


# --- Parameters ------------------------------------------------------------------------------------------------------

def test_a_thinking_budget_that_leaves_no_room_for_the_answer_is_refused_before_anything_is_sent():
    from gateway.conversation import Conversation
    from gateway.params import ChatParams
    from gateway.sending import ThinkingBudgetTooLarge, check_params, send_chat, start_compare

    model = ModelRecord("thinker", "litellm", ("anthropic",))
    too_big = ChatParams(max_tokens=2048, reasoning_effort="high", thinking_budget=2048)
    unsent = settings(LITELLM_BASE_URL="http://127.0.0.1:9")  # nothing answers there: a send would fail otherwise
    refused = send_chat(model, [{"role": "user", "content": "hi"}], too_big, unsent, Ledger(0.0),  # type: ignore[arg-type]
                        Sender(ANA, "chat"))
    assert isinstance(refused, ThinkingBudgetTooLarge) and refused.http_status == 400
    assert refused.message == ("Not sent: the thinking budget (2,048 tokens) must be below Max tokens (2,048): the "
                               "answer comes out of the same tokens.")
    other = ModelRecord("other", "litellm", ("openai",))
    compared = start_compare(Conversation("compare"), [other, model], "hi", {other.key: ChatParams(), model.key: too_big},
                             1, unsent, Ledger(0.0), Sender(ANA, "compare"))  # type: ignore[arg-type]
    assert isinstance(compared, ThinkingBudgetTooLarge) and f"for {model.name} " in compared.message
    assert check_params(ChatParams(max_tokens=4096, thinking_budget=2048)) is None  # room left for the answer
    assert check_params(ChatParams(thinking_budget=2048)) is None  # no Max tokens: the model's own limit applies
    assert check_params(ChatParams(max_tokens=1024, thinking_budget=2048, reasoning_effort="off")) is None  # not sent
