"""Reasoning models against the real proxy and an upstream that streams thinking (tests/support/upstream.py `think-*`):
the thinking is read whichever field carries it, timed apart from the answer, counted honestly, never sent back, and
an answer lost to thinking says why."""

import json

import pytest
from openai.types.chat import ChatCompletionChunk

from gateway import exports
from gateway.chat import ChatStream, start_chat
from gateway.config import load_settings
from gateway.conversation import Conversation, messages_for
from gateway.models import ModelRecord
from gateway.params import ChatParams
from gateway.reply import Metrics, Outcome, Reply
from gateway.store import LOCAL_OWNER, get_store
from gateway.tokens import TOKENS_PER_MESSAGE, count_tokens, remember_reply
from tests.support import litellm_versions
from tests.support.pages import open_page
from tests.support.upstream import RECEIVED
from tests.test_untrusted_text import rendered_markup
from ui.reasoning import reasoning_inputs, reasons
from ui.reply import THINKING_TAIL, metrics_line, thinking_label, thinking_tail

pytestmark = pytest.mark.litellm_versions(litellm_versions.CURRENT)

HELLO = [{"role": "user", "content": "What is 17 × 23?"}]


def model(name: str, **facts) -> ModelRecord:
    return ModelRecord(id=name, route="litellm", providers=("openai",), **facts)


def read(name: str, settings, params: ChatParams = ChatParams(), messages=HELLO):
    stream = start_chat(model(name), messages, params, settings)
    stream.pieces = list(stream)
    return stream


@pytest.mark.realtime  # the model's own pace: ~2 s a try
def test_a_model_thinking_at_40_a_second_is_timed_and_counted_apart_from_its_answer(settings):
    # 60 thoughts at 40/s (1.5 s), then 23 answer tokens at 40/s. On a loaded machine the proxy's own CPU shows in a
    # 0.6 s answer's pace: up to three tries for one within 20 % (the old reading, 83 tokens over the answer's
    # time, is ~3.5x off: 135/s).
    for _ in range(3):
        stream = read("upstream-think", settings)
        if stream.metrics.tokens_per_second == pytest.approx(40, rel=0.2):
            break
    reply, metrics = stream.reply, stream.metrics
    assert reply.outcome is Outcome.COMPLETE and reply.error is None
    assert reply.thinking == "".join(f"t{i} " for i in range(60))
    assert reply.text == "".join(f"w{i} " for i in range(23)) == "".join(stream.pieces)  # the answer alone
    assert metrics.reasoning_tokens == 60 and metrics.completion_tokens == 83 and metrics.answer_tokens == 23
    assert metrics.first_thought < metrics.ttft <= metrics.total
    assert metrics.thinking_time == pytest.approx(1.5, rel=0.2)
    assert metrics.tokens_per_second == pytest.approx(40, rel=0.2)  # the answer's own pace, not 83 over 0.6 s


@pytest.mark.parametrize("name", ["upstream-think-reasoning", "upstream-think-blocks"])
def test_thinking_is_read_from_reasoning_and_from_thinking_blocks_too(settings, name):
    reply = read(name, settings).reply
    assert reply.thinking == "".join(f"t{i} " for i in range(20)) and reply.text == "w0 w1 w2 w3 w4 "
    assert reply.metrics.first_thought is not None


def test_a_reasoning_count_not_reported_reads_as_none_never_zero():
    # Through the proxy a count is never missing: LiteLLM counts a thought the provider did not (next test). A
    # provider reached directly may omit it, or send 0 beside the thinking it streamed.
    for usage in ({"prompt_tokens": 5, "completion_tokens": 25, "total_tokens": 30},
                  {"prompt_tokens": 5, "completion_tokens": 25, "total_tokens": 30,
                   "completion_tokens_details": {"reasoning_tokens": 0}}):
        stream = ChatStream(model("direct"), iter([
            chunk({"reasoning_content": "t0 " * 20}), chunk({"content": "w0 w1 w2 w3 w4 "}, finish="stop"),
            ChatCompletionChunk.model_validate({**BASE, "choices": [], "usage": usage})]))
        assert list(stream) == ["w0 w1 w2 w3 w4 "]
        metrics = stream.metrics
        assert metrics.reasoning_tokens is None and metrics.completion_tokens == 25
        assert metrics.answer_tokens == round(25 * 15 / (15 + 60))  # the answer's share of the characters


