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
