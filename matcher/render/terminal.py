"""The portfolio in a terminal: a Rich header panel and a table of contributions."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from matcher.portfolio import Summary, concentration, next_step, ramp_text
from matcher.render import capped, changes, closed_issue, day, stars


def portfolio_renderable(summary: Summary) -> Group:
    s = summary
    head = Text()
    head.append(f"@{s.login}", style="bold")
    head.append(
        "  verified" if s.verified else "  UNVERIFIED: not evidence",
        style="green" if s.verified else "bold red",
    )
    if s.pending_login:
        head.append(
            f"  (@{s.pending_login} linked, not yet verified: "
            "it replaces this login once verified)",
            style="yellow",
        )
    head.append(f"\n{s.headline}", style="bold")
    head.append(
        f"\n{s.merged} merged PRs in {s.repos_count} repositories, "
        f"+{s.additions:,} -{s.deletions:,} lines"
    )
    if s.reverted:
        head.append(f" ({s.reverted} reverted, not counted)", style="yellow")
    if s.first_merge:
        head.append(
            f"\nfirst merge {day(s.first_merge)}, latest {day(s.latest_merge)}; "
            f"merges in {s.active_weeks} weeks; weekly streak now {s.current_streak_weeks}, "
            f"longest {s.longest_streak_weeks}"
        )
    where, ramp, step = concentration(s), ramp_text(s), next_step(s)
    if where:
        head.append(f"\nfocus: {where}")
    if ramp:
        head.append(f"\nramp: {ramp}")
    if step:
        head.append(f"\nnext step: {step.text}" + (f" {step.url}" if step.url else ""))
    if s.niches:
        head.append(f"\nniches: {capped(s.niches)}")
    if s.languages:
        head.append(f"\nlanguages: {capped(s.languages)}")
    if s.labels:
        head.append(f"\nkinds of work: {capped(s.labels, 6)}")
    if s.funnel:
        f = s.funnel
        head.append(
            f"\nsuggestions: {f.suggested} suggested, {f.interested} interested, "
            f"{f.working} working on it, {f.merged} merged"
        )

    table = Table(show_lines=False, expand=True)
    table.add_column("Merged", no_wrap=True)
    table.add_column("Repository", overflow="fold", max_width=28)
    table.add_column("Pull request", min_width=30, ratio=1)
    table.add_column("Changes", justify="right", no_wrap=True)
    for e in s.entries:
        c = e.contribution
        repo = c.repo + (f" ★{stars(c.repo_stars)}" if c.repo_stars is not None else "")
        title = Text(f"{c.title} (#{c.number})", style=f"link {c.url}")
        if e.suggested_at:
            title.append(
                f"\nsuggested on {day(e.suggested_at)}, merged on {day(c.merged_at)}",
                style="cyan",
            )
        if c.closes:
            title.append(f"\ncloses {closed_issue(c.closes[0], c.repo)}", style="dim")
        if c.labels:
            title.append(f"\nlabels: {', '.join(c.labels)}", style="dim")
        if c.reverted:
            title.append("\nreverted, not counted", style="yellow")
        table.add_row(
            Text(day(c.merged_at), style="strike" if c.reverted else ""),
            repo,
            title,
            changes(c.additions, c.deletions),
        )
    if not s.entries:
        return Group(Panel(head, title="Contributions", expand=False), Text(_next_step(s)))
    return Group(Panel(head, title="Contributions", expand=False), table)


def _next_step(s: Summary) -> str:
    if s.next_issue is not None:
        n = s.next_issue
        return f"Next: your suggested issue {n.title or ''} {n.url}".replace("  ", " ")
    return "Next: pick an issue with `python -m matcher match` or /suggest in Discord."


def print_portfolio(summary: Summary, console: Console | None = None) -> None:
    (console or Console()).print(portfolio_renderable(summary))
