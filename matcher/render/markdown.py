"""The portfolio as Markdown, to paste into a GitHub profile README.

The headline sentence first, then highlights, the chart (when it was written beside the README)
and a table whose first column is the pull request, so a phone shows the title before it has
to scroll. This is published: it carries the summary's public part only (`Summary.public`),
with every date absolute, whatever it is given.
"""

from __future__ import annotations

from matcher.portfolio import Entry, Summary, concentration, highlights, owns
from matcher.render import capped, changes, closed_issue, day, month, short_names
from matcher.render.chart import chart_alt

DEFAULT_ROWS = 10


def _cell(text: str) -> str:
    """Table-safe text: pipes escaped, brackets that would break a link neutralised, runs of
    white space made one space (kept at either end: the text may follow or precede a link)."""
    lead = " " if text[:1].isspace() else ""
    trail = " " if text[-1:].isspace() and text.strip() else ""
    text = lead + " ".join(text.split()) + trail
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
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
    """Where the work concentrates (the ramp and the next step are the learner's, not here)."""
    where = concentration(s)
    return ["### Focus", "", f"{_cell(where[:1].upper() + where[1:])}.", ""] if where else []


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
        if owns(s.login, c.repo):
            project += " (own)"
        lines.append(f"| {title} | {project} | {when} |")
    rest = len(s.entries) - len(shown)
    if rest:
        search = (
            f"https://github.com/search?q=author%3A{s.login}+is%3Apr+is%3Amerged&type=pullrequests"
        )
        lines += ["", f"…and {rest} more ([all merged pull requests on GitHub]({search}))."]
    return [*lines, ""]


def _none_yet(s: Summary) -> list[str]:
    return [f"No merged pull requests yet: @{s.login}'s are listed here from the first one.", ""]


def to_markdown(summary: Summary, *, rows: int = DEFAULT_ROWS, chart: str | None = None) -> str:
    """The README section of a summary's public part; `chart` is the path of a chart image
    written beside it, if any.

    At most `rows` pull requests are listed (0 lists all), then "…and N more".
    """
    s = summary.public()
    lines = _header(s)
    if not s.entries:
        lines += _none_yet(s)
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
