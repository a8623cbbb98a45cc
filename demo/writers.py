"""Each demo model's way of writing a reply. Pure functions of the prompt (and what was found in it): the same prompt
always gets the same text.

What every model finds in a prompt (`find`): a calculation, a unit conversion, a capital to look up, a topic the facts
tables know, a count ("three fruits"), images. What it does with them is its personality:

- quick: one or two lines; rounds conversions to whole numbers and gets some arithmetic wrong (off by one, on the
  same prompts every time: see `quick_slip`);
- thorough: long structured Markdown (headings, numbered steps, a table or list, a code block, a summary);
- creative: the right answers in varied wording, picked by a generator seeded with the prompt (conversions rounded
  to three significant digits);
- plain (demo-flaky when it answers): a short paragraph with the right answer;
- vision: describes the images it was sent from their pixels, else answers plainly.

Every reply says it comes from an offline demo model (except when the prompt asks for nothing but the answer).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from demo.arithmetic import Calculation, Number, find_calculation, format_number, is_whole
from demo.facts import Topic, capital_of, find_count, find_topic
from demo.prompt import Image, Prompt, join_words, quote, stable_hash
from demo.units import Conversion, find_conversion, rounded
from demo.vision import Picture, inspect


@dataclass(frozen=True)
class Findings:
    """What a prompt contains that a demo model can answer."""

    calculation: Calculation | None = None
    conversion: Conversion | None = None
    capital: tuple[str, str] | None = None  # (country, capital)
    topic: Topic | None = None
    count: int | None = None  # of rows or items asked for
    pictures: tuple[tuple[Image, Picture | None], ...] = ()  # each image part, and its pixels when it had data

    @property
    def direct(self) -> bool:
        """There is a single right answer to give."""
        return bool(self.conversion or self.calculation or self.capital)


def find(prompt: Prompt) -> Findings:
    topic = find_topic(prompt.text)
    return Findings(
        calculation=find_calculation(prompt.text), conversion=find_conversion(prompt.text),
        capital=capital_of(prompt.text), topic=topic, count=find_count(prompt.text, topic),
        pictures=tuple((image, inspect(image.data) if image.data is not None else None) for image in prompt.images))


# --- quick ----------------------------------------------------------------------------------------------------------

def quick_slip(calculation: Calculation) -> Number | None:
    """The wrong value demo-quick gives for this calculation, or None when it gets it right: off by one on about a
    third of whole-number results, chosen by a hash of the expression (so always the same ones)."""
    if calculation.value is None or not is_whole(calculation.value):
        return None
    bucket = stable_hash("demo-quick", calculation.expression) % 6
    if bucket >= 2:
        return None
    return calculation.value + (1 if bucket == 0 else -1)


def quick_round(conversion: Conversion) -> str:
    """demo-quick's conversions: whole numbers (one decimal below 10), marked as approximate when rounded."""
    value = conversion.result
    shown = format_number(Fraction(round(value, 1 if abs(value) < 10 else 0)))
    return shown if Fraction(shown) == value else f"≈ {shown}"


def quick(prompt: Prompt, found: Findings, name: str = "demo-quick") -> str:
    if found.conversion:
        c = found.conversion
        answer = quick_round(c)
        if prompt.wants_only_answer:
            return answer.removeprefix("≈ ")
        line = f"{c.question} {'' if answer.startswith('≈') else '= '}{answer} {c.target.symbol}."
    elif found.calculation:
        calc = found.calculation
        slip = quick_slip(calc)
        answer = format_number(slip) if slip is not None else calc.answer
        if prompt.wants_only_answer and calc.error is None:
            return answer
        line = f"{calc.shown} = {answer}." if calc.error is None else f"Can't: {calc.error}."
    elif found.capital:
        if prompt.wants_only_answer:
            return found.capital[1]
        line = f"{found.capital[1]}."
    elif prompt.wants_table:
        line = _table(found, prompt, limit=found.count or 3, columns=2)
    elif prompt.wants_code:
        line = _code_block(prompt, found)
    elif prompt.wants_list:
        line = "\n".join(f"- {item}" for item in _items(found, prompt, found.count or 3))
    elif prompt.wants_summary:
        line = f"Gist: {said(_summary(prompt.material, 1)[0], 160)}"
    elif not prompt.text.strip():
        line = "You sent an empty message."
    else:
        line = f"{stop(f'You asked about {prompt.subject}: {said(prompt.text, 80)}')} Quick answer: I only " \
               f"compute and echo."
    if found.pictures:
        line += " (I can't see images: try demo-vision.)"
    return f"{line}\n\n_{name} · offline demo model_"


