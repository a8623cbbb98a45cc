"""Text the app did not write is shown as text: titles, file and model names, and the proxy's own error messages.

Streamlit reads Markdown not only in `st.markdown` but in every label, caption, alert, toast, tooltip and image
caption, and Markdown can name an image the browser then loads by itself. A proxy that names its models
`![m](http://…)` and answers every call with an error message full of images, links, colours and raw HTML
(tests/support/hostile.py, mode `markup`) drives every page here, and a chat whose prompt is such text becomes a
saved title in the sidebar; on the evaluation pages the analysts' own text is such text too (a prompt set's name and
prompts, a vote's tag and comment, the prompt library's names, tags and texts). Every Markdown-bearing field the pages send is rendered as Streamlit would: no
image.
The browser-side check (Chromium asks for nothing) is tests/browser/test_replies_load_nothing.py.
"""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from gateway import api_tokens, prompt_library
from gateway.config import load_settings
from gateway.conversation import Conversation
from gateway.evaluation import worker
from gateway.evaluation.votes import Verdict, Vote, compare_subject, eval_subject
from gateway.prompt_library import draft
from gateway.reply import Outcome, Reply, ReplyError
from gateway.sharing import links, snapshot
from gateway.store import LOCAL_OWNER, get_store
from gateway.store.evaluation import Evaluations
from gateway.store.prompts import PromptLibrary
from gateway.usage import Col
from tests.conftest import APP_ENV
from tests.support.hostile import MARKUP_ERROR, MARKUP_MODELS, hostile_server
from tests.support.pages import RUN_TIMEOUT, proto_strings, signed_in

APP = "../home.py"
RENDER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])  # as Streamlit: HTML is text
MARKDOWN_FIELDS = {"body", "label", "help", "caption"}  # the proto fields Streamlit renders as Markdown
MARKDOWN_LISTS = {"Radio": {"options", "captions"}}  # and the lists of them (a radio's options are Markdown)


def markdown_fields(at: AppTest) -> list[tuple[str, str]]:
    """(element type.field, text) for every Markdown-bearing string on the page, sidebar and toasts included."""
    return proto_strings(at, lambda kind, name, repeated: (name in MARKDOWN_FIELDS and not repeated)
                         or name in MARKDOWN_LISTS.get(kind, ()))


def rendered_markup(at: AppTest) -> list[tuple[str, str]]:
    """The fields that would draw an image (a link stays a link: it loads nothing until clicked)."""
    return [(where, text) for where, text in markdown_fields(at) if "<img" in RENDER.render(text)]


@pytest.fixture
def markup_proxy(monkeypatch):
    with hostile_server("markup") as server:
        for name in APP_ENV:
            if name != "DATABASE_URL":
                monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("LITELLM_ENABLED", "true")
        monkeypatch.setenv("LITELLM_BASE_URL", server.url)
        monkeypatch.setenv("LITELLM_API_KEY", "sk-markup-test-key")
        yield server


ROW_SCRIPT = """
import streamlit as st
from gateway import api_tokens, prompt_library
from gateway.config import load_settings
from gateway.store import get_store
from gateway.store.evaluation import Evaluations
from ui.evaluate import row_detail

store = get_store(load_settings(secrets={}, dotenv_path=None))
evaluations = Evaluations(store)
run = evaluations.load_run(st.query_params["run"], "local")
row_detail(store, "local", run, 0, evaluations.cells(run.id, "local"))
"""


def test_the_detector_sees_an_image_in_a_label_a_caption_and_a_toast():
    at = AppTest.from_string("import streamlit as st\nst.button('![x](http://127.0.0.1:9/a.png)')\n"
                             "st.caption('![y](http://127.0.0.1:9/b.png)')\nst.toast('plain')\n"
                             "st.radio('r', ['plain', '![z](http://127.0.0.1:9/c.png)'])").run()
    assert [where for where, _ in rendered_markup(at)] == ["Button.label", "Markdown.body", "Radio.options"]


