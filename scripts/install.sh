#!/usr/bin/env bash
# Install the project into ./.venv: the CPU build of torch first (so nothing pulls CUDA), then the
# project with its test extras. Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
# TORCH_INDEX_URL (optional) names a wheel index with CPU-only builds, e.g. for a Docker image
# built where the local CPU wheel is not on disk.
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
    ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==2.13.0"
# EXTRAS: the optional groups to install, comma-separated (default: test); the PostgreSQL driver
# comes with postgres: EXTRAS=test,postgres bash scripts/install.sh
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[${EXTRAS:-test}]"