# --- thorough -------------------------------------------------------------------------------------------------------

def thorough(prompt: Prompt, found: Findings, name: str = "demo-thorough") -> str:
    if prompt.wants_only_answer and found.direct:
        return _bare(found)
    sections = [("Answer", _answer_paragraph(prompt, found)), ("How I worked it out", _steps(prompt, found))]
    details = _details(prompt, found)
    if details:
        sections.append(details)
    sections.append(_code_section(prompt, found))
    sections.append(("Summary", _summary_bullets(prompt, found)))
    body = "\n\n".join(f"## {title}\n\n{text}" for title, text in sections)
    return (f"{body}\n\n> **{name}** is an offline demo model: it follows rules, a calculator and a few small "
            f"tables, not a language model. Point `litellm_config.yaml` at a real provider for real answers.")


def _answer_paragraph(prompt: Prompt, found: Findings) -> str:
    if found.conversion:
        c = found.conversion
        return f"{c.question} = **{c.answer}** (to six significant digits)."
    if found.calculation:
        calc = found.calculation
        if calc.error:
            return f"`{calc.shown}` has no answer: {calc.error}."
        return f"{calc.shown} = **{calc.answer}**."
    if found.capital:
        return f"The capital of {found.capital[0]} is **{found.capital[1]}**."
    if prompt.wants_table or prompt.wants_list:
        what = found.topic.name if found.topic else f"the key terms of your message ({prompt.subject})"
        shape = "a table" if prompt.wants_table else "a list"
        return f"Here is {shape} of {what}, with what the demo knows about each."
    if prompt.wants_code:
        return f"Here is a {_language(prompt).title()} snippet for your request, with how it works and how to run it."
    if prompt.wants_summary:
        words = len(prompt.material.split())
        return f"In short ({words} words down to one sentence): {said(_summary(prompt.material, 1)[0], 200)}"
    if not prompt.text.strip():
        return "You sent an empty message, so there is nothing to answer yet."
    kind = "a question" if prompt.text.rstrip().endswith("?") else "a statement or request"
    return (f"{stop(f'You sent {kind} about **{prompt.subject}**: {said(prompt.text, 160)}')} A demo model "
            f"cannot reason about it, but it can take it apart for you.")


def _steps(prompt: Prompt, found: Findings) -> str:
    steps = [f"I read your message: {len(prompt.text.split())} words in {max(1, len(prompt.sentences))} "
             f"sentence{'s' if len(prompt.sentences) > 1 else ''}."]
    if prompt.system.strip():
        steps.append(stop(f"I kept your instructions in mind: {said(prompt.system, 100)}"))
    if found.conversion:
        c = found.conversion
        how = "with the temperature formula" if c.source.kind == "temperature" else \
            f"by multiplying by {rounded(c.source.factor / c.target.factor, 8)}"
        steps += [f"I found a conversion of {c.source.kind}: from {c.source.symbol} to {c.target.symbol}.",
                  f"I converted it exactly {how}, then rounded to six significant digits."]
    elif found.calculation:
        calc = found.calculation
        steps += [f"I found a calculation in it: `{calc.expression}`.",
                  "I evaluated it with a small calculator that parses the arithmetic (never runs it as code) and "
                  "keeps whole numbers and fractions exact."]
        if calc.error:
            steps.append(f"It stopped there: {calc.error}.")
    elif found.capital:
        steps.append("I looked the country up in the demo's table of twelve countries and their capitals.")
    elif prompt.wants_table or prompt.wants_list or prompt.wants_code:
        asked = "a table" if prompt.wants_table else "code" if prompt.wants_code else "a list"
        steps.append(f"You asked for {asked}" + (f", about {found.topic.name}" if found.topic else "") + ".")
        if found.count:
            steps.append(f"You asked for {found.count}, so that is how many you get.")
    else:
        steps.append(f"Its key terms are {join_words([f'**{t}**' for t in prompt.key_terms]) or 'hard to pick out'}.")
    if found.pictures:
        steps.append("You also sent an image: I cannot see images; demo-vision describes their pixels.")
    if prompt.earlier:
        steps.append(stop(f"This is turn {prompt.turn} of our conversation; earlier you asked "
                          f"{said(prompt.earlier[-1], 80)}"))
    return "\n".join(f"{number}. {step}" for number, step in enumerate(steps, 1))