def test_no_page_turns_a_hostile_proxys_names_and_errors_into_markup(markup_proxy, monkeypatch):
    seen: dict[str, list[tuple[str, str]]] = {}

    def look(at: AppTest, where: str) -> AppTest:
        assert not at.exception, (where, at.exception)
        seen[where] = rendered_markup(at)
        return at

    look(AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run(), "home")

    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    at.switch_page("pages/models.py").run()
    look(at, "models")
    assert any(name in text for name in MARKUP_MODELS for _, text in markdown_fields(at)) or at.dataframe

    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.query_params["model"] = MARKUP_MODELS[0]
    at.run()
    at.switch_page("pages/chat.py").run()
    at = look(at.chat_input[0].set_value(MARKUP_ERROR).run(), "chat")  # the prompt becomes the saved title
    assert at.chat_message[1].error, "the call failed with the proxy's error"
    at = look(at.run(), "chat, with the saved title in the sidebar")
    assert any("Bad request" in text for where, text in markdown_fields(at) if where.startswith("PageLink")), \
        "the saved chat is listed under its title"

    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.query_params["models"] = ",".join(MARKUP_MODELS)
    at.run()
    at.switch_page("pages/compare.py").run()
    look(at.chat_input(key="compare_prompt").set_value(MARKUP_ERROR).run(), "compare")
    assert len(at.error) >= 2

    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    at.switch_page("pages/health.py").run()
    look(at.button(key="health_deployments_run").click().run(), "health")

    # Evaluate: a set named and written in Markdown, run against the markup models (every call fails with markup)
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    at.switch_page("pages/evaluate.py").run()
    quoted = '"' + MARKUP_ERROR.replace('"', '""') + '"'  # (CSV: a quote inside a quoted field is doubled)
    at.text_area(key="eval_paste").set_value(f"prompt,expected,tag\n{quoted},{quoted},x\n")
    at.text_input(key="eval_set_name_").set_value(MARKUP_ERROR).run()
    at = look(at.button(key="eval_save_set").click().run(), "evaluate, a set saved")
    at.multiselect(key="eval_models").set_value(list(MARKUP_MODELS)).run()
    at = look(at.button(key="eval_quote").click().run(), "evaluate, the quote")
    at = look(at.button(key="eval_start").click().run(), "evaluate, the run started")
    run_id = at.query_params["run"]
    running = worker.running(LOCAL_OWNER, run_id)
    assert running is not None and running.wait(60)
    at = look(at.run(), "evaluate, the run's results")
    assert any("Bad request" in text for _, text in markdown_fields(at)), "the set's name is shown"
    at = AppTest.from_string(ROW_SCRIPT, default_timeout=RUN_TIMEOUT)
    at.query_params["run"] = run_id
    at = look(at.run(), "evaluate, a row with its replies and the vote")
    assert at.radio(key=f"vote_choice_{eval_subject(run_id, 0)}").options, "the row's vote names the models"

    # Leaderboard: votes between the markup models, with a tag and a comment in Markdown
    evaluations = Evaluations(get_store(load_settings(secrets={}, dotenv_path=None)))
    for i, winner in enumerate((*MARKUP_MODELS, MARKUP_MODELS[0])):
        evaluations.vote(Vote(compare_subject("markup", f"round{i}"), MARKUP_MODELS, Verdict.BEST, winner, MARKUP_ERROR,
                              MARKUP_ERROR, blind=True), LOCAL_OWNER)
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    at.switch_page("pages/leaderboard.py").run()
    at = look(at, "leaderboard")
    assert any("3 votes" in text for _, text in markdown_fields(at))
    look(at.selectbox(key="board_tag").set_value(evaluations.tags()[0]).run(), "leaderboard, by the tag")
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    at.switch_page("pages/usage.py").run()
    look(at, "usage")  # the failed calls above are in the ledger under the models' names
    assert any(name in set(frame.value[Col.MODEL]) for frame in at.dataframe if Col.MODEL in frame.value
               for name in MARKUP_MODELS)

    # A share link to a comparison and a chat written in Markup (prompt, title, model names, replies, errors): the
    # read-only page, and the "Shared links" list naming them
    store = get_store(load_settings(secrets={}, dotenv_path=None))
    for kind in ("compare", "chat"):
        hostile = Conversation(kind, models=list(MARKUP_MODELS), title=MARKUP_ERROR)
        round_ = hostile.add_prompt(MARKUP_ERROR)
        for name in MARKUP_MODELS:
            round_.add(Reply(name, MARKUP_ERROR, Outcome.FAILED, error=ReplyError(MARKUP_ERROR, MARKUP_ERROR)))
        made = links.create(store, LOCAL_OWNER, snapshot.of_conversation(hostile), hostile.id, enabled=True)
        assert isinstance(made, links.Shared)
        at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
        at.query_params["s"] = made.token
        at.run()
        at.switch_page("pages/shared.py").run()
        look(at, f"shared {kind}")
        assert any("Bad request" in text for _, text in markdown_fields(at)), "the snapshot is shown"
    run_data = links.run_snapshot(store, LOCAL_OWNER, run_id)  # the evaluation run above: its set named in Markup
    assert isinstance(run_data, dict)
    made = links.create(store, LOCAL_OWNER, run_data, run_id, enabled=True)
    assert isinstance(made, links.Shared)
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.query_params["s"] = made.token
    at.run()
    at.switch_page("pages/shared.py").run()
    look(at, "shared evaluation run")
    assert any("Bad request" in text for _, text in markdown_fields(at)), "the run's set and replies are shown"
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT).run()
    at.switch_page("pages/shared.py").run()
    look(at, "shared links")

    # Signed in (Streamlit's sign-in) as an admin whose display name is Markup, with an own proxy key: the sidebar
    # names them, the usage page asks the proxy for that key (/key/info: the Markup error) and shows the team.
    monkeypatch.setenv("AUTH_MODE", "oidc")
    monkeypatch.setenv("ADMIN_EMAILS", "ana@example.com")
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.user = signed_in("ana@example.com", MARKUP_ERROR)
    at.secrets = {"analyst_keys": {"ana@example.com": "sk-ana-own-markup-key"}}
    at.run()
    at.switch_page("pages/usage.py").run()
    look(at, "usage, signed in as an admin with an own key")
    assert any("Bad request" in c.value for c in at.sidebar.caption), "the sidebar names the analyst"
    assert any(h.value == "Your proxy key" for h in at.subheader) and any(h.value == "Team" for h in at.header)
    # Its API tokens section (AUTH_MODE=oidc): a token named in Markup just created (the alert, the list, the
    # revoke button's tooltip), then listed on a later run.
    at.text_input(key="api_token_name").input(MARKUP_ERROR[:api_tokens.MAX_NAME])
    at.button(key="api_token_create").click().run()
    look(at, "usage, an API token named in Markup just created")
    assert at.code and any("Bad request" in s.value for s in at.success)
    look(at.run(), "usage, an API token named in Markup listed")

    # The prompt library: a team prompt another analyst named, tagged and wrote in Markup, on the library page (its
    # entry, its variables, Copy to mine and its toast) and in the picker beside Compare's input (its tags, a missing
    # variable's message, the toast once it is in the prompt box).
    shared = PromptLibrary(get_store(load_settings(secrets={}, dotenv_path=None))).add("bob@example.com", draft(
        MARKUP_ERROR[:prompt_library.MAX_NAME], f"{MARKUP_ERROR} {{{{x}}}}", tags=MARKUP_ERROR[:prompt_library.MAX_TAG],
        shared=True))
    at.switch_page("pages/prompts.py").run()
    at = look(at, "prompt library")
    assert any("Bad request" in e.label for e in at.expander), "the entry is listed under its name"
    look(at.button(key=f"library_copy_{shared.id}").click().run(), "prompt library, copied")
    at.switch_page("pages/compare.py").run()
    choice = at.selectbox(key="compare_library_choice")
    look(choice.set_value(shared.id).run(), "compare, a library prompt chosen")
    look(at.button(key="compare_library_use").click().run(), "compare, a library prompt's variable missing")
    at.text_input(key=f"compare_library_var_{shared.id}_x").input(MARKUP_ERROR)
    look(at.button(key="compare_library_use").click().run(), "compare, a library prompt in the prompt box")

    requests = " ".join(markup_proxy.requests)
    assert "/v1/chat/completions" in requests and "/v1/models" in requests and "/key/info" in requests
    assert {where: found for where, found in seen.items() if found} == {}
