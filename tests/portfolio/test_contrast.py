"""The chart's colours at WCAG 2 AA contrast against the background they sit on: text at least
4.5:1, bars, lines and markers at least 3:1. The colours are read from what is drawn: the HTML
page's inline SVG and the matplotlib chart (as SVG, the same drawing as the PNG)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from matcher.render.chart import GRID, chart_image, chart_svg
from matcher.render.html import to_html
from tests.portfolio.sample import summaries

CASES = summaries()
TEXT, GRAPHIC = 4.5, 3.0
SVG = "{http://www.w3.org/2000/svg}"
HEX = re.compile(r"#[0-9a-fA-F]{6}\b")


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of '#rrggbb'."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """WCAG 2 contrast ratio, 1 to 21."""
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_ratio_is_computed_as_wcag_says():
    assert contrast("#000000", "#ffffff") == pytest.approx(21)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#2f81f7", "#ffffff") == pytest.approx(3.75, abs=0.01)  # the old axis blue


def _page_background(page: str) -> str:
    """The background the chart sits on: the page's <main>."""
    found = re.search(r"\bmain\{[^}]*background:(#[0-9a-f]{3,6})", page)
    assert found, "the page names main's background"
    colour = found.group(1)
    return "#" + "".join(c * 2 for c in colour[1:]) if len(colour) == 4 else colour


@pytest.mark.parametrize("width", [720, 360])
@pytest.mark.parametrize("case", ["small", "large"])
def test_html_chart_text_and_marks_reach_aa(case, width):
    page = to_html(CASES[case])
    background = _page_background(page)
    svg = ET.fromstring(chart_svg(CASES[case], width=width, ticks=6 if width > 500 else 3))
    texts, marks, grid = [], [], 0
    for element in svg.iter():
        tag = element.tag.removeprefix(SVG)
        if tag == "text":
            texts.append(element.get("fill", "#000000"))
        elif tag in ("rect", "polyline", "line"):
            colour = element.get("fill") if tag == "rect" else element.get("stroke")
            if tag == "line" and colour == GRID and element.get("stroke-width") == "1":
                grid += 1  # gridlines are decoration: every value is on an axis
                continue
            marks.append(colour)
    assert texts and marks and grid
    low_text = {
        c: round(contrast(c, background), 2) for c in texts if contrast(c, background) < TEXT
    }
    low_marks = {
        c: round(contrast(c, background), 2) for c in marks if contrast(c, background) < GRAPHIC
    }
    assert not low_text, f"text under {TEXT}:1 on {background}: {low_text}"
    assert not low_marks, f"marks under {GRAPHIC}:1 on {background}: {low_marks}"


def test_html_repository_bars_reach_aa():
    page = to_html(CASES["large"])
    bar = re.search(r"\.bar\{[^}]*background:(#[0-9a-f]{6})", page).group(1)
    assert contrast(bar, _page_background(page)) >= GRAPHIC


def _colours(element: ET.Element) -> set[str]:
    found = set()
    for e in element.iter():
        style = e.get("style", "") + " " + (e.get("fill") or "") + " " + (e.get("stroke") or "")
        found |= {c.lower() for c in HEX.findall(style)}
    return found


@pytest.mark.parametrize("case", ["small", "large"])
def test_matplotlib_chart_text_and_marks_reach_aa(case):
    """The PNG for Discord and a README, drawn as SVG to read its colours."""
    svg = ET.fromstring(chart_image(CASES[case], "svg"))
    groups = {e.get("id"): e for e in svg.iter(f"{SVG}g") if e.get("id")}
    background = _colours(groups["patch_1"]).pop()  # the figure's own background
    texts, marks = set(), set()
    for gid, group in groups.items():
        if gid.startswith("text_"):
            texts |= _colours(group)
        elif gid.startswith(("patch_", "line2d_")):
            marks |= _colours(group)
    marks.discard(background)  # the axes' face: the background itself
    assert texts and len(marks) >= 3
    low_text = {
        c: round(contrast(c, background), 2) for c in texts if contrast(c, background) < TEXT
    }
    low_marks = {
        c: round(contrast(c, background), 2) for c in marks if contrast(c, background) < GRAPHIC
    }
    assert not low_text, f"text under {TEXT}:1 on {background}: {low_text}"
    assert not low_marks, f"marks under {GRAPHIC}:1 on {background}: {low_marks}"