def _details(prompt: Prompt, found: Findings) -> tuple[str, str] | None:
    if prompt.wants_table and not found.direct:
        return "Table", _table(found, prompt, limit=found.count or 5)
    if prompt.wants_list and not found.direct:
        items = _items(found, prompt, found.count or 5, described=True)
        return "List", "\n".join(f"- {item}" for item in items)
    if prompt.wants_summary and not found.direct:
        return "Key points", "\n".join(f"- {escape(quote(line, 200))}" for line in _summary(prompt.material, 3))
    if prompt.wants_code and not found.direct:
        return "How it works", "\n".join(f"- {line}" for line in _code_notes(prompt))
    return None


def _code_section(prompt: Prompt, found: Findings) -> tuple[str, str]:
    if prompt.wants_code and not found.direct:
        return "Code", _code_block(prompt, found)
    if found.conversion:
        c = found.conversion
        code = f"print({c.formula})  # {rounded(c.result)} {c.target.symbol}"
        return "Check it yourself", f"```python\n{code}\n```"
    if found.calculation and found.calculation.error is None:
        calc = found.calculation
        code = f"print({calc.expression})  # {calc.answer}"
        return "Check it yourself", f"```python\n{code}\n```"
    if found.capital:
        return "Check it yourself", (f"```python\ncapitals = {{{found.capital[0]!r}: {found.capital[1]!r}}}\n"
                                     f"print(capitals[{found.capital[0]!r}])\n```")
    if (prompt.wants_table or prompt.wants_list) and found.topic:
        rows = found.topic.rows[:found.count or 5]
        records = ",\n".join(f"    {dict(zip(found.topic.columns, row))!r}" for row in rows)
        return "The same data in pandas", (f"```python\nimport pandas as pd\n\nframe = pd.DataFrame([\n{records},\n])"
                                           f"\nprint(frame)\n```")
    terms = prompt.key_terms or ["(none)"]
    counts = {t: sum(1 for w in prompt.words if w.lower() == t) for t in terms}
    return "Your message, measured", (f"```python\nmessage = {quote(prompt.text, 100)!r}\n"
                                      f"key_terms = {counts!r}\nprint(len(message.split()), 'words')\n```")


def _summary_bullets(prompt: Prompt, found: Findings) -> str:
    bullets = [f"**You asked:** {said(prompt.text, 100)}" if prompt.text.strip() else
               "**You asked:** nothing (an empty message)"]
    if found.direct:
        bullets.append(f"**Answer:** {_bare(found)}")
    elif found.topic:
        bullets.append(f"**Topic:** {found.topic.name} (the demo knows {len(found.topic.rows)})")
    if prompt.key_terms:
        bullets.append(f"**Key terms:** {', '.join(prompt.key_terms)}")
    bullets.append(f"**Turn:** {prompt.turn} of this conversation")
    return "\n".join(f"- {bullet}" for bullet in bullets)


# --- creative -------------------------------------------------------------------------------------------------------

OPENERS = ("Ah, a good one!", "Here's my take.", "Let me paint this one for you.", "Picture this:",
           "Oh, I like this question.", "Right, let's play with this.", "Gather round:", "Well now!",
           "Here's a thought, freshly made.", "Let's make this fun.", "Ooh, numbers and words. My favourite.",
           "Allow me a flourish.")
