"""Unknown is never 0 and never "None": every page, walked with a model the catalogue has no price for
(`upstream-echo`) and a model whose every call fails (`error-internal`), shows a missing value as a placeholder.

The walk reads every string the pages send (labels, captions, Markdown, tooltips, metrics, table cells) and every
table: no "None", no "nan", and no "$0" (nothing used here has a known price, so no cost is known to be zero), and a
table with a missing value says how it is drawn (a placeholder), where Streamlit would otherwise write "None".
"""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from gateway.config import load_settings
from gateway.evaluation import worker
from gateway.evaluation.votes import Verdict, Vote, compare_subject
from gateway.store import LOCAL_OWNER, get_store
from gateway.store.evaluation import Evaluations
from tests.support.pages import proto_strings

APP = "../home.py"
UNPRICED, FAILING = "upstream-echo", "error-internal"
WRONG = re.compile(r"\bNone\b|\bnan\b|\bNaN\b|\$0(?:\.0*)?(?![\d.])")


def strings(at: AppTest) -> list[tuple[str, str]]:
    """(where, text) for every string field of every element on the page, and every cell of every table."""
    found = proto_strings(at, lambda kind, name, repeated: name != "id", skip=("Arrow",))  # (tables: below)
    for table in at.dataframe:
        frame = table.value
        found.extend((f"table {list(frame.columns)}", str(v)) for column in frame.columns for v in frame[column]
                     if isinstance(v, str))
        if frame.isna().to_numpy().any() and not table.proto.placeholder:
            found.append((f"table {list(frame.columns)} without a placeholder", "None"))
    return found


def wrong(at: AppTest, where: str) -> list[tuple[str, str, str]]:
    assert not at.exception, (where, at.exception)
    return [(where, field, text) for field, text in strings(at) if WRONG.search(text)]


def page(path: str | None, timeout: float = 60, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=timeout)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    if path:
        at.switch_page(path).run()
    return at


def test_no_page_shows_an_unknown_as_zero_or_none(app_env):
    found: list[tuple[str, str, str]] = []
    found += wrong(page(None), "home")
    found += wrong(page("pages/models.py"), "models")

    at = page("pages/chat.py", model=UNPRICED)
    at.chat_input[0].set_value("Hello there").run()
    found += wrong(at, "chat, an unpriced reply")
    at = page("pages/chat.py", model=FAILING)
    at.chat_input[0].set_value("Hello there").run()
    found += wrong(at, "chat, a failed reply")

    at = page("pages/compare.py", models=f"{UNPRICED},{FAILING}")
    at.chat_input(key="compare_prompt").set_value("Hello there").run()
    found += wrong(at, "compare")
    at.number_input(key="compare_repeats").set_value(2).run()
    at.chat_input(key="compare_prompt").set_value("Again").run()
    found += wrong(at, "compare, Run ×2")

    at = page("pages/evaluate.py")
    at.text_area(key="eval_paste").set_value("prompt,expected,tag\nSay hello,hello,x\n")
    at.text_input(key="eval_set_name_").set_value("Greetings").run()
    at.button(key="eval_save_set").click().run()
    at.multiselect(key="eval_models").set_value([UNPRICED, FAILING]).run()
    found += wrong(at.button(key="eval_quote").click().run(), "evaluate, the quote")
    at = at.button(key="eval_start").click().run()
    running = worker.running(LOCAL_OWNER, at.query_params["run"])
    assert running is not None and running.wait(60)
    found += wrong(at.run(), "evaluate, the run's results")

    evaluations = Evaluations(get_store(load_settings(secrets={}, dotenv_path=None)))
    for i in range(3):
        evaluations.vote(Vote(compare_subject("walk", f"round{i}"), (UNPRICED, FAILING), Verdict.BEST, UNPRICED),
                         LOCAL_OWNER)
    found += wrong(page("pages/leaderboard.py"), "leaderboard")
    found += wrong(page("pages/usage.py"), "usage")
    found += wrong(page("pages/health.py"), "health")
    assert found == [], "\n".join(map(repr, found))
