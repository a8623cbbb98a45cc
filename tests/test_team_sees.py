"""What the team sees, said where an analyst acts: the vote form says its tag is listed for everyone (and the comment
is not); an evaluation run's link that is not the analyst's says so, as the other links do."""

from __future__ import annotations

from tests.support.pages import open_page
from ui.vote import TEAM_SEES


def test_the_vote_form_says_the_tag_is_seen_by_the_team_and_the_comment_is_not(app_env):
    at = open_page("pages/compare.py", models="upstream-echo,demo-fast")
    at.chat_input(key="compare_prompt").set_value("Hi there").run()
    assert not at.exception, at.exception
    assert TEAM_SEES in [c.value for c in at.caption]
    assert "your tag is listed there for everyone" in TEAM_SEES and "Your comment" in TEAM_SEES


def test_a_run_link_that_is_not_yours_says_so_even_when_you_have_no_runs(app_env):
    at = open_page("pages/evaluate.py", run="0123456789abcdef0123456789abcdef")
    assert "No run of yours has that link." in [w.value for w in at.warning]
