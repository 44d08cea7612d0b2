"""The one rule for what is public, in every renderer: the learner's own summary carries the
private part (ramp, next step, suggested issue, working on, funnel, "suggested" attributions, a
pending login), its public part none of it; anything published states dates, not "3 weeks ago";
the learner's own repositories are marked and counted apart; no word is glued to a link."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from rich.console import Console

from bot.exts.portfolio import portfolio_embed
from matcher.models import Contribution
from matcher.portfolio import Audience, Summary, next_step, ramp_text, summarize
from matcher.render import day
from matcher.render.chart import chart_alt, chart_svg
from matcher.render.html import to_html
from matcher.render.json import summary_dict, to_json
from matcher.render.markdown import to_markdown
from matcher.render.terminal import print_portfolio
from tests.portfolio.sample import LARGE_LEARNER, LEARNER, NEXT_ISSUE, summaries

CASES = summaries()
PENDING = "ada-second-login"
PRIVATE_KEYS = {"funnel", "next_issue", "pending_login", "from_suggestions", "suggested_at"}
PRIVATE_KEYS |= {"suggested_issue", "ramp", "level", "next_step", "learner_id"}
RELATIVE = re.compile(r"\b(ago|yesterday|today|this week|last week)\b", re.I)


def _learner(case: str) -> Summary:
    """The learner's own summary, with a pending login beside the verified one."""
    return replace(CASES[case], pending_login=PENDING)


def _terminal(summary: Summary) -> str:
    buffer = io.StringIO()
    print_portfolio(summary, Console(file=buffer, width=200, color_system=None))
    return " ".join(buffer.getvalue().replace("│", " ").split())


def _embed(summary: Summary) -> str:
    return json.dumps(portfolio_embed(summary).to_dict(), ensure_ascii=False)


def _private_values(s: Summary) -> list[str]:
    """What only the learner may read, taken from their own summary."""
    values = [PENDING, "suggest"]
    for text in (ramp_text(s), next_step(s) and next_step(s).text):
        if text:
            values.append(text)
    if s.next_issue is not None:
        values.append(s.next_issue.url)
    return values


def _published(s: Summary) -> dict[str, str]:
    """Every output a reader can get for this summary, given the learner's own summary."""
    public = s.public()
    return {
        "html": to_html(s),
        "markdown": to_markdown(s, rows=0, chart="chart.png"),
        "json --public": to_json(public),
        "terminal --public": _terminal(public),
        "embed, public": _embed(public),
        "chart": chart_svg(s) + chart_alt(s),
    }


def _keys(data: object) -> set[str]:
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in _keys(v)}
    if isinstance(data, list):
        return {k for v in data for k in _keys(v)}
    return set()


@pytest.mark.parametrize("case", ["small", "large", "empty"])
def test_the_learner_sees_their_private_part_and_no_reader_does(case):
    s = _learner(case)
    private = _private_values(s)
    assert len(private) >= 3, private  # the test has something to find
    own_view = {"terminal": _terminal(s), "json": to_json(s), "embed": _embed(s)}
    for name, text in own_view.items():
        assert PENDING in text, name
    for value in private[2:]:  # ramp, next step, next issue: in the terminal and the JSON
        assert value in own_view["terminal"] + own_view["json"], value
    for name, text in _published(s).items():
        leaked = [v for v in private if v.lower() in text.lower()]
        assert not leaked, (name, leaked)


@pytest.mark.parametrize("case", ["small", "large", "empty"])
def test_public_json_has_no_private_key_and_says_its_audience(case):
    s = _learner(case)
    own, public = summary_dict(s), summary_dict(s.public())
    assert own["audience"] == "learner" and public["audience"] == "public"
    assert {"funnel", "next_issue", "pending_login", "ramp", "next_step"} <= _keys(own)
    assert not PRIVATE_KEYS & _keys(public), PRIVATE_KEYS & _keys(public)
    # the public numbers are the learner's numbers
    assert public["totals"] == {k: v for k, v in own["totals"].items() if k != "from_suggestions"}
    assert public["contributions"] == [
        {k: v for k, v in c.items() if not k.startswith("suggested")} for c in own["contributions"]
    ]


