"""demo-judge: grades replies by rules, with a deliberate lean to the first position, so that the app's position-swap
correction has something to catch.

It reads the judge prompts of gateway/evaluation/judge.py by their sections (`[Question]`, `[Answer A]`,
`[Answer B]`, `[Answer]`, `[Expected]`, `[Rubric]`), works out the question's right answer with the demo's own
calculator, unit converter and capitals, and looks for it in each answer:
- pairwise: the right answer over a wrong one (whichever side it is on); when both are right, both wrong, or it cannot
  tell, it says "A" — whatever was shown first (the position bias real judges have: asked in both orders, such a pair
  gets A once and B once, which the app counts as a flagged tie);
- rubric and reference: 1 when the answer holds the right (or the expected) answer, 0 when it holds another number or
  name where one was asked for, 0.5 when it cannot tell.
Its answer is the JSON the judge prompts ask for. A prompt that is not a judge prompt gets a one-line note.
"""

from __future__ import annotations

import json
import re

from demo.arithmetic import format_number
from demo.prompt import Prompt
from demo.writers import Findings, find

SECTION = re.compile(r"^\[(Question|Answer A|Answer B|Answer|Expected|Rubric)\]\s*$", re.M)


def sections(text: str) -> dict[str, str]:
    """The judge prompt's sections by name (the text up to the next section, or to the closing instruction)."""
    marks = list(SECTION.finditer(text))
    found = {}
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[mark.end():end]
        if i + 1 == len(marks):
            body = body.split("\nReply with JSON only", 1)[0]
        found[mark.group(1)] = body.strip()
    return found


def right_answer(found: Findings) -> str | None:
    """The one right answer the demo knows for a question, as a person writes it."""
    if found.calculation and found.calculation.error is None and found.calculation.value is not None:
        return found.calculation.answer
    if found.capital:
        return found.capital[1]
    if found.conversion:
        return format_number(found.conversion.result)
    return None


def holds(answer: str, right: str) -> bool | None:
    """Whether the answer gives the right one (True), gives something else (False), or cannot be told (None)."""
    if re.fullmatch(r"-?[\d.,/]+", right):
        numbers = re.findall(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?", answer)
        if not numbers:
            return None
        return right in [n.replace(",", "") for n in numbers]
    return right.lower() in answer.lower()


def write(prompt: Prompt, found: Findings, name: str = "demo-judge") -> str:
    parts = sections(prompt.text)
    question = parts.get("Question")
    if question is None:
        return f"I only judge: send me one of the app's judge prompts. _{name} · offline demo model_"
    right = right_answer(find(Prompt(question)))
    if "Answer A" in parts and "Answer B" in parts:
        first = holds(parts["Answer A"], right) if right else None
        second = holds(parts["Answer B"], right) if right else None
        if first and not second:
            return _json(winner="A", reason=f"A gives the right answer ({right}); B does not.")
        if second and not first:
            return _json(winner="B", reason=f"B gives the right answer ({right}); A does not.")
        return _json(winner="A", reason="Both look about as good; A reads well.")  # the lean to the first position
    answer = parts.get("Answer", "")
    expected = parts.get("Expected")
    if expected and expected.lower() in answer.lower():
        return _json(score=1, reason="It gives the expected answer.")
    verdict = holds(answer, right) if right else None
    if verdict is None:
        return _json(score=0.5, reason="Cannot tell whether it is right.")
    gives = "gives" if verdict else "does not give"
    return _json(score=1 if verdict else 0, reason=f"The right answer is {right}; it {gives} it.")


def _json(**fields: object) -> str:
    return json.dumps(fields)
