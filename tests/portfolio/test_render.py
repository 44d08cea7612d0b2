"""Renderers: Markdown, JSON, Rich table, and the self-contained HTML page with its chart."""

from __future__ import annotations

import base64
import io
import json
import re

from rich.console import Console

from matcher.portfolio import load_summary, summarize
from matcher.render.chart import chart_png
from matcher.render.html import to_html
from matcher.render.json import to_json
from matcher.render.markdown import to_markdown
from matcher.render.terminal import print_portfolio
from tests.portfolio.sample import CONTRIBUTIONS, LOGIN, NOW, populate

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _summary(db, verified=True):
    populate(db, verified=verified)
    return load_summary(db, LOGIN, niches_of=lambda r: (), now=NOW)


def test_html_page_embeds_the_chart_and_every_link(db, tmp_path):
    s = _summary(db)
    page = tmp_path / "page.html"
    page.write_text(to_html(s), encoding="utf-8")
    text = page.read_text(encoding="utf-8")
    images = re.findall(r'<img[^>]+src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == 1
    assert base64.b64decode(images[0]).startswith(PNG_MAGIC)
    for c in CONTRIBUTIONS:
        assert f'href="{c.url}"' in text
    assert "suggested on 3 Feb 2026, merged on 20 Feb 2026" in text
    # self-contained: nothing fetched from elsewhere
    assert "<script" not in text and 'src="http' not in text and "<link" not in text
    # the title with "|" and "<str.split>" is escaped, not injected
    assert "&lt;str.split&gt;" in text and "<str.split>" not in text


def test_chart_is_a_png_even_when_empty():
    assert chart_png(summarize(LOGIN, CONTRIBUTIONS, verified=True, now=NOW)).startswith(PNG_MAGIC)
    assert chart_png(summarize(LOGIN, [], verified=True, now=NOW)).startswith(PNG_MAGIC)


def test_markdown_export(db):
    md = to_markdown(_summary(db))
    assert md.startswith("## Open-source contributions")
    assert "[@ada-learns](https://github.com/ada-learns) (verified)" in md
    assert "**3 merged pull requests** to **2 repositories**" in md
    for c in CONTRIBUTIONS:
        assert f"]({c.url})" in md
    assert "_(suggested on 3 Feb 2026)_" in md
    assert "Fix \\| handling" in md  # a pipe in a title does not break the table
    assert "~~27 Jan 2026~~" in md and "_(reverted)_" in md


def test_markdown_marks_unverified(db):
    md = to_markdown(_summary(db, verified=False))
    assert "**Unverified:**" in md and "(verified)" not in md


def test_json_export_round_trips(db):
    data = json.loads(to_json(_summary(db)))
    assert data["verified"] is True
    assert data["totals"]["merged_pull_requests"] == 3 and data["totals"]["reverted"] == 1
    assert data["funnel"] == {"suggested": 2, "interested": 1, "working": 1, "merged": 1}
    assert {c["url"] for c in data["contributions"]} == {c.url for c in CONTRIBUTIONS}
    assert data["contributions"][0]["suggested_at"].startswith("2026-02-03")


def test_terminal_table(db):
    buffer = io.StringIO()
    print_portfolio(_summary(db), Console(file=buffer, width=160, color_system=None))
    out = buffer.getvalue()
    assert "@ada-learns" in out and "verified" in out
    assert "Fix padding side in the Whisper tokenizer" in out
    assert "3 merged PRs in 2 repositories" in out


def test_docs_show_the_real_markdown_export():
    from pathlib import Path

    from tests.portfolio.sample import markdown_example

    docs = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"````markdown\n{markdown_example()}````" in docs, (
        "regenerate: python -m tests.portfolio.sample"
    )
