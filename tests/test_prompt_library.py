"""The team prompt library: `{{variables}}` found and filled (values literal, a missing one named), what may be saved,
and who sees and changes what, on SQLite and PostgreSQL (gateway/prompt_library.py, gateway/store/prompts.py)."""

from __future__ import annotations

import json

import pytest

from gateway.prompt_library import (
    MissingValues,
    PromptInvalid,
    SavedPrompt,
    draft,
    export_json,
    fill,
    matches,
    variables,
)
from gateway.store import Store
from gateway.store.prompts import PromptLibrary

ANA, BOB = "ana@example.com", "bob@example.com"


# --- Variables -------------------------------------------------------------------------------------------------------

def test_variables_are_found_once_each_in_order_of_appearance():
    assert variables("Translate {{text}} into {{ language }}; keep {{text}} short. {{}} {{1x}} {x}") == \
        ["text", "language"]


def test_fill_replaces_every_occurrence_and_a_value_is_never_expanded_again():
    text = "Explain {{topic}} to {{who}}; {{topic}} again."
    assert fill(text, {"topic": "SQL joins", "who": "a {{topic}} beginner"}) == \
        "Explain SQL joins to a {{topic}} beginner; SQL joins again."
    assert fill("no variables here {x}", {}) == "no variables here {x}"
    assert fill("{{a}}", {"a": "\\1 $& \\g<0>"}) == "\\1 $& \\g<0>"  # no regex group references in values


def test_a_missing_or_blank_value_is_named_and_nothing_is_filled():
    with pytest.raises(MissingValues) as missing:
        fill("{{a}} {{b}} {{c}}", {"a": "x", "b": "   "})
    assert missing.value.names == ["b", "c"]
    assert str(missing.value) == "Give a value for {{b}}, {{c}}: they are still empty, so nothing was filled in."


# --- What may be saved -----------------------------------------------------------------------------------------------

def test_a_draft_is_cleaned_and_bad_ones_say_what_to_fix():
    saved = draft("  Weekly   report ", "Sum up {{week}}", kind="prompt", tags=" SQL, sql ,Reports,, ", shared=True)
    assert (saved.name, saved.tags, saved.shared) == ("Weekly report", ("sql", "reports"), True)
    for args, kwargs, words in [(("", "x"), {}, "Give the prompt a name"),
                                (("n", "  "), {}, "text is empty"),
                                (("n" * 101, "x"), {}, "at most 100"),
                                (("n", "x"), {"kind": "tool"}, "prompt or system"),
                                (("n", "x"), {"tags": [f"t{i}" for i in range(11)]}, "at most 10"),
                                (("n", "x"), {"tags": ["t" * 41]}, "longer than 40")]:
        with pytest.raises(PromptInvalid, match=words):
            draft(*args, **kwargs)


# --- Who sees and changes what (SQLite and PostgreSQL) ----------------------------------------------------------------

def test_private_prompts_are_their_owners_alone_and_shared_ones_the_teams(store: Store):
    library = PromptLibrary(store)
    team = library.add(ANA, draft("Explain", "Explain {{topic}} simply", tags="teaching", shared=True))
    private = library.add(ANA, draft("Ana's own", "only for Ana", kind="system"))
    bobs = library.add(BOB, draft("Bob's own", "only for Bob"))
    assert not isinstance(team, type(None)) and team.variables == ["topic"] and team.tags == ("teaching",)

    assert [p.name for p in library.listed(ANA)] == ["Ana's own", "Explain"]
    assert [p.name for p in library.listed(BOB)] == ["Bob's own", "Explain"]  # his own first, then the team's
    assert [p.name for p in library.listed(BOB, scope="team")] == ["Explain"]
    assert [p.name for p in library.listed(BOB, scope="mine")] == ["Bob's own"]
    assert library.get(private.id, BOB) is None and library.get(bobs.id, ANA) is None
    assert library.get(team.id, BOB) == team


def test_only_the_owner_changes_or_deletes_and_a_copy_is_the_readers_own(store: Store):
    library = PromptLibrary(store)
    team = library.add(ANA, draft("Explain", "Explain {{topic}}", shared=True))
    private = library.add(ANA, draft("Secret", "for Ana"))

    assert library.update(team.id, BOB, draft("Hijacked", "by Bob", shared=True)) is None
    assert library.delete(team.id, BOB) is False
    assert library.get(team.id, ANA) == team  # unchanged

    copied = library.copy(team.id, BOB)
    assert copied is not None and (copied.owner, copied.name, copied.text, copied.shared) == \
        (BOB, "Explain", "Explain {{topic}}", False)
    assert library.update(copied.id, BOB, draft("Explain (mine)", "Explain {{topic}} in {{n}} words")).text == \
        "Explain {{topic}} in {{n}} words"
    assert library.get(team.id, ANA).text == "Explain {{topic}}"  # the copy's change is not Ana's
    assert library.copy(private.id, BOB) is None  # what he cannot see he cannot copy

    changed = library.update(team.id, ANA, draft("Explain", "Explain {{topic}} to {{who}}", shared=False))
    assert changed is not None and changed.variables == ["topic", "who"] and changed.updated_at >= team.updated_at
    assert library.get(team.id, BOB) is None  # no longer shared
    assert library.delete(team.id, ANA) is True and library.get(team.id, ANA) is None
    assert library.delete(team.id, ANA) is False


