"""The prompt library on the pages (AppTest, AUTH_MODE=oidc, two analysts): the picker beside /compare's and /chat's
input fills a prompt's variables and puts the text in the prompt box (or a system prompt in the system prompt), and
says which variable is missing; the library page lets the owner change and delete, and others only copy; Ana's
private prompt never reaches Bob's pages; names and texts are drawn as text."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from gateway import config
from gateway.config import load_settings
from gateway.prompt_library import SavedPrompt, draft
from gateway.store import get_store
from gateway.store.evaluation import Evaluations
from gateway.store.prompts import PromptLibrary
from tests.support.pages import open_page, signed_in

ANA = signed_in("ana@example.com", "Ana Analyst")
BOB = signed_in("bob@example.com", "Bob Builder")
HOSTILE = "![x](https://example.invalid/pixel.png) **bold** :red[red]"


@pytest.fixture
def oidc(monkeypatch):
    for name in config.NAMES:
        if name != "DATABASE_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AUTH_MODE", "oidc")
    return monkeypatch


def library() -> PromptLibrary:
    return PromptLibrary(get_store(load_settings(secrets={}, dotenv_path=None)))


def anas_prompts() -> tuple[SavedPrompt, SavedPrompt]:
    prompts = library()
    team = prompts.add("ana@example.com", draft("Explain simply", "Explain {{topic}} to a {{reader}}.",
                                                tags="teaching", shared=True))
    private = prompts.add("ana@example.com", draft("Ana's secret persona", "You are Ana's private helper.",
                                                   kind="system"))
    assert isinstance(team, SavedPrompt) and isinstance(private, SavedPrompt)
    return team, private


def in_the_prompt_box(at: AppTest, key: str) -> str:
    """The text the page put in its chat input for the analyst to send (what the browser shows there)."""
    proto = at.chat_input(key=key).proto
    return proto.value if proto.set_value else ""


def everything(at: AppTest) -> str:
    """Every text the page drew, options of select boxes included."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [c.value for c in at.code]
    parts += [e.label for e in at.expander] + [b.label for b in at.button]
    parts += [o for box in at.selectbox for o in box.options]
    parts += [a.value for kind in (at.success, at.warning, at.error, at.info, at.toast) for a in kind]
    return "\n".join(parts)


def test_bob_picks_anas_team_prompt_on_compare_fills_its_variables_and_it_is_in_the_prompt_box(oidc):
    team, _private = anas_prompts()
    at = open_page("pages/compare.py", user=BOB)
    choice = at.selectbox(key="compare_library_choice")
    assert choice.options == ["Explain simply · Prompt · team · ana@example.com"]  # never Ana's private one
    assert "secret persona" not in everything(at)

    at.text_input(key=f"compare_library_var_{team.id}_topic").input("window functions")
    at.button(key="compare_library_use").click().run()  # {{reader}} left empty
    assert "Give a value for {{reader}}\\: it is still empty" in everything(at)  # (plain(): a colon escaped)
    assert in_the_prompt_box(at, "compare_prompt") == ""  # nothing half-filled

    at.text_input(key=f"compare_library_var_{team.id}_reader").input("new analyst who knows {{topic}}")
    at.button(key="compare_library_use").click().run()
    assert not at.exception
    assert in_the_prompt_box(at, "compare_prompt") == \
        "Explain window functions to a new analyst who knows {{topic}}."  # a value is never expanded again
    assert library().get(team.id, "ana@example.com") == team  # using it changed nothing

    at.button(key="compare_library_copy").click().run()  # Copy to mine, from the picker: the copy is chosen
    mine = library().listed("bob@example.com", scope="mine")
    assert [(p.name, p.text, p.shared) for p in mine] == [("Explain simply", team.text, False)]
    assert at.selectbox(key="compare_library_choice").value == mine[0].id
    assert not [b for b in at.button if b.key == "compare_library_copy"]  # his own: nothing to copy


def test_a_system_prompt_goes_into_the_system_prompt_on_chat(oidc):
    prompts = library()
    system = prompts.add("bob@example.com", draft("Terse", "Answer in {{n}} words at most.", kind="system"))
    at = open_page("pages/chat.py", user=BOB)
    at.selectbox(key="chat_library_choice").select(system.id).run()
    at.text_input(key=f"chat_library_var_{system.id}_n").input("twenty")
    at.button(key="chat_library_use").click().run()
    assert not at.exception
    assert at.text_area(key="chat_system_prompt").value == "Answer in twenty words at most."


def test_saving_the_system_prompt_from_compare_to_the_team(oidc):
    at = open_page("pages/compare.py", user=ANA)
    at.text_area(key="compare_system").input("You review {{language}} code.").run()
    at.radio(key="compare_save_kind").set_value("system").run()
    at.text_input(key="compare_save_name").input("Code reviewer")
    at.text_input(key="compare_save_tags").input("review, code")
    at.checkbox(key="compare_save_shared").check()
    at.button(key="compare_save_submit").click().run()
    assert not at.exception
    saved = library().listed("bob@example.com", scope="team")
    assert [(p.name, p.kind, p.text, p.tags, p.owner) for p in saved] == [
        ("Code reviewer", "system", "You review {{language}} code.", ("review", "code"), "ana@example.com")]


