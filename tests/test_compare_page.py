"""The Compare page, run with AppTest against the real proxy."""

from __future__ import annotations

import streamlit as st
from streamlit.testing.v1 import AppTest

from gateway.compare.stats import Col
from tests.support.pages import open_page
from ui.markdown import plain


def open_compare(models: str | None = None) -> AppTest:
    return open_page("pages/compare.py", **({"models": models} if models is not None else {}))


def send(at: AppTest, prompt: str) -> AppTest:
    at.chat_input(key="compare_prompt").set_value(prompt).run()
    assert not at.exception, at.exception
    return at


def texts(elements) -> list[str]:
    return [element.value for element in elements]


def said(at: AppTest, role: str = "assistant") -> list[str]:
    """The text of every chat message from `role`, panel by panel ("" when a reply has none)."""
    return [m.markdown[0].value.strip() if m.markdown else "" for m in at.chat_message if m.name == role]


def test_a_link_preselects_its_models_and_names_the_ones_it_cannot_use(app_env):
    at = open_compare("compare-a,compare-b,not-a-model,openai:gpt-4o")

    assert at.multiselect(key="compare_models").value == ["compare-a", "compare-b"]
    warnings = " ".join(texts(at.warning))
    assert "`not-a-model` from the link is not in the catalogue" in warnings
    assert f"{plain('gpt-4o (direct)')} from the link is not available" in warnings


def test_the_url_follows_the_selection(app_env):
    at = open_compare("compare-a,compare-b")
    at.multiselect(key="compare_models").select("demo-fast").run()
    assert at.query_params["models"] == "compare-a,compare-b,demo-fast"
    at.multiselect(key="compare_models").set_value([]).run()
    assert "models" not in at.query_params


def test_fewer_than_two_models_cannot_be_sent(app_env):
    at = open_compare("compare-a")
    assert at.chat_input(key="compare_prompt").proto.disabled
    assert any("Choose 2 to 6 models" in text for text in texts(at.info))


def test_one_prompt_reaches_every_model_and_the_numbers_compare_them(app_env):
    at = send(open_compare("compare-a,compare-b,compare-c"), "Capital of France?")

    assert said(at) == ["Paris is the capital of France, on the Seine.",
                       "The capital of France is Paris, on the river Seine.",
                       "Paris is the capital of France, on the Seine."]
    assert sum(text.startswith("TTFT ") and "tokens" in text for text in texts(at.caption)) == 3

    table = at.dataframe[0].value.set_index("Model")
    assert list(table[Col.OUTCOME]) == ["complete"] * 3
    assert table.loc["compare-c", "Best"].endswith("cheapest")  # the lowest prices in its model_info
    assert (table["TTFT (s)"] >= 3.5).all()  # mock_delay is real
    assert any(text.startswith("Fastest: ") and f"Cheapest: **{plain('compare-c')}**" in text for text in texts(at.caption))


def test_the_diff_says_when_two_replies_are_identical(app_env):
    at = send(open_compare("compare-a,compare-b,compare-c"), "Capital of France?")
    assert any(f"only in {plain('compare-b')}" in text for text in texts(at.caption))  # a and b differ

    at.selectbox(key="compare_diff_second").set_value("compare-c").run()
    assert texts(at.success) == [f"The replies of {plain('compare-a')} and {plain('compare-c')} are identical, word "
                                 "for word."]


def test_a_failing_model_shows_its_error_beside_the_replies(app_env):
    at = send(open_compare("error-rate-limit,demo-fast"), "Hello")

    assert any("Rate limited" in text for text in texts(at.error))
    assert said(at) == ["", "Hello! I am the fast demo model."]
    table = at.dataframe[0].value.set_index("Model")
    assert table.loc["error-rate-limit", Col.OUTCOME] == "failed" and table.loc["error-rate-limit", Col.FINISH] == ""


def test_follow_ups_continue_each_models_thread_side_by_side(app_env):
    at = send(send(open_compare("upstream-echo,demo-fast"), "first question"), "second question")

    echo, demo = said(at)[:2], said(at)[2:]  # panel by panel: each model's own thread
    assert echo == ["echo: first question", "echo: second question"]
    assert demo == ["Hello! I am the fast demo model."] * 2
    assert said(at, "user") == ["first question", "second question"] * 2
    assert len(at.session_state["comparison"].thread("demo-fast")) == 4


def test_per_model_overrides_are_kept_with_the_round(app_env):
    at = open_compare("upstream-echo,demo-fast")
    at.number_input(key="compare_temperature").set_value(0.3)
    at.number_input(key="compare_override_demo-fast_temperature").set_value(1.2).run()
    send(at, "Hi")

    params = at.session_state["comparison"].latest.params
    assert params["upstream-echo"].temperature == 0.3 and params["demo-fast"].temperature == 1.2


def test_run_n_times_reports_median_and_p95(app_env):
    at = open_compare("upstream-echo,demo-fast")
    at.number_input(key="compare_repeats").set_value(3).run()
    send(at, "Hi")

    assert "Run ×3" in texts(at.subheader)
    stats = at.dataframe[1].value.set_index("Model")
    assert list(stats["Runs"]) == [3, 3]
    assert (stats["Total median (s)"] <= stats["Total p95 (s)"]).all()
    assert any(text.startswith("run 3 of 3 · TTFT") for text in texts(at.caption))


def test_continue_in_chat_hands_one_models_thread_to_the_chat_page(app_env, monkeypatch):
    at = send(open_compare("upstream-echo,demo-fast"), "Hi there")
    handed: list[tuple[dict, dict]] = []
    switch_page = st.switch_page

    def recording_switch_page(page, *, query_params=None):
        handed.append((st.session_state["chat_handoff"], dict(query_params or {})))
        switch_page(page, query_params=query_params)

    monkeypatch.setattr(st, "switch_page", recording_switch_page)
    at.button(key="compare_handoff_upstream-echo").click().run()

    handoff, query = handed[0]
    assert query == {"model": "upstream-echo"}
    assert handoff.kind == "chat" and handoff.used_models() == ["upstream-echo"]
    assert [m["role"] for m in handoff.history()] == ["user", "assistant"]
    assert handoff.history()[1]["content"].strip() == "echo: Hi there"
    assert handoff.rounds[0].reply().metrics.total > 0  # the reply keeps its numbers
    assert handoff.params.to_dict() == {"system_prompt": "", "temperature": None, "top_p": None, "max_tokens": None,
                                         "reasoning_effort": None, "thinking_budget": None}
    assert at.query_params["model"] == "upstream-echo"