CALCULATIONS = ("That comes to **{answer}**.", "By my reckoning, {shown} lands on **{answer}**.",
                "Crunch the numbers and out pops **{answer}**.", "{shown}? That's **{answer}**, no doubt about it.",
                "The arithmetic sings a single note: **{answer}**.", "Shake {shown} well and you get **{answer}**.")
CONVERSIONS = ("{question} is **{answer}**, give or take a little.", "In other units: {question} → **{answer}**.",
               "Translate {question} and it reads **{answer}**.", "{question} wears another coat: **{answer}**.")
CAPITALS = ("{country}'s capital? **{capital}**, of course.", "All roads in {country} lead to **{capital}**.",
            "If {country} had a heart, it would beat in **{capital}**.", "**{capital}**: the capital of {country}.")
WORDS = ("bright", "curious", "steady", "bold", "gentle", "zesty", "quiet", "lively", "classic", "unexpected",
         "sunny", "crisp", "mellow", "daring", "timeless")
CLOSERS = ("— demo-creative, an offline demo model (the flourishes are mine, the facts are rules).",
           "— signed, demo-creative: a demo model, no language model was harmed.",
           "— demo-creative (offline demo: same prompt, same poem).",
           "— from demo-creative, a demo model that rhymes by dice roll.")


def creative(prompt: Prompt, found: Findings, name: str = "demo-creative") -> str:
    rng = random.Random(prompt.key)
    if prompt.wants_only_answer and found.direct:
        return _bare(found)
    parts = [rng.choice(OPENERS)]
    if found.conversion:
        c = found.conversion
        answer = c.answer if c.to_digits(3) == c.answer else f"about {c.to_digits(3)}"  # artistic licence
        parts.append(rng.choice(CONVERSIONS).format(question=c.question, answer=answer))
    elif found.calculation:
        calc = found.calculation
        parts.append(rng.choice(CALCULATIONS).format(shown=calc.shown, answer=calc.answer) if calc.error is None
                     else f"Alas, {calc.shown} slips through my fingers: {calc.error}.")
    elif found.capital:
        parts.append(rng.choice(CAPITALS).format(country=found.capital[0], capital=found.capital[1]))
    elif prompt.wants_table:
        topic = found.topic
        if topic:
            rows = rng.sample(list(topic.rows), min(found.count or rng.randint(3, 5), len(topic.rows)))
            table = _markdown_table((*topic.columns[:2], "In a word"),
                                    [(*row[:2], rng.choice(WORDS)) for row in rows])
            parts.append(f"A table of {topic.name}, hand-picked:\n\n{table}")
        else:
            parts.append(f"A table? Here's your message as one:\n\n{_table(found, prompt, limit=found.count or 4)}")
    elif prompt.wants_code:
        parts.append(f"A little spell for you:\n\n{_code_block(prompt, found)}")
    elif prompt.wants_list:
        items = _items(found, prompt, found.count or rng.randint(3, 5))
        parts.append("\n".join(f"- {item}, {rng.choice(WORDS)} as ever" for item in items))
    elif prompt.wants_summary:
        terms = prompt.key_terms[:]
        rng.shuffle(terms)
        parts.append(f"In a nutshell: it's about {join_words(terms[:3]) or 'very little'}. The heart of it: "
                     f"{said(_summary(prompt.material, 1)[0], 140)}")
    elif not prompt.text.strip():
        parts.append("An empty page! The most creative prompt of all.")
    else:
        terms = prompt.key_terms or prompt.words[:3] or ["silence"]
        picked = [rng.choice(terms) for _ in range(3)]
        parts.append(f"{said(prompt.text, 100)} makes me think of {join_words(sorted(set(picked)))}.")
        parts.append(f"*{picked[0].capitalize()} at dawn,*  \n*{picked[1]} in the margins,*  \n"
                     f"*{picked[2]} — {rng.choice(WORDS)} and offline.*")
    if found.pictures:
        parts.append("(Images are lost on me: demo-vision reads pixels.)")
    parts.append(rng.choice(CLOSERS).replace("demo-creative", name))
    return "\n\n".join(parts)


# --- plain (demo-flaky when it answers) -----------------------------------------------------------------------------

