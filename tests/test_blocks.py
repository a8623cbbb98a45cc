"""Cutting a growing Markdown reply into settled blocks and a live tail (gateway/blocks.py).

The promise: whatever arrives later, the settled part renders exactly as it will in the whole reply. Checked by
streaming documents a few characters at a time and rendering with a CommonMark renderer (markdown-it-py).
"""

import pytest
from markdown_it import MarkdownIt

from gateway.blocks import settled_length
from tests.support.upstream import essay

MD = MarkdownIt("commonmark").enable("table")


def stream_cuts(document: str, step: int = 3) -> list[int]:
    """The settled lengths seen while `document` arrives `step` characters at a time."""
    settled, cuts = 0, []
    for end in range(step, len(document) + step, step):
        new = settled_length(document[:end], settled)
        assert new >= settled, "settled text never shrinks"
        if new > settled:
            cuts.append(new)
            settled = new
    return cuts


def assert_cuts_render_the_same(document: str, cuts: list[int]) -> None:
    pieces = [document[a:b] for a, b in zip([0, *cuts], [*cuts, len(document)])]
    assert "".join(MD.render(piece) for piece in pieces) == MD.render(document)


def test_paragraphs_settle_once_the_next_one_starts():
    text = "First paragraph.\n\nSecond"
    assert settled_length(text) == len("First paragraph.\n\n")
    assert settled_length("First paragraph.\n\n") == 0  # nothing of the next block yet: it may be a continuation
    assert settled_length("First paragraph.\nstill the same one") == 0


def test_code_blocks_are_never_cut_inside():
    text = "Intro.\n\n```python\nx = 1\n\ny = 2\n\nz = 3\n"
    assert settled_length(text) == len("Intro.\n\n")
    closed = text + "```\n\nAfter the code"
    assert settled_length(closed) == len(text + "```\n\n")


def test_tilde_fences_and_longer_fences_need_their_own_closing_marker():
    text = "~~~~\n```\n\nstill code\n~~~\n\nstill code\n~~~~\n\nOut"
    assert settled_length(text) == len(text) - len("Out")


def test_a_list_stays_one_block_and_indented_lines_continue_it():
    text = "- one\n\n- two\n\n  more of two\n\n- three\n\nAfter the list"
    assert settled_length(text) == len(text) - len("After the list")
    numbered = "1. one\n\n2. two\n\n10. ten"
    assert settled_length(numbered) == 0


def test_nothing_after_raw_html_settles():
    # In an HTML block a line of backticks is not a fence: "````" below opens the only code block, which holds "text".
    document = "<div>\n```\n\n````\n\ntext"
    assert [settled_length(document[:end]) for end in range(len(document) + 1)] == [0] * (len(document) + 1)
    assert settled_length("Intro.\n\n<details>\n\nmore") == len("Intro.\n\n")  # what came before still settles
    assert_cuts_render_the_same(document, stream_cuts(document, 1))


def test_too_little_of_the_next_block_waits():
    assert settled_length("- one\n\n1") == 0  # "1" may become "1. two", part of the list
    assert settled_length("Text.\n\n-") == 0


def test_settling_goes_on_from_where_it_stopped():
    text = "A.\n\nB.\n\nC. and more"
    first = settled_length(text[:7])
    assert first == len("A.\n\n")
    assert settled_length(text, first) == len("A.\n\nB.\n\n")


DOCUMENTS = {
    "essay": "".join(essay(600)),
    "mixed": ("# Title\n\nSome *text* with `code` and $5.\n\n> a quote\n> goes on\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
              "1. first\n2. second\n\n   still second\n\n3. third\n\n```\ncode\n\n\nmore code\n```\n\n    indented code\n\n"
              "    more indented\n\nDone.\n"),
    "loose list": "Intro:\n\n- a\n\n- b\n\n- c\n\nOutro, then a rule:\n\n---\n\nEnd.",
    "unclosed fence": "Before.\n\n```js\nlet a = 1;\n\nlet b = 2;\n",
}


@pytest.mark.parametrize("name", DOCUMENTS)
@pytest.mark.parametrize("step", [1, 3, 17])
def test_the_settled_part_renders_as_it_does_in_the_whole_reply(name, step):
    document = DOCUMENTS[name]
    cuts = stream_cuts(document, step)
    assert_cuts_render_the_same(document, cuts)


def test_a_long_reply_is_re_sent_a_block_at_a_time():
    document = "".join(essay(3000))
    cuts = stream_cuts(document, 6)
    tails = [b - a for a, b in zip([0, *cuts], [*cuts, len(document)])]
    assert len(cuts) > 50 and max(tails) < 500  # never more than one block is re-sent, out of 17 KB


def test_one_endless_paragraph_never_settles():
    assert settled_length("w0 " * 3000) == 0


# --- Any Markdown, any split (Hypothesis) -----------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.support.properties import examples  # noqa: E402

LINES = st.sampled_from([
    "", "", "text", "more text", "# Heading", "Heading", "===", "---", "***", "- item", "* item", "+ item", "1. one",
    "2) two", "10. ten", "  continued", "    indented code", "\tcode", "> quote", "> > nested", ">", "```", "```python",
    "~~~", "````", "| a | b |", "|---|---|", "| 1 | 2 |", "<div>", "</div>", "[ref]",
    "![x](https://e.example/p.png)", "`code`", "$5", "- [ ] task", "   - deep", "1.", "-", "  ", "a  ", "\\",
])
MARKDOWN = st.lists(LINES, max_size=30).map("\n".join)
# Not among them: reference definitions (`[ref]: url`). A block drawn on its own cannot see a definition in another
# block, so `[ref]` shows as text until the reply ends and is drawn whole (and an image reference stays inert:
# ui/markdown.py escapes it).


@settings(max_examples=examples(300), deadline=None)
@given(MARKDOWN, st.integers(min_value=1, max_value=40))
def test_any_markdown_streamed_in_any_steps_renders_like_the_whole(document, step):
    assert_cuts_render_the_same(document, stream_cuts(document, step))


@settings(max_examples=examples(300), deadline=None)
@given(MARKDOWN, st.lists(st.integers(min_value=0, max_value=2000), max_size=8))
def test_any_sequence_of_arrivals_renders_like_the_whole(document, ends):
    """Arrivals of any sizes (not a fixed step): each settled length stays settled, and the cuts render right."""
    settled, cuts = 0, []
    for end in sorted(min(e, len(document)) for e in ends) + [len(document)]:
        new = settled_length(document[:end], settled)
        assert settled <= new <= end
        if new > settled:
            cuts.append(new)
            settled = new
    assert_cuts_render_the_same(document, cuts)


def test_a_reference_defined_in_another_block_is_the_one_known_difference():
    document = "[ref]: https://example.org\n\nSee [ref].\n\nEnd."
    cuts = stream_cuts(document)
    assert cuts  # it is cut
    pieces = [document[a:b] for a, b in zip([0, *cuts], [*cuts, len(document)])]
    assert "".join(MD.render(piece) for piece in pieces) != MD.render(document)  # until the whole is drawn
