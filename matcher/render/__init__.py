"""Renderers of a portfolio summary: Rich table, Markdown, JSON, one self-contained HTML page."""

from __future__ import annotations

from datetime import UTC, datetime


def day(value: datetime | None) -> str:
    """'3 Feb 2026' (no leading zero, locale-independent)."""
    if value is None:
        return "-"
    if value.tzinfo is not None:  # every date shown is a UTC date, as the streaks count them
        value = value.astimezone(UTC)
    return f"{value.day} {value:%b %Y}"


def stars(n: int | None) -> str:
    """12 -> '12', 1534 -> '1.5k', 130000 -> '130k'."""
    if n is None:
        return ""
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return str(n)


def changes(additions: int | None, deletions: int | None) -> str:
    if additions is None and deletions is None:
        return "n/a"
    return f"+{additions or 0:,} -{deletions or 0:,}"