def test_a_count_the_proxy_made_up_to_the_whole_completion_still_leaves_the_answer_its_tokens(settings):
    metrics = read("upstream-think-unreported", settings).metrics
    assert metrics.completion_tokens == 25 and metrics.reasoning_tokens is not None  # LiteLLM's own count
    assert metrics.answer_tokens and metrics.tokens_per_second


BASE = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "direct"}


def chunk(delta: dict, finish: str | None = None) -> ChatCompletionChunk:
    return ChatCompletionChunk.model_validate({**BASE, "choices": [{"index": 0, "delta": delta,
                                                                   "finish_reason": finish}]})


def test_the_cost_counts_reasoning_tokens_as_output(settings):
    reply = read("upstream-think", settings).reply
    priced = model("upstream-think", input_price=1.0, output_price=4.0)  # USD per 1M tokens
    assert reply.metrics.cost == pytest.approx(priced.cost(5, 83) or reply.metrics.cost)
    assert reply.metrics.cost == pytest.approx((5 * 1 + 83 * 4) / 1e6)


def test_thinking_that_uses_up_max_tokens_says_so_plainly(settings):
    reply = read("upstream-think-length", settings, ChatParams(max_tokens=40)).reply
    assert reply.text == "" and reply.metrics.finish_reason == "length"
    assert reply.outcome is Outcome.FAILED and reply.error.kind == "thinking_exhausted"
    assert "used its whole output budget thinking (40 reasoning tokens of max_tokens 40): raise max tokens or lower " \
           "the effort" in reply.error.message
    assert reply.thinking  # kept, like any partial output


def test_the_next_turn_carries_no_thinking(settings):
    conversation = Conversation()
    round_ = conversation.add_prompt("What is 17 × 23?")
    round_.add(read("upstream-think", settings).reply)
    conversation.add_prompt("And times 2?")
    read("upstream-echo", settings, messages=messages_for(conversation.history(), ChatParams()))
    sent = RECEIVED[-1]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"] == "".join(f"w{i} " for i in range(23))
    assert "t0" not in str(sent) and not any(set(m) - {"role", "content"} for m in sent)


def test_the_effort_and_budget_reach_the_upstream(settings):
    read("upstream-think-reasoning", settings, ChatParams(reasoning_effort="high"))
    assert RECEIVED[-1]["reasoning_effort"] == "high"
    read("upstream-think-reasoning", settings, ChatParams(reasoning_effort="off"))
    assert RECEIVED[-1]["reasoning_effort"] == "none"
    read("upstream-think-reasoning", settings)
    assert "reasoning_effort" not in RECEIVED[-1] and "thinking" not in RECEIVED[-1]


def test_metrics_of_a_reply_without_thinking_are_as_before():
    metrics = Metrics(ttft=0.5, total=1.5, completion_tokens=100)
    assert metrics.tokens_per_second == 100 and metrics.thinking_time is None
    thinking = Metrics(first_thought=0.2, ttft=1.7, total=2.7, completion_tokens=83, reasoning_tokens=60,
                       answer_tokens=23)
    assert thinking.thinking_time == pytest.approx(1.5) and thinking.tokens_per_second == pytest.approx(23)
    assert Metrics.from_dict(thinking.to_dict()) == thinking


