"""Renderers of a portfolio summary: Rich table, Markdown, JSON, one self-contained HTML page."""

from __future__ import annotations

from datetime import UTC, datetime


def day(value: datetime | None) -> str:
    """'3 Feb 2026' (no leading zero, locale-independent), '-' for none."""
    from matcher.portfolio import calendar_day  # the portfolio loads the store: not for --help

    # every date shown is a UTC date, as the streaks count them
    return "-" if value is None else calendar_day(value)


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


def closed_issue(url: str, repo: str) -> str:
    """'#30010' for an issue of the same repository, 'owner/name#12' for another."""
    parts = url.rstrip("/").split("/")
    if len(parts) < 4 or not parts[-1].isdigit():
        return url
    other = f"{parts[-4]}/{parts[-3]}"
    return f"#{parts[-1]}" if other.lower() == repo.lower() else f"{other}#{parts[-1]}"


def month(value: datetime | None) -> str:
    """'Feb 2026'."""
    if value is None:
        return "-"
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return f"{value:%b %Y}"


def capped(pairs, limit: int = 3, *, counts: bool = True) -> str:
    """'NLP (31), speech (23), data tooling (4) +1 more': at most `limit`, the rest counted."""
    items = [f"{name} ({n})" if counts else str(name) for name, n in pairs]
    shown = ", ".join(items[:limit])
    return shown + (f" +{len(items) - limit} more" if len(items) > limit else "")


def short_names(repos: list[str]) -> list[str]:
    """'huggingface/transformers' -> 'transformers' unless two repositories share the name."""
    names = [r.split("/")[-1] for r in repos]
    return [
        n if names.count(n) == 1 or r.startswith("+") else r
        for n, r in zip(names, repos, strict=True)
    ]
