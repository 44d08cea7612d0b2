"""The portfolio as one self-contained public HTML page: inline CSS and SVG, no script.

Built to be linked from a CV and read by anyone: the headline sentence first, then highlights,
the chart, the niches, repositories and every pull request, every date absolute. It reflows to
one column on a phone (the table becomes a stacked list) and never scrolls sideways at 360 px.
It carries the summary's public part only (`Summary.public`), whatever it is given.
"""

from __future__ import annotations

from html import escape

from matcher.portfolio import Entry, RepoStat, Summary, concentration, highlights, plural
from matcher.render import capped, changes, closed_issue, day, stars
from matcher.render.chart import TOP_REPOS, chart_alt, chart_svg

_CSS = """
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;
margin:0;background:#f6f8fa}
main{max-width:60rem;margin:0 auto;padding:1.5rem 1rem 3rem;background:#fff;min-height:100vh}
a{color:#0969da}h1,h2,h3{line-height:1.25}
h1{font-size:clamp(1.5rem,6vw,2.2rem);margin:.1rem 0 .5rem;overflow-wrap:anywhere}
h2{font-size:1.2rem;margin:2rem 0 .75rem;padding-bottom:.3rem;border-bottom:1px solid #d8dee4}
.eyebrow{margin:0;color:#57606a;font-size:.9rem;text-transform:uppercase;letter-spacing:.04em}
.headline{font-size:clamp(1.1rem,4.2vw,1.35rem);margin:.25rem 0 .75rem}
.muted{color:#57606a}.small{font-size:.875rem}
.badge{display:inline-block;padding:0 .55rem;border-radius:1rem;font-size:.8rem;font-weight:600}
.ok{background:#dafbe1;color:#1a7f37}.warn{background:#fff8c5;color:#7d4e00}
.chips{display:flex;flex-wrap:wrap;gap:.4rem;margin:.5rem 0;padding:0;list-style:none}
.chips li{background:#ddf4ff;color:#0a3069;border-radius:1rem;padding:.1rem .7rem;font-size:.9rem}
.chips li.more{background:#eaeef2;color:#57606a}
.stats{display:grid;grid-template-columns:repeat(auto-fit,minmax(8.5rem,1fr));gap:.5rem;margin:0}
.stats div{border:1px solid #d8dee4;border-radius:6px;padding:.4rem .75rem}
.stats dt{font-size:.85rem;color:#57606a}.stats dd{margin:0;font-size:1.3rem;font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(16rem,1fr));gap:.75rem;
padding:0;margin:0;list-style:none}
.cards li{border:1px solid #d8dee4;border-radius:8px;padding:.75rem 1rem}
.why{font-size:.8rem;font-weight:600;color:#8250df;text-transform:uppercase;letter-spacing:.03em}
.cards a.title{display:block;font-weight:600;margin:.2rem 0;overflow-wrap:anywhere}
figure{margin:1rem 0}svg.chart{display:block;width:100%;height:auto}
.chart-narrow{display:none!important}
figcaption{font-size:.875rem;color:#57606a;margin-top:.4rem}
.repos{list-style:none;padding:0;margin:0}
.repos li{display:grid;grid-template-columns:minmax(0,14rem) minmax(0,1fr) 2.5rem;gap:.6rem;
align-items:center;padding:.2rem 0}
.repos .name{overflow-wrap:anywhere}.repos .count{text-align:right;font-weight:600}
.own{display:inline-block;margin-left:.4rem;padding:0 .45rem;border:1px solid #8c959f;
border-radius:1rem;font-size:.75rem;color:#57606a;white-space:nowrap}
h3.own-head{font-size:1rem;margin:1rem 0 .4rem}
.bar{height:.8rem;border-radius:3px;background:#8250df;min-width:3px}
.repos li.rest{display:block}.repos details ul{margin:.3rem 0;padding-left:1.2rem}
table{border-collapse:collapse;width:100%}
caption{text-align:left;color:#57606a;padding:.25rem 0 .5rem}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid #d8dee4;vertical-align:top}
th{font-size:.875rem;color:#57606a}
td.when{white-space:nowrap}td.num{text-align:right;white-space:nowrap}
td.pr a.title{overflow-wrap:anywhere}.unit{display:none}
tr.reverted .title{text-decoration:line-through}tr.reverted .state{color:#7d4e00}
footer{margin-top:2.5rem;font-size:.85rem;color:#57606a}
@media (max-width:600px){
main{padding:1rem .9rem 2rem}
.chart-wide{display:none!important}.chart-narrow{display:block!important}
.repos li{grid-template-columns:minmax(0,1fr) 5rem 2rem}
table,caption,tbody,tr,td{display:block;width:100%}thead{display:none}
.stats dd{font-size:1.15rem}
tr{border-bottom:1px solid #d8dee4;padding:.6rem 0}td{border:0;padding:.1rem 0}
td.num{text-align:left;color:#57606a;font-size:.875rem}td.when{color:#57606a;font-size:.875rem}
.unit{display:inline}
}
"""


