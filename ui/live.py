"""A reply drawn while it streams: settled Markdown blocks are sent to the browser once, only the tail is re-sent.

`st.markdown` in a placeholder re-sends (and the browser re-parses) the whole text on every update, which for a long,
fast reply costs the browser more than the reply itself. Here each finished block (see `gateway.blocks`) gets its own
element, drawn once, and only the unfinished last block is redrawn. At the end the page draws the whole reply into
the same slot as one Markdown element, so it renders exactly as it will on every later rerun.
"""

from __future__ import annotations

from gateway.blocks import settled_length
from gateway.conversation import displayable

CURSOR = " ▌"


class LiveMarkdown:
    """A growing Markdown reply in a placeholder (`st.empty()`): call `update(text)` as text arrives."""

    def __init__(self, slot) -> None:
        self._slot = slot
        self._blocks = None
        self._tail = None
        self.settled = 0  # characters drawn for good: the next update re-sends only what follows

    def update(self, text: str) -> None:
        if self._blocks is None:
            self._blocks = self._slot.container()
            self._tail = self._blocks.empty()
        end = settled_length(text, self.settled)
        if end > self.settled:  # the blocks that just finished: drawn for good where the tail was, a new tail below
            self._tail.markdown(displayable(text[self.settled:end]))
            self._tail = self._blocks.empty()
            self.settled = end
        self._tail.markdown(displayable(text[self.settled:]) + CURSOR)
