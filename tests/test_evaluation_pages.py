"""The evaluation pages with AppTest against the real proxy: blind votes on /compare, the leaderboard built from
saved votes, and a prompt set pasted, quoted, run in the background and read back on /evaluate."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from gateway.config import load_settings
from gateway.evaluation import worker
from gateway.evaluation.ratings import Col
from gateway.evaluation.votes import Verdict, Vote, compare_subject
from gateway.reply import Outcome, Reply
from gateway.store import LOCAL_OWNER, Store, get_store
from gateway.store.evaluation import Evaluations
from tests.support.pages import RUN_TIMEOUT, open_page
from ui.markdown import plain


def evaluations() -> Evaluations:
    return Evaluations(get_store(load_settings(secrets={}, dotenv_path=None)))


def frame_with(at: AppTest, column: str):
    """The first table on the page with that column."""
    return next(frame.value for frame in at.dataframe if column in frame.value.columns)


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def test_a_blind_round_hides_the_names_until_the_vote_then_reveals_them(app_env):
    at = open_page("pages/compare.py", models="upstream-echo,demo-fast")
    at.toggle(key="compare_blind").set_value(True).run()
    at.chat_input(key="compare_prompt").set_value("Hi there").run()
    assert not at.exception, at.exception

    headers = [text for text in texts(at.markdown) if text.startswith("**")]
    assert any(h.startswith("**Model A**") for h in headers) and any(h.startswith("**Model B**") for h in headers)
    assert not any(name in h for h in headers for name in ("upstream-echo", "demo-fast"))  # (the picker names the set)
    panels = " ".join(m.markdown[0].value for m in at.chat_message if m.markdown)
    assert "echo: Hi there" in panels and "upstream-echo" not in panels and "demo-fast" not in panels
    assert not any("$" in text for text in texts(at.caption))  # no cost under any reply
    table = at.dataframe[0].value
    assert sorted(table["Model"]) == ["Model A", "Model B"] and "Cost ($)" not in table
    assert any("exports call the models" in text for text in texts(at.caption)), "\n".join(texts(at.caption))

    comparison = at.session_state["comparison"]
    subject = compare_subject(comparison.id, comparison.latest.key)
    choice = at.radio(key=f"vote_choice_{subject}")
    left = choice.options[0]
    assert left.startswith("Left (Model A) is better")
    choice.set_value(choice.options[-1])  # "Both bad"
    at.text_input(key=f"vote_tag_{subject}").set_value(" Greetings ")
    at.button[[b.label for b in at.button].index("Vote")].click().run()
    assert not at.exception, at.exception

    vote = evaluations().my_vote(subject, LOCAL_OWNER)
    assert vote.verdict is Verdict.ALL_BAD and vote.blind and vote.tag == "greetings"
    assert set(vote.models) == {"upstream-echo", "demo-fast"}
    revealed = " ".join(texts(at.markdown))
    assert f"**{plain('upstream-echo')}**" in revealed and f"**{plain('demo-fast')}**" in revealed
    assert "you voted: _all bad_" in revealed
    assert "Cost ($)" in at.dataframe[0].value


def test_an_unvoted_blind_round_stays_blind_when_reopened_until_the_vote_reveals_it(app_env, database_url,
                                                                                     monkeypatch):
    """Blind is saved with the round: a reload (a new session, by the link), another tab, and the results name no
    model until the vote; the vote, cast in any of them, reveals it in every one opened after."""
    monkeypatch.setenv("DATABASE_URL", database_url)  # on SQLite and on PostgreSQL
    at = open_page("pages/compare.py", models="upstream-echo,demo-fast")
    at.toggle(key="compare_blind").set_value(True).run()
    at.chat_input(key="compare_prompt").set_value("Hi there").run()
    comparison_id = at.query_params["c"]
    assert get_store(load_settings(secrets={}, dotenv_path=None)).flush(5)

    def names_shown(page: AppTest) -> set[str]:
        shown = " ".join(texts(page.markdown) + [m.markdown[0].value for m in page.chat_message if m.markdown])
        table = " ".join(" ".join(map(str, frame.value["Model"])) for frame in page.dataframe
                         if "Model" in frame.value.columns)
        return {name for name in ("upstream-echo", "demo-fast") if f"**{plain(name)}**" in shown or name in table}

    for _ in range(2):  # reopened by its link in a new session (a reload), then in another tab
        again = open_page("pages/compare.py", c=comparison_id)
        assert not again.exception, again.exception
        assert again.session_state["comparison"].latest.blind
        assert again.toggle(key="compare_blind").value is True and again.toggle(key="compare_blind").disabled
        assert not names_shown(again)
        assert sorted(frame_with(again, "Model")["Model"]) == ["Model A", "Model B"]
        assert vote_box(again).options[0].startswith("Left (Model A)") or vote_box(again).options[0].startswith(
            "Left (Model B)")
        assert any("exports call the models" in text for text in texts(again.caption))

    vote_box(again).set_value("tie")
    again.button[[b.label for b in again.button].index("Vote")].click().run()
    assert not again.exception, again.exception
    assert names_shown(again) == {"upstream-echo", "demo-fast"}
    assert get_store(load_settings(secrets={}, dotenv_path=None)).flush(5)
    later = open_page("pages/compare.py", c=comparison_id)  # the vote reveals it everywhere
    assert names_shown(later) == {"upstream-echo", "demo-fast"}
    assert not later.toggle(key="compare_blind").disabled
    assert not any("exports call the models" in text for text in texts(later.caption))


def vote_box(at: AppTest):
    """The vote on the round on screen (found by its label: the test does not depend on how subjects are spelled)."""
    return next(radio for radio in at.radio if radio.label == "Which reply is best?")


def test_a_vote_is_shown_on_its_round_when_the_comparison_reopens_after_another_tab_added_one(
        app_env, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)  # on SQLite and on PostgreSQL
    at = open_page("pages/compare.py", models="upstream-echo,demo-fast")
    at.chat_input(key="compare_prompt").set_value("First question").run()
    comparison_id = at.query_params["c"]
    store = get_store(load_settings(secrets={}, dotenv_path=None))
    assert store.flush(5)
    replica = Store.open(database_url)  # the same comparison open in another tab, served by another replica
    try:
        other_tab = replica.load(comparison_id, LOCAL_OWNER)
        slow = other_tab.add_prompt("Sent from the other tab")  # sent now; its replies still streaming

        at.chat_input(key="compare_prompt").set_value("Second question").run()  # this tab's round ends first
        vote_box(at).set_value("tie")
        at.button[[b.label for b in at.button].index("Vote")].click().run()
        assert not at.exception, at.exception
        assert "you voted: _tie_" in " ".join(texts(at.markdown))
        assert store.flush(5)

        for key in ("upstream-echo", "demo-fast"):  # the other tab's round ends: sent first, it goes first
            slow.add(Reply(key, f"{key} answered late", Outcome.COMPLETE))
        replica.save_round(other_tab, 1, LOCAL_OWNER)
        assert replica.flush(5)
    finally:
        replica.close()
    assert [r.prompt for r in store.load(comparison_id, LOCAL_OWNER).rounds] == [
        "First question", "Sent from the other tab", "Second question"]

    again = open_page("pages/compare.py", c=comparison_id)  # a new session: a reload, another replica
    assert again.session_state["comparison"].latest.prompt == "Second question"
    assert "you voted: _tie_" in " ".join(texts(again.markdown))  # the vote is on the round it was cast on
    assert vote_box(again).value == "tie"
    again.toggle(key="compare_blind").set_value(True).run()  # voted: blind mode has nothing left to hide
    assert not any("hidden and the panels shuffled" in text for text in texts(again.caption))


def test_the_leaderboard_ranks_the_models_from_the_votes(app_env):
    ev = evaluations()
    for i in range(6):
        ev.vote(Vote(compare_subject("c", f"round{i}"), ("demo-fast", "upstream-echo"), Verdict.BEST, "demo-fast", "sql",
                     blind=True), LOCAL_OWNER)
    ev.vote(Vote(compare_subject("c", "round9"), ("demo-fast", "compare-a"), Verdict.TIE), "ben@example.com")
    at = open_page("pages/leaderboard.py")
    table = at.dataframe[0].value
    assert list(table[Col.MODEL])[0] == "demo-fast" and table[Col.VOTES].sum() == 14
    assert {Col.RATING, Col.LOWER, Col.UPPER, Col.TTFT, Col.COST} <= set(table.columns)
    assert any("7 votes" in text for text in texts(at.caption))
    assert "How the ratings are computed" in " ".join(e.label for e in at.expander)

    at.selectbox(key="board_tag").set_value("sql").run()
    assert any("6 votes" in text for text in texts(at.caption))
    at.toggle(key="board_blind").set_value(True).run()
    assert set(at.dataframe[0].value[Col.MODEL]) == {"demo-fast", "upstream-echo"}


def test_the_leaderboard_explains_itself_when_there_are_no_votes(app_env):
    at = open_page("pages/leaderboard.py")
    assert any("No votes match yet" in text for text in texts(at.info))


PASTED = "prompt,expected,tag\nWhat is 6 * 7?,42,arithmetic\nWhat is the capital of Japan?,Tokyo,facts\n"


def test_a_pasted_set_is_quoted_run_in_the_background_and_read_back(app_env):
    at = open_page("pages/evaluate.py")
    at.text_area(key="eval_paste").set_value(PASTED)
    at.text_input(key="eval_set_name_").set_value("two checks").run()
    at.button(key="eval_save_set").click().run()
    assert not at.exception, at.exception
    assert "two checks" in at.selectbox(key="eval_set").format_func(at.selectbox(key="eval_set").value)

    at.multiselect(key="eval_models").set_value(["eval-quick", "demo-fast"]).run()
    assert at.button(key="eval_start").disabled  # a quote first
    at.button(key="eval_quote").click().run()
    assert any(text.startswith("**Quote:** $") for text in texts(at.markdown)), (texts(at.caption), texts(at.error), at.exception, texts(at.subheader))
    assert any("input tokens counted by the proxy for all 4 calls" in text for text in texts(at.caption))
    at.button(key="eval_start").click().run()
    assert not at.exception, at.exception

    run_id = at.query_params["run"]
    running = worker.running(LOCAL_OWNER, run_id)
    assert running is not None and running.wait(60)
    at.run()
    summary = frame_with(at, "Pass rate").set_index("Model")
    assert summary.loc["eval-quick", "Passed"] == 2 and summary.loc["demo-fast", "Passed"] == 0
    assert summary.loc["eval-quick", "Pass rate"] == 1.0 and summary.loc["demo-fast", "Total cost ($)"] > 0
    grid = frame_with(at, "eval-quick")
    assert list(grid["eval-quick"].str[0]) == ["✓", "✓"] and list(grid["demo-fast"].str[0]) == ["✗", "✗"]
    runs = frame_with(at, "Status")
    assert runs.loc[0, "Status"].endswith("finished") and runs.loc[0, "Done"] == "4/4"


ROW_SCRIPT = """
import streamlit as st
from gateway.config import load_settings
from gateway.store import get_store
from gateway.store.evaluation import Evaluations
from ui.evaluate import row_detail

