"""The portfolio as Markdown, to paste into a GitHub profile README."""

from __future__ import annotations

from matcher.portfolio import Summary
from matcher.render import changes, day, stars


def _cell(text: str) -> str:
    """Table-safe text: pipes escaped, brackets that would break a link neutralised."""
    text = " ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("[", "\\[").replace("]", "\\]")


def _counts(pairs, limit: int = 8) -> str:
    return ", ".join(f"{name} ({n})" for name, n in pairs[:limit]) or "-"


def to_markdown(summary: Summary) -> str:
    """A heading, the totals, skills evidenced, and a table with a link per contribution."""
    s = summary
    lines = ["## Open-source contributions", ""]
    if s.verified:
        lines.append(f"GitHub: [@{s.login}]({s.profile_url}) (verified)")
    else:
        lines.append(
            f"> **Unverified:** the GitHub login @{s.login} has not been verified; "
            "these pull requests are not evidence."
        )
    lines.append("")
    totals = (
        f"**{s.merged} merged pull request{'s' if s.merged != 1 else ''}** to "
        f"**{s.repos_count} repositor{'ies' if s.repos_count != 1 else 'y'}**, "
        f"{s.additions:,} lines added and {s.deletions:,} removed"
    )
    lines.append(totals + ".")
    if s.first_merge:
        lines.append(
            f"First merge {day(s.first_merge)}, latest {day(s.latest_merge)}; "
            f"active in {s.active_weeks} week{'s' if s.active_weeks != 1 else ''}, "
            f"longest weekly streak {s.longest_streak_weeks}, current {s.current_streak_weeks}."
        )
    if s.reverted:
        were = "were" if s.reverted != 1 else "was"
        lines.append(
            f"{s.reverted} more merged pull request{'s' if s.reverted != 1 else ''} {were} "
            "later reverted and not counted."
        )
    lines += [
        "",
        f"- **Languages:** {_counts(s.languages)}",
        f"- **Areas:** {_counts(s.niches)}",
        f"- **Kinds of work:** {_counts(s.labels)}",
        "",
        "| Merged | Repository | Pull request | Changes |",
        "|---|---|---|---|",
    ]
    for e in s.entries:
        c = e.contribution
        repo = f"[{c.repo}](https://github.com/{c.repo})"
        if c.repo_stars is not None:
            repo += f" ★{stars(c.repo_stars)}"
        pr = f"[{_cell(c.title)} (#{c.number})]({c.url})"
        notes = []
        if e.suggested_at:
            notes.append(f"suggested on {day(e.suggested_at)}")
        if c.reverted:
            notes.append("reverted")
        if notes:
            pr += f" _({'; '.join(notes)})_"
        merged = f"~~{day(c.merged_at)}~~" if c.reverted else day(c.merged_at)
        lines.append(f"| {merged} | {repo} | {pr} | {changes(c.additions, c.deletions)} |")
    if not s.entries:
        lines.append("| - | - | no merged pull requests yet | - |")
    lines += ["", f"<sub>Generated {day(s.generated_at)} by ml-first-issues.</sub>", ""]
    return "\n".join(lines)