def _login(login: str) -> str:
    # a non-breaking hyphen: "@ada-learns" must not wrap as "@ada-" / "learns"
    return escape(login).replace("-", "\u2011")


def _pr_link(entry: Entry) -> str:
    c = entry.contribution
    return f'<a class="title" href="{escape(c.url)}">{escape(c.title)}</a>'


def _repo_link(repo: str) -> str:
    return f'<a href="https://github.com/{escape(repo)}">{escape(repo)}</a>'


def _facts(entry: Entry) -> str:
    """'huggingface/transformers #30101 · closes #30010' (the closed issue linked when known)."""
    c = entry.contribution
    parts = [f"{_repo_link(c.repo)} #{c.number}"]
    if c.closes:
        issue = c.closes[0]
        parts.append(f'closes <a href="{escape(issue)}">{escape(closed_issue(issue, c.repo))}</a>')
    return " · ".join(parts)


def _header(s: Summary) -> str:
    badge = (
        '<span class="badge ok">verified GitHub login</span>'
        if s.verified
        else '<span class="badge warn">unverified login: not evidence</span>'
    )
    chips = "".join(f"<li>{escape(name)}</li>" for name, _ in s.niches[:3])
    if len(s.niches) > 3:
        chips += f'<li class="more">+{len(s.niches) - 3} more</li>'
    niche_list = f'<ul class="chips" aria-label="Niches">{chips}</ul>' if chips else ""
    return (
        "<header>"
        '<p class="eyebrow">Open-source contributions</p>'
        f'<h1><a href="{escape(s.profile_url)}">@{_login(s.login)}</a></h1>'
        f'<p class="headline">{escape(s.headline)}</p>{niche_list}'
        f'<p class="small">{badge} <span class="muted">as of {day(s.generated_at)}</span></p>'
        "</header>"
    )


def _story(s: Summary) -> str:
    """Where the work concentrates (the ramp and the next step are the learner's, not here)."""
    where = concentration(s)
    if not where:
        return ""
    return (
        '<section aria-labelledby="h-story"><h2 id="h-story">Focus</h2>'
        f'<p class="story">{escape(where[:1].upper() + where[1:])}.</p></section>'
    )


def _highlights(s: Summary) -> str:
    picks = highlights(s)
    if not picks:
        return ""
    cards = "".join(
        f'<li><span class="why">{escape(why)}</span>{_pr_link(e)}'
        f'<span class="small">{_facts(e)}</span><br>'
        f'<span class="small muted">merged {day(e.contribution.merged_at)} · '
        f"{escape(changes(e.contribution.additions, e.contribution.deletions))} lines</span></li>"
        for why, e in picks
    )
    return (
        '<section aria-labelledby="h-highlights"><h2 id="h-highlights">Highlights</h2>'
        f'<ul class="cards">{cards}</ul></section>'
    )


def _stats(s: Summary) -> str:
    own = f'<span class="small muted"> +{len(s.own_repos)} own</span>' if s.own_repos else ""
    stats = [
        ("merged pull requests", str(s.merged)),
        ("projects", f"{len(s.projects)}{own}"),  # the learner's own repositories apart
        ("lines added, removed", escape(f"+{s.additions:,} −{s.deletions:,}")),
        ("weeks with a merge", str(s.active_weeks)),
    ]
    items = "".join(f"<div><dt>{escape(k)}</dt><dd>{v}</dd></div>" for k, v in stats)
    return f'<dl class="stats">{items}</dl>'


def _activity(s: Summary) -> str:
    wide = chart_svg(s, width=720, height=260, ticks=6)
    narrow = chart_svg(s, width=360, height=250, ticks=3)
    since = f"First merge {day(s.first_merge)}, latest merge {day(s.latest_merge)}."
    return (
        '<section aria-labelledby="h-activity"><h2 id="h-activity">Activity</h2>'
        f"{_stats(s)}<figure>"
        f'<div class="chart-wide">{wide}</div><div class="chart-narrow">{narrow}</div>'
        f"<figcaption>{escape(since)} {escape(chart_alt(s, repos=False))}"
        "</figcaption></figure></section>"
    )


