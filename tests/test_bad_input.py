"""Bad input never hurts: huge prompts, hostile links, any script or control character. AppTest, real proxy.

Each case gets a clear message and loses nothing: a prompt too large is refused before anything is sent, with its
size in tokens, and offered back as a download; a link's `?model=` / `?models=` value is shown as one inert code span,
whatever it holds, and the page goes on working; text in any script (and NUL bytes) comes back as it went.
"""

from __future__ import annotations

import time

import pytest
from markdown_it import MarkdownIt
from streamlit.runtime.media_file_manager import MediaFileManager

from gateway.reply import Outcome
from gateway.tokens import estimate_tokens
from tests.support.pages import open_page
from ui.markdown import displayable, plain

pytestmark = pytest.mark.proxy

HTML = MarkdownIt("commonmark", {"html": False})  # as Streamlit draws Markdown: raw HTML stays text
UNICODE_MODEL = "unicode-模型-🚀-שלום"
HOSTILE_VALUES = {
    "markdown image in backticks": "x`![a](https://attacker.example/p.png?d=1)`y",
    "html and script": "<img src=https://attacker.example/h.png><script>alert(1)</script>",
    "paragraph break": "x\n\n![a](https://attacker.example/p.png)",
    "long": "m" * 100_000,
    "control and right-to-left": "a\0b\u202eevil\u2028c",
}


def inert(markdown: str) -> bool:
    """Drawn, the Markdown holds no image, link, script or HTML element: only text and code."""
    html = HTML.render(markdown)
    return not any(tag in html for tag in ("<img", "<a ", "<script", "<iframe"))


@pytest.fixture
def downloads(monkeypatch):
    files: dict[str, str] = {}
    add_deferred = MediaFileManager.add_deferred

    def capture(self, data_callable, mimetype, coordinates, file_name=None, **more):
        """What the button would download when clicked (downloads are built on click: ui/downloads.py)."""
        if file_name:
            data = data_callable()
            files[file_name] = data.decode() if isinstance(data, bytes) else data
        return add_deferred(self, data_callable, mimetype, coordinates, file_name=file_name, **more)

    monkeypatch.setattr(MediaFileManager, "add_deferred", capture)
    return files


