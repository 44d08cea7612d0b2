"""The terminal: ranked matches (one block per match), and the portfolio (a Rich header panel
and a table of contributions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from matcher.models import Match
from matcher.render import capped, changes, closed_issue, day, stars
from matcher.render.console import console as terminal_console
from matcher.render.console import trimmed

if TYPE_CHECKING:  # the portfolio (store, GitHub client) is imported to show one, not by match
    from matcher.portfolio import Summary


def portfolio_renderable(summary: Summary) -> Group:
    """The header panel and the table; the private lines only on the learner's own summary."""
    from matcher.portfolio import concentration, next_step, owns, ramp_text

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
    own = f" ({len(s.own_repos)} own)" if s.own_repos else ""
    head.append(
        f"\n{s.merged} merged PRs in {s.repos_count} repositories{own}, "
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
        repo += " (own)" if owns(s.login, c.repo) else ""
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
    panel = Panel(head, title=_title(s), expand=False)
    if not s.entries:
        return Group(panel) if s.is_public else Group(panel, Text(_next_step(s)))
    return Group(panel, table)


def _title(s: Summary) -> str:
    return "Contributions (public part)" if s.is_public else "Contributions"


def _next_step(s: Summary) -> str:
    if s.next_issue is not None:
        n = s.next_issue
        return f"Next: your suggested issue {n.title or ''} {n.url}".replace("  ", " ")
    return "Next: pick an issue with `python -m matcher match` or /suggest in Discord."


def print_portfolio(summary: Summary, console: Console | None = None) -> None:
    console = console or terminal_console()
    console.print(trimmed(console, portfolio_renderable(summary)))


# --- matches ------------------------------------------------------------------------------------
DEMO_CAPTION = (
    "DEMO DATA: invented issues in real repositories; the issue numbers do not exist on GitHub. "
    "Run `python -m matcher sync` or `import` a snapshot for real issues."
)


def _match_lines(matches: list[Match], demo: bool) -> list[tuple[RenderableType, bool]]:
    """Each match as a block: rank, score, repo#number, title, URL, reasons.

    The flag marks lines that must never be wrapped or cut (the URL, the header naming the issue),
    so a copied link works at any terminal width. Demo issues say "demo" after their name.
    """
    parts: list[tuple[RenderableType, bool]] = [
        (Text("Your best first issues", style="bold underline"), False)
    ]
    if demo:
        parts.append((Text(DEMO_CAPTION, style="bold yellow"), False))
    for n, match in enumerate(matches, 1):
        issue = match.issue
        header = Text.assemble(
            (f"{n:>2}. ", "bold"),
            (f"{match.score:.2f}  ", "cyan"),
            (f"{issue.repo}#{issue.number}", "bold"),
            ("  demo" if issue.demo else "", "yellow"),
        )
        title = Text(issue.title, style=f"link {issue.url}")
        reasons = Text("\n".join(f"- {reason}" for reason in match.reasons), style="green")
        parts += [
            (Text(""), False),
            (header, True),
            (Padding(title, (0, 0, 0, 4), expand=False), False),
            (Text("    " + issue.url, style="dim"), True),
            (Padding(reasons, (0, 0, 0, 4), expand=False), False),
        ]
    if demo and len(matches) > 3:
        parts += [(Text(""), False), (Text(DEMO_CAPTION, style="bold yellow"), False)]
    return parts


def print_matches(
    matches: list[Match], console: Console | None = None, *, demo: bool = False
) -> None:
    """Print ranked matches, or what to do when there are none.

    The DEMO caption shows when `demo` says the store holds demo issues, or any match is one.
    No line ends in spaces (Rich pads wrapped and indented text to its width).
    """
    console = console or terminal_console()
    if not matches:
        console.print(
            "No open issues match yet: run `python -m matcher sync` or pass --snapshot.",
            highlight=False,
        )
        return
    demo = demo or any(match.issue.demo for match in matches)
    for renderable, whole in _match_lines(matches, demo):
        if whole:
            console.print(renderable, highlight=False, soft_wrap=True, crop=False)
        else:
            console.print(trimmed(console, renderable), highlight=False)
