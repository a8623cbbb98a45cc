"""Text the app did not write is shown as text: titles, file and model names, and the proxy's own error messages.

Streamlit reads Markdown not only in `st.markdown` but in every label, caption, alert, toast, tooltip and image
caption, and Markdown can name an image the browser then loads by itself. A proxy that names its models
`![m](http://…)` and answers every call with an error message full of images, links, colours and raw HTML
(tests/support/hostile.py, mode `markup`) drives every page here, and a chat whose prompt is such text becomes a
saved title in the sidebar. Every Markdown-bearing field the pages send is rendered as Streamlit would: no image.
The browser-side check (Chromium asks for nothing) is tests/browser/test_replies_load_nothing.py.
"""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from gateway.usage import Col
from tests.conftest import APP_ENV
from tests.support.hostile import MARKUP_ERROR, MARKUP_MODELS, hostile_server

APP = "../streamlit_app.py"
RENDER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])  # as Streamlit: HTML is text
MARKDOWN_FIELDS = {"body", "label", "help", "caption"}  # the proto fields Streamlit renders as Markdown


def markdown_fields(at: AppTest) -> list[tuple[str, str]]:
    """(element type.field, text) for every Markdown-bearing string on the page, sidebar and toasts included."""
    found: list[tuple[str, str]] = []

    def fields(message, where: str) -> None:
        for descriptor, value in message.ListFields():
            if descriptor.type == descriptor.TYPE_MESSAGE:
                for item in (value if descriptor.is_repeated else [value]):
                    fields(item, f"{where}.{descriptor.name}")
            elif descriptor.name in MARKDOWN_FIELDS and isinstance(value, str):
                found.append((f"{where}.{descriptor.name}", value))

    def walk(node) -> None:
        if (proto := getattr(node, "proto", None)) is not None:
            fields(proto, type(proto).__name__)
        for child in (getattr(node, "children", None) or {}).values():
            walk(child)

    walk(at._tree)
    return found


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


def test_the_detector_sees_an_image_in_a_label_a_caption_and_a_toast():
    at = AppTest.from_string("import streamlit as st\nst.button('![x](http://127.0.0.1:9/a.png)')\n"
                             "st.caption('![y](http://127.0.0.1:9/b.png)')\nst.toast('plain')").run()
    assert [where for where, _ in rendered_markup(at)] == ["Button.label", "Markdown.body"]


def test_no_page_turns_a_hostile_proxys_names_and_errors_into_markup(markup_proxy, monkeypatch):
    seen: dict[str, list[tuple[str, str]]] = {}

    def look(at: AppTest, where: str) -> AppTest:
        assert not at.exception, (where, at.exception)
        seen[where] = rendered_markup(at)
        return at

    look(AppTest.from_file(APP, default_timeout=30).run(), "home")

    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/models.py").run()
    look(at, "models")
    assert any(name in text for name in MARKUP_MODELS for _, text in markdown_fields(at)) or at.dataframe

    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params["model"] = MARKUP_MODELS[0]
    at.run()
    at.switch_page("pages/chat.py").run()
    at = look(at.chat_input[0].set_value(MARKUP_ERROR).run(), "chat")  # the prompt becomes the saved title
    assert at.chat_message[1].error, "the call failed with the proxy's error"
    at = look(at.run(), "chat, with the saved title in the sidebar")
    assert any("Bad request" in text for where, text in markdown_fields(at) if where.startswith("PageLink")), \
        "the saved chat is listed under its title"

    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["models"] = ",".join(MARKUP_MODELS)
    at.run()
    at.switch_page("pages/compare.py").run()
    look(at.chat_input(key="compare_prompt").set_value(MARKUP_ERROR).run(), "compare")
    assert len(at.error) >= 2

    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/health.py").run()
    look(at.button(key="health_deployments_run").click().run(), "health")

    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/usage.py").run()
    look(at, "usage")  # the failed calls above are in the ledger under the models' names
    assert any(name in set(frame.value[Col.MODEL]) for frame in at.dataframe if Col.MODEL in frame.value
               for name in MARKUP_MODELS)

    # Signed in (Streamlit's sign-in) as an admin whose display name is Markup, with an own proxy key: the sidebar
    # names them, the usage page asks the proxy for that key (/key/info: the Markup error) and shows the team.
    monkeypatch.setenv("AUTH_MODE", "oidc")
    monkeypatch.setenv("ADMIN_EMAILS", "ana@example.com")
    at = AppTest.from_file(APP, default_timeout=30)
    at.user = {"is_logged_in": True, "email": "ana@example.com", "name": MARKUP_ERROR}
    at.secrets = {"analyst_keys": {"ana@example.com": "sk-ana-own-markup-key"}}
    at.run()
    at.switch_page("pages/usage.py").run()
    look(at, "usage, signed in as an admin with an own key")
    assert any("Bad request" in c.value for c in at.sidebar.caption), "the sidebar names the analyst"
    assert any(h.value == "Your proxy key" for h in at.subheader) and any(h.value == "Team" for h in at.header)

    requests = " ".join(markup_proxy.requests)
    assert "/v1/chat/completions" in requests and "/v1/models" in requests and "/key/info" in requests
    assert {where: found for where, found in seen.items() if found} == {}
