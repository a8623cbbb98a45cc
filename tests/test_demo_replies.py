"""The demo models' replies (demo/models.py, demo/writers.py): they answer the prompt they were given, each in its own
way, the same way every time; say they are demo models; and draw tables, lists and code as real Markdown.

Rendered with a CommonMark renderer (markdown-it-py) where the shape of a reply matters.
"""

from __future__ import annotations

import base64
import csv
import io
import re
from collections import Counter

import pytest
from markdown_it import MarkdownIt
from PIL import Image, ImageDraw

from demo import tokens
from demo.arithmetic import find_calculation
from demo.models import MODELS, flaky_outcome, respond
from demo.prompt import read
from demo.writers import OPENERS, quick_slip
from tests.conftest import ROOT

MD = MarkdownIt("commonmark").enable("table")
TEXT_MODELS = ("demo-quick", "demo-thorough", "demo-creative", "demo-vision")


def ask(model: str, prompt: str | list, system: str = "", **request) -> str:
    """The text of a demo model's whole reply (it must be one: no failure)."""
    reply = respond(model, {"messages": messages(prompt, system), **request})
    assert reply.failure is None and reply.break_after is None, reply.failure
    return reply.text


def messages(prompt: str | list, system: str = "") -> list[dict]:
    return ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]


def block_types(markdown: str) -> set[str]:
    return {token.type for token in MD.parse(markdown)}


def png(image: Image.Image, kind: str = "PNG") -> str:
    buffer = io.BytesIO()
    image.save(buffer, kind)
    return f"data:image/{kind.lower()};base64,{base64.b64encode(buffer.getvalue()).decode()}"


def with_image(text: str, *urls: str) -> list[dict]:
    return [{"type": "text", "text": text}, *({"type": "image_url", "image_url": {"url": url}} for url in urls)]


# --- answering the prompt -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ("demo-thorough", "demo-creative", "demo-vision"))
def test_arithmetic_and_conversions_are_answered_correctly(model):
    assert "391" in ask(model, "What is 17 * 23?")
    assert "10800 s" in ask(model, "How many seconds are in 3 hours?")
    assert "Tokyo" in ask(model, "What is the capital of Japan?")
    assert "division by zero" in ask(model, "What is 10 / 0?")


def test_the_thorough_model_quotes_the_prompt_and_answers_it_in_sections():
    reply = ask("demo-thorough", "Convert 5 miles to km")
    assert "“Convert 5 miles to km”" in reply and "**8.04672 km**" in reply
    headings = [t.content for t in MD.parse(reply) if t.type == "inline" and t.map and reply.splitlines()[t.map[0]]
                .startswith("## ")]
    assert headings[:2] == ["Answer", "How I worked it out"] and headings[-1] == "Summary"
    assert {"ordered_list_open", "bullet_list_open", "fence"} <= block_types(reply)
    code = next(t.content for t in MD.parse(reply) if t.type == "fence")
    assert code == "print(5 * 1.609344)  # 8.04672 km\n"


def test_a_plain_question_is_quoted_and_taken_apart():
    prompt = "Tell me about the history of the printing press and why it mattered."
    for model in ("demo-quick", "demo-thorough", "demo-creative"):
        assert prompt in ask(model, prompt), model
    assert "**printing**" in ask("demo-thorough", prompt)


@pytest.mark.parametrize("model", TEXT_MODELS)
def test_every_reply_says_it_comes_from_a_demo_model(model):
    for prompt in ("What is 17 * 23?", "Hello", "Make a table of three fruits", ""):
        assert re.search(r"offline demo|demo model", ask(model, prompt)), (model, prompt)


def test_a_table_of_three_fruits_is_a_markdown_table_of_three_rows():
    for model in ("demo-quick", "demo-thorough", "demo-creative", "demo-flaky"):
        tokens_ = MD.parse(ask(model, "Make a table of three fruits") if model != "demo-flaky" else
                           respond(model, {"messages": messages("Make a table of three fruits")}).text)
        rows = [t for t in tokens_ if t.type == "tr_open"]
        headers = [tokens_[i + 1].content for i, t in enumerate(tokens_) if t.type == "th_open"]
        assert len(rows) == 4, model  # the header and three fruits
        assert headers[0] == "Fruit", model


def test_lists_code_and_summaries_when_asked():
    assert "bullet_list_open" in block_types(ask("demo-quick", "List five planets"))
    assert ask("demo-quick", "List five planets").count("\n- ") == 4  # five items
    code = ask("demo-quick", "Write a Python function that reverses a string")
    assert "fence" in block_types(code) and "def reverse" in code
    assert "```javascript" in ask("demo-quick", "Write a JavaScript function for fizzbuzz")
    assert "SELECT" in ask("demo-thorough", "Write an SQL query for the top customers")
    summary = ask("demo-quick", "Summarise this: The printing press changed Europe. Books became cheap. "
                                "Ideas spread faster than ever before.")
    assert "The printing press changed Europe." in summary and "Books became cheap" not in summary


def test_only_the_answer_when_the_system_prompt_asks_for_it():
    for model in ("demo-thorough", "demo-creative", "demo-vision"):
        assert ask(model, "What is 6 * 7?", system="Answer with only the number.") == "42"


