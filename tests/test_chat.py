"""Chat streaming against the real proxy: text, numbers, every error class, stopping, and the conversation record."""

import dataclasses

import openai
import pytest

from gateway import chat as chat_module
from gateway.catalogue import fetch_models
from gateway.chat import start_chat, streaming_now
from gateway.conversation import messages_for
from gateway.errors import (
    AuthenticationFailed,
    ContextWindowExceeded,
    GatewayError,
    ModelNotFound,
    ProviderError,
    ProxyTimeout,
    ProxyUnreachable,
    RateLimited,
    StreamInterrupted,
    from_status,
)
from gateway.models import ModelRecord
from gateway.params import ChatParams
from gateway.reply import Metrics, Outcome, Reply
from gateway.tokens import ContextFit, context_fit, count_tokens, estimate_tokens, remember_reply
from tests.support.litellm_versions import CURRENT
from tests.support.proxy import free_port, settings_for
from tests.support.upstream import silent_server
from ui.reply import metrics_line

pytestmark = pytest.mark.litellm_versions  # every test using the proxy runs against each release

HELLO = [{"role": "user", "content": "Hello"}]


def model(name: str) -> ModelRecord:
    """A model the test proxy serves (tests/proxy_config.yaml), as the catalogue lists it."""
    return ModelRecord(id=name, route="litellm", providers=("openai",))


def chat(model: ModelRecord, settings, messages=HELLO, params=ChatParams()):
    """Send and read the whole stream; returns the finished stream."""
    stream = start_chat(model, messages, params, settings)
    pieces = list(stream)
    stream.pieces = pieces
    return stream


# --- Streaming and numbers ------------------------------------------------------------------------------------------

def test_a_reply_streams_in_pieces_with_its_numbers(settings):
    stream = chat(model("demo-fast"), settings)
    assert stream.error is None and stream.reply.outcome is Outcome.COMPLETE
    assert stream.text == "Hello! I am the fast demo model."
    assert len(stream.pieces) > 1 and "".join(stream.pieces) == stream.text
    metrics = stream.metrics
    assert 0 < metrics.ttft <= metrics.total
    assert metrics.prompt_tokens > 0 and metrics.completion_tokens > 0
    assert metrics.finish_reason == "stop"
    assert metrics.call_id
    assert metrics.tokens_per_second is None or metrics.tokens_per_second > 0


def test_the_proxy_overhead_is_read_when_the_proxy_reports_it(settings, proxy):
    metrics = chat(model("upstream-echo"), settings).metrics  # mock_response models send no overhead header
    if proxy.version == CURRENT:
        assert metrics.overhead_ms is not None and metrics.overhead_ms >= 0
    else:  # 1.53.1 sends no x-litellm-overhead-duration-ms: none is made up, and the reply's line leaves it out
        assert metrics.overhead_ms is None and "overhead" not in metrics_line(metrics)


def test_cost_comes_from_the_proxy_when_it_reports_one(settings, proxy):
    priced = dataclasses.replace(model("demo-fast"), input_price=10.0, output_price=20.0)  # not the proxy's prices
    metrics = chat(priced, settings).metrics
    if proxy.version == CURRENT:
        assert metrics.cost_source == "proxy"
        # demo-fast's prices are set in tests/proxy_config.yaml: $1 and $2 per million tokens
        assert metrics.cost == pytest.approx(metrics.prompt_tokens * 1e-6 + metrics.completion_tokens * 2e-6)
    else:  # 1.53.1 puts no cost in a stream's usage: the catalogue's prices give an estimate, marked as one
        assert metrics.cost_source == "catalogue" and "(est.)" in metrics_line(metrics)
        assert metrics.cost == pytest.approx((metrics.prompt_tokens * 10 + metrics.completion_tokens * 20) / 1e6)


def test_cost_is_computed_from_catalogue_prices_when_the_proxy_has_none(settings):
    priced = dataclasses.replace(model("upstream-echo"), input_price=10.0, output_price=20.0)
    metrics = chat(priced, settings).metrics
    assert metrics.cost_source == "catalogue"
    assert metrics.cost == pytest.approx((metrics.prompt_tokens * 10 + metrics.completion_tokens * 20) / 1e6)


def test_the_conversation_is_sent_with_the_system_prompt_first(settings):
    params = ChatParams(system_prompt="Be brief.", temperature=0.2, top_p=0.9, max_tokens=50)
    messages = messages_for([{"role": "user", "content": "first"}, {"role": "assistant", "content": "ok"},
                               {"role": "user", "content": "second question"}], params)
    assert messages[0] == {"role": "system", "content": "Be brief."}
    stream = chat(model("upstream-echo"), settings, messages, params)
    assert stream.error is None
    assert stream.text.strip() == "echo: second question"