def test_effort_settings_are_checked():
    with pytest.raises(ValueError, match="reasoning effort must be one of off, low, medium, high"):
        ChatParams(reasoning_effort="extreme")
    with pytest.raises(ValueError, match="thinking budget"):
        ChatParams(thinking_budget=10)
    assert ChatParams.from_dict({"reasoning_effort": "extreme", "thinking_budget": "lots"}) == ChatParams()
    assert ChatParams(reasoning_effort="low", thinking_budget=2048).reasoning() == {
        "reasoning_effort": "low", "thinking": {"type": "enabled", "budget_tokens": 2048}}
    assert ChatParams(reasoning_effort="off", thinking_budget=2048).reasoning() == {"reasoning_effort": "none"}


# --- Kept: saved work, exports ------------------------------------------------------------------------------------

HOSTILE_THOUGHT = "Let me think. ![x](http://127.0.0.1:9/leak) </details><img src=http://127.0.0.1:9/p> =1+1\n```py\n"


def thinking_chat() -> Conversation:
    conversation = Conversation("chat", models=["upstream-think"])
    round_ = conversation.add_prompt("What is 17 × 23?")
    round_.add(Reply("upstream-think", "391", Outcome.COMPLETE,
                     Metrics(first_thought=0.1, ttft=1.6, total=2.2, prompt_tokens=5, completion_tokens=83,
                             reasoning_tokens=60, answer_tokens=23, cost=0.0003, cost_source="proxy",
                             finish_reason="stop"), thinking=HOSTILE_THOUGHT),
               ChatParams(reasoning_effort="high", thinking_budget=2048))
    round_ = conversation.add_prompt("Again?")
    round_.add(Reply("upstream-think", "Yes.", Outcome.COMPLETE, Metrics(ttft=0.2, total=0.4, completion_tokens=2)))
    return conversation


def test_the_thinking_its_numbers_and_the_effort_are_saved_and_come_back(store):
    conversation = thinking_chat()
    for index in range(len(conversation.rounds)):
        store.save_round(conversation, index, "ana")
    assert store.flush()
    loaded = store.load(conversation.id, "ana")
    assert loaded.to_dict() == conversation.to_dict()
    reply = loaded.rounds[0].reply()
    assert reply.thinking == HOSTILE_THOUGHT and reply.metrics.reasoning_tokens == 60
    assert loaded.rounds[0].params["upstream-think"].reasoning_effort == "high"
    assert loaded.rounds[1].reply().metrics.reasoning_tokens is None  # not reported stays not reported


def test_the_json_export_has_the_thinking_in_its_own_field_and_imports_back():
    conversation = thinking_chat()
    exported = json.loads(exports.to_json(conversation))
    first = exported["rounds"][0]["runs"]["upstream-think"][0]
    assert first["thinking"] == HOSTILE_THOUGHT and first["text"] == "391"
    assert first["metrics"]["reasoning_tokens"] == 60 and first["metrics"]["thinking_time"] == pytest.approx(1.5)
    back = exports.import_json(exports.to_json(conversation))
    assert [r.to_dict() for r in back.rounds] == [r.to_dict() for r in conversation.rounds]


def test_the_markdown_export_folds_the_thinking_away_inert():
    document = exports.to_markdown(thinking_chat())
    assert document.count("<details><summary>Thinking</summary>") == 1 and document.count("</details>") == 1
    opened = document.index("<details>")
    assert opened < document.index("Let me think.") < document.index("</details>") < document.index("391")
    assert "<img" not in document and "](http://127.0.0.1:9/leak)" not in document.replace("[image: x](", "")
    assert "&lt;/details>" in document  # the model's own tag is text
    csv = exports.to_csv(thinking_chat())
    assert "thinking" in csv.splitlines()[0] and "reasoning_tokens" in csv.splitlines()[0]


def test_the_context_meter_counts_the_answer_not_the_thinking(settings):
    sent = [{"role": "user", "content": "What is 17 × 23, thought through?"}]
    reply = Reply("upstream-think", "391", Outcome.COMPLETE,
                  Metrics(prompt_tokens=17, completion_tokens=83, reasoning_tokens=80, answer_tokens=3),
                  thinking="t " * 80)
    remember_reply(model("upstream-think"), sent, reply, settings)
    after = [*sent, {"role": "assistant", "content": "391"}]
    assert count_tokens(model("upstream-think"), after, settings).tokens == 17 + 3 + TOKENS_PER_MESSAGE