def test_the_thorough_model_follows_the_conversation():
    history = [{"role": "user", "content": "What is 17 * 23?"}, {"role": "assistant", "content": "391"},
               {"role": "user", "content": "And 391 + 9?"}]
    reply = respond("demo-thorough", {"messages": history}).text
    assert "**400**" in reply and "turn 2" in reply and "“What is 17 \\* 23?”" in reply


def test_text_models_point_images_to_the_vision_model():
    image = png(Image.new("RGB", (8, 8), "blue"))
    assert "demo-vision" in ask("demo-quick", with_image("What is 2 + 2?", image))


# --- personalities --------------------------------------------------------------------------------------------------

def test_the_same_prompt_always_gets_the_same_reply_and_pace():
    for model in MODELS:
        first, again = (respond(model, {"messages": messages("Make a table of three fruits")}) for _ in range(2))
        assert (first.text, first.ttft, first.rate) == (again.text, again.ttft, again.rate), model


def test_the_three_text_models_differ_in_length_and_pace():
    prompt = messages("Make a table of three fruits")
    quick, thorough, creative = (respond(m, {"messages": prompt}) for m in
                                 ("demo-quick", "demo-thorough", "demo-creative"))
    assert len({quick.text, thorough.text, creative.text}) == 3
    assert quick.completion_tokens < creative.completion_tokens < thorough.completion_tokens
    assert quick.ttft < creative.ttft < thorough.ttft
    assert quick.rate > creative.rate > thorough.rate


def test_the_quick_model_is_off_by_one_on_about_a_third_of_arithmetic_always_the_same():
    slips = 0
    for a in range(2, 62):
        prompt = f"What is {a} * 7?"
        reply = ask("demo-quick", prompt)
        slip = quick_slip(find_calculation(prompt))
        shown = re.search(r"= (-?\d+)\.", reply).group(1)
        if slip is None:
            assert shown == str(a * 7)
        else:
            slips += 1
            assert abs(int(shown) - a * 7) == 1 and shown == str(slip)
    assert 12 <= slips <= 28  # of 60: about a third


def test_the_quick_model_rounds_conversions():
    assert "≈ 8 km" in ask("demo-quick", "Convert 5 miles to km")
    assert "= 5280 ft" in ask("demo-quick", "How many feet in a mile?")  # nothing to round


def test_the_creative_model_varies_its_wording_with_the_prompt():
    openers = {ask("demo-creative", f"What is {n} + {n}?").split("\n\n")[0] for n in range(1, 31)}
    assert openers <= set(OPENERS) and len(openers) >= 6
    assert "about 8.05 km" in ask("demo-creative", "Convert 5 miles to km")


def test_demo_flaky_fails_on_four_prompts_in_ten_decided_by_the_prompt():
    outcomes = Counter(flaky_outcome(f"Question number {n}") for n in range(2000))
    assert 0.17 < outcomes["rate-limited"] / 2000 < 0.23
    assert 0.08 < outcomes["error"] / 2000 < 0.12 and 0.08 < outcomes["broken"] / 2000 < 0.12
    for outcome in ("rate-limited", "error", "broken", "ok"):
        prompt = next(f"Question number {n}" for n in range(100) if flaky_outcome(f"Question number {n}") == outcome)
        streamed = respond("demo-flaky", {"messages": messages(prompt), "stream": True})
        batch = respond("demo-flaky", {"messages": messages(prompt)})
        if outcome == "rate-limited":
            assert streamed.failure.status == batch.failure.status == 429 and streamed.failure.retry_after == 1
        elif outcome == "error":
            assert streamed.failure.status == batch.failure.status == 500
        elif outcome == "broken":
            assert streamed.failure is None and 0 < streamed.break_after < streamed.completion_tokens
            assert streamed.break_failure.status == 500 and batch.failure.status == 500
        else:
            assert streamed.failure is None and streamed.break_after is None and "demo-flaky" in streamed.text


# --- vision ---------------------------------------------------------------------------------------------------------

def test_the_vision_model_describes_size_and_dominant_colour():
    reply = ask("demo-vision", with_image("Describe this image", png(Image.new("RGB", (64, 32), (255, 0, 0)))))
    assert "64×32 pixels (landscape), PNG" in reply
    assert "**red** (`#FF0000`, 100%)" in reply
    assert "mostly red" in reply


def test_the_vision_model_ranks_colours_and_reads_jpeg():
    image = Image.new("RGB", (200, 300), "white")
    ImageDraw.Draw(image).rectangle((0, 0, 199, 99), fill=(0, 0, 128))  # the top third navy
    reply = ask("demo-vision", with_image("What colours are in this picture?", png(image, "JPEG")))
    assert "200×300 pixels (portrait), JPEG" in reply
    white, navy = reply.index("**white**"), reply.index("**navy**")
    assert white < navy, "the larger area comes first"
    assert "I only measure pixels" in reply  # the question is answered honestly


