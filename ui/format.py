"""How numbers look on the pages."""

from __future__ import annotations


def ago(seconds: float | None) -> str:
    """`just now`, `42 s ago`, `3 min ago`, `2 h ago`."""
    if seconds is None:
        return "never"
    if seconds < 5:
        return "just now"
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def tokens(count: int | None) -> str:
    """128000 → `128k`, 1048576 → `1M`, None → `—`."""
    if not count:
        return "—"
    if count >= 1_000_000:
        return f"{count / 1_000_000:.3g}M"
    if count >= 1000:
        return f"{count / 1000:.3g}k"
    return str(count)


def usd(amount: float | None) -> str:
    """A cost in dollars with enough digits to tell small amounts apart."""
    if amount is None:
        return "—"
    if amount == 0:
        return "$0"
    if amount < 0.01:
        return f"${amount:.6f}".rstrip("0")
    return f"${amount:,.4f}".rstrip("0").rstrip(".")


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def count(number: int, singular: str, plural: str | None = None) -> str:
    """`1 word`, `2 words`, `1,200 replies` (`plural` when adding an s is wrong)."""
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"


def spend(cost: float | None, unpriced: int = 0) -> str:
    """A total cost that may leave replies out: `$1.20`; `$1.20 + 3 replies without a price`; `— (3 replies without
    a price)` when none had one. Never `$0` for what is unknown: `$0` only when every reply had a price."""
    if not unpriced:
        return usd(cost)
    without = f"{count(unpriced, 'reply', 'replies')} without a price"
    return f"{usd(cost)} + {without}" if cost else f"— ({without})"


def spend_short(cost: float | None, unpriced: int = 0) -> str:
    """As `spend`, for a metric's value: `$1.20+` when replies without a price are left out, `—` when none had one."""
    if not unpriced:
        return usd(cost)
    return f"{usd(cost)}+" if cost else "—"