def plain(prompt: Prompt, found: Findings, name: str = "demo-plain", note: str = "") -> str:
    if prompt.wants_only_answer and found.direct:
        return _bare(found)
    if found.direct:
        body = _answer_paragraph(prompt, found)
    elif prompt.wants_table:
        body = _table(found, prompt, limit=found.count or 3)
    elif prompt.wants_code:
        body = _code_block(prompt, found)
    elif prompt.wants_list:
        body = "\n".join(f"- {item}" for item in _items(found, prompt, found.count or 3, described=True))
    else:
        body = _answer_paragraph(prompt, found)
    return f"{body}\n\n_{name} · offline demo model{note}_"


# --- vision ---------------------------------------------------------------------------------------------------------

def vision(prompt: Prompt, found: Findings, name: str = "demo-vision") -> str:
    if not found.pictures:
        return plain(prompt, found, name, note=": send me an image (PNG, JPEG, WebP, GIF) and I describe its pixels")
    parts = []
    for number, (image, picture) in enumerate(found.pictures, 1):
        label = f"Image {number}" if len(found.pictures) > 1 else "Your image"
        parts.append(f"### {label}\n\n{describe(image, picture)}")
    question = prompt.text.strip()
    if question and not re.fullmatch(r"(?is)\W*(?:please\s+)?(?:describe|what(?:'s| is) (?:in )?(?:this|the) "
                                     r"(?:image|picture|photo))\b.*", question):
        parts.append(f"{stop(f'You asked: {said(question)}')} I only measure pixels (size, colours, brightness); "
                     f"I do not recognise objects, text or faces.")
    parts.append(f"_{name} · offline demo model: Pillow measurements, not image understanding_")
    return "\n\n".join(parts)


def describe(image: Image, picture: Picture | None) -> str:
    """An image's description in Markdown: size, format, dominant colours, brightness."""
    if picture is None:
        if image.url:
            return (f"It is a link (`{escape(quote(image.url, 60))}`), and I am offline: I never fetch images from "
                    f"the internet. Send it as a base64 data URL instead.")
        return f"I could not read it: {image.error}."
    if picture.error:
        size = f" ({picture.size} pixels)" if picture.width else ""
        return f"I could not inspect it{size}: {picture.error}."
    colours = ", ".join(f"**{c.name}** (`{c.hex}`, {c.share:.0%})" for c in picture.colours)
    lines = [f"- **Size:** {picture.size} pixels ({picture.orientation}), {picture.format or 'unknown format'}"
             + (f", {picture.frames} frames (I looked at the first)" if picture.frames > 1 else ""),
             f"- **Dominant colours:** {colours}",
             f"- **Brightness:** {picture.brightness:.0%} ({picture.brightness_word}); contrast "
             f"{picture.contrast_word}"]
    if picture.transparent > 0.005:
        lines.append(f"- **Transparency:** {picture.transparent:.0%} of the pixels are see-through (measured on "
                     f"white)")
    main = picture.colours[0] if picture.colours else None
    if main:
        lines.append(f"\nIn one line: a {picture.brightness_word}, mostly {main.name} {picture.orientation} image "
                     f"of {picture.size} pixels.")
    return "\n".join(lines)


# --- shared pieces --------------------------------------------------------------------------------------------------

_MARKDOWN = re.compile(r"([\\`*_\[\]<>|#!])")


def said(text: str, limit: int = 120) -> str:
    """User text quoted inline: on one line, cut past `limit` characters, made inert (see `escape`)."""
    return f"“{escape(quote(text, limit))}”"


def stop(sentence: str) -> str:
    """A full stop at the end, unless the sentence (or the quote it ends with) already has one."""
    return sentence if re.search(r"[.!?…]”?$", sentence) else f"{sentence}."


def escape(text: str) -> str:
    """User text made inert inside a reply's Markdown: no links, images, HTML, emphasis or table breaks."""
    return _MARKDOWN.sub(r"\\\1", text)


def _bare(found: Findings) -> str:
    if found.conversion:
        return found.conversion.answer
    if found.calculation:
        return found.calculation.answer or f"no answer ({found.calculation.error})"
    if found.capital:
        return found.capital[1]
    return ""