def test_batched_groups_a_fast_long_reply_into_few_updates(settings):
    stream = start_chat(model("upstream-long"), HELLO, ChatParams(), settings)
    batches = list(stream.batched())
    assert stream.error is None
    assert "".join(batches) == stream.text and stream.text.count("w") == 3000
    assert stream.metrics.completion_tokens == 3000
    assert len(batches) < 1500  # 3,000 tokens arrive as 3,000 pieces; grouped every 50 ms, far fewer


def test_batched_can_slow_down_as_the_text_grows(settings):
    """At 1 character per second re-sent, after the first piece nothing more is yielded until the end."""
    stream = start_chat(model("upstream-long"), HELLO, ChatParams(), settings)
    batches = list(stream.batched(resend_rate=1))
    assert len(batches) == 2 and batches[0] == "w0 " and "".join(batches) == stream.text


def test_batched_shares_its_update_rate_with_every_reply_streaming_in_the_process(upstream, settings, monkeypatch):
    """Updates of all the replies streaming at once are bounded together: with room for 4 a second and this reply
    alone, it is shown at most every 0.25 s (its first piece at once); while it streams it counts as streaming."""
    direct = openai.OpenAI(base_url=upstream, api_key="local", max_retries=0)
    words = ModelRecord(id="long-300-300", route="litellm", providers=("local",))  # 300 words over ~1 s
    free = list(start_chat(words, HELLO, ChatParams(), settings, client=direct).batched())
    monkeypatch.setattr(chat_module, "UPDATES_PER_SECOND", 4)
    stream = start_chat(words, HELLO, ChatParams(), settings, client=direct)
    counted = []
    paced = []
    for piece in stream.batched():
        paced.append(piece)
        counted.append(streaming_now())
    assert stream.error is None and "".join(paced) == stream.text and stream.text.count("w") == 300
    assert len(paced) <= 6 < len(free) and paced[0] == "w0 "
    assert set(counted) == {1} and streaming_now() == 0


def test_batched_shows_text_that_arrives_just_before_a_pause(upstream, settings):
    """Five words arrive at once, then the model pauses: they are shown during the pause, not after it."""
    direct = openai.OpenAI(base_url=upstream, api_key="local", max_retries=0)
    pausing = ModelRecord(id="pause-5-1500", route="litellm", providers=("local",))
    stream = start_chat(pausing, HELLO, ChatParams(), settings, client=direct)
    seen = []
    for _ in stream.batched():
        seen.append(stream.text)
    assert stream.error is None and stream.text.count("w") == 10
    assert "w0 w1 w2 w3 w4 " in seen  # the first five, flushed while the model was still pausing


# --- Stopping and breaking off --------------------------------------------------------------------------------------

def test_stop_keeps_the_partial_reply(settings):
    stream = start_chat(model("upstream-long"), HELLO, ChatParams(), settings)
    pieces = iter(stream)
    received = [next(pieces) for _ in range(5)]
    stream.close()
    assert stream.reply.outcome is Outcome.STOPPED and stream.error is None and stream.reply.error is None
    assert stream.text == "".join(received) and stream.text.startswith("w0 ")
    assert stream.metrics.finish_reason is None and stream.metrics.total is not None  # the model never said why
    assert list(stream) == []  # nothing more arrives


def test_an_error_in_the_middle_of_a_stream_keeps_the_partial_text(failed):
    stream = failed["upstream-break"]
    assert isinstance(stream.error, StreamInterrupted)
    assert stream.text.startswith("w0 w1 w2 w3 w4")
    assert "broke off" in str(stream.error) and "partial reply is kept" in stream.error.hint
    assert stream.reply.outcome is Outcome.FAILED and stream.reply.error.kind == "stream_interrupted"


def test_a_connection_dropped_mid_stream_is_an_interruption_not_an_unreachable_proxy(upstream, settings):
    """The local server cuts the connection after 5 words; read it directly (the proxy would hide the cut)."""
    import openai

    direct = ModelRecord(id="cut-after-5", route="litellm", providers=("local",))
    client = openai.OpenAI(base_url=upstream, api_key="anything", max_retries=0)
    stream = start_chat(direct, HELLO, ChatParams(), settings, client=client)
    list(stream)
    assert isinstance(stream.error, StreamInterrupted), stream.error
    assert stream.text.startswith("w0 w1 w2 w3 w4")


# --- Errors: each class, with a plain message and a hint ------------------------------------------------------------

