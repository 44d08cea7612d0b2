"""The portfolio as Markdown, to paste into a GitHub profile README.

The headline sentence first, then highlights, the chart (when it was written beside the README)
and a table whose first column is the pull request, so a phone shows the title before it has
to scroll. The suggestion funnel and issue labels stay out: this is for employers.
"""

from __future__ import annotations

from matcher.portfolio import Entry, Summary, concentration, highlights, next_step, ramp_text
from matcher.render import capped, changes, closed_issue, day, month, short_names
from matcher.render.chart import chart_alt

DEFAULT_ROWS = 10


def _cell(text: str) -> str:
    """Table-safe text: pipes escaped, brackets that would break a link neutralised."""
    text = " ".join(text.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("[", "\\[").replace("]", "\\]")


def _closes(entry: Entry) -> str:
    c = entry.contribution
    if not c.closes:
        return ""
    return f" · closes [{closed_issue(c.closes[0], c.repo)}]({c.closes[0]})"


def _header(s: Summary) -> list[str]:
    lines = ["## Open-source contributions", "", f"**{s.headline}**", ""]
    if s.verified:
        lines.append(f"GitHub: [@{s.login}]({s.profile_url}) (verified)")
    else:
        lines.append(
            f"> **Unverified:** the GitHub login @{s.login} has not been verified; "
            "these pull requests are not evidence."
        )
    return [*lines, ""]


def _story(s: Summary) -> list[str]:
    """Where the work concentrates, how far along the ramp, and the next step."""
    where, ramp, step = concentration(s), ramp_text(s), next_step(s)
    lines = []
    if where:
        lines.append(f"- **Focus:** {_cell(where)}.")
    if ramp:
        lines.append(f"- **Ramp:** {_cell(ramp)}.")
    if step:
        what = f"[{_cell(step.what)}]({step.url})" if step.url else _cell(step.what)
        lines.append(f"- **Next step:** {what}{_cell(step.rest)}.")
    return ["### Focus and next step", "", *lines, ""] if lines else []


def _skills(s: Summary) -> list[str]:
    parts = [
        f"**{name}:** {capped(pairs)}"
        for name, pairs in (("Niches", s.niches), ("Languages", s.languages))
        if pairs
    ]
    return [" · ".join(parts), ""] if parts else []


def _highlights(s: Summary) -> list[str]:
    picks = highlights(s)
    if not picks:
        return []
    lines = ["### Highlights", ""]
    for why, e in picks:
        c = e.contribution
        lines.append(
            f"- **{why[:1].upper()}{why[1:]}:** [{_cell(c.title)}]({c.url}) in {c.repo}, "
            f"{day(c.merged_at)}, {changes(c.additions, c.deletions)} lines{_closes(e)}"
        )
    return [*lines, ""]


def _table(s: Summary, rows: int) -> list[str]:
    shown = s.entries[:rows] if rows > 0 else s.entries
    repos = list(dict.fromkeys(e.contribution.repo for e in s.entries))
    names = dict(zip(repos, short_names(repos), strict=True))
    lines = [
        "### Merged pull requests",
        "",
        "| Pull request | Project | Merged |",
        "|---|---|---|",
    ]
    for e in shown:
        c = e.contribution
        title = f"[{_cell(c.title)}]({c.url}){_closes(e)}"
        when = month(c.merged_at)
        if c.reverted:
            title, when = f"~~{title}~~ (reverted, not counted)", f"~~{when}~~"
        project = f"[{names[c.repo]}](https://github.com/{c.repo})"
        lines.append(f"| {title} | {project} | {when} |")
    rest = len(s.entries) - len(shown)
    if rest:
        search = (
            f"https://github.com/search?q=author%3A{s.login}+is%3Apr+is%3Amerged&type=pullrequests"
        )
        lines += ["", f"…and {rest} more ([all merged pull requests on GitHub]({search}))."]
    return [*lines, ""]


def _next_steps(s: Summary) -> list[str]:
    lines = ["What to do next:", ""]
    if not s.verified:
        lines.append(f"- Verify the login: `python -m matcher portfolio verify {s.login}`.")
    if s.next_issue is not None:
        n = s.next_issue
        lines.append(f"- Start on the next suggested issue: [{_cell(n.title or n.url)}]({n.url}).")
    else:
        lines.append("- Pick a first issue: `/suggest` in Discord or `python -m matcher match`.")
    lines.append(
        f"- Once a pull request is merged, `python -m matcher portfolio refresh {s.login}` "
        "adds it here."
    )
    return [*lines, ""]


def to_markdown(summary: Summary, *, rows: int = DEFAULT_ROWS, chart: str | None = None) -> str:
    """The README section; `chart` is the path of a chart image written beside it, if any.

    At most `rows` pull requests are listed (0 lists all), then "…and N more".
    """
    s = summary
    lines = _header(s)
    if not s.entries:
        lines += _next_steps(s)
    else:
        lines += _skills(s) + _highlights(s) + _story(s)
        if chart and s.merged:
            lines += [f"![{_cell(chart_alt(s))}]({chart})", ""]
        lines += _table(s, rows)
    footer = [f"as of {day(s.generated_at)}", "made with ml-first-issues"]
    if s.entries:  # an empty portfolio is not a row of zeros
        totals = f"{s.merged} merged pull request{'s' if s.merged != 1 else ''}"
        if s.reverted:
            totals += f" ({s.reverted} more later reverted, not counted)"
        if s.merged:
            totals += f" · {changes(s.additions, s.deletions)} lines"
        footer.insert(0, totals)
    lines += [f"<sub>{' · '.join(footer)}</sub>", ""]
    return "\n".join(lines)