def _markdown_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cell = lambda text: str(text).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(cell(c) for c in columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _table(found: Findings, prompt: Prompt, limit: int, columns: int | None = None) -> str:
    """A topic's rows, else the prompt's key terms with how often and where they appear."""
    if found.topic:
        rows = found.topic.rows[:limit]
        return _markdown_table(found.topic.columns[:columns], [row[:columns] for row in rows])
    lowered = [w.lower() for w in prompt.words]
    terms = prompt.key_terms[:limit] or [w.lower() for w in prompt.words[:limit]]
    if not terms:
        return _markdown_table(("Words", "Characters"), [(str(len(prompt.text.split())), str(len(prompt.text)))])
    term_rows = [(escape(term), str(lowered.count(term)), str(lowered.index(term) + 1) if term in lowered else "–")
                 for term in terms]
    return _markdown_table(("Term in your message", "Times used", "First at word")[:columns],
                           [row[:columns] for row in term_rows])


def _items(found: Findings, prompt: Prompt, limit: int, described: bool = False) -> list[str]:
    if found.topic:
        rows = found.topic.rows[:limit]
        if not described:
            return [row[0] for row in rows]
        return [f"**{row[0]}**: " + "; ".join(f"{column.lower()} {value}" for column, value in
                                              zip(found.topic.columns[1:], row[1:])) for row in rows]
    sentences = _summary(prompt.material, limit) if len(prompt.sentences) > 1 else []
    if sentences:
        return [escape(quote(s, 120)) for s in sentences]
    terms = [f"**{escape(term)}**" + (" (from your message)" if described else "") for term in prompt.key_terms[:limit]]
    return terms or ["(your message has no words to list)"]


def _summary(text: str, count: int) -> list[str]:
    """The `count` sentences that carry the text's repeated words (the first sentence breaks ties, as a lead
    usually says most), in their original order."""
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text.strip()) if s.strip()] or [text.strip()]
    words = [w.lower() for w in re.findall(r"[^\W\d_]{4,}", text)]
    repeats = {w: words.count(w) - 1 for w in set(words)}

    def score(index: int) -> float:
        own = {w.lower() for w in re.findall(r"[^\W\d_]{4,}", sentences[index])}
        return sum(repeats[w] for w in own) + (0.5 if index == 0 else 0)

    ranked = sorted(range(len(sentences)), key=lambda i: (-score(i), i))
    return [sentences[i] for i in sorted(ranked[:count])]


def _language(prompt: Prompt) -> str:
    if prompt.asks(r"\bsql\b|\bquery\b|\bdatabase\b"):
        return "sql"
    if prompt.asks(r"\bjavascript\b|\bjs\b|\bnode(?:\.js)?\b|\btypescript\b"):
        return "javascript"
    return "python"


