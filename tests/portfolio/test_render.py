"""Renderers for the small (3 PRs), large (60 PRs, 12 repositories, 14 months) and empty cases:
Markdown, JSON, Rich table, the HTML page and the chart; every number agrees with the JSON."""

from __future__ import annotations

import io
import json
import re
import struct
from html import unescape

import pytest
from rich.console import Console

from matcher.portfolio import highlights, summarize
from matcher.render.chart import chart_alt, chart_image, chart_png, chart_svg, timeline
from matcher.render.html import to_html
from matcher.render.json import to_json
from matcher.render.markdown import to_markdown
from matcher.render.terminal import print_portfolio
from tests.portfolio.sample import (
    CONTRIBUTIONS,
    LARGE_CONTRIBUTIONS,
    LOGIN,
    NEXT_ISSUE,
    NOW,
    summaries,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CASES = summaries()


def _png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_MAGIC)
    return struct.unpack(">II", png[16:24])


def _text(html: str) -> str:
    """The page's visible text, one space between words."""
    html = re.sub(r"<(style|title)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _terminal(summary) -> str:
    buffer = io.StringIO()
    print_portfolio(summary, Console(file=buffer, width=160, color_system=None))
    return buffer.getvalue()


# --- the headline and the niches ----------------------------------------------------------


def test_headlines_say_who_which_niche_how_much_and_how_recent():
    assert CASES["large"].headline == (
        "@grace-builds has 60 merged pull requests in 12 NLP and speech projects "
        "since April 2025, latest 3 weeks ago."
    )
    # topics only (no catalogue): scikit-learn's "machine-learning"/"python" are not niches
    assert CASES["small"].headline == (
        "@ada-learns has 3 merged pull requests in 2 projects (mostly NLP) "
        "since February 2026, latest 10 days ago."
    )
    assert CASES["empty"].headline == "@new-learner has no merged pull requests yet."


def test_large_niches_merge_catalogue_and_topics_into_a_few_names():
    niches = dict(CASES["large"].niches)
    assert list(niches)[:2] == ["NLP", "speech"]
    # 12 repositories, 20-odd raw topics: a handful of names, no language, no duplicates
    assert len(niches) <= 5 and "python" not in {n.lower() for n in niches}
    assert not {"natural-language-processing", "speech-recognition", "asr"} & set(niches)


def test_highlights_are_the_largest_the_latest_and_one_in_the_top_niche():
    picks = highlights(CASES["large"])
    why = [w for w, _ in picks]
    assert why == ["largest change", "most recent", "in NLP"]
    largest = max(LARGE_CONTRIBUTIONS, key=lambda c: c.additions + c.deletions)
    assert picks[0][1].contribution.url == largest.url
    assert picks[1][1].contribution.merged_at == max(c.merged_at for c in LARGE_CONTRIBUTIONS)
    assert "NLP" in picks[2][1].niches
    assert highlights(CASES["empty"]) == []


# --- every format agrees with the JSON export ------------------------------------------------


@pytest.mark.parametrize("case", ["small", "large", "empty"])
def test_every_format_states_the_json_numbers(case):
    s = CASES[case]
    data = json.loads(to_json(s))
    totals = data["totals"]
    merged, repos = totals["merged_pull_requests"], totals["repositories"]
    assert merged == s.merged and repos == len(data["repositories"])
    assert sum(r["prs"] for r in data["repositories"]) == merged
    page = _text(to_html(s))
    md = to_markdown(s)
    term = _terminal(s)
    assert f"{merged} merged PRs in {repos}" in term
    if not merged:
        assert data["timeline"] is None and "What to do next" in page
        assert "0 merged" not in md and "0 merged" not in page
        return
    assert f"{merged} merged pull request" in md
    assert f"merged pull requests {merged} projects {repos}" in page
    assert f"+{totals['additions']:,} −{totals['deletions']:,}" in page
    assert f"+{totals['additions']:,} -{totals['deletions']:,} lines" in md
    assert sum(b["merged"] for b in data["timeline"]["bins"]) == merged
    alt = chart_alt(s)
    assert f"{merged} in total" in alt
    shown = re.findall(r"([\w.-]+/[\w.-]+): (\d+)", alt)
    rest = re.search(r"(\d+) more repositories: (\d+)", alt)
    assert sum(int(n) for _, n in shown) + (int(rest.group(2)) if rest else 0) == merged
    assert len(shown) + (int(rest.group(1)) if rest else 0) == repos
    for r in data["repositories"][:8]:
        assert f"{r['repo']}: {r['prs']}" in alt


# --- HTML ---------------------------------------------------------------------------------


def test_html_small_page_is_self_contained_and_links_everything():
    s = CASES["small"]
    text = to_html(s)
    for c in CONTRIBUTIONS:
        assert f'href="{c.url}"' in text
    # the issue the pull request closed is linked
    assert (
        'closes <a href="https://github.com/huggingface/transformers/issues/30010">#30010' in text
    )
    assert "<script" not in text and 'src="http' not in text and "<link" not in text
    assert "&lt;str.split&gt;" in text and "<str.split>" not in text
    # the chart is inline SVG, twice (wide and narrow), with a title stating its numbers
    assert (
        text.count("<svg") == 2 and '<title id="chart-title-360">Merged pull requests per' in text
    )
    assert 'aria-labelledby="chart-title-720"' in text  # one id per drawing
    # headings and a table caption
    for heading in ("Highlights", "Activity", "Niches and skills", "By repository"):
        assert f">{heading}</h2>" in text
    assert "<caption>3 merged pull requests, newest first; 1 later reverted" in text
    assert "@ada\u2011learns" in text  # the login does not wrap at its hyphen


def test_html_leaves_the_funnel_and_triage_labels_to_the_learner():
    s = CASES["small"]
    page = to_html(s)
    assert "good first issue" not in page and "suggested" not in page.lower()
    assert s.funnel is not None and "interested" not in page
    term = _terminal(s)
    assert "suggestions: 2 suggested, 1 interested" in term and "good first issue" in term


def test_html_large_accounts_for_every_repository_and_cuts_lists_visibly():
    s = CASES["large"]
    page = to_html(s)
    assert all(f'href="{c.url}"' in page for c in LARGE_CONTRIBUTIONS)
    assert "+4 more repositories: 9 pull requests" in page
    for r in s.repos:  # the four beyond the top eight are listed inside the details
        assert f'href="https://github.com/{r.repo}"' in page
    assert '<li class="more">+1 more</li>' in page  # four niches: three shown
    assert "Niches:</b> NLP (31), speech (23), data tooling (4) +1 more" in page


def test_html_empty_says_what_to_do_next_with_the_next_issue():
    page = to_html(CASES["empty"])
    text = _text(page)
    assert "What to do next" in text
    assert f'href="{NEXT_ISSUE}"' in page and "Document the streaming mode" in text
    assert "<svg" not in page and "<table" not in page and "0 merged" not in text


# --- Markdown -------------------------------------------------------------------------------


def test_markdown_small():
    md = to_markdown(CASES["small"])
    assert md.startswith("## Open-source contributions\n\n**@ada-learns has 3 merged pull")
    assert "[@ada-learns](https://github.com/ada-learns) (verified)" in md
    for c in CONTRIBUTIONS:
        assert f"]({c.url})" in md
    assert "closes [#30010](https://github.com/huggingface/transformers/issues/30010)" in md
    assert "Fix \\| handling" in md  # a pipe in a title does not break the table
    assert "(reverted, not counted)" in md and "~~Jan 2026~~" in md
    # the pull request is the first column: a phone shows it before it scrolls
    assert "| Pull request | Project | Merged |" in md
    assert "good first issue" not in md and "suggested" not in md.lower()
    assert "![" not in md  # no chart unless one was written beside it


def test_markdown_marks_unverified():
    from dataclasses import replace

    md = to_markdown(replace(CASES["small"], verified=False))
    assert "**Unverified:**" in md and "(verified)" not in md


def test_markdown_large_has_a_row_limit_and_the_chart_when_asked():
    s = CASES["large"]
    md = to_markdown(s, chart="portfolio-chart.png")
    rows = [line for line in md.splitlines() if line.startswith("| [")]
    assert len(rows) == 10 and "…and 50 more" in md
    assert "![Merged pull requests per month from April 2025 to May 2026: 60 in total" in md
    assert "](portfolio-chart.png)" in md
    everything = to_markdown(s, rows=0)
    assert len([x for x in everything.splitlines() if x.startswith("| [")]) == 60
    assert "more (" not in everything


def test_markdown_empty_says_what_to_do_next():
    md = to_markdown(CASES["empty"], chart="chart.png")
    assert "What to do next" in md and f"]({NEXT_ISSUE})" in md
    assert "|" not in md and "![" not in md


# --- the chart --------------------------------------------------------------------------------


def test_chart_runs_to_today_in_months_with_years():
    s = CASES["large"]
    t = timeline(s)
    assert t.unit == "month" and len(t.starts) == 14
    assert t.starts[-1].isoformat() == "2026-05-01" and t.counts[-1] == 0  # a quiet month shows
    svg = chart_svg(s, width=360, ticks=3)
    assert ">Apr 2025</text>" in svg and ">May 2026</text>" in svg
    assert "merged per month (left)" in svg and "running total (right)" in svg


def test_small_chart_is_weekly_with_the_year():
    t = timeline(CASES["small"])
    assert t.unit == "week" and t.label(0) == "2 Feb 2026"
    assert t.starts[-1].isoformat() == "2026-03-02"  # the week of the page date


def test_chart_png_reads_at_400px_and_exists_when_empty():
    for case in ("small", "large", "empty"):
        width, height = _png_size(chart_png(CASES[case]))
        assert width == 1200  # 3x the 400 px of a Discord embed
    assert chart_png(summarize(LOGIN, [], verified=True, now=NOW)).startswith(PNG_MAGIC)
    svg = chart_image(CASES["large"], "svg")
    assert svg.startswith(b"<?xml") and b"<svg" in svg


def test_terminal_table():
    out = _terminal(CASES["small"])
    assert "@ada-learns" in out and "verified" in out
    assert "Fix padding side in the Whisper tokenizer" in out
    assert "3 merged PRs in 2 repositories" in out
    assert "closes #30010" in out
    assert "Next: your suggested issue Document the streaming" in _terminal(CASES["empty"])


def test_docs_show_the_real_markdown_export():
    from pathlib import Path

    from tests.portfolio.sample import markdown_example

    page = Path(__file__).resolve().parents[2] / "docs" / "portfolio.md"
    if not page.is_file():  # the README's Portfolio section moves there (branch i20-portfolio)
        pytest.skip("docs/portfolio.md is not written yet")
    docs = page.read_text(encoding="utf-8")
    assert f"````markdown\n{markdown_example()}````" in docs, (
        "regenerate: python -m tests.portfolio.sample"
    )