def test_on_the_library_page_bob_can_copy_anas_team_prompt_but_not_change_it(oidc):
    team, _private = anas_prompts()
    at = open_page("pages/prompts.py", user=BOB)
    shown = everything(at)
    assert "Explain simply" in shown and "secret persona" not in shown
    assert [b.label for b in at.button if b.key and str(team.id) in b.key] == ["Copy to mine"]  # no Delete, no form
    assert not [t for t in at.text_area if str(team.id) in (t.key or "")]

    at.button(key=f"library_copy_{team.id}").click().run()
    assert not at.exception
    copy = library().listed("bob@example.com", scope="mine")
    assert [(p.name, p.text, p.shared) for p in copy] == [("Explain simply", team.text, False)]
    assert f"library_delete_{copy[0].id}" in [b.key for b in at.button]  # the copy is his to delete


def test_the_owner_changes_and_deletes_on_the_library_page(oidc):
    team, private = anas_prompts()
    at = open_page("pages/prompts.py", user=ANA)
    at.text_area(key=f"library_edit_text_{team.id}").input("Explain {{topic}} in {{n}} words.")
    at.checkbox(key=f"library_edit_shared_{team.id}").uncheck()
    at.button(key=f"library_edit_save_{team.id}").click().run()
    assert not at.exception
    changed = library().get(team.id, "ana@example.com")
    assert changed is not None and changed.variables == ["topic", "n"] and not changed.shared
    assert library().get(team.id, "bob@example.com") is None  # private now

    at.button(key=f"library_delete_{private.id}").click().run()
    assert library().get(private.id, "ana@example.com") is None


def test_a_new_prompt_that_cannot_be_saved_says_why(oidc):
    at = open_page("pages/prompts.py", user=ANA)
    at.text_input(key="library_new_name").input("")
    at.text_area(key="library_new_text").input("text")
    at.button(key="library_new_save").click().run()
    assert "Not saved: Give the prompt a name." in everything(at)
    assert library().listed("ana@example.com") == []


def test_names_tags_and_texts_are_drawn_as_text(oidc):
    from tests.test_untrusted_text import rendered_markup

    prompts = library()
    prompts.add("ana@example.com", draft(HOSTILE, f"{HOSTILE} {{{{x}}}}", tags=HOSTILE[:40], shared=True))
    for page in ("pages/prompts.py", "pages/compare.py", "pages/chat.py"):
        at = open_page(page, user=BOB)
        assert rendered_markup(at) == [], page


def test_on_evaluate_a_set_fills_a_team_prompt_from_its_columns_with_a_library_system_prompt(oidc):
    team, _private = anas_prompts()
    system = library().add("bob@example.com", draft("Terse", "Answer in one sentence.", kind="system"))
    at = open_page("pages/evaluate.py", user=BOB)
    assert at.selectbox(key="eval_library_template").options == [
        "Explain simply · Prompt · team · ana@example.com"]
    at.selectbox(key="eval_library_template").select(team.id)
    at.selectbox(key="eval_library_system").select(system.id).run()
    assert "Columns to fill: `topic`, `reader`" in everything(at)
    at.text_area(key="eval_paste").set_value("topic,reader,expected\nSQL joins,manager,join\nCTEs,,with\n")
    at.text_input(key="eval_set_name_").set_value("explained").run()
    at.button(key="eval_save_set").click().run()
    assert "line 3 has no value for \\`reader\\`" in everything(at)  # (plain(): backticks escaped)
    assert Evaluations(get_store(load_settings(secrets={}, dotenv_path=None))).sets("bob@example.com") == []

    at.text_area(key="eval_paste").set_value("topic,reader,expected\nSQL joins,manager,join\nCTEs,intern,with\n").run()
    at.button(key="eval_save_set").click().run()
    assert not at.exception
    sets = Evaluations(get_store(load_settings(secrets={}, dotenv_path=None))).sets("bob@example.com")
    assert [(r.prompt, r.system_prompt, r.expected) for r in sets[0].rows] == [
        ("Explain SQL joins to a manager.", "Answer in one sentence.", "join"),
        ("Explain CTEs to a intern.", "Answer in one sentence.", "with")]


def test_a_database_that_does_not_answer_leaves_the_pages_working_and_says_so(monkeypatch):
    from tests.support.proxy import free_port

    for name in config.NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://analyst:pw-not-shown@127.0.0.1:{free_port()}/nothing")
    for page in ("pages/prompts.py", "pages/compare.py", "pages/chat.py"):
        at = open_page(page)  # (open_page fails on an exception)
        errors = [e.value for e in at.error]
        assert any(e.startswith("The prompt library cannot be read now") for e in errors), (page, errors)
        assert "pw-not-shown" not in everything(at)
