"""The conversation record: rounds of prompts and replies, a chat's history, each model's thread, hand-offs, and
the JSON form that exports and the store use. Pure: no proxy."""

import pytest

from gateway.conversation import Conversation, Round, messages_for
from gateway.params import ChatParams
from gateway.reply import Metrics, Outcome, Reply, ReplyError


def reply(model, text="", outcome=Outcome.COMPLETE, **metrics):
    return Reply(model, text=text, outcome=outcome, metrics=Metrics(**metrics))


def test_a_chat_history_sends_every_prompt_and_every_reply_with_text():
    chat = Conversation()
    chat.add_prompt("one").add(reply("a", "reply one"))
    chat.add_prompt("two").add(reply("a", "", Outcome.FAILED))
    chat.add_prompt("three")
    assert chat.history() == [{"role": "user", "content": "one"}, {"role": "assistant", "content": "reply one"},
                              {"role": "user", "content": "two"}, {"role": "user", "content": "three"}]
    assert chat.awaiting_reply and chat.last_prompt == "three"


def test_the_system_prompt_goes_first():
    assert messages_for([{"role": "user", "content": "hi"}], ChatParams(system_prompt="Be brief.")) == [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert messages_for([], ChatParams(system_prompt="  ")) == []


def test_regenerate_and_edit_replace_the_last_reply():
    chat = Conversation()
    chat.add_prompt("one").add(reply("a", "reply one"))
    assert chat.regenerate() and chat.awaiting_reply
    chat.edit_last_prompt("one, again")
    assert [r.prompt for r in chat.rounds] == ["one, again"] and chat.awaiting_reply
    chat.clear()
    assert not chat.regenerate()


def test_a_model_without_a_reply_has_no_turn_in_its_thread():
    comparison = Conversation("compare", [Round("Q1", {}, {"a": [reply("a", "A1")],
                                                          "b": [reply("b", "", Outcome.FAILED)]})])
    assert comparison.thread("a") == [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"}]
    assert comparison.thread("b") == []


def test_the_latest_run_is_the_reply_a_thread_continues_from():
    round_ = Round("Q")
    for run, text in enumerate(("first", "second"), start=1):
        round_.add(Reply("a", text, Outcome.COMPLETE, run=run))
    assert round_.reply("a").text == "second" and len(round_.runs["a"]) == 2
    assert round_.reply() is round_.reply("a") and round_.reply("missing") is None


def test_continue_in_chat_keeps_each_reply_and_its_numbers():
    params = ChatParams("Be kind.", 0.3, None, 64)
    comparison = Conversation("compare", [Round("Hi", {"a": params, "b": ChatParams()},
                                                {"a": [reply("a", "Hello!", ttft=0.2, cost=0.001)],
                                                 "b": [reply("b", "Hey")]})])
    chat = comparison.handoff("a")
    assert chat.kind == "chat" and chat.id != comparison.id
    assert chat.history() == [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    assert chat.rounds[0].reply().metrics.cost == 0.001 and chat.rounds[0].reply().model == "a"
    assert chat.params == params


def test_the_title_is_the_first_prompt_on_one_line_unless_renamed():
    chat = Conversation()
    assert chat.display_title == "New conversation"
    chat.add_prompt("What is\nthe capital of " + "France " * 30)
    assert chat.display_title.startswith("What is the capital of France") and len(chat.display_title) == 80
    chat.title = "Capitals"
    assert chat.display_title == "Capitals"


def test_cost_adds_every_run_of_every_reply():
    comparison = Conversation("compare", [Round("Q", {}, {"a": [reply("a", "x", cost=0.001), reply("a", "y",
                                                                                                cost=0.002)],
                                                          "b": [reply("b", "z")]})])
    assert comparison.cost == pytest.approx(0.003)


def test_the_record_round_trips_through_its_dict_form():
    original = Conversation("compare", [Round("Q ✓ مرحبا", {"a": ChatParams("sys", 0.5)},
                                              {"a": [reply("a", "A 🙂", ttft=0.1, total=0.5, completion_tokens=3,
                                                           finish_reason="stop", call_id="c1")],
                                               "b": [Reply("b", "part", Outcome.FAILED, Metrics(total=0.1),
                                                           ReplyError("Rate limited", "Wait.", "rate_limited"))]})],
                            params=ChatParams(temperature=0.2), models=["a", "b"], title="T", pinned=True)
    copy = Conversation.from_dict(original.to_dict())
    assert copy == original


def test_another_format_is_refused():
    with pytest.raises(ValueError, match="not a conversation export"):
        Conversation.from_dict({"format": "something-else"})