store = get_store(load_settings(secrets={}, dotenv_path=None))
evaluations = Evaluations(store)
run = evaluations.load_run(st.query_params["run"], "local")
row_detail(store, "local", run, 0, evaluations.cells(run.id, "local"))
"""


def test_a_row_shows_its_replies_takes_a_vote_and_opens_as_a_saved_comparison(monkeypatch):
    from gateway.evaluation.prompt_sets import PromptRow, PromptSet
    from gateway.evaluation.runs import Cell, EvalRun
    from gateway.evaluation.votes import eval_subject
    from gateway.reply import Metrics, Outcome, Reply

    ev = evaluations()
    run = EvalRun.of(PromptSet("s", (PromptRow("What is 6 * 7?", expected="42"),)), ["m-a", "m-b"])
    ev.create_run(run, LOCAL_OWNER)
    ev.save_cell(run.id, LOCAL_OWNER, Cell(0, Reply("m-a", "42", Outcome.COMPLETE, Metrics(total=0.5)), True))
    ev.save_cell(run.id, LOCAL_OWNER, Cell(0, Reply("m-b", "41", Outcome.COMPLETE, Metrics(total=0.7)), False))
    switched: list[tuple[str, dict]] = []
    monkeypatch.setattr("streamlit.switch_page", lambda page, query_params=None: switched.append(
        (page, dict(query_params or {}))))

    at = AppTest.from_string(ROW_SCRIPT, default_timeout=RUN_TIMEOUT)
    at.query_params["run"] = run.id
    at.run()
    assert not at.exception, at.exception
    assert "✓ passed the check" in texts(at.caption) and "✗ failed the check" in texts(at.caption)
    subject = eval_subject(run.id, 0)
    choice = at.radio(key=f"vote_choice_{subject}")
    assert choice.options == [f"Left ({plain('m-a')}) is better", f"Right ({plain('m-b')}) is better", "Tie",
                              "Both bad"]
    choice.set_value("best:m-a")
    at.button[[b.label for b in at.button].index("Vote")].click().run()
    vote = ev.my_vote(subject, LOCAL_OWNER)
    assert vote.winner == "m-a" and not vote.blind

    at.button(key=f"eval_open_{run.id}_0").click().run()
    [(page, query)] = switched
    assert page == "pages/compare.py"
    saved = get_store(load_settings(secrets={}, dotenv_path=None)).load(query["c"], LOCAL_OWNER)
    assert saved.kind == "compare" and saved.rounds[0].reply("m-b").text == "41"
