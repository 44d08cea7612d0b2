#!/usr/bin/env bash
# Install the project into ./.venv (editable): by default what a learner needs, no PyTorch (the
# default model runs on ONNX Runtime). EXTRAS adds optional groups, comma-separated:
#   test      what `python -m pytest` needs        dev       ruff, mypy, hadolint
#   postgres  the PostgreSQL driver                charts    the portfolio's PNG chart (matplotlib)
#   bot       the Discord bot (discord.py)         torch     sentence-transformers, for any other
#                                                            model and the reference model
# e.g. EXTRAS=test bash scripts/install.sh. Idempotent: a second run installs nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
step() { printf '\n==> %s\n' "$*"; }
pip=(.venv/bin/python -m pip install --disable-pip-version-check --progress-bar on)
extras="${EXTRAS:-}"
wants_torch=no
case ",${extras// /}," in *,torch,*) wants_torch=yes ;; esac
steps=2
[ "$wants_torch" = yes ] && steps=3

step "1/$steps virtual environment .venv"
[ -x .venv/bin/python ] || "$python" -m venv .venv

if [ "$wants_torch" = yes ]; then
    # PyPI's torch for Linux x86_64 is the CUDA build, which pulls ~17 nvidia/triton wheels
    # (several GB); PyTorch's CPU wheel index has the CPU build (2.13.0+cpu, ~200 MB). It is added
    # as an extra index, so a machine that reaches only PyPI (or has the CPU wheel in pip's
    # find-links) still installs. Elsewhere (macOS, Linux aarch64) PyPI's own wheel is used.
    # TORCH_INDEX_URL names another index; TORCH_INDEX_URL=none uses only pip's configured ones.
    if [ -z "${TORCH_INDEX_URL:-}" ] && [ "$(uname -s)-$(uname -m)" = "Linux-x86_64" ]; then
        TORCH_INDEX_URL="https://download.pytorch.org/whl/cpu"
    fi
    torch_index=()
    if [ -n "${TORCH_INDEX_URL:-}" ] && [ "$TORCH_INDEX_URL" != none ]; then
        if .venv/bin/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1].rstrip("/") + "/torch/", timeout=15)' \
            "$TORCH_INDEX_URL" 2>/dev/null; then
            torch_index=(--extra-index-url "$TORCH_INDEX_URL")
        else
            echo "note: $TORCH_INDEX_URL does not answer; torch comes from pip's configured indexes"
        fi
    fi
    step "2/$steps torch 2.13.0, CPU build (about 200 MB; the longest step)${torch_index[1]:+ from ${torch_index[1]}}"
    "${pip[@]}" ${torch_index[@]+"${torch_index[@]}"} "torch==2.13.0"
    .venv/bin/python -W ignore -c 'import torch; print(f"torch {torch.__version__}, CUDA build: {torch.version.cuda is not None}")'
fi

step "$steps/$steps the project (editable)${extras:+ with [$extras]}; the default model runs on ONNX Runtime"
"${pip[@]}" -e ".${extras:+[$extras]}"
step "done: run commands with .venv/bin/python, or 'source .venv/bin/activate' first"
