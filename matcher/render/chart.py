"""The portfolio chart: merges per month (with the running total) and merges by repository."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date, timedelta

import matplotlib

matplotlib.use("Agg")  # no display: the bot and the CLI run headless

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from matcher.portfolio import Summary  # noqa: E402

TOP_REPOS = 10


def _months(first: date, last: date) -> list[date]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _weeks(first: date, last: date) -> list[date]:
    start = first - timedelta(days=first.weekday())
    return [start + timedelta(weeks=n) for n in range((last - start).days // 7 + 1)]


def chart_png(summary: Summary, *, dpi: int = 100) -> bytes:
    """A PNG of two panels; reverted merges are left out, as in the totals."""
    merged = [e.contribution for e in summary.entries if e.contribution.counts]
    fig, (left, right) = plt.subplots(
        1, 2, figsize=(10, 3.6), dpi=dpi, gridspec_kw={"width_ratios": [3, 2]}
    )
    try:
        if merged:
            days = [c.merged_at.date() for c in merged]
            weekly = (max(days) - min(days)).days <= 26 * 7
            if weekly:  # a short history reads better week by week
                bins = _weeks(min(days), max(days))
                key = [d - timedelta(days=d.weekday()) for d in days]
                labels = [f"{b.day} {b:%b}" for b in bins]
            else:
                bins = _months(min(days), max(days))
                key = [date(d.year, d.month, 1) for d in days]
                labels = [f"{b:%b %y}" for b in bins]
            per_bin = Counter(key)
            months = bins
            counts = [per_bin.get(b, 0) for b in bins]
            left.set_xlim(-0.75, len(bins) - 0.25)
            left.bar(range(len(months)), counts, color="#2f81f7", label="merged")
            running = left.twinx()
            total, cumulative = 0, []
            for n in counts:
                total += n
                cumulative.append(total)
            running.plot(
                range(len(months)),
                cumulative,
                color="#1a7f37",
                marker="o",
                linewidth=1.5,
                label="running total",
            )
            running.set_ylim(bottom=0)
            running.spines[["top"]].set_visible(False)
            running.set_ylabel("running total", fontsize=8, color="#1a7f37")
            running.yaxis.set_major_locator(MaxNLocator(integer=True))
            step = max(1, len(months) // 8)
            left.set_xticks(range(0, len(months), step), labels[::step], rotation=30, ha="right")
            left.yaxis.set_major_locator(MaxNLocator(integer=True))

            by_repo = [(s.repo, s.prs) for s in summary.repos[:TOP_REPOS]][::-1]
            right.barh([r for r, _ in by_repo], [n for _, n in by_repo], color="#8250df")
            right.xaxis.set_major_locator(MaxNLocator(integer=True))
            right.tick_params(axis="y", labelsize=8)
        else:
            for ax in (left, right):
                ax.text(
                    0.5,
                    0.5,
                    "no merged pull requests yet",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    color="#57606a",
                )
                ax.set_xticks([])
                ax.set_yticks([])
        left.set_title("Merged pull requests over time", fontsize=10)
        right.set_title("By repository", fontsize=10)
        for ax in (left, right):
            ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buffer = io.BytesIO()
        # no timestamp in the metadata: the same summary gives the same bytes
        fig.savefig(buffer, format="png", metadata={"Software": None})
        return buffer.getvalue()
    finally:
        plt.close(fig)