# --- The demo's reasoning model -----------------------------------------------------------------------------------

def test_the_demo_reasoning_model_thinks_longer_at_a_higher_effort(settings):
    asked = [{"role": "user", "content": "What is 17 × 23?"}]
    replies = {effort: read("upstream-reasoner", settings, ChatParams(reasoning_effort=effort), asked).reply
               for effort in ("off", "low", "high")}
    assert RECEIVED[-1]["reasoning_effort"] == "high"
    assert replies["off"].thinking == "" and replies["off"].metrics.first_thought is None
    assert "17 × 3 = 51" in replies["low"].thinking and "Check" not in replies["low"].thinking
    assert "A second way" in replies["high"].thinking
    assert replies["low"].metrics.reasoning_tokens < replies["high"].metrics.reasoning_tokens
    assert all("391" in reply.text for reply in replies.values())


def test_the_demo_reasoning_model_can_think_its_whole_budget_away(settings):
    reply = read("upstream-reasoner", settings, ChatParams(max_tokens=20), HELLO).reply
    assert reply.error.kind == "thinking_exhausted" and "of max_tokens 20" in reply.error.message


# --- The LiteLLM range --------------------------------------------------------------------------------------------

@pytest.mark.litellm_versions(*litellm_versions.VERSIONS)
@pytest.mark.parametrize("name", ["upstream-think-fast", "upstream-think-reasoning", "upstream-think-blocks"])
def test_on_every_supported_release_the_answer_shows_and_nothing_fails(settings, proxy, name):
    stream = read(name, settings)
    reply = stream.reply
    assert reply.outcome is Outcome.COMPLETE and reply.error is None
    assert reply.text == "w0 w1 w2 w3 w4 " and stream.metrics.ttft is not None
    # 1.108.7 forwards the thinking in all three shapes; 1.53.1 drops it (the thinking is simply absent) but still
    # forwards the count, so the answer's own tokens and pace stay right.
    assert reply.thinking == ("".join(f"t{i} " for i in range(20)) if proxy.version == litellm_versions.CURRENT
                              else "")
    assert reply.metrics.reasoning_tokens == 20 and reply.metrics.answer_tokens == 5


# --- How the numbers read -----------------------------------------------------------------------------------------

def test_the_reply_line_names_the_thinking_and_the_answers_own_speed():
    thought = Metrics(first_thought=0.09, ttft=1.59, total=2.19, prompt_tokens=10, completion_tokens=83,
                      reasoning_tokens=60, answer_tokens=23)
    line = metrics_line(thought)
    assert line.startswith("first thought 90 ms · thought 1.50 s · TTFT 1.59 s · total 2.19 s · 38 tok/s")
    assert "10 → 83 tokens (60 reasoning)" in line
    unreported = Metrics(first_thought=0.09, ttft=1.59, total=2.19, completion_tokens=83, answer_tokens=23)
    assert "(reasoning not reported)" in metrics_line(unreported)
    assert "reasoning" not in metrics_line(Metrics(ttft=0.1, total=0.5, completion_tokens=20))  # no thinking: as was
    reply = Reply("m", "391", Outcome.COMPLETE, thought, thinking="t0 t1")
    assert thinking_label(reply) == "Thinking · thought for 1.50 s · 60 tokens"
    assert thinking_label(Reply("m", "391", Outcome.COMPLETE, unreported, thinking="t0")) == \
        "Thinking · thought for 1.50 s · tokens not reported"


def test_a_long_thought_shows_its_latest_part_while_it_streams():
    thought = "".join(f"t{i} " for i in range(5000))
    tail = thinking_tail(thought)
    assert tail.startswith("…t") and thought.endswith(tail[1:]) and len(tail) <= THINKING_TAIL + 1
    assert thinking_tail("short thought") == "short thought"
    lines = "\n".join(f"step {i}: something" for i in range(500))
    assert thinking_tail(lines).startswith("…step ")  # from the start of a line


