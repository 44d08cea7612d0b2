"""The HTML page in a real browser: headless Chromium (Debian's `chromium`) at phone and desktop
widths, over the DevTools protocol. The page must never scroll sideways, show the chart drawn for
its width with readable text, and stack the table on a phone. Skipped only without chromium
(CI installs it: apt-get install -y chromium)."""

from __future__ import annotations

import pytest

from matcher.render.html import to_html
from tests.portfolio.browser import Chromium, chromium_path
from tests.portfolio.sample import summaries

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="needs chromium (apt-get install -y chromium)"
)

CASES = summaries()


@pytest.fixture(scope="module")
def browser():
    with Chromium() as chromium:
        yield chromium


def test_the_probe_sees_sideways_scroll(browser, tmp_path):
    """The measurement can fail: a 600 px wide block at 390 px is caught."""
    page = tmp_path / "wide.html"
    page.write_text(
        '<!DOCTYPE html><meta name="viewport" content="width=device-width, initial-scale=1">'
        '<body><div class="too-wide" style="width:600px">x</div></body>',
        encoding="utf-8",
    )
    m = browser.measure(page, 390)
    assert m["scrollWidth"] > 390 and "DIV.too-wide" in m["overflowing"]


@pytest.mark.parametrize("case", ["small", "large", "empty"])
def test_no_sideways_scroll_at_phone_and_desktop_widths(browser, case, tmp_path):
    page = tmp_path / f"{case}.html"
    page.write_text(to_html(CASES[case]), encoding="utf-8")
    for width in (360, 390, 1280):
        m = browser.measure(page, width)
        assert m["viewport"] == width, m
        assert m["scrollWidth"] <= width and not m["overflowing"], (width, m)
        if case == "empty":
            assert m["chartUnits"] is None and m["firstScreen"] == ["Merged pull requests"]
            continue
        # the chart drawn for the width shown: its 12-unit text is 11 to 20 px on screen
        assert m["chartUnits"] == (360 if width < 600 else 720), (width, m)
        assert 11 <= m["chartTextPx"] <= 20, (width, m)
        # a stacked list on a phone, a table on a desktop
        assert m["tableRowDisplay"] == ("block" if width < 600 else "table-row"), (width, m)
        # the headline and the highlights open the page, even on a phone
        assert m["firstScreen"][0] == "Highlights", (width, m)
