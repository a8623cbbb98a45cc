"""A reply that never ends is cut at a size, and the app stays responsive. The lead implements the cap in
ChatStream (gateway/chat.py) with the setting MAX_REPLY_CHARS (default 200,000): until then these are expected to
fail, and strict, so they flag the moment it lands.

The contract: the stream stops reading once its text reaches MAX_REPLY_CHARS, keeps exactly that many characters,
closes the connection, and says "reply cut at N characters" (a GatewayError in `.error`, so the page shows it like any
other ending), quickly, whatever the server would have gone on sending.
"""

from __future__ import annotations

import time

import openai
import pytest

from gateway.chat import ChatParams, start_chat
from gateway.config import load_settings
from gateway.models import ModelRecord

pytestmark = pytest.mark.xfail(strict=True, reason="lead implements cap in ChatStream")

HELLO = [{"role": "user", "content": "Go on forever"}]


def test_max_reply_chars_is_a_setting_of_200_000_by_default():
    assert load_settings({}, secrets={}, dotenv_path=None).max_reply_chars == 200_000
    assert load_settings({"MAX_REPLY_CHARS": "5000"}, secrets={}, dotenv_path=None).max_reply_chars == 5000


@pytest.mark.timeout(15)  # today it reads on for minutes: a timeout is a failure too
def test_an_endless_reply_is_cut_at_max_reply_chars(upstream):
    settings = load_settings({"LITELLM_ENABLED": "true", "MAX_REPLY_CHARS": "5000"}, secrets={}, dotenv_path=None)
    direct = openai.OpenAI(base_url=upstream, api_key="local", max_retries=0)
    endless = ModelRecord(id="long-150000", route="litellm", providers=("local",))  # ~1 MB of words, unpaced
    started = time.perf_counter()
    stream = start_chat(endless, HELLO, ChatParams(), settings, client=direct)
    pieces = list(stream.batched())
    assert len(stream.text) == 5000 and "".join(pieces) == stream.text
    assert stream.error is not None and "reply cut at 5,000 characters" in str(stream.error)
    assert stream.done and time.perf_counter() - started < 10