# --- The pages (AppTest) ------------------------------------------------------------------------------------------

def test_compare_offers_effort_per_model_by_what_the_catalogue_says_and_sends_it(app_env):
    at = open_page("pages/compare.py", models="upstream-think,upstream-echo")
    assert not at.exception, at.exception
    keys = {w.key for w in at.selectbox}
    # upstream-think reasons (its config says so); upstream-echo is unknown: offered, with the note
    assert {"compare_override_upstream-think_reasoning_effort", "compare_override_upstream-echo_reasoning_effort"} \
        <= keys
    assert any("does not say whether this model reasons" in c.value for c in at.caption)
    at.selectbox(key="compare_override_upstream-think_reasoning_effort").set_value("high").run()
    at.chat_input(key="compare_prompt").set_value("What is 17 × 23?").run()
    assert not at.exception, at.exception
    round_ = at.session_state["comparison"].latest
    assert round_.params["upstream-think"].reasoning_effort == "high"
    assert round_.params["upstream-echo"].reasoning_effort is None
    assert [r for r in RECEIVED if r.get("model") == "think-60-40-23"][-1]["reasoning_effort"] == "high"
    thought = round_.reply("upstream-think")
    assert thought.thinking.startswith("t0 t1") and thought.metrics.reasoning_tokens == 60
    assert any("Thinking · thought for" in e.label for e in at.expander)


def test_chat_sends_the_sidebar_effort_and_explains_a_used_up_budget(app_env):
    at = open_page("pages/chat.py", model="upstream-think-length")
    at.selectbox(key="chat_reasoning_effort").set_value("low")
    at.chat_input(key="chat_prompt").set_value("Think hard").run()
    assert not at.exception, at.exception
    assert RECEIVED[-1]["reasoning_effort"] == "low"
    errors = [e.value.replace("\\", "") for e in at.error]  # plain(): Markdown escaped
    assert any("used its whole output budget thinking (40 reasoning tokens of its default max_tokens): raise max "
               "tokens or lower the effort" in e for e in errors), errors


def test_reasoning_is_offered_by_what_the_catalogue_says():
    def said(value):
        return ModelRecord(id="m", route="litellm", providers=("openai",), supports_reasoning=value)

    assert reasons([said(True), said(False)]) is True
    assert reasons([said(False), said(False)]) is False  # nothing offered
    assert reasons([said(None), said(False)]) is None  # offered under Advanced, with a note
    assert reasoning_inputs(False, "k") == (None, None)


def test_a_saved_chats_thinking_comes_back_by_its_link_folded_and_inert(app_env):
    conversation = thinking_chat()
    saved = get_store(load_settings(secrets={}, dotenv_path=None))
    saved.save_conversation(conversation, LOCAL_OWNER)
    assert saved.flush(5)
    at = open_page("pages/chat.py", c=conversation.id)
    assert not at.exception, at.exception
    folded = [e for e in at.expander if e.label.startswith("Thinking")]
    assert [e.label for e in folded] == ["Thinking · thought for 1.50 s · 60 tokens"]
    assert "Let me think." in folded[0].markdown[0].value
    assert not rendered_markup(at), rendered_markup(at)  # the thought's image is a placeholder, its HTML text


def test_a_saved_chat_reopens_with_the_effort_and_budget_it_was_sent_with(app_env):
    conversation = thinking_chat()
    conversation.params = ChatParams(reasoning_effort="high", thinking_budget=2048)
    saved = get_store(load_settings(secrets={}, dotenv_path=None))
    saved.save_conversation(conversation, LOCAL_OWNER)
    assert saved.flush(5)
    at = open_page("pages/chat.py", c=conversation.id)
    assert not at.exception, at.exception
    assert at.selectbox(key="chat_reasoning_effort").value == "high"
    assert at.number_input(key="chat_thinking_budget").value == 2048