def test_text_the_databases_cannot_hold_is_stored_the_same_way_on_both(store: Store):
    library = PromptLibrary(store)
    saved = library.add(ANA, draft("nul\x00name", "a\x00b {{x}} \U0001f600"))
    assert (saved.name, saved.text) == ("nul\ufffdname", "a\ufffdb {{x}} \U0001f600")


def test_the_export_is_the_owners_own_prompts_only(store: Store):
    library = PromptLibrary(store)
    library.add(ANA, draft("Explain", "Explain {{topic}}", tags="a,b", shared=True))
    library.add(ANA, draft("Secret", "for Ana", kind="system"))
    library.add(BOB, draft("Bob's team prompt", "by Bob", shared=True))
    document = json.loads(export_json(library.listed(ANA), ANA))
    assert document["owner"] == ANA and document["kind"] == "prompt_library"
    assert [(p["name"], p["kind"], p["shared"], p["tags"], p["variables"]) for p in document["prompts"]] == [
        ("Explain", "prompt", True, ["a", "b"], ["topic"]), ("Secret", "system", False, [], [])]


def test_search_matches_every_word_in_name_tags_or_text():
    saved = draft("Weekly report", "Sum up {{week}}", tags="finance")
    prompt = SavedPrompt(1, ANA, saved.name, saved.text, saved.kind, saved.tags, False, 0.0, 0.0)
    assert matches(prompt, "WEEKLY finance") and matches(prompt, "sum") and not matches(prompt, "weekly sql")


# --- A library prompt as a prompt set's prompt (gateway/evaluation/prompt_sets.py) ----------------------------------

def test_a_set_fills_a_library_prompt_from_its_columns():
    from gateway.evaluation.prompt_sets import PromptRow, parse

    template = "Translate {{Text}} into {{language}}."
    csv_rows = parse("text,language,expected,tag\nhello,French,bonjour,greet\n\n"
                     "good night,German,gute nacht,\"{{language}}\"\n", template=template, system_prompt="Be brief.")
    assert csv_rows == (PromptRow("Translate hello into French.", "Be brief.", "bonjour", "greet"),
                        PromptRow("Translate good night into German.", "Be brief.", "gute nacht", "{{language}}"))
    jsonl = parse('{"text": "yes", "language": "{{text}}", "system_prompt": "Own."}', template=template,
                  system_prompt="Be brief.")
    assert jsonl == (PromptRow("Translate yes into {{text}}.", "Own."),)  # a value is never expanded; own system
    assert parse("cats\ndogs\n", template="Write a haiku about {{subject}}.") == (
        PromptRow("Write a haiku about cats."), PromptRow("Write a haiku about dogs."))


def test_a_row_missing_a_variable_names_its_line_and_column():
    from gateway.evaluation.prompt_sets import SetError, parse

    with pytest.raises(SetError, match="line 3 has no value for `language`, a variable of the library prompt"):
        parse("text,language\nhello,French\nbye,\n", template="Translate {{text}} into {{language}}.")
    with pytest.raises(SetError, match="no `prompt` column"):  # without a library prompt, as before
        parse("text,language\nhello,French\n", filename="set.csv")


def test_a_kept_list_is_forgotten_at_once_when_anyone_changes_the_library_here(store: Store):
    library = PromptLibrary(store)
    assert library.listed(BOB) == []
    team = library.add(ANA, draft("Explain", "Explain {{topic}}", shared=True))
    assert [p.name for p in library.listed(BOB)] == ["Explain"]  # Ana's save, seen by Bob's next list
    library.update(team.id, ANA, draft("Explained", "Explain {{topic}}", shared=True))
    assert [p.name for p in library.listed(BOB)] == ["Explained"]
    library.copy(team.id, BOB)
    assert [(p.name, p.owner) for p in library.listed(BOB)] == [("Explained", BOB), ("Explained", ANA)]
    library.delete(team.id, ANA)
    assert [p.owner for p in library.listed(BOB)] == [BOB]
