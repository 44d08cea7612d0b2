"""Headless Chromium driven over the DevTools protocol (aiohttp's websocket, on 127.0.0.1).

The browser tests measure the portfolio page with it, and it takes the README's screenshots:

    python -m tests.portfolio.browser DIR    # portfolio-{small,large,empty}.html and
                                             # {case}-{390,1280}.png in DIR

Chromium's own --window-size cannot go below 500 px, so the phone widths are set through
Emulation.setDeviceMetricsOverride (as a phone: the viewport meta tag applies).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]

# what the tests assert, measured on the laid-out page
PROBE = """(() => {
  const root = document.documentElement, width = root.clientWidth;
  const wide = [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > width + 0.5)
    .map(e => e.tagName + "." + e.className);
  const chart = [...document.querySelectorAll("svg.chart")]
    .find(s => s.getBoundingClientRect().width > 0);
  const row = document.querySelector("tbody tr");
  return {
    viewport: width, scrollWidth: root.scrollWidth, overflowing: wide.slice(0, 5),
    chartUnits: chart ? chart.viewBox.baseVal.width : null,
    chartTextPx: chart ? chart.getBoundingClientRect().width / chart.viewBox.baseVal.width * 12
      : null,
    tableRowDisplay: row ? getComputedStyle(row).display : null,
    firstScreen: [...document.querySelectorAll("h2")]
      .filter(h => h.getBoundingClientRect().top < innerHeight).map(h => h.textContent),
  };
})()"""


def chromium_path() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Chromium:
    """One headless Chromium with a throwaway profile, stopped on exit."""

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or chromium_path()
        if self.binary is None:
            raise RuntimeError("no chromium on PATH: apt-get install -y chromium")
        self.port = _free_port()
        self._profile = tempfile.TemporaryDirectory(
            prefix="portfolio-chromium-", ignore_cleanup_errors=True
        )
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> Chromium:
        self._proc = subprocess.Popen(
            [
                self.binary,
                *FLAGS,
                f"--user-data-dir={self._profile.name}",
                f"--remote-debugging-port={self.port}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stopping it stops its helpers
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/version", timeout=1)
                return self
            except OSError:
                if time.monotonic() > deadline or self._proc.poll() is not None:
                    self.__exit__()
                    raise RuntimeError("chromium did not start its DevTools endpoint") from None
                time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._signal(signal.SIGTERM)
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self._proc.wait(10)
        self._profile.cleanup()

    def _signal(self, sig: signal.Signals) -> None:
        """Signal the process group this Chromium was started in (only its own processes)."""
        assert self._proc is not None
        try:
            os.killpg(self._proc.pid, sig)
        except ProcessLookupError:
            pass

    def measure(self, page: Path, width: int, height: int = 844) -> dict:
        """The PROBE's answer for `page` shown `width` CSS px wide."""
        return asyncio.run(self._visit(page, width, height, screenshot=None))

    def screenshot(self, page: Path, width: int, out: Path) -> dict:
        """A full-page PNG of `page` at `width` px; returns the PROBE's answer too."""
        return asyncio.run(self._visit(page, width, 844, screenshot=out))

    async def _visit(self, page: Path, width: int, height: int, screenshot: Path | None) -> dict:
        base = f"http://127.0.0.1:{self.port}"
        async with aiohttp.ClientSession() as http:
            async with http.put(f"{base}/json/new?about:blank") as response:
                target = json.loads(await response.text())
            try:
                async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                    cdp = _Session(ws)
                    await cdp.call("Page.enable")
                    metrics = {"width": width, "deviceScaleFactor": 1, "mobile": width < 600}
                    await cdp.call("Emulation.setDeviceMetricsOverride", height=height, **metrics)
                    await cdp.call("Page.navigate", url=page.resolve().as_uri())
                    await cdp.event("Page.loadEventFired")
                    answer = await cdp.evaluate(PROBE)
                    if screenshot is not None:
                        full = await cdp.evaluate("document.documentElement.scrollHeight")
                        await cdp.call(
                            "Emulation.setDeviceMetricsOverride", height=int(full), **metrics
                        )
                        shot = await cdp.call("Page.captureScreenshot", format="png")
                        screenshot.write_bytes(base64.b64decode(shot["data"]))
                    return answer
            finally:
                async with http.get(f"{base}/json/close/{target['id']}"):
                    pass


class _Session:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws, self.next_id, self.events = ws, 0, []

    async def _receive(self) -> dict:
        message = await asyncio.wait_for(self.ws.receive_json(), timeout=30)
        return message

    async def call(self, method: str, **params: object) -> dict:
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        while True:
            message = await self._receive()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message.get("method"))

    async def event(self, name: str) -> None:
        while name not in self.events:
            self.events.append((await self._receive()).get("method"))

    async def evaluate(self, expression: str) -> object:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"]["value"]


def main(folder: str) -> None:
    from tests.portfolio.sample import write_pages

    out = Path(folder)
    with Chromium() as browser:
        for page in write_pages(out):
            case = page.stem.removeprefix("portfolio-")
            for width in (390, 1280):
                shot = out / f"{case}-{width}.png"
                answer = browser.screenshot(page, width, shot)
                print(shot, json.dumps(answer))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "portfolio-screenshots")
