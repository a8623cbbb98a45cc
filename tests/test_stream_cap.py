"""A reply that never ends is cut at a size, and the app stays responsive.

The contract: the stream stops reading once its text reaches MAX_REPLY_CHARS (default 200,000), keeps exactly that
many characters, closes the connection, and ends with the outcome `cut`, which the pages show as "Reply cut at N
characters" — quickly, whatever the server would have gone on sending.
"""

from __future__ import annotations

import time

import openai
import pytest

from gateway.chat import start_chat
from gateway.config import load_settings
from gateway.models import ModelRecord
from gateway.params import ChatParams
from gateway.reply import Outcome
from tests.support.pages import RUN_TIMEOUT

HELLO = [{"role": "user", "content": "Go on forever"}]


def test_max_reply_chars_is_a_setting_of_200_000_by_default():
    assert load_settings({}, secrets={}, dotenv_path=None).max_reply_chars == 200_000
    assert load_settings({"MAX_REPLY_CHARS": "5000"}, secrets={}, dotenv_path=None).max_reply_chars == 5000


@pytest.mark.timeout(15)  # without the cap it reads on for minutes: a timeout is a failure too
def test_an_endless_reply_is_cut_at_max_reply_chars(upstream):
    settings = load_settings({"LITELLM_ENABLED": "true", "MAX_REPLY_CHARS": "5000"}, secrets={}, dotenv_path=None)
    direct = openai.OpenAI(base_url=upstream, api_key="local", max_retries=0)
    endless = ModelRecord(id="long-150000", route="litellm", providers=("local",))  # ~1 MB of words, unpaced
    started = time.perf_counter()
    stream = start_chat(endless, HELLO, ChatParams(), settings, client=direct)
    pieces = list(stream.batched())
    assert len(stream.text) == 5000 and "".join(pieces) == stream.text
    assert stream.reply.outcome is Outcome.CUT and stream.error is None
    assert stream.reply.finished and time.perf_counter() - started < 10


def test_a_cut_reply_says_where_it_was_cut(app_env, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("MAX_REPLY_CHARS", "1000")
    at = AppTest.from_file("../home.py", default_timeout=RUN_TIMEOUT)
    at.run()
    at.query_params["model"] = "upstream-long"  # 3,000 words: about 15,000 characters
    at.switch_page("pages/chat.py").run()
    at.chat_input(key="chat_prompt").set_value("Count").run()
    assert not at.exception, at.exception
    reply = at.session_state["chat_conversation"].rounds[-1].reply()
    assert reply.outcome is Outcome.CUT and len(reply.text) == 1000
    assert any("Reply cut at 1,000 characters" in c.value for c in at.chat_message[1].caption)
