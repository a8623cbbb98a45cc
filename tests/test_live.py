"""Drawing a reply while it streams (ui/live.py): finished blocks are sent once, only the tail again and again."""

from tests.support.upstream import essay
from ui.live import CURSOR, LiveMarkdown


class Placeholder:
    """Stands in for `st.empty()`: remembers what it shows and counts what was sent to the browser."""

    def __init__(self, page: "Page") -> None:
        self.page, self.text = page, None

    def markdown(self, text: str) -> None:
        self.text = text
        self.page.sent += len(text)

    def container(self) -> "Container":
        return Container(self.page)


class Container:
    def __init__(self, page: "Page") -> None:
        self.page = page

    def empty(self) -> Placeholder:
        placeholder = Placeholder(self.page)
        self.page.elements.append(placeholder)
        return placeholder


class Page:
    def __init__(self) -> None:
        self.sent, self.elements = 0, []

    def shown(self) -> str:
        return "".join(p.text or "" for p in self.elements)


def test_the_page_shows_everything_so_far_with_a_cursor():
    page = Page()
    live = LiveMarkdown(Placeholder(page))
    live.update("First paragraph.\n\nSecond, still")
    assert page.shown() == "First paragraph.\n\nSecond, still" + CURSOR
    assert live.settled == len("First paragraph.\n\n")


def test_a_long_reply_is_sent_about_once_not_once_per_update():
    page, text = Page(), ""
    live = LiveMarkdown(Placeholder(page))
    updates = 0
    for index, piece in enumerate(essay(3000)):
        text += piece
        if index % 20 == 0:  # ~every 50 ms at 400 tokens a second
            live.update(text)
            updates += 1
    live.update(text)
    assert page.shown() == text.replace("$", r"\$") + CURSOR
    whole_each_time = sum(range(0, len(text), len(text) // updates))  # what redrawing the whole text would send
    assert page.sent < 3 * len(text)  # each block is redrawn only while it grows
    assert whole_each_time > 20 * page.sent