ERROR_MODELS = ("error-rate-limit", "context-too-small", "error-internal", "chat-no-credentials")


@pytest.fixture(scope="module")
def failed(proxy):
    """Each error model called once (a failure can put a deployment on cooldown for a few seconds)."""
    settings = settings_for(proxy)
    return {name: chat(ModelRecord(id=name, route="litellm", providers=("openai",)), settings)
            for name in (*ERROR_MODELS, "upstream-break")}


@pytest.mark.parametrize("name, error_class, words", [
    ("error-rate-limit", RateLimited, "rate limit"),
    ("context-too-small", ContextWindowExceeded, "context"),  # the mock error-context-window: not in 1.53.1
    ("error-internal", ProviderError, "internalservererror"),
    ("chat-no-credentials", ProviderError, "credentials"),
])
def test_proxy_errors_become_plain_gateway_errors(failed, name, error_class, words):
    stream = failed[name]
    assert type(stream.error) is error_class, stream.error
    assert words in (str(stream.error) + stream.error.hint).lower()
    assert stream.error.hint and "Traceback" not in str(stream.error)
    assert stream.text == "" and stream.reply.outcome is Outcome.FAILED and stream.metrics.finish_reason is None
    assert stream.reply.error.message == str(stream.error) and stream.reply.error.hint == stream.error.hint


def test_missing_provider_credentials_say_where_to_set_them(failed):
    error = failed["chat-no-credentials"].error
    assert "Missing Anthropic API Key" in str(error)
    assert "provider's key where the proxy runs" in error.hint


def test_rate_limited_says_when_to_retry(failed):
    error = failed["error-rate-limit"].error  # LiteLLM's mock rate limit sends no retry-after: no time is invented
    assert error.status == 429 and "Wait" in error.hint
    assert error.retry_after is None and "Retry after" not in str(error)


def test_rate_limited_says_when_to_retry_when_the_server_says(upstream, settings):
    """A server that sends `retry-after: 7` (read directly: the SDK's own retries are off)."""
    direct = openai.OpenAI(base_url=upstream, api_key="local", max_retries=0)
    limited = ModelRecord(id="rate-limited-7", route="litellm", providers=("local",))
    error = start_chat(limited, HELLO, ChatParams(), settings, client=direct).error
    assert isinstance(error, RateLimited) and error.retry_after == 7
    assert str(error) == "Rate limited: Too many requests, slow down. Retry after 7 s."


def test_a_deployment_on_cooldown_says_how_long(proxy):
    error = from_status(429, "No deployments available for selected model, Try again in 5 seconds. "
                             "All deployments for selected model are in cooldown.")
    assert isinstance(error, RateLimited) and error.retry_after == 5 and "cooling down" in str(error)


def test_an_unknown_model_suggests_a_refresh(settings):
    gone = ModelRecord(id="no-such-model", route="litellm", providers=("openai",))
    error = chat(gone, settings).error
    assert isinstance(error, ModelNotFound)
    assert "refresh" in error.hint.lower()
    # 1.53.1 nests the text one level deeper ({"error": {"message": {"error": "..."}}}): shown as text, not a dict
    assert "Invalid model name passed in model=no-such-model" in str(error) and "{'error'" not in str(error)


def test_a_wrong_key_is_refused_without_showing_either_key(proxy):
    wrong = settings_for(proxy, "sk-wrong-key-abcdefgh123")
    error = chat(ModelRecord(id="demo-fast", route="litellm", providers=("openai",)), wrong).error
    assert isinstance(error, AuthenticationFailed)
    shown = str(error) + error.hint
    assert "sk-wrong-key-abcdefgh123" not in shown and proxy.master_key not in shown
    assert "No connected db" in shown


def test_an_unreachable_proxy_is_named(settings):
    down = dataclasses.replace(settings, litellm_base_url=f"http://127.0.0.1:{free_port()}")
    error = chat(ModelRecord(id="demo-fast", route="litellm", providers=("openai",)), down).error
    assert isinstance(error, ProxyUnreachable) and "connection refused" in str(error)


def test_a_proxy_that_never_answers_times_out(settings):
    with silent_server() as url:
        stuck = dataclasses.replace(settings, litellm_base_url=url, request_timeout=1.0)
        error = chat(ModelRecord(id="demo-fast", route="litellm", providers=("openai",)), stuck).error
    assert isinstance(error, ProxyTimeout)


def test_a_direct_model_without_its_key_is_not_called(settings):
    direct = next(m for m in fetch_models(settings).models if m.route == "openai")
    error = chat(direct, settings).error
    assert isinstance(error, GatewayError) and "OPENAI_API_KEY" in str(error)