def test_the_public_part_empties_every_private_field():
    s = _learner("small")
    assert s.funnel and s.next_issue and s.attributed and s.ramp.step and s.learner_id == LEARNER
    assert any(e.suggested_at for e in s.entries)
    p = s.public()
    assert p.audience is Audience.PUBLIC and p.is_public
    assert (p.funnel, p.next_issue, p.pending_login, p.learner_id) == (None, None, None, None)
    assert p.attributed == 0 and p.ramp.step == 0
    assert not any(e.suggested_at or e.suggested_issue for e in p.entries)
    assert ramp_text(p) is None and next_step(p) is None
    # what stays: every merged pull request and number
    assert [e.contribution for e in p.entries] == [e.contribution for e in s.entries]
    assert (p.merged, p.repos, p.niches, p.verified) == (s.merged, s.repos, s.niches, s.verified)
    assert p.public() == p


def test_only_the_learner_in_private_sees_the_private_part():
    s = CASES["small"]
    assert s.seen_by(LEARNER) is s  # their own, ephemeral
    assert s.seen_by(LEARNER, published=True).is_public  # their own, posted to a channel
    assert s.seen_by("someone-else").is_public and s.seen_by(None).is_public
    assert CASES["large"].seen_by(LEARNER).is_public  # another learner's portfolio
    assert CASES["large"].seen_by(LARGE_LEARNER) is CASES["large"]
    nobody = replace(s, learner_id=None)  # a login no learner has claimed
    assert nobody.seen_by(LEARNER).is_public


# --- absolute dates in anything published ---------------------------------------------------


@pytest.mark.parametrize("case", ["small", "large", "empty"])
def test_anything_published_states_dates_not_how_long_ago(case):
    s = CASES[case]
    assert s.latest_merge is None or RELATIVE.search(s.headline)  # the learner's view is relative
    for name, text in _published(s).items():
        assert not RELATIVE.search(text), (name, RELATIVE.search(text))
    as_of = f"as of {day(s.generated_at)}"
    for name in ("html", "markdown", "embed, public"):
        assert as_of in _published(s)[name], name
    if s.latest_merge is not None:
        latest = f"latest merge {day(s.latest_merge)}"
        assert s.public().headline.endswith(f"{latest}.")
        for name in ("html", "markdown", "json --public", "embed, public"):
            assert latest in _published(s)[name], name


def test_the_large_page_says_the_latest_merge_date_not_3_weeks_ago():
    page = to_html(CASES["large"])
    assert "latest merge 21 Apr 2026" in page and "as of 12 May 2026" in page
    assert "3 weeks" not in page and "latest 3 weeks ago" in CASES["large"].headline


# --- the learner's own repositories, apart ----------------------------------------------------


def _own_summary() -> Summary:
    """Two merges in other people's projects and three in the learner's own repository."""
    when = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def pr(repo: str, n: int) -> Contribution:
        return Contribution(
            url=f"https://github.com/{repo}/pull/{n}",
            repo=repo,
            number=n,
            title=f"Change {n}",
            merged_at=when.replace(day=n),
            author_id=1,
            author_login="Lin-Dev",
            additions=n,
            deletions=0,
            repo_topics=("nlp",),
        )

    prs = [pr("lin-dev/tiny-tokenizer", n) for n in (1, 2, 3)]
    prs += [pr("huggingface/transformers", 4), pr("explosion/spaCy", 5)]
    return summarize("Lin-Dev", prs, verified=True, now=when.replace(day=20))


def test_own_repositories_are_counted_apart_in_the_headline():
    s = _own_summary()
    assert [r.repo for r in s.own_repos] == ["lin-dev/tiny-tokenizer"]  # owner without case
    assert s.public().headline == (
        "@Lin-Dev has 2 merged pull requests in 2 NLP projects since March 2026, "
        "plus 3 in their own repository, latest merge 5 Mar 2026."
    )
    only_own = summarize(
        "lin-dev",
        [e.contribution for e in s.entries if e.contribution.number < 4],
        verified=True,
        now=s.generated_at,
    )
    assert only_own.public().headline == (
        "@lin-dev has 3 merged pull requests in their own repository, latest merge 3 Mar 2026."
    )


