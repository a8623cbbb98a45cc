"""`GET /api/usage`: the caller's own usage (or, for admins, the team's) over one of the usage page's periods.

The numbers are the page's: the ledger's groups (`Store.usage`, gateway/store/usage.py) made into tables by
gateway/usage.py (`frame`, `within`, `totals`, `table`), over the same periods (`usage.periods`: today, this week,
this month, the last 7, 30 or 90 days) in the caller's time zone (`tz`, an IANA name; UTC when not given, where the
page uses the browser's). `scope=team` is for admins (`ADMIN_EMAILS`), as the page's team section; anyone else gets
403. Costs only, never anybody's conversations.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from starlette.responses import Response

from api.http import ApiError, Call, json_response
from gateway import usage
from gateway.budget import month
from gateway.store import Unavailable, get_store
from gateway.usage import Col

DEFAULT_PERIOD = "month"  # as the page
SCOPES = ("me", "team")
# The page's columns (gateway.usage.Col) under the API's field names, in the page's order.
FIELDS = {Col.DAY: "day", Col.ANALYST: "analyst", Col.MODEL: "model", Col.REPLIES: "replies", Col.FAILED: "failed",
          Col.TOKENS: "tokens", Col.PROMPT_TOKENS: "promptTokens", Col.COMPLETION_TOKENS: "completionTokens",
          Col.COST: "cost", Col.ESTIMATED: "estimatedCost", Col.COST_PER_REPLY: "costPerReply",
          Col.TTFT: "meanTtft", Col.TOTAL: "meanTotal", Col.UNPRICED: "unpriced"}


def time_zone(name: str | None) -> dt.tzinfo:
    """The `tz` query's zone (an IANA name), UTC when none is given; a name that is not a zone is refused (the page
    falls back to UTC for a browser's odd zone; a script that names one should hear that it is wrong)."""
    if not name:
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApiError(400, f"tz={name[:60]!r} is not a time zone.", kind="bad_request",
                       hint="Give an IANA name such as Europe/Paris or America/New_York (UTC when left out).") \
            from None


def rows_json(table: pd.DataFrame) -> list[dict[str, Any]]:
    """A page table (gateway.usage.table) as JSON objects; days as ISO dates, unknown means as null."""
    found = []
    for record in table.to_dict("records"):
        item: dict[str, Any] = {}
        for column, value in record.items():
            name = FIELDS.get(str(column), str(column))
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, float) and math.isnan(value):
                value = None
            elif hasattr(value, "item"):  # numpy numbers
                value = value.item()
            item[name] = value
        found.append(item)
    return found


def totals_json(rows: pd.DataFrame) -> dict[str, Any]:
    shown = usage.totals(rows)
    return {"cost": shown.cost, "estimatedCost": shown.estimated, "tokens": shown.tokens, "replies": shown.replies,
            "failed": shown.failed, "unpriced": shown.unpriced}


def usage_answer(call: Call, *, scope: str, period_key: str, tz: dt.tzinfo, now: float) -> dict[str, Any]:
    """The answer's body (raises ApiError for a period that is not one, a team view asked by a non-admin, or a
    ledger that cannot be read now)."""
    periods = usage.periods(now, tz)
    if period_key not in periods:
        raise ApiError(400, f"period={period_key[:40]!r} is not one of {', '.join(periods)}.",
                       hint="day (today), week (from Monday), month (this calendar month), 7d, 30d or 90d; "
                            f"{DEFAULT_PERIOD} when left out.")
    period = periods[period_key]
    me = call.analyst
    team = scope == "team"
    store = get_store(call.settings)
    found = store.usage(None if team else me.id, since=period.since, until=period.until,
                        offset=usage.offset(tz, now))
    if isinstance(found, Unavailable):
        raise ApiError(503, f"Usage cannot be read now: {found}", kind="unavailable",
                       hint="The app's database is not answering; try again in a moment.")
    rows = usage.within(usage.frame(found), period)
    answer: dict[str, Any] = {
        "scope": scope,
        "analyst": me.id,
        "period": {"key": period_key, "label": period.label, "firstDay": period.first_day.isoformat(),
                   "since": dt.datetime.fromtimestamp(period.since, tz).isoformat(timespec="seconds"),
                   "until": dt.datetime.fromtimestamp(period.until, tz).isoformat(timespec="seconds"),
                   "timeZone": str(tz)},
        "totals": totals_json(rows),
        "models": rows_json(usage.table(rows, [Col.MODEL])),
        "days": rows_json(usage.table(rows, [Col.DAY]).sort_values(Col.DAY)),
    }
    if team:
        analysts = usage.table(rows, [Col.ANALYST])
        answer["analysts"] = [{**row, "monthlyBudget": call.settings.monthly_budget(row["analyst"])}
                              for row in rows_json(analysts)]
    else:
        answer["budget"] = _budget(call, store)
    return answer


def _budget(call: Call, store: Any) -> dict[str, Any] | None:
    """The caller's monthly budget (calendar month, UTC) and what this month cost so far, as the page's bar."""
    limit = call.settings.monthly_budget(call.analyst.id)
    if limit is None:
        return None
    since, until = month(time.time())
    spent = store.spent(call.analyst.id, since=since, until=until)
    return {"limit": limit, "spent": None if isinstance(spent, Unavailable) else spent,
            "exempt": call.analyst.admin}


def usage_endpoint(call: Call) -> Response:
    """GET /api/usage[?period=month&tz=Europe/Paris&scope=me|team]"""
    query = call.request.query_params
    scope = query.get("scope") or "me"
    if scope not in SCOPES:
        raise ApiError(400, f"scope={scope[:40]!r} is not me or team.",
                       hint="me (your own usage, the default) or team (every analyst's; admins only).")
    if scope == "team" and not call.analyst.admin:
        raise ApiError(403, "The team's usage is for admins only.", kind="forbidden",
                       hint="Leave scope out (or scope=me) for your own usage; admins are listed in ADMIN_EMAILS "
                            "where the app runs.")
    tz = time_zone(query.get("tz"))
    answer = usage_answer(call, scope=scope, period_key=query.get("period") or DEFAULT_PERIOD, tz=tz,
                          now=time.time())
    return json_response(answer, settings=call.settings)
