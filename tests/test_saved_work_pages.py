"""Saved work on the chat and compare pages (AppTest against the real proxy): a conversation gets a link as soon as
its first turn is saved, opens by that link in a new session (as after a reload or a restart) and goes on, and the
sidebar finds, renames, pins, deletes (with undo) and imports. Each test has a database of its own (conftest)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from gateway import exports
from gateway.config import load_settings
from gateway.conversation import Conversation
from gateway.store import LOCAL_OWNER, Store, get_store
from tests.support.pages import open_page
from tests.support.proxy import free_port
from ui.markdown import plain


def send(at: AppTest, prompt: str, key: str) -> AppTest:
    at.chat_input(key=key).set_value(prompt).run()
    assert not at.exception, at.exception
    return at


def store():
    return get_store(load_settings(secrets={}, dotenv_path=None))


def said(at: AppTest) -> list[str]:
    return [m.markdown[0].value.strip() if m.markdown else "" for m in at.chat_message]


def test_a_chat_gets_a_link_and_opens_by_it_in_a_new_session(app_env):
    at = send(open_page("pages/chat.py", model="upstream-echo"), "first question", "chat_prompt")
    conversation_id = at.query_params["c"]
    assert conversation_id == at.session_state["chat_conversation"].id and len(conversation_id) == 32
    assert store().flush(5)

    again = open_page("pages/chat.py", c=conversation_id)  # a new browser session: a reload, a restart
    assert said(again) == ["first question", "echo: first question"]
    assert again.selectbox(key="chat_model").value == "upstream-echo"  # the model that answered last
    send(again, "second question", "chat_prompt")
    assert said(again)[-1] == "echo: second question"
    assert store().flush(5)
    saved = store().load(conversation_id, LOCAL_OWNER)
    assert [r.prompt for r in saved.rounds] == ["first question", "second question"]
    assert saved.rounds[0].reply().metrics.total > 0  # the numbers are saved with the reply


def listed(at: AppTest, conversation_id: str) -> list[str]:
    return [link.proto.label for link in at.get("page_link") if f"c={conversation_id}" in link.proto.query_string]


def test_a_new_chat_is_in_the_sidebar_history_as_soon_as_its_first_reply_ends(app_env, monkeypatch):
    at = open_page("pages/chat.py", model="upstream-echo")
    assert any("Your chats appear here once sent" in c.value for c in at.sidebar.caption)
    runs = []  # every run of the whole script lists the history once
    history = Store.history
    monkeypatch.setattr(Store, "history", lambda self, *a, **k: runs.append(1) or history(self, *a, **k))

    send(at, "what do otters eat", "chat_prompt")
    conversation_id = at.query_params["c"]
    assert listed(at, conversation_id) == ["**what do otters eat**"]  # (bold: the one open) with no click or reload
    assert not any("Your chats appear here once sent" in c.value for c in at.sidebar.caption)
    assert said(at) == ["what do otters eat", "echo: what do otters eat"]  # drawn once
    # AppTest runs the whole script for a fragment's widget too; what it can tell is that the reply asked for no
    # second run (a page rerun after a new chat's first reply made 40 sessions 2.3x slower: issue 23). The browser
    # test shows the same with the fragment alone (tests/browser/test_saved_work_browser.py).
    assert len(runs) == 1
    send(at, "and beavers", "chat_prompt")  # later turns stay in the fragment, and so does the entry
    assert said(at) == ["what do otters eat", "echo: what do otters eat", "and beavers", "echo: and beavers"]
    assert listed(at, conversation_id) == ["**what do otters eat**"]


def test_a_new_chat_is_listed_after_the_pinned_ones_and_not_while_searching(app_env):
    saved = store()
    for title, pinned in (("pinned one", True), ("older one", False)):
        conversation = Conversation(title=title, pinned=pinned)
        conversation.add_prompt("hello")
        saved.save_conversation(conversation, LOCAL_OWNER)
    assert saved.flush(5)
    at = send(open_page("pages/chat.py", model="upstream-echo"), "what do otters eat", "chat_prompt")
    labels = [link.proto.label for link in at.sidebar.get("page_link") if "c=" in link.proto.query_string]
    assert labels == ["📌 pinned one", "**what do otters eat**", "older one"]

    at.sidebar.text_input(key="chat_search").set_value("older").run()  # a search lists what matches, only
    send(at, "and beavers", "chat_prompt")
    labels = [link.proto.label for link in at.sidebar.get("page_link") if "c=" in link.proto.query_string]
    assert labels == ["older one"]


def test_a_link_to_a_conversation_that_does_not_exist_says_not_found(app_env):
    at = open_page("pages/chat.py", c="0" * 32)
    assert any("No saved chat has that link" in w.value for w in at.warning)
    assert "c" not in at.query_params and not at.chat_message


def test_a_comparison_reopens_with_its_models_and_rounds(app_env):
    at = send(open_page("pages/compare.py", models="upstream-echo,demo-fast"), "Hi there", "compare_prompt")
    comparison_id = at.query_params["c"]
    assert store().flush(5)
    again = open_page("pages/compare.py", c=comparison_id)
    assert again.multiselect(key="compare_models").value == ["upstream-echo", "demo-fast"]
    assert "echo: Hi there" in " ".join(said(again))
    assert again.session_state["comparison"].id == comparison_id


def pair(at: AppTest) -> tuple[str, str]:
    return at.selectbox(key="compare_diff_first").value, at.selectbox(key="compare_diff_second").value


def test_the_diff_pair_picked_is_there_when_the_comparison_reopens(app_env, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)  # on SQLite and on PostgreSQL
    at = send(open_page("pages/compare.py", models="compare-a,compare-b,compare-c"), "Capital of France?",
              "compare_prompt")
    assert pair(at) == ("compare-a", "compare-b")  # nothing picked yet: the first two
    at.selectbox(key="compare_diff_first").set_value("compare-b").run()
    at.selectbox(key="compare_diff_second").set_value("compare-c").run()
    picked = at.query_params["c"]
    assert store().flush(5)

    again = open_page("pages/compare.py", c=picked)  # a new browser session: a reload, a restart
    assert pair(again) == ("compare-b", "compare-c")
    assert any(f"only in {plain('compare-b')}" in c.value and f"only in {plain('compare-c')}" in c.value
               for c in again.caption)
    assert store().load(picked, LOCAL_OWNER).diff == ("compare-b", "compare-c")

    again.button(key="compare_new").click().run()  # another comparison in the same session: its own pair
    send(again, "Capital of Italy?", "compare_prompt")
    assert pair(again) == ("compare-a", "compare-b")
    again.query_params["c"] = picked  # and back to the first one by its link
    again.run()
    assert pair(again) == ("compare-b", "compare-c")


def test_the_sidebar_searches_renames_pins_and_deletes_with_undo(app_env):
    at = send(open_page("pages/chat.py", model="upstream-echo"), "tell me about otters", "chat_prompt")
    send(at, "and beavers", "chat_prompt")
    first = at.query_params["c"]
    at.button(key="chat_new").click().run()
    send(at, "something else entirely", "chat_prompt")
    assert store().flush(5)
    at.run()

    at.text_input(key="chat_search").set_value("beaver").run()
    links = [link.proto.label for link in at.get("page_link") if "c=" in (link.proto.query_string or "")]
    assert links == ["tell me about otters"]  # found by a reply's prompt, titled by the first

    at.text_input(key="chat_search").set_value("").run()
    assert f"chat_title_{first}" not in [box.key for box in at.text_input]  # a closed menu draws nothing inside
    at.session_state[f"chat_menu_{first}"] = True  # the entry's menu, opened: its contents are drawn only then
    at.run()
    at.text_input(key=f"chat_title_{first}").set_value("Otters").run()
    at.button(key=f"chat_rename_{first}").click().run()
    at.button(key=f"chat_pin_{first}").click().run()
    titles = [s.title for s in store().history(LOCAL_OWNER, kind="chat")]
    assert titles[0] == "Otters" and store().history(LOCAL_OWNER, kind="chat")[0].pinned

    at.button(key=f"chat_delete_{first}").click().run()
    assert [s.id for s in store().history(LOCAL_OWNER, kind="chat")] != [] and \
        first not in [s.id for s in store().history(LOCAL_OWNER, kind="chat")]
    at.button(key="chat_undo").click().run()
    assert first in [s.id for s in store().history(LOCAL_OWNER, kind="chat")]


def test_deleting_the_open_chat_clears_the_page_and_the_next_prompt_starts_a_saved_new_one(app_env):
    at = send(open_page("pages/chat.py", model="upstream-echo"), "about otters", "chat_prompt")
    deleted = at.query_params["c"]
    assert store().flush(5)
    at.run()  # the sidebar lists it
    at.session_state[f"chat_menu_{deleted}"] = True  # its menu, opened
    at.run()
    at.button(key=f"chat_delete_{deleted}").click().run()
    assert not at.exception, at.exception
    assert "c" not in at.query_params and not at.session_state["chat_conversation"].rounds and said(at) == []
    assert any("It was open: the page started a new chat." in c.value for c in at.sidebar.caption)
    send(at, "about beavers", "chat_prompt")  # answered into a new chat, which is saved, not into the deleted one
    fresh = at.query_params["c"]
    assert fresh != deleted and said(at) == ["about beavers", "echo: about beavers"]
    assert store().flush(5)
    assert store().load(deleted, LOCAL_OWNER) is None
    assert [r.prompt for r in store().load(fresh, LOCAL_OWNER).rounds] == ["about beavers"]
    at.button(key="chat_undo").click().run()  # undo reopens it where it was
    assert at.query_params["c"] == deleted and said(at) == ["about otters", "echo: about otters"]


def test_deleting_the_open_comparison_clears_the_page(app_env):
    at = send(open_page("pages/compare.py", models="upstream-echo,demo-fast"), "about otters", "compare_prompt")
    deleted = at.query_params["c"]
    assert store().flush(5)
    at.run()
    at.session_state[f"compare_menu_{deleted}"] = True  # its menu, opened
    at.run()
    at.button(key=f"compare_delete_{deleted}").click().run()
    assert not at.exception, at.exception
    assert "c" not in at.query_params and not at.session_state["comparison"].rounds


def test_a_json_export_imports_as_a_new_saved_chat(app_env, tmp_path):
    at = send(open_page("pages/chat.py", model="upstream-echo"), "export me", "chat_prompt")
    text = exports.to_json(at.session_state["chat_conversation"])
    imported = exports.import_json(text)  # what the page does with the uploaded file
    store().save_conversation(imported, LOCAL_OWNER)
    assert store().flush(5)
    again = open_page("pages/chat.py", c=imported.id)
    assert said(again) == ["export me", "echo: export me"]


def test_a_database_that_does_not_answer_shows_a_banner_and_chat_still_works(app_env, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://analyst:pw-not-shown@127.0.0.1:{free_port()}/nothing")
    at = send(open_page("pages/chat.py", model="upstream-echo"), "still works", "chat_prompt")
    assert said(at)[-1] == "echo: still works"
    banner = next(w.value for w in at.warning if "not being saved" in w.value)
    assert "pw-not-shown" not in banner
    assert at.query_params["c"] == at.session_state["chat_conversation"].id  # kept in the session meanwhile
