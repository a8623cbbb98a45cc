"""The chat page, run with AppTest against the real proxy: replies and their numbers, errors, links, exports."""

import json

import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from gateway.chat import start_chat
from gateway.conversation import Conversation, Round
from gateway.models import ModelRecord
from gateway.params import ChatParams
from gateway.reply import Metrics, Outcome, Reply
from tests.support.pages import open_page


def open_chat(model: str | None = "demo-fast", **state) -> AppTest:
    """The chat page, arrived at with `?model=<model>` (and session state set beforehand)."""
    return open_page("pages/chat.py", timeout=30, state=state, **({"model": model} if model else {}))


def send(at: AppTest, prompt: str) -> AppTest:
    at.chat_input[0].set_value(prompt).run()
    assert not at.exception, at.exception
    return at


def turns(at: AppTest) -> list[tuple[str, str]]:
    """(role, text) of every message shown."""
    return [(m.name, "\n".join(e.value for e in m.markdown)) for m in at.chat_message]


@pytest.fixture
def downloads(monkeypatch):
    """What the page offers for download, by file name."""
    files: dict[str, str] = {}
    add = MediaFileManager.add

    add_deferred = MediaFileManager.add_deferred

    def capture(self, data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        if file_name:
            files[file_name] = data.decode() if isinstance(data, bytes) else data
        return add(self, data, mimetype, coordinates, file_name, is_for_static_download)

    def capture_deferred(self, make, mimetype, coordinates, file_name=None, **kwargs):
        """Downloads made when clicked: made now, as a click would."""
        if file_name:
            data = make()
            files[file_name] = data.decode() if isinstance(data, bytes) else data
        return add_deferred(self, make, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add", capture)
    monkeypatch.setattr(MediaFileManager, "add_deferred", capture_deferred)
    return files


def test_a_prompt_gets_a_reply_with_its_numbers_underneath(app_env):
    at = send(open_chat("demo-fast"), "Hello")
    assert turns(at) == [("user", "Hello"), ("assistant", "Hello! I am the fast demo model.")]
    numbers = at.chat_message[1].caption[0].value
    assert "TTFT" in numbers and "total" in numbers and "tok/s" in numbers
    assert "→ 9 tokens" in numbers and "$0.0000" in numbers  # prompt → completion tokens, cost from the proxy


def test_a_long_reply_drawn_block_by_block_ends_as_one_markdown_block(app_env):
    at = send(open_chat("upstream-essay"), "Write at length")
    reply = at.chat_message[1]
    assert len(reply.markdown) == 1  # the settled blocks and the tail were replaced by the whole reply
    text = reply.markdown[0].value
    assert text.startswith("## w0 w1 w2 w3\n\nw4") and text.rstrip().endswith("w2999.") and "▌" not in text
    assert "TTFT" in reply.caption[0].value


def test_the_link_picks_the_model_and_the_url_follows_the_picker(app_env):
    at = open_chat("upstream-echo")
    assert at.selectbox(key="chat_model").value == "upstream-echo"
    at.selectbox(key="chat_model").set_value("demo-fast").run()
    assert at.query_params["model"] == "demo-fast"


def test_the_picked_models_window_and_prices_are_shown_beside_the_picker(app_env):
    captions = [c.value for c in open_chat("gpt-4o").caption]
    assert "128k context · \\$2.5 in / \\$10 out per 1M tokens" in captions, captions  # escaped: not LaTeX


def test_without_a_link_a_proxy_model_is_picked_and_put_in_the_url(app_env):
    at = open_chat(None)
    picked = at.selectbox(key="chat_model").value
    assert picked and ":" not in picked  # a proxy model, not a direct one
    assert at.query_params["model"] == picked


def test_a_link_to_an_unknown_model_offers_a_refresh(app_env):
    at = open_chat("no-such-model")
    assert any("no-such-model" in w.value for w in at.warning)
    assert at.button(key="chat_refresh_asked").label == "Refresh models"


@pytest.mark.parametrize("model, words", [
    ("error-rate-limit", "Rate limited"),
    ("error-context-window", "context window"),
    ("error-internal", "InternalServerError"),
])
def test_an_error_is_a_plain_message_and_the_prompt_stays(app_env, model, words):
    at = send(open_chat(model), "Hello")
    assert turns(at)[0] == ("user", "Hello")
    reply = at.chat_message[1]
    assert reply.name == "assistant" and words.lower() in reply.error[0].value.lower()
    assert reply.caption[0].value  # the hint: what to do about it
    assert "Traceback" not in reply.error[0].value


def test_an_unknown_model_error_offers_a_refresh(app_env, settings):
    """The proxy stopped serving a model between listing and sending: the reply says so, with a refresh."""
    at = open_chat("demo-fast")
    conversation = at.session_state["chat_conversation"]
    round_ = conversation.add_prompt("Hello")
    gone = ModelRecord(id="no-longer-served", route="litellm", providers=("openai",))
    stream = start_chat(gone, conversation.history(), ChatParams(), settings)
    list(stream)
    round_.add(stream.reply)
    at.run()
    assert "Invalid model name" in at.chat_message[1].error[0].value
    assert at.button(key="chat_refresh_missing").label == "Refresh models"


def test_a_reply_that_breaks_off_keeps_its_partial_text(app_env):
    at = send(open_chat("upstream-break"), "Hello")
    role, text = turns(at)[1]
    assert text.startswith("w0 w1 w2 w3 w4")
    assert "broke off" in at.chat_message[1].error[0].value
    assert at.session_state["chat_conversation"].rounds[-1].reply().outcome is Outcome.FAILED


def test_a_stopped_reply_is_shown_as_stopped(app_env):
    """Stopping happens in the browser; here the record a stop leaves behind is drawn."""
    at = open_chat("demo-fast")
    conversation = at.session_state["chat_conversation"]
    conversation.add_prompt("Tell me a long story").add(
        Reply("demo-fast", "Once upon a", Outcome.STOPPED, Metrics(ttft=0.1, total=0.3)))
    at.run()
    assert turns(at)[1] == ("assistant", "Once upon a")
    assert any("Stopped" in c.value for c in at.chat_message[1].caption)


def test_a_request_that_cannot_fit_is_warned_about_and_not_sent(app_env):
    at = open_chat("demo-fast")  # an 8,192-token window
    at.number_input(key="chat_max_tokens").set_value(9000).run()
    assert any("no longer fits" in w.value for w in at.warning)
    send(at, "Hello")
    assert turns(at)[0] == ("user", "Hello")
    assert "Not sent" in at.chat_message[1].error[0].value


def test_the_context_fill_is_shown(app_env):
    at = send(open_chat("demo-fast"), "Hello")
    text = at.get("progress")[0].proto.text
    assert "of 8,192 tokens" in text and "counted by the proxy" in text


def test_regenerate_edit_and_clear(app_env):
    at = send(open_chat("upstream-echo"), "first")
    at.button(key="chat_regenerate").click().run()
    assert turns(at) == [("user", "first"), ("assistant", "echo: first")]
    assert "chat_edit_1" not in [box.key for box in at.text_area]  # the closed edit menu draws nothing inside
    at.session_state["chat_edit_menu"] = True  # opened
    at.run()
    at.text_area(key="chat_edit_1").set_value("second").run()
    at.button(key="chat_resend_edited").click().run()
    assert turns(at) == [("user", "second"), ("assistant", "echo: second")]
    at.button(key="chat_clear").click().run()
    assert turns(at) == []


def test_parameters_are_sent_and_kept_with_the_conversation(app_env):
    at = open_chat("upstream-echo")
    at.text_area(key="chat_system_prompt").set_value("Be brief.").run()
    at.number_input(key="chat_temperature").set_value(0.4).run()
    send(at, "Hello")
    assert at.session_state["chat_conversation"].params.system_prompt == "Be brief."
    assert at.session_state["chat_conversation"].params.temperature == pytest.approx(0.4)


def test_switching_models_keeps_the_conversation_and_names_each_reply(app_env):
    at = send(open_chat("demo-fast"), "Hello")
    at.selectbox(key="chat_model").set_value("upstream-echo").run()
    send(at, "And you?")
    assert [role for role, _ in turns(at)] == ["user", "assistant", "user", "assistant"]
    assert at.chat_message[1].caption[0].value.startswith("demo-fast · ")
    assert turns(at)[3] == ("assistant", "echo: And you?")


def test_exports_hold_the_conversation_and_its_numbers(app_env, downloads):
    at = send(open_chat("demo-fast"), "Hello")
    send(at, "Again")
    record = json.loads(downloads["chat.json"])
    assert record["kind"] == "chat"
    assert [r["prompt"] for r in record["rounds"]] == ["Hello", "Again"]
    assert record["rounds"][0]["runs"]["demo-fast"][0]["metrics"]["completion_tokens"] == 9
    assert set(record["params"]) == {"system_prompt", "temperature", "top_p", "max_tokens", "reasoning_effort",
                                     "thinking_budget"}
    assert set(record["rounds"][0]["params"]["demo-fast"]) == set(record["params"])
    markdown = downloads["chat.md"]
    assert "## You\n\nHello" in markdown and "Hello! I am the fast demo model." in markdown and "TTFT" in markdown


def test_model_output_is_markdown_without_raw_html(app_env):
    at = send(open_chat("upstream-echo"), "<b>bold</b> costs $5")
    reply = at.chat_message[1].markdown[0]
    assert not reply.proto.allow_html
    assert r"\$5" in reply.value  # a dollar sign stays a dollar sign, not LaTeX


def test_a_conversation_handed_over_by_the_compare_page(app_env):
    params = ChatParams("Be kind.", 0.3, None, 64)
    handoff = Conversation("compare", [Round("Hi", {"upstream-echo": params},
                                             {"upstream-echo": [Reply("upstream-echo", "echo: Hi",
                                                                      Outcome.COMPLETE)]})]).handoff("upstream-echo")
    at = open_chat("upstream-echo", chat_handoff=handoff)
    assert turns(at) == [("user", "Hi"), ("assistant", "echo: Hi")]
    assert at.selectbox(key="chat_model").value == "upstream-echo"
    assert at.text_area(key="chat_system_prompt").value == "Be kind."
    assert at.number_input(key="chat_max_tokens").value == 64
    assert "chat_handoff" not in at.session_state
    send(at, "More")
    assert turns(at)[-1] == ("assistant", "echo: More")