# --- Prompts too large to send ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("megabytes", [2, 20])
def test_a_huge_prompt_is_refused_before_sending_with_its_token_count(app_env, downloads, megabytes):
    at = open_page("pages/chat.py", model="upstream-verbatim")  # a window nobody knows: today it would be sent
    prompt = "word " * (megabytes * 1024 * 1024 // 5)
    started = time.perf_counter()
    at.chat_input[0].set_value(prompt).run()
    took = time.perf_counter() - started

    assert not at.exception
    [error] = at.error
    tokens = estimate_tokens([{"role": "user", "content": prompt}])
    assert f"Not sent: this prompt is {len(prompt):,} characters, about {tokens:,} tokens" in error.value
    assert "1,000,000 characters" in error.value and any("MAX_PROMPT_CHARS" in c.value for c in at.caption)
    assert at.session_state["chat_conversation"].rounds == [] and not at.chat_message  # nothing sent or drawn
    assert downloads["prompt.txt"] == prompt  # nothing lost
    assert took < 15, f"{took:.1f} s"
    at.chat_input[0].set_value("Hello").run()  # the page goes on working
    assert at.chat_message[1].markdown[0].value == "Hello"


def test_a_huge_paste_on_the_compare_page_is_refused_too(app_env, downloads):
    at = open_page("pages/compare.py", models="upstream-verbatim,demo-fast")
    prompt = "x" * (20 * 1024 * 1024)
    at.chat_input(key="compare_prompt").set_value(prompt).run()
    assert not at.exception
    assert any("Not sent: this prompt is 20,971,520 characters" in e.value for e in at.error)
    assert at.session_state["comparison"].rounds == [] and downloads["prompt.txt"] == prompt


def test_the_limit_is_a_setting(app_env, monkeypatch):
    monkeypatch.setenv("MAX_PROMPT_CHARS", "10")
    at = open_page("pages/chat.py", model="upstream-verbatim")
    at.chat_input[0].set_value("eleven char").run()
    assert "at most 10 characters" in at.error[0].value
    at.chat_input[0].set_value("ten chars.").run()
    assert at.chat_message[1].markdown[0].value == "ten chars."


# --- Links that name models -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", HOSTILE_VALUES)
def test_a_chat_link_naming_anything_is_shown_inert_and_the_page_works(app_env, name):
    at = open_page("pages/chat.py", model=HOSTILE_VALUES[name])
    [warning] = at.warning
    assert "is not among the models on offer" in warning.value
    assert inert(warning.value) and HTML.render(warning.value).count("<code>") == 1, warning.value
    assert len(warning.value) < 300
    assert at.selectbox(key="chat_model").value  # a model is picked anyway
    at.chat_input[0].set_value("Hello").run()
    assert not at.exception and len(at.chat_message) == 2


@pytest.mark.parametrize("name", HOSTILE_VALUES)
def test_a_compare_link_naming_anything_is_shown_inert_and_the_page_works(app_env, name):
    at = open_page("pages/compare.py", models=f"{HOSTILE_VALUES[name]},demo-fast,upstream-echo")
    assert at.multiselect(key="compare_models").value == ["demo-fast", "upstream-echo"]
    [warning] = at.warning
    assert inert(warning.value) and len(warning.value) < 300, warning.value
    assert at.query_params["models"] == "demo-fast,upstream-echo"  # the link is cleaned
    at.chat_input(key="compare_prompt").set_value("Hi").run()
    assert not at.exception and len(at.session_state["comparison"].rounds) == 1


def test_a_link_naming_500_models_gets_one_message(app_env):
    ids = ",".join(f"unknown-{i}" for i in range(498)) + ",demo-fast,upstream-echo"
    at = open_page("pages/compare.py", models=ids)
    assert at.multiselect(key="compare_models").value == []  # the two known ones come after the first 100
    texts = [w.value for w in at.warning]
    assert texts == ["`unknown-0`, `unknown-1`, `unknown-2`, `unknown-3`, `unknown-4` and 95 more from the link are "
                     "not in the catalogue, so they were left out.",
                     "The link names 500 models: only the first 100 were read."]


def test_a_link_of_350_kb_is_read_in_a_moment(app_env):
    """(Streamlit itself ignores a query string over 512 KB.)"""
    started = time.perf_counter()
    at = open_page("pages/compare.py", models=",".join(f"m{i}" for i in range(40_000)))  # ~350 KB in the URL
    assert time.perf_counter() - started < 20
    assert "The link names 40,000 models: only the first 100 were read." in [w.value for w in at.warning]


# --- Any script, emoji, right-to-left text, NUL bytes -----------------------------------------------------------------

def test_a_prompt_in_any_script_comes_back_as_it_went(app_env):
    prompt = "Ünïcödé ✓ 🚀 مرحبا שלום 中文 👩‍👩‍👧‍👦 e\u0301 \u202eRTL override\u202c NUL:\0: end"
    at = open_page("pages/chat.py", model="upstream-verbatim")
    at.chat_input[0].set_value(prompt).run()
    user, reply = at.chat_message[0], at.chat_message[1]
    assert at.session_state["chat_conversation"].rounds[0].reply().text == prompt  # the record is exact
    assert user.markdown[0].value == reply.markdown[0].value == displayable(prompt)
    assert displayable(prompt) == prompt.replace("\0", "\ufffd")  # shown as every Markdown renderer shows a NUL


def test_a_model_named_in_any_script_can_be_picked_linked_and_compared(app_env):
    """LiteLLM 1.108.7 itself cannot answer for such a model (it puts the name in a Latin-1 response header): the app
    lists it, links to it and shows the proxy's failure as a plain message beside the other replies."""
    at = open_page("pages/chat.py", model=UNICODE_MODEL)
    assert at.selectbox(key="chat_model").value == UNICODE_MODEL and not at.warning
    assert at.query_params["model"] == UNICODE_MODEL
    at.chat_input[0].set_value("Hi").run()
    assert not at.exception and plain("latin-1") in at.chat_message[1].error[0].value
    at = open_page("pages/compare.py", models=f"{UNICODE_MODEL},upstream-verbatim")
    assert at.multiselect(key="compare_models").value == [UNICODE_MODEL, "upstream-verbatim"]
    at.chat_input(key="compare_prompt").set_value("שלום 👋").run()
    replies = at.session_state["comparison"].latest.replies
    assert replies["upstream-verbatim"].text == "שלום 👋" and replies["upstream-verbatim"].outcome is Outcome.COMPLETE
    assert replies[UNICODE_MODEL].outcome is Outcome.FAILED and not at.exception
