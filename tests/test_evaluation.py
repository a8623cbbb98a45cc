"""Evaluation without a proxy: prompt sets and their checks, blind mode, votes, a run's results and exports, and the
Run ×N statistics."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from gateway import exports
from gateway.compare.stats import NO_CLEAR_DIFFERENCE, Col, median_intervals, pairwise_differences
from gateway.conversation import Conversation, Round, new_id
from gateway.evaluation import results
from gateway.evaluation.blind import HIDDEN_NAME, SHOWN, Blind, shuffled, withheld
from gateway.evaluation.prompt_sets import MAX_ROWS, PromptRow, PromptSet, SetError, parse, passes
from gateway.evaluation.runs import STALE_AFTER, Cell, EvalRun, RunStatus, judge
from gateway.evaluation.votes import Verdict, Vote, clean_tag
from gateway.reply import Metrics, Outcome, Reply, ReplyError
from tests.conftest import ROOT

# --- Prompt sets -----------------------------------------------------------------------------------------------------

def test_the_sample_csv_reads_with_every_column():
    rows = parse((ROOT / "examples" / "prompt-set.csv").read_bytes(), "prompt-set.csv")
    assert len(rows) == 20 and all(r.expected and r.tag for r in rows)
    assert rows[8] == PromptRow("What is 6 * 7?", "Answer with only the number.", "42", "arithmetic")


def test_jsonl_paste_and_plain_lines():
    jsonl = '{"prompt": "Capital of Japan?", "expected": "/tokyo/i", "tag": "facts"}\n\n{"Prompt": "Hi"}\n'
    assert parse(jsonl) == (PromptRow("Capital of Japan?", "", "/tokyo/i", "facts"), PromptRow("Hi"))
    assert parse("prompt,expected\nSix times seven?,42\n") == (PromptRow("Six times seven?", "", "42"),)
    assert parse("first prompt\n\nsecond prompt\n") == (PromptRow("first prompt"), PromptRow("second prompt"))
    assert parse("\ufeffprompt,tag\r\nA,x\r\n".encode()) == (PromptRow("A", tag="x"),)  # BOM and CRLF from Excel


@pytest.mark.parametrize("text, problem", [
    ("", "empty"),
    ("question,answer\nA,1\n", None),  # no `prompt` column: read as plain lines, one a prompt
    ('{"prompt": "A"}\nnot json\n', "line 2 is not JSON"),
    ('{"prompt": "A"}\n["B"]\n', "line 2 is not a JSON object"),
    ("prompt,expected\n,42\n", "line 2 has no prompt"),
    ("prompt,expected\nA,/[unclosed/\n", "line 2: '/[unclosed/' is not a valid regular expression"),
    ("prompt,expected\nA,/x/q\n", "unknown regular expression flag 'q'"),
])
def test_bad_sets_say_which_line_to_fix(text, problem):
    if problem is None:
        assert parse(text) == (PromptRow("question,answer"), PromptRow("A,1"))
        return
    with pytest.raises(SetError, match=problem.replace("[", r"\[").replace("(", r"\(")):
        parse(text)


def test_a_set_holds_at_most_a_thousand_prompts():
    assert len(parse("\n".join(f"p{i}" for i in range(MAX_ROWS)))) == MAX_ROWS
    with pytest.raises(SetError, match="at most 1,000"):
        parse("\n".join(f"p{i}" for i in range(MAX_ROWS + 1)))


def test_checks_are_text_to_find_or_a_regular_expression():
    assert passes("Tokyo", "The capital is tokyo.") is True  # text: case ignored
    assert passes("391", "It is 390.") is False
    assert passes(r"/\b42\b/", "6 * 7 = 42.") is True and passes(r"/\b42\b/", "6 * 7 = 420") is False
    assert passes("/tokyo/", "Tokyo") is False and passes("/tokyo/i", "Tokyo") is True
    assert passes("", "anything") is None


def test_only_a_complete_reply_can_pass():
    row = PromptRow("6 * 7?", expected="42")
    assert judge(row, Reply("m", "42", Outcome.COMPLETE)) is True
    assert judge(row, Reply("m", "42", Outcome.STOPPED)) is False  # partial: not trusted
    assert judge(PromptRow("hi"), Reply("m", "hello", Outcome.COMPLETE)) is None


# --- Runs --------------------------------------------------------------------------------------------------------------

def sample_run() -> EvalRun:
    rows = (PromptRow("What is 6 * 7?", "Answer with only the number.", "42", "arithmetic"),
            PromptRow("Say hi", tag="chat"))
    return EvalRun.of(PromptSet("sample", rows), ["m-a", "m-b"])


def test_a_run_lists_the_cells_still_missing_and_knows_when_its_worker_is_gone():
    run = sample_run()
    assert run.cells_total == 4
    assert run.missing({(0, "m-a"), (1, "m-b")}) == [(0, "m-b"), (1, "m-a")]
    assert run.messages(0) == [{"role": "system", "content": "Answer with only the number."},
                               {"role": "user", "content": "What is 6 * 7?"}]
    assert run.state(now=run.created_at) is RunStatus.INTERRUPTED  # running, but nobody said so yet
    beating = EvalRun(**{**run.__dict__, "heartbeat_at": 1000.0})
    assert beating.state(now=1000.0 + STALE_AFTER / 2) is RunStatus.RUNNING
    assert beating.state(now=1000.0 + STALE_AFTER * 2) is RunStatus.INTERRUPTED
    with pytest.raises(ValueError, match="2 to 6"):
        EvalRun.of(PromptSet("x", run.rows), ["only-one"])


def cells() -> list[Cell]:
    run = sample_run()
    made = [Reply("m-a", "42", Outcome.COMPLETE, Metrics(ttft=0.2, total=0.5, completion_tokens=1, cost=0.001)),
            Reply("m-b", "It is 41", Outcome.COMPLETE, Metrics(ttft=0.4, total=1.5, completion_tokens=3, cost=0.01)),
            Reply("m-a", "hi!", Outcome.COMPLETE, Metrics(ttft=0.3, total=0.6, cost=0.002))]
    found = [Cell(row, reply, judge(run.rows[row], reply)) for row, reply in zip((0, 0, 1), made)]
    return found + [Cell(1, Reply("m-b", "", Outcome.FAILED, Metrics(total=0.1), ReplyError("Rate limited")),
                         None, attempts=3)]


def test_results_grid_summary_and_exports():
    run, found = sample_run(), cells()
    grid = results.grid(run, found).set_index(results.Col.ROW)
    assert grid.loc[1, "m-a"] == "✓ 0.50 s" and grid.loc[1, "m-b"] == "✗ 1.50 s"
    assert grid.loc[2, "m-a"] == "· 0.60 s" and grid.loc[2, "m-b"] == "failed"
    summary = results.summary(run, found).set_index(results.Col.MODEL)
    assert summary.loc["m-a", results.Col.PASS_RATE] == 1.0 and summary.loc["m-b", results.Col.PASS_RATE] == 0.0
    assert summary.loc["m-b", results.Col.FAILED] == 1 and summary.loc["m-b", results.Col.CHECKED] == 1
    assert summary.loc["m-a", results.Col.TOTAL_COST] == pytest.approx(0.003)
    exported = json.loads(results.to_json(run, found))
    assert exported["format"] == results.FORMAT and len(exported["cells"]) == 4
    assert exported["cells"][3]["calls"] == 3 and exported["cells"][3]["reply"]["outcome"] == "failed"
    assert results.to_csv(run, found).splitlines()[0].startswith('"#","Prompt","Tag","Expected","Model","Outcome","Passed"')


def test_a_row_opens_as_the_same_comparison_every_time():
    run, found = sample_run(), cells()
    comparison = results.as_comparison(run, 0, found)
    assert comparison.kind == "compare" and comparison.models == ["m-a", "m-b"]
    assert comparison.rounds[0].prompt == "What is 6 * 7?"
    assert comparison.rounds[0].params["m-a"].system_prompt == "Answer with only the number."
    assert comparison.rounds[0].reply("m-b").text == "It is 41"
    assert results.as_comparison(run, 0, found).id == comparison.id != results.as_comparison(run, 1, found).id
    assert results.as_comparison(run, 0, found).rounds[0].key == comparison.rounds[0].key  # saved again in place


# --- Blind mode and votes ----------------------------------------------------------------------------------------------

def test_the_panel_order_is_fixed_per_round_and_changes_between_rounds():
    keys = ["a", "b", "c", "d", "e"]
    round_keys = [new_id() for _ in range(10)]
    assert shuffled(keys, "conv", round_keys[0]) == shuffled(list(reversed(keys)), "conv", round_keys[0])  # not picked
    orders = {tuple(shuffled(keys, "conv", key)) for key in round_keys}
    assert len(orders) > 5


def test_blind_mode_hides_names_and_costs_until_the_vote():
    blind = Blind(("demo-quick", "demo-thorough"), hidden=True, names=("demo-quick", "demo-thorough"))
    reply = Reply("demo-quick", "4\n\n_demo-quick · offline demo model_", Outcome.COMPLETE,
                  Metrics(ttft=0.1, total=0.2, cost=0.0001, cost_source="proxy"),
                  ReplyError("Rate limit reached for Demo-Quick", "wait"))
    masked = blind.mask(reply)
    assert "demo-quick" not in masked.text.lower() and HIDDEN_NAME in masked.text
    assert masked.metrics.cost is None and masked.metrics.total == 0.2
    assert "quick" not in masked.error.message.lower()
    assert reply.metrics.cost == 0.0001 and "demo-quick" in reply.text  # the record itself is untouched
    assert blind.label("demo-thorough") == "Model B" and blind.arrange(["demo-thorough", "demo-quick"]) == [
        "demo-quick", "demo-thorough"]
    revealed = Blind(blind.order, hidden=False, names=blind.names)
    assert revealed.mask(reply) is reply and revealed.label("demo-quick") == "demo-quick"
    assert SHOWN.arrange(["x", "y"]) == ["x", "y"] and not SHOWN.hidden


def test_a_vote_must_name_one_of_its_models():
    with pytest.raises(ValueError, match="not one of the models"):
        Vote("s", ("a", "b"), Verdict.BEST, "c")
    with pytest.raises(ValueError, match="only a best-model vote"):
        Vote("s", ("a", "b"), Verdict.TIE, "a")
    with pytest.raises(ValueError, match="two or more"):
        Vote("s", ("a",), Verdict.TIE)
    assert clean_tag("  SQL   Queries ") == "sql queries"


# --- Run ×N statistics -------------------------------------------------------------------------------------------------

def replies(model: str, totals: list[float], cost: float) -> list[Reply]:
    return [Reply(model, "x", Outcome.COMPLETE, Metrics(ttft=t / 4, total=t, completion_tokens=100, cost=cost), run=i)
            for i, t in enumerate(totals, 1)]


def test_run_n_medians_have_intervals_and_real_differences_are_named():
    runs = {"fast": replies("fast", [1.0, 1.1, 0.9, 1.05, 0.95, 1.0, 1.02, 0.98], 0.01),
            "slow": replies("slow", [3.0, 3.2, 2.9, 3.1, 2.8, 3.05, 2.95, 3.0], 0.01),
            "noisy": replies("noisy", [0.5, 3.5, 1.0, 3.0, 0.8, 3.2, 1.2, 2.9], 0.01)}
    medians = median_intervals(runs).set_index([Col.MODEL, Col.MEASURE])
    fast = medians.loc[("fast", Col.TOTAL)]
    assert fast[Col.MEDIAN] == pytest.approx(1.0) and fast[Col.N] == 8
    assert fast[Col.LOW] <= fast[Col.MEDIAN] <= fast[Col.HIGH] and fast[Col.LOW] < fast[Col.HIGH]
    pairs = pairwise_differences(runs).set_index([Col.MEASURE, Col.PAIR])
    assert pairs.loc[(Col.TOTAL, "fast vs slow"), Col.VERDICT] == "fast faster than slow"
    assert pairs.loc[(Col.TOKENS_PER_S, "fast vs slow"), Col.VERDICT] == "fast streams faster than slow"
    assert pairs.loc[(Col.TOTAL, "fast vs noisy"), Col.VERDICT] == NO_CLEAR_DIFFERENCE
    assert pairs.loc[(Col.COST, "fast vs slow"), Col.VERDICT] == NO_CLEAR_DIFFERENCE  # the same price
    assert pairs.loc[(Col.TOTAL, "fast vs slow"), Col.N] == "8 vs 8"


def test_failed_runs_are_left_out_and_one_run_says_nothing():
    runs = {"a": replies("a", [1.0], 0.01) + [Reply("a", "", Outcome.FAILED, Metrics(total=9.0), run=2)],
            "b": replies("b", [2.0, 2.1], 0.02)}
    medians = median_intervals(runs).set_index([Col.MODEL, Col.MEASURE])
    assert medians.loc[("a", Col.TOTAL), Col.N] == 1 and medians.loc[("a", Col.TOTAL), Col.MEDIAN] == 1.0
    assert pairwise_differences(runs).empty  # a single value has no spread to judge by


def test_an_export_of_an_unvoted_blind_round_names_no_model():
    conversation = Conversation("compare", models=["quick-model", "slow-model"], diff=("quick-model", "slow-model"))
    seen = conversation.add_prompt("Seen before")
    blind = conversation.add_prompt("Which is which?")
    blind.blind = True
    for round_ in (seen, blind):
        round_.add(Reply("quick-model", "I am quick-model, fast.", Outcome.COMPLETE, Metrics(cost=0.002)))
        round_.add(Reply("slow-model", "Slow here.", Outcome.COMPLETE, Metrics(cost=0.01)))

    copy = withheld(conversation, {blind.key}, names=("Quick Model",))
    hidden = copy.rounds[1]
    assert set(hidden.runs) == {"Model A", "Model B"} and all(r.metrics.cost is None for r in hidden.replies.values())
    assert all(reply.model in ("Model A", "Model B") for reply in hidden.replies.values())
    assert "I am [model], fast." in [r.text for r in hidden.replies.values()]
    assert copy.rounds[0] is seen and copy.models == [] and copy.diff is None
    assert conversation.rounds[1].runs.keys() == {"quick-model", "slow-model"}  # the record itself is unchanged
    exported = exports.to_markdown(replace(copy, rounds=[hidden])) + exports.to_csv(replace(copy, rounds=[hidden]))
    assert "quick-model" not in exported and "slow-model" not in exported and "Model A" in exported
    assert withheld(conversation, set()) is conversation


def test_a_blind_round_says_so_in_its_record():
    round_ = Round("Q", blind=True)
    assert Round.from_dict(round_.to_dict()).blind and not Round.from_dict(Round("Q").to_dict()).blind


def test_a_csv_with_a_quote_never_closed_is_refused_naming_the_line_it_opens_on():
    with pytest.raises(SetError, match=r"line 4: a quoted field is never closed"):
        parse("prompt,expected\nfirst,x\n\n\"second, unclosed,y\nthird,z\n", "set.csv")
    rows = parse('prompt\n"a ""quoted"" word"\n"two\nlines"\nlast\n', "set.csv")
    assert [r.prompt for r in rows] == ['a "quoted" word', "two\nlines", "last"]
    with pytest.raises(SetError, match=r"line 4 has no prompt"):
        parse('prompt,tag\n"one\nmore",x\n,y\n', "set.csv")


def test_counts_are_said_in_the_singular_for_one():
    from ui.format import count, spend, spend_short

    assert count(1, "word") == "1 word" and count(2, "word") == "2 words" and count(1, "reply", "replies") == "1 reply"
    assert count(1200, "prompt") == "1,200 prompts"
    assert spend(0.0, 0) == "$0" and spend(1.2, 0) == "$1.2"
    assert spend(1.2, 3) == "$1.2 + 3 replies without a price" and spend(0.0, 1) == "— (1 reply without a price)"
    assert spend_short(0.0, 2) == "—" and spend_short(1.2, 2) == "$1.2+"