SNIPPETS = {  # (pattern, language) → code
    (r"fizz\s*buzz", "python"): '''def fizzbuzz(n: int) -> list[str]:
    """FizzBuzz from 1 to n."""
    return ["FizzBuzz" if i % 15 == 0 else "Fizz" if i % 3 == 0 else "Buzz" if i % 5 == 0 else str(i)
            for i in range(1, n + 1)]


print("\\n".join(fizzbuzz(15)))''',
    (r"fizz\s*buzz", "javascript"): '''function fizzbuzz(n) {
  const out = [];
  for (let i = 1; i <= n; i++) {
    out.push(i % 15 === 0 ? "FizzBuzz" : i % 3 === 0 ? "Fizz" : i % 5 === 0 ? "Buzz" : String(i));
  }
  return out;
}

console.log(fizzbuzz(15).join("\\n"));''',
    (r"factorial", "python"): '''def factorial(n: int) -> int:
    """n! for n >= 0."""
    result = 1
    for i in range(2, n + 1):
        result *= i
    return result


print(factorial(10))  # 3628800''',
    (r"factorial", "javascript"): '''function factorial(n) {
  let result = 1n;
  for (let i = 2n; i <= BigInt(n); i++) result *= i;
  return result;
}

console.log(factorial(10).toString()); // 3628800''',
    (r"fibonacci", "python"): '''def fibonacci(count: int) -> list[int]:
    """The first `count` Fibonacci numbers."""
    numbers, a, b = [], 0, 1
    for _ in range(count):
        numbers.append(a)
        a, b = b, a + b
    return numbers


print(fibonacci(10))  # [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]''',
    (r"\bprimes?\b", "python"): '''def is_prime(n: int) -> bool:
    """True if n is a prime number."""
    if n < 2:
        return False
    i = 2
    while i * i <= n:
        if n % i == 0:
            return False
        i += 1
    return True


print([n for n in range(30) if is_prime(n)])''',
    (r"palindrome", "python"): '''def is_palindrome(text: str) -> bool:
    """True if text reads the same backwards, ignoring case, spaces and punctuation."""
    letters = [c.lower() for c in text if c.isalnum()]
    return letters == letters[::-1]


print(is_palindrome("A man, a plan, a canal: Panama"))  # True''',
    (r"revers", "python"): '''def reverse(text: str) -> str:
    """text backwards."""
    return text[::-1]


print(reverse("hello"))  # olleh''',
    (r"revers", "javascript"): '''function reverse(text) {
  return [...text].reverse().join("");
}

console.log(reverse("hello")); // olleh''',
    (r"\bsort", "python"): '''def sort_by_length(words: list[str]) -> list[str]:
    """Shortest first; words of the same length stay in alphabetical order."""
    return sorted(words, key=lambda word: (len(word), word))


print(sort_by_length(["banana", "fig", "apple", "kiwi"]))''',
    (r"\baverage\b|\bmean\b", "python"): '''from statistics import mean, median

values = [12, 7, 3, 14, 9]
print(f"mean {mean(values)}, median {median(values)}")''',
    (r"\bcsv\b", "python"): '''import pandas as pd

frame = pd.read_csv("data.csv")
print(frame.shape)  # (rows, columns)
print(frame.describe())''',
    (r".", "sql"): '''SELECT c.name,
       COUNT(o.id)  AS orders,
       SUM(o.total) AS revenue
FROM customers AS c
JOIN orders AS o ON o.customer_id = c.id
WHERE o.created_at >= DATE '2024-01-01'
GROUP BY c.name
ORDER BY revenue DESC
LIMIT 10;''',
}


def _code_block(prompt: Prompt, found: Findings) -> str:
    language = _language(prompt)
    calc = found.calculation
    if calc and calc.error is None and language == "python":
        return f"```python\nprint({calc.expression})  # {calc.answer}\n```"
    for (pattern, lang), code in SNIPPETS.items():
        if lang == language and re.search(pattern, prompt.text, re.I):
            return f"```{language}\n{code}\n```"
    name = _slug("_".join(prompt.key_terms[:2])) or "handle_request"
    if language == "javascript":
        code = (f"// {quote(prompt.text, 70)}\nfunction {_camel(name)}(text) {{\n"
                f"  const words = text.split(/\\s+/).filter(Boolean);\n  return {{ words: words.length }};\n}}\n\n"
                f"console.log({_camel(name)}({quote(prompt.text, 50)!r}));")
    else:
        code = (f"def {name}(text: str) -> dict:\n    \"\"\"{quote(prompt.text, 70)}\"\"\"\n"
                f"    words = text.split()\n    return {{\"words\": len(words), \"longest\": max(words, key=len, "
                f"default=\"\")}}\n\n\nprint({name}({quote(prompt.text, 50)!r}))")
    return f"```{language}\n{code}\n```"


def _code_notes(prompt: Prompt) -> list[str]:
    language = _language(prompt)
    run = {"python": "Save it as `snippet.py` and run `python snippet.py`.",
           "javascript": "Save it as `snippet.js` and run `node snippet.js`.",
           "sql": "Run it in your database client; rename the tables and columns to yours."}[language]
    return ["It uses only the standard library (pandas where it reads a CSV)." if language == "python" else
            "It uses nothing beyond the language itself.",
            "It is small on purpose: one function, one example call.", run,
            "A demo model picks it from a handful of snippets: a real model would write it for you."]


def _slug(text: str) -> str:
    return re.sub(r"\W+", "_", text.lower().replace("/", "_per_")).strip("_")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
