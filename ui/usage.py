"""The usage page's sections: my spend and tokens, my own proxy key as LiteLLM accounts for it, and the team's
usage for admins. Numbers come from gateway/usage.py (the ledger's groups as tables) and gateway/budget.py."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from gateway import sending, usage
from gateway.analyst import Analyst
from gateway.budget import Budget
from gateway.config import Settings
from gateway.errors import GatewayError
from gateway.keyinfo import fetch_key_info
from gateway.sending import Sender
from gateway.store import Store, Unavailable
from gateway.usage import PERIOD_KEYS, Col, Period
from ui.downloads import download_button
from ui.format import count, spend, spend_short, tokens, usd
from ui.markdown import escape_dollars, inline_code, plain
from ui.usage_charts import cost_by_day, per_model

MONEY = {Col.COST: st.column_config.NumberColumn(Col.COST, format="$%.4f"),
         Col.ESTIMATED: st.column_config.NumberColumn(Col.ESTIMATED, format="$%.4f"),
         Col.COST_PER_REPLY: st.column_config.NumberColumn(Col.COST_PER_REPLY, format="$%.5f"),
         Col.TTFT: st.column_config.NumberColumn(Col.TTFT, format="%.2f"),
         Col.TOTAL: st.column_config.NumberColumn(Col.TOTAL, format="%.2f")}


def _clock() -> tuple[float, dict[str, Period], float]:
    """Now, the periods in the browser's time zone, and that zone's offset (for the ledger's days)."""
    now = time.time()
    zone = usage.zone(st.context.timezone)
    return now, usage.periods(now, zone), usage.offset(zone, now)


def _period(key: str, periods: dict[str, Period], default: str = "month") -> Period:
    chosen = st.segmented_control("Period", PERIOD_KEYS, default=default, key=key,
                                  format_func=lambda k: periods[k].label, label_visibility="collapsed")
    return periods[chosen or default]


def my_usage(store: Store, settings: Settings, me: Analyst) -> None:
    """My spend and tokens today, this week and this month; my budget; then the chosen period by model and day."""
    now, periods, offset = _clock()
    earliest = min(p.since for p in periods.values())
    found = store.usage(me.id, since=earliest, until=now + 1, offset=offset)
    if isinstance(found, Unavailable):
        st.error(f"Usage cannot be read now: {plain(found)}", icon=":material/cloud_off:")
        return
    rows = usage.frame(found)

    for column, key in zip(st.columns(3), ("day", "week", "month")):
        period = periods[key]
        shown = usage.totals(usage.within(rows, period))
        column.metric(f"My spend · {period.label.lower()}", spend_short(shown.cost, shown.unpriced),
                      help=escape_dollars(f"{spend(shown.cost, shown.unpriced)}; "
                                          f"{count(shown.replies, 'reply', 'replies')}, {shown.tokens:,} tokens"
                                          + (f"; {usd(shown.estimated)} estimated from catalogue prices"
                                             if shown.estimated else "")))
        column.caption(f"{tokens(shown.tokens)} tokens · {count(shown.replies, 'reply', 'replies')}"
                       + (f" · {count(shown.unpriced, 'reply', 'replies')} without a price" if shown.unpriced
                          else ""))
    _budget(store, settings, me)

    st.subheader("By model and by day")
    period = _period("usage_period", periods)
    _breakdown(usage.within(rows, period), series=Col.MODEL, download="my-usage.csv")


def _budget(store: Store, settings: Settings, me: Analyst) -> None:
    if settings.monthly_budget(me.id) is None:
        return
    budget = sending.budget(Sender(me.id, "usage", admin=me.admin), settings, store)
    if budget is None or budget.limit is None:
        st.caption(":material/cloud_off: Your budget cannot be checked now: saved work cannot be read.")
        return
    fraction = budget.fraction or 0.0
    st.progress(min(fraction, 1.0), text=escape_dollars(
        f"Monthly budget (calendar month, UTC): {usd(budget.spent)} of {usd(budget.limit)} ({fraction:.0%})"
        + (" · admins are not held to it" if me.admin else "")))
    st.caption(escape_dollars(unpriced_policy(settings, budget)))
    if message := budget.message():
        (st.error if budget.level == "refused" else st.warning)(escape_dollars(message), icon=":material/savings:")


def unpriced_policy(settings: Settings, budget: Budget | None = None) -> str:
    """How replies from models without a price count against budgets, in words."""
    rate = settings.unpriced_usd_per_1k_tokens
    if not rate:
        return ("Replies from models without a price count as $0 against budgets "
                "(UNPRICED_USD_PER_1K_TOKENS is 0).")
    so_far = f" This month: {usd(budget.unpriced)} of your spend is such replies." if budget and budget.unpriced \
        else ""
    return (f"Replies from models without a price count against budgets at {usd(rate)} per 1,000 tokens (prompt "
            f"and reply; UNPRICED_USD_PER_1K_TOKENS).{so_far}")


def _breakdown(rows: pd.DataFrame, *, series: str, download: str) -> None:
    """Totals, the chart by day, per-model tables, the slowest and most expensive models, and the CSV."""
    if rows.empty:
        st.info("Nothing was sent in this period.", icon=":material/hourglass_empty:")
        return
    shown = usage.totals(rows)
    notes = []
    if shown.estimated:
        notes.append(f"{usd(shown.estimated)} of {usd(shown.cost)} is estimated from catalogue prices (the proxy "
                     "gave no cost)")
    if shown.unpriced:
        notes.append(f"{count(shown.unpriced, 'reply', 'replies')} without a price count against budgets at the "
                     "assumed rate")
    if shown.failed:
        notes.append(f"{shown.failed} of {count(shown.replies, 'reply', 'replies')} failed")
    st.caption(escape_dollars(f"{spend(shown.cost, shown.unpriced)} · {shown.tokens:,} tokens · "
                              f"{count(shown.replies, 'reply', 'replies')}"
                              + "".join(f" · {n}" for n in notes)))
    st.altair_chart(cost_by_day(usage.by_day(rows, series), series), width="stretch")

    models = usage.summary(rows, [Col.MODEL])
    cost_col, tokens_col = st.columns(2)
    cost_col.altair_chart(per_model(models, Col.COST, "Cost ($)", "$.4f"), width="stretch")
    tokens_col.altair_chart(per_model(models, Col.TOKENS, "Tokens", ","), width="stretch")
    st.dataframe(usage.table(rows, [Col.MODEL]), hide_index=True, placeholder="—", column_config=MONEY,
                 key=f"{download}-models")

    slow_col, dear_col = st.columns(2)
    slow_col.markdown("**Slowest models** (mean time to first token)")
    slow_col.dataframe(usage.slowest(rows), hide_index=True, column_config=MONEY, key=f"{download}-slowest")
    dear_col.markdown("**Most expensive models**")
    dear_col.dataframe(usage.most_expensive(rows), hide_index=True, column_config=MONEY, key=f"{download}-dearest")
    download_button(st, "CSV", lambda: usage.csv(rows), download, "text/csv", key=f"{download}-csv",
                    help="One row per day, analyst and model")


def key_section(settings: Settings) -> None:
    """The analyst's own LiteLLM key (when `[analyst_keys]` gives them one) as the proxy accounts for it."""
    if settings.shared_api_key is None:
        return
    st.subheader("Your proxy key")
    info = fetch_key_info(settings)
    if isinstance(info, GatewayError):
        st.caption(f":material/info: {plain(info.message)}" + (f" {plain(info.hint)}" if info.hint else ""))
        return
    spend_col, budget_col, reset_col = st.columns(3)
    spend_col.metric("Spend (LiteLLM)", usd(info.spend), help="What the proxy counted for your key"
                     + (f" in the current {plain(info.budget_duration)} window" if info.budget_duration else ""))
    budget_col.metric("Key budget", usd(info.max_budget) if info.max_budget is not None else "none",
                      help="LiteLLM refuses requests once the key's spend reaches it")
    reset_col.metric("Budget resets", info.budget_reset_at.strftime("%d %b %Y %H:%M UTC")
                     if info.budget_reset_at else "—")
    if info.fraction is not None:
        st.progress(min(info.fraction, 1.0), text=f"Key budget used: {info.fraction:.0%}")
    if info.models:
        st.caption(f"Models this key may use: {', '.join(inline_code(m) for m in info.models)}")


class _Unreadable(Exception):
    """The ledger could not be read (st.cache_data caches no exception, so a failure is tried again next time)."""


def _next_minute(now: float) -> float:
    return (now // 60 + 1) * 60


@st.cache_data(ttl=60, max_entries=32, show_spinner=False)
def _team_rows(_store: Store, database: str, since: float, until: float, offset: float) -> pd.DataFrame:
    """The team's groups as a table, shared by every admin's session for a minute: with a big team it is the
    heaviest read of the page (bench/usage.py), and each click on the page reruns it."""
    found = _store.usage(None, since=since, until=until, offset=offset)
    if isinstance(found, Unavailable):
        raise _Unreadable(str(found))
    return usage.frame(found)


def team_usage(store: Store, settings: Settings) -> None:
    """For admins: the whole team per analyst and per model, over a chosen period."""
    st.divider()
    st.header("Team")
    st.caption("Every analyst's replies, per analyst and per model (costs only: nobody's conversations). "
               "Read again every minute.")
    now, periods, offset = _clock()
    period = _period("usage_team_period", periods)
    try:
        rows = _team_rows(store, store.database, period.since, _next_minute(now), offset)
    except _Unreadable as problem:
        st.error(f"Usage cannot be read now: {plain(problem)}", icon=":material/cloud_off:")
        return
    shown = usage.totals(rows)
    spend_col, tokens_col, replies_col, people_col = st.columns(4)
    spend_col.metric(f"Team spend · {period.label.lower()}", usd(shown.cost))
    tokens_col.metric("Tokens", f"{shown.tokens:,}")
    replies_col.metric("Replies", f"{shown.replies:,}")
    people_col.metric("Analysts", rows[Col.ANALYST].nunique())
    if rows.empty:
        st.info("Nobody sent anything in this period.", icon=":material/hourglass_empty:")
        return
    analysts = usage.table(rows, [Col.ANALYST])
    analysts["Monthly budget ($)"] = [settings.monthly_budget(a) for a in analysts[Col.ANALYST]]
    st.markdown("**Per analyst**")
    st.dataframe(analysts, hide_index=True, placeholder="—", column_config=MONEY, key="team-analysts")
    st.altair_chart(cost_by_day(usage.by_day(rows, Col.ANALYST), Col.ANALYST), width="stretch")
    st.markdown("**Per model**")
    st.dataframe(usage.table(rows, [Col.MODEL]), hide_index=True, placeholder="—", column_config=MONEY,
                 key="team-models")
    download_button(st, "Team CSV", lambda: usage.csv(rows), "team-usage.csv", "text/csv", key="team-csv",
                    help="One row per day, analyst and model")