def test_error_messages_never_contain_the_key(failed, proxy):
    for stream in failed.values():
        assert proxy.master_key not in str(stream.error) + stream.error.hint + repr(stream.error)


# --- Token counting -------------------------------------------------------------------------------------------------

def test_the_proxy_counts_tokens_for_its_models(settings):
    count = count_tokens(model("gpt-4o"), [{"role": "user", "content": "Hello there, how are you today?"}], settings)
    assert count.source == "proxy" and 5 < count.tokens < 30


def test_tokens_are_estimated_when_the_proxy_cannot_count(settings):
    down = dataclasses.replace(settings, litellm_base_url=f"http://127.0.0.1:{free_port()}")
    count = count_tokens(model("gpt-4o"), HELLO, down)
    assert count == count_tokens(ModelRecord(id="x", route="openai", providers=("openai",)), HELLO, settings)
    assert count.source == "estimate" and count.tokens == estimate_tokens(HELLO)


def test_after_a_reply_its_usage_is_the_count_with_no_second_request(settings):
    """The proxy said how many tokens the request took and the reply added: the conversation with that reply is
    counted from it, even with the proxy gone; anything else is still asked (or estimated)."""
    sent = [{"role": "user", "content": "How long is this conversation now?"}]
    reply = Reply("demo-fast", "Quite short.", Outcome.COMPLETE, Metrics(prompt_tokens=17, completion_tokens=4))
    remember_reply(model("demo-fast"), sent, reply, settings)
    after = [*sent, {"role": "assistant", "content": "Quite short."}]
    down = dataclasses.replace(settings, litellm_base_url=f"http://127.0.0.1:{free_port()}")
    assert count_tokens(model("demo-fast"), after, settings).tokens == 17 + 4 + 4  # + the reply's own framing
    assert count_tokens(model("demo-fast"), after, settings).source == "proxy"
    assert count_tokens(model("demo-fast"), after, down).source == "estimate"  # another proxy: not its count
    assert count_tokens(model("gpt-4o"), after, settings).tokens != 25  # another model: asked
    stopped = dataclasses.replace(reply, outcome=Outcome.STOPPED, text="Quite")
    remember_reply(model("demo-fast"), sent, stopped, settings)  # no usage for a stopped reply: nothing kept
    assert count_tokens(model("demo-fast"), [*sent, {"role": "assistant", "content": "Quite"}], settings).tokens != 21


def test_context_fit_warns_before_a_request_that_cannot_fit(settings):
    small = dataclasses.replace(model("demo-fast"), context_window=50)
    long = [{"role": "user", "content": "word " * 200}]
    fit = context_fit(small, long, settings)
    assert not fit.fits and fit.fraction > 1 and fit.source == "proxy"
    assert context_fit(small, HELLO, settings).fits
    assert not context_fit(small, HELLO, settings, max_tokens=100).fits  # the reply's room counts too


def test_context_fit_with_an_unknown_window_always_fits():
    fit = ContextFit(used=10**9, limit=None, source="estimate")
    assert fit.fits and fit.fraction is None and not fit.nearly_full


# --- The stream as an object --------------------------------------------------------------------------------------

def test_a_stream_is_a_context_manager_that_closes_early(settings):
    with start_chat(model("upstream-long"), HELLO, ChatParams(), settings) as stream:
        first = next(iter(stream))
    assert stream.reply.outcome is Outcome.STOPPED and stream.text == first
    stream.close()  # closing twice changes nothing
    assert stream.reply.outcome is Outcome.STOPPED


def test_a_failed_reply_keeps_the_prompt_and_the_error_in_the_conversation(settings):
    from gateway.conversation import Conversation

    conversation = Conversation()
    round_ = conversation.add_prompt("Hello")
    stream = chat(model("error-internal"), settings, conversation.history())
    reply = round_.add(stream.reply)
    assert conversation.rounds[0].prompt == "Hello"
    assert reply.outcome is Outcome.FAILED and reply.error.kind == "provider" and reply.error.hint
    assert conversation.history() == HELLO  # an empty failed reply is not sent again


def test_a_stopped_reply_is_marked_and_still_sent_as_context(settings):
    from gateway.conversation import Conversation

    conversation = Conversation()
    round_ = conversation.add_prompt("Hello")
    stream = start_chat(model("upstream-long"), conversation.history(), ChatParams(), settings)
    next(iter(stream))
    stream.close()
    reply = round_.add(stream.reply)
    assert reply.outcome is Outcome.STOPPED and reply.text
    assert conversation.history()[-1] == {"role": "assistant", "content": reply.text}
