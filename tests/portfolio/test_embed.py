"""The Discord embed of /portfolio for the large and empty cases: the headline first, every
repository accounted for, niches capped at three, and a chart that reads at ~400 px."""

from __future__ import annotations

import struct

from bot.exts.portfolio import portfolio_embed
from matcher.render.chart import chart_png
from tests.portfolio.sample import NEXT_ISSUE, summaries

CASES = summaries()


def test_large_embed_leads_with_the_headline_and_counts_every_repository():
    s = CASES["large"]
    embed = portfolio_embed(s)
    assert embed.description.startswith(s.headline)
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Niches"] == "NLP (31), speech (23), data tooling (4) +1 more"
    rest = s.repos[5:]
    assert fields["Repositories"].endswith(f"+{len(rest)} more · {sum(r.prs for r in rest)}")
    shown = sum(int(line.rsplit("· ", 1)[1]) for line in fields["Repositories"].splitlines())
    assert shown == s.merged == 60


def test_empty_embed_says_what_to_do_next_not_zeros():
    embed = portfolio_embed(CASES["empty"])
    assert "no merged pull requests yet" in embed.description
    assert NEXT_ISSUE in embed.description and "**0**" not in embed.description


def test_embed_chart_is_three_times_the_embed_width():
    for case in ("small", "large", "empty"):
        png = chart_png(CASES[case])
        width, height = struct.unpack(">II", png[16:24])
        # Discord shows it ~400 px wide: 1200 px keeps the 13 pt (at 200 dpi) text ~12 px there
        assert width == 1200 and height <= 2000
