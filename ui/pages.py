"""The app's pages: the one list the sidebar, the home page and every page's setup read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    path: str  # the script, as st.page_link and st.switch_page want it
    label: str
    icon: str
    help: str = ""


HOME = Page("home.py", "Home", ":material/home:")
CHAT = Page("pages/chat.py", "Chat", ":material/chat:", "Stream any model, with its numbers")
COMPARE = Page("pages/compare.py", "Compare", ":material/compare_arrows:", "Several models, one prompt, side by side")
MODELS = Page("pages/models.py", "Models", ":material/table_view:",
              "Providers, context windows, prices, capabilities")
HEALTH = Page("pages/health.py", "Proxy health", ":material/monitor_heart:",
              "Is the gateway up, and what to do when it is not")
LEADERBOARD = Page("pages/leaderboard.py", "Leaderboard", ":material/leaderboard:",
                   "Which model the team prefers, from votes, with confidence, speed and cost")
EVALUATE = Page("pages/evaluate.py", "Evaluate", ":material/fact_check:",
                "Run a prompt set against several models, with checks, cost quote and resume")
USAGE = Page("pages/usage.py", "Usage", ":material/payments:",
             "What you (and, for admins, the team) spent, by model and day")
PROMPTS = Page("pages/prompts.py", "Prompt library", ":material/library_books:",
               "Saved prompts and system prompts, yours and the team's, with {{variables}}")
SHARED = Page("pages/shared.py", "Shared links", ":material/share:",
              "Read-only links to your chats, comparisons and runs, with their views")
# The browser tab's icon, the same on every page. An emoji: Streamlit draws it as an inline SVG, where a
# ":material/…:" icon (fine for the sidebar's links, drawn with a font Streamlit serves) makes the browser fetch the
# favicon from fonts.gstatic.com, a request leaving the network on every page.
FAVICON = "📊"
PAGES = (HOME, CHAT, COMPARE, MODELS, HEALTH, LEADERBOARD, EVALUATE, USAGE, PROMPTS, SHARED)