def _skills(s: Summary) -> str:
    rows = [  # each list cut at three, then "+N more"
        ("Niches", capped(s.niches)),
        ("Languages", capped(s.languages)),
        ("Kinds of work", capped(s.labels)),
    ]
    items = "".join(f"<p><b>{escape(k)}:</b> {escape(v)}</p>" for k, v in rows if v)
    return (
        '<section aria-labelledby="h-skills"><h2 id="h-skills">Niches and skills</h2>'
        f"{items}</section>"
    )


def _repo_bars(repos: tuple[RepoStat, ...], top: int) -> list[str]:
    """A bar for each of the first TOP_REPOS repositories, then the rest in a closed list."""
    items = []
    for r in repos[:TOP_REPOS]:
        extra = f" ★{stars(r.stars)}" if r.stars is not None else ""
        own = '<span class="own">own</span>' if r.own else ""
        items.append(
            f'<li><span class="name">{_repo_link(r.repo)}'
            f'<span class="muted small">{escape(extra)}</span>{own}</span>'
            f'<span class="bar" style="width:{100 * r.prs / top:.0f}%" aria-hidden="true"></span>'
            f'<span class="count">{r.prs}</span></li>'
        )
    rest = repos[TOP_REPOS:]
    if rest:
        names = "".join(f"<li>{_repo_link(r.repo)}: {r.prs}</li>" for r in rest)
        items.append(
            f'<li class="rest"><details><summary>+{len(rest)} more repositories: '
            f"{sum(r.prs for r in rest)} pull requests</summary><ul>{names}</ul></details></li>"
        )
    return items


def _repos(s: Summary) -> str:
    """Other people's projects, then the learner's own repositories apart (never folded away
    among the rest, where a reader would count them as projects)."""
    top = max((r.prs for r in s.repos), default=1)
    parts = [f'<ul class="repos">{"".join(_repo_bars(s.projects, top))}</ul>']
    own = s.own_repos
    if own:
        noun = "repository" if len(own) == 1 else "repositories"
        parts.insert(
            0,
            f'<p class="small muted">{plural(len(s.projects), "project")} of other people; '
            f"{len(own)} own {noun} below, counted apart.</p>",
        )
        parts.append(
            f'<h3 class="own-head">Own {noun}</h3>'
            f'<ul class="repos">{"".join(_repo_bars(own, top))}</ul>'
        )
    return (
        '<section aria-labelledby="h-repos"><h2 id="h-repos">By repository</h2>'
        f"{''.join(parts)}</section>"
    )


def _table(s: Summary) -> str:
    rows = []
    for e in s.entries:
        c = e.contribution
        state = ' <span class="state small">reverted, not counted</span>' if c.reverted else ""
        rows.append(
            f"<tr{' class=reverted' if c.reverted else ''}>"
            f'<td class="when">{day(c.merged_at)}</td>'
            f'<td class="pr">{_pr_link(e)}{state}<br><span class="small">{_facts(e)}</span></td>'
            f'<td class="num">{escape(changes(c.additions, c.deletions))}'
            '<span class="unit"> lines</span></td></tr>'
        )
    reverted = (
        f"; {s.reverted} later reverted, shown struck out and not counted" if s.reverted else ""
    )
    caption = f"{s.merged} merged pull requests, newest first{reverted}"
    return (
        '<section aria-labelledby="h-all"><h2 id="h-all">All merged pull requests</h2>'
        f"<table><caption>{escape(caption)}</caption>"
        '<thead><tr><th scope="col">Merged</th><th scope="col">Pull request</th>'
        '<th scope="col">Lines</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _none_yet(s: Summary) -> str:
    return (
        '<section aria-labelledby="h-all"><h2 id="h-all">Merged pull requests</h2>'
        f"<p>None yet. The merged pull requests of @{_login(s.login)} are listed here, with a "
        "chart, from the first one on.</p></section>"
    )


def to_html(summary: Summary) -> str:
    """The whole page for a summary's public part."""
    s = summary.public()
    if s.merged or s.entries:
        body = _highlights(s) + _story(s) + _activity(s) + _skills(s) + _repos(s) + _table(s)
    else:
        body = _none_yet(s)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>@{escape(s.login)}: open-source contributions</title>
<meta name="description" content="{escape(s.headline)}">
<style>{_CSS}</style>
</head>
<body>
<main>
{_header(s)}
{body}
<footer>Made with ml-first-issues from GitHub data as of {day(s.generated_at)}.</footer>
</main>
</body>
</html>
"""