def test_the_vision_model_says_what_it_cannot_read():
    tiny_red = png(Image.new("RGB", (4, 4), "red"))
    reply = ask("demo-vision", with_image("Describe both", tiny_red, "data:image/png;base64,bm90IGFuIGltYWdl",
                                          "https://example.com/cat.png", "data:image/png;base64,%%%"))
    assert reply.count("### Image") == 4
    assert "not an image Pillow can read" in reply
    assert "never fetch images" in reply
    assert "base64 does not decode" in reply
    assert "4×4 pixels" in reply


def test_transparency_is_reported():
    reply = ask("demo-vision", with_image("Describe", png(Image.new("RGBA", (10, 10), (0, 0, 0, 0)))))
    assert "100% of the pixels are see-through" in reply


def test_an_image_costs_prompt_tokens_by_its_size():
    small = respond("demo-vision", {"messages": messages(with_image("Describe", png(Image.new("RGB", (64, 64)))))})
    large = respond("demo-vision", {"messages": messages(with_image("Describe", png(Image.new("RGB", (1600, 1200)))))})
    text_only = respond("demo-vision", {"messages": messages("Describe")})
    assert small.prompt_tokens - text_only.prompt_tokens == 85 + 170
    assert large.prompt_tokens - text_only.prompt_tokens == 85 + 170 * 4  # 1024×768 after scaling: 2×2 tiles


# --- safety of what a reply quotes ----------------------------------------------------------------------------------

def test_a_quoted_prompt_cannot_load_anything_or_inject_html():
    prompt = 'Look ![x](https://evil.example/pixel.png) <img src="https://evil.example/a.png"> [link](https://e.x)'
    for model in ("demo-quick", "demo-thorough", "demo-creative", "demo-vision"):
        html = MD.render(ask(model, prompt))
        assert not re.search(r"<(?:img|a|script|iframe)\b", html), model
        assert "&lt;img" in html, model  # shown as text


# --- requests, usage, tokens ----------------------------------------------------------------------------------------

def test_max_tokens_cuts_the_reply_and_says_so():
    reply = respond("demo-thorough", {"messages": messages("What is 17 * 23?"), "max_tokens": 10})
    assert reply.completion_tokens == 10 and reply.finish_reason == "length"


def test_usage_counts_every_message():
    one = respond("demo-quick", {"messages": messages("Hello there")})
    more = respond("demo-quick", {"messages": [{"role": "system", "content": "Be brief."},
                                               *messages("Hello there")]})
    assert one.prompt_tokens == tokens.count("Hello there") + tokens.PER_MESSAGE
    assert more.prompt_tokens == one.prompt_tokens + tokens.count("Be brief.") + tokens.PER_MESSAGE
    assert one.usage() == {"prompt_tokens": one.prompt_tokens, "completion_tokens": len(one.pieces),
                           "total_tokens": one.prompt_tokens + len(one.pieces)}


def test_unknown_models_and_malformed_messages():
    assert respond("gpt-4", {"messages": messages("hi")}) is None
    prompt = read([None, {"role": "user", "content": 42}, {"role": "user", "content": [{"type": "text"}, "x"]},
                   {"role": "system", "content": "S"}])
    assert prompt.text == "" and prompt.system == "S"
    assert "empty message" in ask("demo-quick", "")


@pytest.mark.parametrize("text", ["Hello, world!", "  leading and trailing  ", "internationalization\n\n- a\n- b",
                                  "ünïcödé 日本語 ✓", "", "```python\nprint(1)\n```"])
def test_tokens_join_back_into_the_text(text):
    assert "".join(tokens.split(text)) == text


def test_token_counts_look_like_a_real_tokenizer():
    english = ("The printing press changed Europe: books became cheap, ideas spread faster than ever before, "
               "and literacy rose across the continent.")
    assert 1.0 < tokens.count(english) / len(english.split()) < 1.6


# --- the sample prompt set ------------------------------------------------------------------------------------------

def prompt_set() -> list[dict]:
    with (ROOT / "examples" / "prompt-set.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def passes(model: str, row: dict) -> bool:
    reply = respond(model, {"messages": messages(row["prompt"], row["system_prompt"]), "stream": True})
    if reply.failure is not None or reply.break_after is not None:
        return False
    return re.search(row["expected"], reply.text, re.I) is not None


def test_the_sample_prompt_set_has_expected_answers_and_tags():
    rows = prompt_set()
    assert 18 <= len(rows) <= 25
    assert all(row["prompt"] and row["expected"] and row["tag"] for row in rows)
    assert any(row["system_prompt"] for row in rows)
    for row in rows:  # each expected answer works both as plain text and as a regular expression
        assert all(passes(model, row) == (row["expected"].lower() in respond(
            model, {"messages": messages(row["prompt"], row["system_prompt"])}).text.lower())
                   for model in ("demo-quick", "demo-thorough"))


def test_the_sample_prompt_set_gives_each_model_its_own_pass_rate():
    rows = prompt_set()
    rates = {model: sum(passes(model, row) for row in rows) for model in MODELS if model != "demo-judge"}
    assert rates == {"demo-quick": 14, "demo-thorough": 20, "demo-creative": 16, "demo-flaky": 11,
                     "demo-vision": 20, "demo-reasoning": 20}
