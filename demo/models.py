"""The demo models: each one's speed, personality and failures, and the reply a chat request gets from it.

| Model | Time to first token | Tokens/s | Personality |
| --- | --- | --- | --- |
| demo-quick | ~0.15 s | ~120 | one or two lines; whole-number conversions; off by one on about a third of arithmetic |
| demo-thorough | ~1.2 s | ~50 | long Markdown: headings, numbered steps, table or list, a code block, summary |
| demo-creative | ~0.5 s | ~70 | right answers, wording varied by a generator seeded with the prompt |
| demo-flaky | ~0.3 s | ~80 | fails on 4 prompts in 10 (always the same ones): see `flaky_outcome` |
| demo-vision | ~0.8 s | ~60 | describes images sent as base64 data URLs from their pixels |
| demo-judge | ~0.3 s | ~100 | a judge (demo/judge.py): the right answer wins; otherwise whatever was shown first |
| demo-reasoning | ~0.4 s (thought) | ~60 | thinks visibly first (demo/reasoning.py), longer at higher effort |

Timings vary by ±15 % from prompt to prompt (deterministically), and reading the prompt adds to the first token's
wait (prompt tokens ÷ the model's prefill rate). The server divides every wait by its `speed`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from demo import judge, reasoning, tokens, writers
from demo.prompt import Prompt, read, stable_hash
from demo.reply import Failure, Reply
from demo.writers import Findings

Writer = Callable[[Prompt, Findings, str], str]


@dataclass(frozen=True)
class DemoModel:
    name: str
    summary: str  # what it shows, in a few words
    write: Writer
    ttft: float  # seconds before the first token, typically
    rate: float  # tokens a second, typically
    prefill: float  # prompt tokens read a second before the first token
    vision: bool = False
    outcome: Callable[[Prompt], str] = lambda prompt: "ok"
    thinks: bool = False  # streams its thinking first (demo/reasoning.py), as a reasoning model does


def flaky_outcome(prompt: Prompt | str) -> str:
    """What demo-flaky does with a prompt, decided by a hash of the last user message's text (so the same prompt
    always fares the same, and a reworded one may get through):

    - "rate-limited" (2 prompts in 10): HTTP 429 with `Retry-After: 1`;
    - "error" (1 in 10): HTTP 500;
    - "broken" (1 in 10): the reply streams about 40 % of its tokens, then an error event ends the stream
      (a non-streaming request gets the 500 at once);
    - "ok" (6 in 10): a plain answer.
    """
    text = prompt.text if isinstance(prompt, Prompt) else prompt
    bucket = stable_hash("demo-flaky", text.strip()) % 10
    return "rate-limited" if bucket < 2 else "error" if bucket == 2 else "broken" if bucket == 3 else "ok"


def _flaky(prompt: Prompt, found: Findings, name: str) -> str:
    return writers.plain(prompt, found, name, note=" that fails on purpose for 4 prompts in 10")


MODELS: dict[str, DemoModel] = {model.name: model for model in (
    DemoModel("demo-quick", "short and fast, sometimes wrong on arithmetic", writers.quick, 0.15, 120, 20_000),
    DemoModel("demo-thorough", "long structured Markdown, slower", writers.thorough, 1.2, 50, 4_000),
    DemoModel("demo-creative", "varied wording, seeded by the prompt", writers.creative, 0.5, 70, 8_000),
    DemoModel("demo-flaky", "rate-limited or failing on 4 prompts in 10", _flaky, 0.3, 80, 10_000,
              outcome=flaky_outcome),
    DemoModel("demo-vision", "describes images from their pixels", writers.vision, 0.8, 60, 6_000, vision=True),
    DemoModel("demo-judge", "grades replies by the demo's calculator and facts, leaning to the first shown",
              judge.write, 0.3, 100, 20_000),
    DemoModel("demo-reasoning", "thinks visibly before answering, longer at a higher reasoning effort",
              writers.plain, 0.4, 60, 10_000, thinks=True),
)}

RATE_LIMITED = ("Rate limit reached for demo-flaky: this demo model turns away 2 prompts in 10 on purpose, always the "
                "same ones. Try again in a second, or reword the prompt.")
FAILED = "demo-flaky failed on purpose (it fails on 1 prompt in 10 this way, always the same ones)."
BROKEN = "demo-flaky lost its connection part-way through the answer (on purpose, for 1 prompt in 10)."


def respond(model_name: str, request: Mapping) -> Reply | None:
    """The reply a chat request gets from a demo model, or None if no demo model has that name."""
    model = MODELS.get(model_name)
    if model is None:
        return None
    prompt = read(request.get("messages") or [], request.get("seed"))
    found = writers.find(prompt)
    prompt_tokens = (sum(tokens.count(text) + tokens.PER_MESSAGE for text in prompt.texts)
                     + sum(picture.tokens for _, picture in found.pictures if picture and not picture.error))
    outcome = model.outcome(prompt)
    if outcome == "rate-limited":
        return Reply((), prompt_tokens, failure=Failure(429, RATE_LIMITED, "rate_limit_error", "rate_limit_exceeded",
                                                        retry_after=1))
    if outcome == "error":
        return Reply((), prompt_tokens, failure=Failure(500, FAILED))
    if outcome == "broken" and not request.get("stream"):
        return Reply((), prompt_tokens, failure=Failure(500, BROKEN))
    pieces = tokens.split(model.write(prompt, found, model.name))
    thinking = tokens.split(reasoning.think(prompt, found, reasoning.effort_of(request.get("reasoning_effort")))) \
        if model.thinks else []
    finish = "stop"
    limit = _max_tokens(request)
    if limit is not None and len(thinking) >= limit:  # the thinking used the whole budget: no answer
        thinking, pieces, finish = thinking[:limit], [], "length"
    elif limit is not None and len(thinking) + len(pieces) > limit:
        pieces, finish = pieces[:limit - len(thinking)], "length"
    jitter = stable_hash(model.name, str(prompt.key))
    ttft = model.ttft * _spread(jitter) + prompt_tokens / model.prefill
    rate = model.rate * _spread(jitter >> 16)
    broken = outcome == "broken"
    return Reply(pieces, prompt_tokens, ttft=ttft, rate=rate, finish_reason=finish, thinking=thinking,
                 break_after=max(1, len(pieces) * 2 // 5) if broken else None,
                 break_failure=Failure(500, BROKEN) if broken else None)


def _spread(bits: int) -> float:
    """0.85–1.15, from a few bits of a hash."""
    return 0.85 + 0.3 * (bits % 1000) / 999


def _max_tokens(request: Mapping) -> int | None:
    for key in ("max_completion_tokens", "max_tokens"):
        value = request.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None
