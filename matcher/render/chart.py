"""The portfolio chart: merged pull requests over time (to today) and by repository.

Two drawings of the same numbers: `chart_svg` (the timeline, hand-written SVG sized for one
screen width, for the HTML page) and `chart_png`/`chart_image` (matplotlib, both panels
stacked, sized to read at 400 px, for Discord and a README). `chart_alt` states the numbers.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from matcher.errors import MatcherError
from matcher.portfolio import Summary, utc_date
from matcher.render import short_names

TOP_REPOS = 8
WEEKLY_UP_TO_DAYS = 183  # a history shorter than this reads better week by week
# WCAG AA on white: text at least 4.5:1 (the axis numbers take their series' colour), the bars
# and the line at least 3:1 (tests/portfolio/test_contrast.py measures what is drawn)
BAR = "#0969da"  # 5.2:1
LINE = "#1a7f37"  # 5.1:1
REPO = "#8250df"  # 5.1:1
REST = "#6e7781"  # 4.6:1: the "+N more" bar
INK = "#1f2328"
MUTED = "#57606a"  # 6.4:1
GRID = "#d8dee4"  # decoration only: the numbers are on the axes
BACKGROUND = "#ffffff"


@dataclass(frozen=True)
class Timeline:
    """Merged pull requests per bin (week or month) from the first merge to the summary's date."""

    unit: str  # "week" or "month"
    starts: tuple[date, ...]
    counts: tuple[int, ...]

    @property
    def cumulative(self) -> tuple[int, ...]:
        out, total = [], 0
        for n in self.counts:
            total += n
            out.append(total)
        return tuple(out)

    def label(self, i: int) -> str:
        d = self.starts[i]
        return f"{d.day} {d:%b %Y}" if self.unit == "week" else f"{d:%b %Y}"

    def span(self, i: int) -> str:
        """'the week of 2 Feb 2026' or 'March 2026'."""
        d = self.starts[i]
        return f"the week of {d.day} {d:%b %Y}" if self.unit == "week" else f"{d:%B %Y}"

    def end(self) -> date:
        last = self.starts[-1]
        if self.unit == "week":
            return last + timedelta(days=7)
        return date(last.year + last.month // 12, last.month % 12 + 1, 1)


def _month(d: date) -> date:
    return date(d.year, d.month, 1)


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def timeline(summary: Summary) -> Timeline | None:
    """The bins of the chart, or None with no merge; the axis runs to the summary's date."""
    days = [utc_date(e.contribution.merged_at) for e in summary.counted]
    if not days:
        return None
    first, today = min(days), max(max(days), utc_date(summary.generated_at))
    if (today - first).days <= WEEKLY_UP_TO_DAYS:
        start = first - timedelta(days=first.weekday())
        starts = [start + timedelta(weeks=n) for n in range((today - start).days // 7 + 1)]
        key = [d - timedelta(days=d.weekday()) for d in days]
        unit = "week"
    else:
        starts, m = [], _month(first)
        while m <= today:
            starts.append(m)
            m = _next_month(m)
        key = [_month(d) for d in days]
        unit = "month"
    counts = tuple(sum(1 for k in key if k == s) for s in starts)
    return Timeline(unit, tuple(starts), counts)


def repo_bars(summary: Summary, top: int = TOP_REPOS) -> list[tuple[str, int]]:
    """(repository, merged) for the top ones ('owner/name (own)' for the learner's own), then
    ('+N more', their merges) for the rest."""
    bars = [(r.repo + (" (own)" if r.own else ""), r.prs) for r in summary.repos[:top]]
    rest = summary.repos[top:]
    if rest:
        bars.append((f"+{len(rest)} more", sum(r.prs for r in rest)))
    return bars


def chart_alt(summary: Summary, *, repos: bool = True) -> str:
    """Alt text that states what the chart shows, numbers included (by repository too)."""
    t = timeline(summary)
    if t is None:
        return "No merged pull requests yet, so there is no chart."
    busiest = max(range(len(t.counts)), key=lambda i: (t.counts[i], i))
    text = (
        f"Merged pull requests per {t.unit} from {t.span(0)} to {t.span(len(t.starts) - 1)}: "
        f"{summary.merged} in total, most in {t.span(busiest)} ({t.counts[busiest]})."
    )
    if not repos:
        return text
    shown = [(name, n) for name, n in repo_bars(summary) if not name.startswith("+")]
    by_repo = "; ".join(f"{name}: {n}" for name, n in shown)
    rest = summary.repos[TOP_REPOS:]
    if rest:
        by_repo += f"; {len(rest)} more repositories: {sum(r.prs for r in rest)}"
    return f"{text} By repository: {by_repo}."


# --- SVG (HTML) ---------------------------------------------------------------------------


def _step(top: int, ticks: int = 4) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000):
        if top / step <= ticks:
            return step
    return max(1, top // ticks)


def _nice_top(value: int, ticks: int = 4) -> tuple[int, int]:
    step = _step(max(value, 1), ticks)
    return step * -(-max(value, 1) // step), step


def chart_svg(summary: Summary, *, width: int = 720, height: int = 260, ticks: int = 6) -> str:
    """The timeline as an inline SVG of `width` user units ('' with no merge).

    Bars are merges per bin on the left axis, the line the running total on the right axis;
    the legend names both. Draw it at the width it is shown at, so 12-unit text stays 12 px.
    """
    t = timeline(summary)
    if t is None:
        return ""
    narrow = width < 500
    left, right, top, bottom = 34, 40, 58 if narrow else 40, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(t.counts)
    band = plot_w / n
    bar_top, bar_step = _nice_top(max(t.counts))
    total = t.cumulative[-1]
    line_top, line_step = _nice_top(total)

    def y(value: float, scale: int) -> float:
        return top + plot_h - plot_h * value / scale

    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="chart-title-{width}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="12">',
        f'<title id="chart-title-{width}">{escape(chart_alt(summary))}</title>',
        # legend, top left: what the bars and the line are, and which axis each reads on
        f'<rect x="{left}" y="6" width="12" height="12" fill="{BAR}"/>',
        f'<text x="{left + 17}" y="16" fill="{INK}">merged per {t.unit} (left)</text>',
        *_line_legend(left, 12 + 18 * narrow, 0 if narrow else 178),
    ]
    for v in range(0, bar_top + 1, bar_step):
        yy = y(v, bar_top)
        parts.append(
            f'<line x1="{left}" y1="{yy:.1f}" x2="{left + plot_w}" y2="{yy:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" fill="{BAR}">{v}</text>'
        )
    for v in range(0, line_top + 1, line_step):
        parts.append(
            f'<text x="{left + plot_w + 6}" y="{y(v, line_top) + 4:.1f}" fill="{LINE}">{v}</text>'
        )
    for i, count in enumerate(t.counts):
        if count:
            x = left + i * band + band * 0.15
            parts.append(
                f'<rect x="{x:.1f}" y="{y(count, bar_top):.1f}" width="{band * 0.7:.1f}" '
                f'height="{plot_h * count / bar_top:.1f}" fill="{BAR}" rx="1">'
                f"<title>{escape(t.span(i))}: {count} merged</title></rect>"
            )
    points = " ".join(
        f"{left + (i + 0.5) * band:.1f},{y(v, line_top):.1f}" for i, v in enumerate(t.cumulative)
    )
    parts.append(
        f'<polyline points="{points}" fill="none" stroke="{LINE}" stroke-width="2.5" '
        'stroke-linejoin="round"/>'
    )
    base = top + plot_h
    parts.append(
        f'<line x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}" stroke="{MUTED}"/>'
    )
    for i in _tick_indices(n, ticks):
        anchor = "start" if i == 0 else "end" if i == n - 1 and n > 1 else "middle"
        x = left + (
            i * band
            if anchor == "start"
            else (i + 1) * band
            if anchor == "end"
            else (i + 0.5) * band
        )
        label = t.label(i)
        parts.append(
            f'<line x1="{left + (i + 0.5) * band:.1f}" y1="{base}" '
            f'x2="{left + (i + 0.5) * band:.1f}" y2="{base + 4}" stroke="{MUTED}"/>'
            f'<text x="{x:.1f}" y="{base + 18}" text-anchor="{anchor}" fill="{MUTED}">'
            f"{escape(label)}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle" '
        f'fill="{MUTED}">{t.unit} merged (UTC), up to {escape(t.label(n - 1))}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _line_legend(left: int, y: int, dx: int) -> list[str]:
    return [
        f'<line x1="{left + dx}" y1="{y}" x2="{left + dx + 12}" y2="{y}" stroke="{LINE}" '
        f'stroke-width="2.5"/>',
        f'<text x="{left + dx + 17}" y="{y + 4}" fill="{INK}">running total (right)</text>',
    ]


def _tick_indices(n: int, ticks: int) -> list[int]:
    if n <= ticks:
        return list(range(n))
    # evenly spaced from the first bin, then the last (the page's date) unless it crowds one
    step = -(-(n - 1) // (ticks - 1))
    picks = list(range(0, n - 1, step))
    if n - 1 - picks[-1] < step * 0.6:
        picks.pop()
    return [*picks, n - 1]


# --- PNG / SVG by matplotlib (Discord, README) ----------------------------------------------


def chart_image(summary: Summary, fmt: str = "png", *, dpi: int = 200) -> bytes:
    """The timeline over the by-repository bars, 6 in wide: text stays >= 11 px at 400 px."""
    try:
        import matplotlib
    except ImportError:  # the [charts] extra: a learner's default install has no plotting stack
        raise MatcherError(
            f"a {fmt.upper()} chart needs matplotlib: pip install 'ml-first-issues[charts]'"
        ) from None

    matplotlib.use("Agg")  # no display: the bot and the CLI run headless
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    t = timeline(summary)
    bars = repo_bars(summary)
    with plt.rc_context(
        {
            "font.size": 13,
            "axes.titlesize": 15,
            "svg.hashsalt": "portfolio",
            # the colours the contrast test measures against, set rather than inherited
            "figure.facecolor": BACKGROUND,
            "axes.facecolor": BACKGROUND,
            "text.color": INK,
            "axes.labelcolor": INK,
            "xtick.color": INK,
            "ytick.color": INK,
        }
    ):
        if t is None:
            fig, ax = plt.subplots(figsize=(6, 2.4), dpi=dpi)
            ax.text(0.5, 0.6, "No merged pull requests yet", ha="center", fontsize=16, color=INK)
            ax.text(0.5, 0.3, "Pick an issue with /suggest", ha="center", color=MUTED)
            ax.axis("off")
            return _save(fig, fmt)
        repo_height = 0.45 * len(bars) + 1.0  # inches: the axis and its label need room
        fig, (top, bottom) = plt.subplots(
            2,
            1,
            figsize=(6, 4.2 + repo_height),
            dpi=dpi,
            gridspec_kw={"height_ratios": [4.2, repo_height]},
        )
        try:
            _draw_timeline(top, t, MaxNLocator)
            _draw_repos(bottom, bars, MaxNLocator)
            fig.tight_layout(h_pad=1.6)
            return _save(fig, fmt)
        finally:
            plt.close(fig)


def _draw_timeline(ax, t: Timeline, locator) -> None:
    xs = range(len(t.counts))
    ax.bar(xs, t.counts, width=0.7, color=BAR, label=f"merged per {t.unit} (left)")
    ax.set_ylabel(f"merged per {t.unit}", color=BAR)
    ax.yaxis.set_major_locator(locator(integer=True, nbins=4))
    ax.set_xlim(-0.6, len(t.counts) - 0.4)
    ticks = _tick_indices(len(t.counts), 4)
    ax.set_xticks(ticks, [t.label(i).replace(" 20", "\n20") for i in ticks])
    twin = ax.twinx()
    twin.plot(xs, t.cumulative, color=LINE, linewidth=2.5, label="running total (right)")
    twin.set_ylim(bottom=0, top=max(t.cumulative) * 1.15)
    twin.set_ylabel("running total", color=LINE)
    twin.yaxis.set_major_locator(locator(integer=True, nbins=4))
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    # below the dates, so it never covers a bar
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.3),
        ncol=2,
        frameon=False,
        fontsize=12,
        handlelength=1.2,
        columnspacing=1,
    )
    ax.set_ylim(top=max(t.counts) * 1.15)
    ax.set_title(f"Merged pull requests ({t.cumulative[-1]} in total)")
    for a in (ax, twin):
        a.spines[["top"]].set_visible(False)


def _draw_repos(ax, bars: list[tuple[str, int]], locator) -> None:
    names = short_names([name for name, _ in bars])[::-1]
    counts = [n for _, n in bars][::-1]
    colours = [REST if name.startswith("+") else REPO for name in names]
    ax.barh(names, counts, color=colours)
    for i, n in enumerate(counts):
        ax.text(n, i, f" {n}", va="center", color=INK)
    ax.xaxis.set_major_locator(locator(integer=True, nbins=4))
    ax.set_xlim(0, max(counts) * 1.15)
    ax.set_xlabel("merged pull requests")
    ax.set_title("By repository")
    ax.spines[["top", "right"]].set_visible(False)


def _save(fig, fmt: str) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        # no timestamp in the metadata: the same summary gives the same bytes
        meta = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
        fig.savefig(buffer, format=fmt, metadata=meta)
    finally:
        plt.close(fig)
    return buffer.getvalue()


def chart_png(summary: Summary, *, dpi: int = 200) -> bytes:
    """The PNG chart (1200 px wide at the default dpi)."""
    return chart_image(summary, "png", dpi=dpi)
