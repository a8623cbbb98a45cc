"""Blind mode: which model wrote which reply stays hidden until the analyst has voted on the round.

While a round is hidden its panels are in an order shuffled for that round (seeded by the comparison and the round's
key, so every rerun and every replica shows the same order, also after another tab's round moved it down), models
are called "Model A", "Model B"… by their place, and what would give a model away is masked: its cost (prices differ
by model) and its own name where the reply or an error message spells it ("demo-quick · offline demo model"). The
analyst still knows which models were chosen, not which panel is which.

Blind is a property of the round (`Round.blind`, saved with it): a round sent blind stays blind until its owner's vote
on it, wherever it is shown (a reload, its link, the history, another tab), and `withheld()` is the copy of a
conversation that an export may name (its unvoted blind rounds under "Model A"…, without costs).
"""

from __future__ import annotations

import copy
import hashlib
import random
import re
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from gateway.conversation import Conversation, Round
from gateway.reply import Reply, ReplyError

HIDDEN_NAME = "[model]"


def shuffled(keys: Sequence[str], conversation_id: str, round_key: str) -> list[str]:
    """The round's panel order: the same for the same comparison and round (Round.key), different from round to
    round."""
    seed = int.from_bytes(hashlib.sha256(f"{conversation_id}:{round_key}".encode()).digest()[:8], "big")
    order = sorted(keys)  # independent of the order the models were picked in
    random.Random(seed).shuffle(order)
    return order


def alias(position: int) -> str:
    """`Model A`, `Model B`, … by the panel's place."""
    return f"Model {string.ascii_uppercase[position]}"


@dataclass(frozen=True)
class Blind:
    """How one round is shown: the panel order, and whether names are hidden (until the vote)."""

    order: tuple[str, ...]  # model keys, in panel order
    hidden: bool
    names: tuple[str, ...] = ()  # every spelling of the models' names to mask in text (keys, ids, display names)

    def label(self, key: str) -> str:
        """What a model is called on the page now."""
        return alias(self.order.index(key)) if self.hidden and key in self.order else key

    def arrange(self, items: Iterable[str]) -> list[str]:
        """Keys in panel order (keys not in this round after them, as given)."""
        given = list(items)
        return [k for k in self.order if k in given] + [k for k in given if k not in self.order]

    def mask(self, reply: Reply) -> Reply:
        """The reply as it may be shown now: unchanged when names are shown; else without its cost and with the
        models' names replaced in its text, its thinking and its error."""
        if not self.hidden:
            return reply
        shown = copy.copy(reply)
        shown.metrics = replace(reply.metrics, cost=None, cost_source=None)
        shown.text = self.scrub(reply.text)
        shown.thinking = self.scrub(reply.thinking)
        if reply.error is not None:
            shown.error = ReplyError(self.scrub(reply.error.message), self.scrub(reply.error.hint), reply.error.kind)
        return shown

    def scrub(self, text: str) -> str:
        if not self.hidden or not text or not self.names:
            return text
        pattern = "|".join(re.escape(n) for n in sorted(set(self.names), key=len, reverse=True) if n)
        return re.sub(pattern, HIDDEN_NAME, text, flags=re.IGNORECASE) if pattern else text


SHOWN = Blind((), hidden=False)  # blind mode off


def of_round(conversation: Conversation, round_: Round, hidden: bool, names: Sequence[str] = ()) -> Blind:
    """How a saved round is shown: in its own shuffled order, its names hidden when `hidden` (sent blind, no vote)."""
    return Blind(tuple(shuffled(round_.models, conversation.id, round_.key)), hidden, (*names, *round_.models))


def withheld(conversation: Conversation, still_blind: Iterable[str], names: Sequence[str] = ()) -> Conversation:
    """A copy of the conversation in which every round named in `still_blind` (keys of rounds sent blind and not yet
    voted on) names no model: its replies under "Model A", "Model B"… in the round's panel order, without costs,
    with the models' names masked in their text (`names`: other spellings to mask, as the catalogue has them). The
    copy lists no models and no diff pair (both name them); an export of it names no model at all."""
    keys = set(still_blind)
    if not keys.intersection(r.key for r in conversation.rounds):
        return conversation
    rounds = []
    for round_ in conversation.rounds:
        if round_.key not in keys:
            rounds.append(round_)
            continue
        blind = of_round(conversation, round_, True, names)
        runs = {blind.label(key): [replace(blind.mask(r), model=blind.label(key)) for r in round_.runs[key]]
                for key in blind.arrange(round_.runs)}
        params = {blind.label(key): value for key, value in round_.params.items()}
        rounds.append(replace(round_, runs=runs, params=params))
    return replace(conversation, rounds=rounds, models=[], diff=None)
