"""The portfolio as one self-contained HTML page: inline CSS, the chart as base64 PNG, no JS."""

from __future__ import annotations

import base64
from html import escape

from matcher.portfolio import Summary
from matcher.render import changes, day, stars
from matcher.render.chart import chart_png

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
max-width:960px;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}.muted{color:#57606a}
.badge{display:inline-block;padding:0 .5rem;border-radius:1rem;font-size:.8rem;font-weight:600}
.ok{background:#dafbe1;color:#1a7f37}.warn{background:#fff8c5;color:#9a6700}
.stats{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}
.stat{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem}
.stat b{display:block;font-size:1.4rem}
img{max-width:100%;height:auto;border:1px solid #d0d7de;border-radius:6px}
table{border-collapse:collapse;width:100%;margin-top:1rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #d0d7de;vertical-align:top}
td.num{text-align:right;white-space:nowrap}
.reverted{color:#9a6700;text-decoration:line-through}a{color:#0969da}
"""


def _counts(pairs, limit: int = 8) -> str:
    return ", ".join(f"{escape(name)} ({n})" for name, n in pairs[:limit]) or "-"


def to_html(summary: Summary, png: bytes | None = None) -> str:
    """The page; `png` defaults to a fresh chart of the summary."""
    s = summary
    png = chart_png(s) if png is None else png
    image = base64.b64encode(png).decode("ascii")
    login = escape(s.login)
    badge = (
        '<span class="badge ok">verified GitHub login</span>'
        if s.verified
        else '<span class="badge warn">unverified: not evidence</span>'
    )
    stats = [
        ("merged pull requests", str(s.merged)),
        ("repositories", str(s.repos_count)),
        ("lines added / removed", f"+{s.additions:,} / -{s.deletions:,}"),
        ("first merge", day(s.first_merge)),
        ("latest merge", day(s.latest_merge)),
        ("weekly streak (longest)", f"{s.current_streak_weeks} ({s.longest_streak_weeks})"),
    ]
    stat_boxes = "".join(f'<div class="stat"><b>{escape(v)}</b>{escape(k)}</div>' for k, v in stats)
    rows = []
    for e in s.entries:
        c = e.contribution
        notes = []
        if e.suggested_at:
            notes.append(f"suggested on {day(e.suggested_at)}, merged on {day(c.merged_at)}")
        if c.reverted:
            notes.append("reverted")
        note = f'<br><span class="muted">{escape("; ".join(notes))}</span>' if notes else ""
        repo_extra = (
            f' <span class="muted">★{stars(c.repo_stars)}</span>'
            if c.repo_stars is not None
            else ""
        )
        labels = f'<br><span class="muted">{escape(", ".join(c.labels))}</span>' if c.labels else ""
        rows.append(
            f"<tr{' class=reverted' if c.reverted else ''}><td>{day(c.merged_at)}</td>"
            f'<td><a href="https://github.com/{escape(c.repo)}">{escape(c.repo)}</a>{repo_extra}</td>'
            f'<td><a href="{escape(c.url)}">{escape(c.title)} (#{c.number})</a>{labels}{note}</td>'
            f'<td class="num">{escape(changes(c.additions, c.deletions))}</td></tr>'
        )
    if not rows:
        rows.append('<tr><td colspan="4" class="muted">No merged pull requests yet.</td></tr>')
    funnel = ""
    if s.funnel and s.funnel.suggested:
        f = s.funnel
        funnel = (
            f"<p class=muted>From suggestions: {f.suggested} suggested, {f.interested} interested, "
            f"{f.working} working on it, {f.merged} merged.</p>"
        )
    reverted = (
        (
            f"<p class=muted>{s.reverted} merged pull request(s) later reverted are listed but "
            "not counted.</p>"
        )
        if s.reverted
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Open-source contributions of {login}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>Open-source contributions of <a href="{escape(s.profile_url)}">@{login}</a></h1>
<p>{badge} <span class="muted">generated {day(s.generated_at)}</span></p>
<div class="stats">{stat_boxes}</div>
<p><b>Languages:</b> {_counts(s.languages)}<br><b>Areas:</b> {_counts(s.niches)}<br>
<b>Kinds of work:</b> {_counts(s.labels)}</p>
{reverted}{funnel}
<img alt="Merged pull requests over time and by repository" src="data:image/png;base64,{image}">
<table>
<thead><tr><th>Merged</th><th>Repository</th><th>Pull request</th><th>Changes</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</body>
</html>
"""