def test_own_repositories_are_marked_in_every_format():
    s = _own_summary()
    own, other = "lin-dev/tiny-tokenizer", "huggingface/transformers"
    page = to_html(s)
    assert "2 projects of other people; 1 own repository below, counted apart." in page
    head = page.index(">Own repository</h3>")
    assert page.index(f'href="https://github.com/{other}"', page.index('id="h-repos"')) < head
    assert re.search(
        rf'href="https://github.com/{own}">{own}</a><span[^>]*>[^<]*</span>'
        r'<span class="own">own</span>',
        page[head:],
    )
    md = to_markdown(s)
    assert f"[tiny-tokenizer](https://github.com/{own}) (own)" in md
    assert f"[transformers](https://github.com/{other}) |" in md
    data = summary_dict(s.public())
    assert {r["repo"]: r["own"] for r in data["repositories"]}[own] is True
    assert (data["totals"]["projects"], data["totals"]["own_repositories"]) == (2, 1)
    fields = {f["name"]: f["value"] for f in portfolio_embed(s.public()).to_dict()["fields"]}
    assert f"[{own}](https://github.com/{own}) (own) · 3" in fields["Repositories"]
    assert f"{own} (own): 3" in chart_alt(s)
    assert "(1 own)" in _terminal(s)


# --- the text around every link -----------------------------------------------------------------

MD_LINK = re.compile(r"\[(?:[^\]\\]|\\.)*\]\([^)\s]+\)")
HTML_LINK = re.compile(r"<a [^>]*>.*?</a>", re.S)
GLUED = re.compile(r"\w")


def _every_export() -> dict[str, str]:
    spaced = _spaced_titles()
    out = {}
    for case, s in {**CASES, "spaced": spaced}.items():
        for view, summary in (("learner", replace(s, pending_login=PENDING)), ("public", s)):
            if view == "public":
                summary = summary.public()
            out[f"{case} markdown {view}"] = to_markdown(summary, rows=0, chart="c.png")
            out[f"{case} html {view}"] = to_html(summary)
            out[f"{case} embed {view}"] = "\n".join(
                [portfolio_embed(summary).description or ""]
                + [f.value or "" for f in portfolio_embed(summary).fields]
            )
    return out


def _spaced_titles() -> Summary:
    """Titles with runs of spaces and tabs, and a next step whose text starts with a space."""
    s = CASES["small"]
    entries = tuple(
        replace(e, contribution=replace(e.contribution, title=f"  {e.contribution.title}\t x "))
        for e in s.entries
    )
    return replace(s, entries=entries)


def test_every_export_keeps_a_space_or_punctuation_around_each_link():
    exports = _every_export()
    checked = 0
    for name, text in exports.items():
        for pattern in (MD_LINK, HTML_LINK):
            for found in pattern.finditer(text):
                before = text[found.start() - 1 : found.start()]
                after = text[found.end() : found.end() + 1]
                assert not GLUED.match(before), (name, text[found.start() - 20 : found.end()])
                assert not GLUED.match(after), (name, text[found.start() : found.end() + 20])
                checked += 1
    assert checked > 800, checked


def test_the_story_reads_with_spaces_where_the_learner_sees_it():
    """The glued "a featurein NLP" and "[title](url)in owner/repo" of the old export."""
    large = portfolio_embed(CASES["large"]).description
    assert "**Next step:** a feature in NLP, a step up from your merged bug fix in " in large
    glued = re.compile(r"featurein|\)in |\)(a|for|since) ")
    for name, text in _every_export().items():
        assert not glued.search(text), (name, glued.search(text))
    small = to_markdown(CASES["small"])
    assert ") in huggingface/transformers, 20 Feb 2026" in small


def test_published_exports_of_the_empty_case_say_nothing_of_the_next_issue():
    s = CASES["empty"]
    assert s.next_issue is not None and s.next_issue.url == NEXT_ISSUE
    for name, text in _published(s).items():
        assert NEXT_ISSUE not in text, name
    assert NEXT_ISSUE in _terminal(s) and NEXT_ISSUE in _embed(s)


def test_markdown_cells_keep_the_space_beside_a_link():
    from matcher.render.markdown import _cell

    assert _cell(" in  NLP,\ta step up ") == " in NLP, a step up "
    assert _cell("[x] | y") == "\\[x\\] \\| y" and _cell("   ") == " "
