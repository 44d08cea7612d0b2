#!/usr/bin/env bash
# The public HTML page of the large sample portfolio (60 merged pull requests in 12 repositories,
# tests/portfolio/sample.py) photographed by headless Chromium at 390 px (a phone) and 1280 px.
#
#   bash scripts/portfolio-screenshots.sh [OUT_DIR] [HEIGHT]
#
# writes OUT_DIR/portfolio-{small,large,empty}.html and OUT_DIR/large-{390,1280}.png
# (default OUT_DIR portfolio-screenshots, HEIGHT 2400 px). Needs chromium
# (apt-get install -y chromium). For whole pages of every case, with layout measurements:
# python -m tests.portfolio.browser OUT_DIR
set -euo pipefail

out="${1:-portfolio-screenshots}"
height="${2:-2400}"
python="${MATCHER_PYTHON:-.venv/bin/python}"
chromium="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$chromium" ]; then
    echo "error: no chromium on PATH: apt-get install -y chromium" >&2
    exit 1
fi

"$python" -m tests.portfolio.sample --pages "$out" >/dev/null
page="file://$(realpath "$out/portfolio-large.html")"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT

for width in 390 1280; do
    # --no-sandbox: containers and root have no user namespaces for Chromium's sandbox
    "$chromium" --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars \
        --user-data-dir="$profile" --window-size="$width,$height" \
        --screenshot="$out/large-$width.png" "$page" >/dev/null 2>&1
    echo "$out/large-$width.png"
done
