"""A reply drawn while it streams: settled Markdown blocks are sent to the browser once, only the tail is re-sent.

`st.markdown` in a placeholder re-sends the whole text on every update: about 1 MB over the websocket for a
3,000-token reply drawn 20 times a second. Here each finished block (see `gateway.blocks`) gets its own element,
sent once, and only the unfinished last block is sent again: about 2× the text in all. At the end the page draws
the whole reply into the same slot as one Markdown element, so it renders exactly as it will on every later rerun.

Measured (a bare app streaming 17 KB over 5 s): the browser's CPU falls by only ~20%, because Streamlit's frontend
still re-renders every element of the reply on each update; the pace of updates is what bounds the browser's work
(see `ChatStream.batched(resend_rate=...)`).
"""

from __future__ import annotations

import time
from typing import Any

from gateway.blocks import settled_length
from gateway.reply import Reply
from ui.markdown import displayable
from ui.reply import draw_thinking, thinking_tail

CURSOR = " ▌"
THINKING_REFRESH = 0.25  # seconds between redraws of a thought while it streams, at the least


class LiveMarkdown:
    """A growing Markdown reply in a placeholder (`st.empty()`): call `update(text)` as text arrives."""

    def __init__(self, slot, image_hosts: frozenset[str] = frozenset()) -> None:
        self._slot = slot
        self._hosts = image_hosts  # REPLY_IMAGE_HOSTS: every block is made safe on its own (ui/markdown.py)
        self._blocks: Any = None  # the container of the reply's blocks, once the first text arrives
        self._tail: Any = None  # the placeholder of the unfinished last block
        self.settled = 0  # characters drawn for good: the next update re-sends only what follows

    def update(self, text: str) -> None:
        if self._blocks is None or self._tail is None:
            self._blocks = self._slot.container()
            self._tail = self._blocks.empty()
        end = settled_length(text, self.settled)
        if end > self.settled:  # the blocks that just finished: drawn for good where the tail was, a new tail below
            self._tail.markdown(displayable(text[self.settled:end], self._hosts))
            self._tail = self._blocks.empty()
            self.settled = end
        self._tail.markdown(displayable(text[self.settled:], self._hosts) + CURSOR)


class LiveReply:
    """A growing reply of any model in a placeholder: a reasoning model's thinking streams into an open box above
    the answer (its latest THINKING_TAIL characters: a long thought is not redrawn whole on every update) and folds
    into a closed expander, all of it, as soon as the answer starts, so the answer is never slowed by redrawing the
    thinking. Call `update(reply)`."""

    def __init__(self, slot, image_hosts: frozenset[str] = frozenset()) -> None:
        self._hosts = image_hosts
        box = slot.container()
        self._thinking_slot = box.empty()
        self._answer = LiveMarkdown(box.empty(), image_hosts)
        self._thought: Any = None  # the open box's placeholder while the model thinks
        self._folded = False
        self._drawn = 0.0  # when the open thinking was last drawn

    def update(self, reply: Reply) -> None:
        if reply.thinking and not reply.text:
            if self._thought is None:
                box = self._thinking_slot.container(border=True)
                box.caption(":material/psychology: Thinking…")
                self._thought = box.empty()
            elif time.perf_counter() - self._drawn < THINKING_REFRESH:
                return  # the thinking is redrawn a few times a second at most: the browser's work goes to the answer
            self._thought.markdown(displayable(thinking_tail(reply.thinking), self._hosts) + CURSOR)
            self._drawn = time.perf_counter()
        elif reply.thinking and not self._folded:  # the answer has begun: the thinking folds away, drawn once
            draw_thinking(reply, self._thinking_slot.container(), self._hosts)
            self._folded = True
        if reply.text:
            self._answer.update(reply.text)
