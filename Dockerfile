# syntax=docker/dockerfile:1
# One image, two entrypoints: `matcher` (the CLI: sync, db upgrade, match, ...) and `bot`.
#   docker build -t ml-first-issues .
#   docker run --rm ml-first-issues matcher match --skills "Python" --niche "NLP"
# No PyTorch: the default model runs on ONNX Runtime. Dependencies are one layer built from
# pyproject.toml alone, so a source change rebuilds only the small layer after it. EXTRAS=torch
# (with TORCH_INDEX_URL, PyTorch's CPU index by default) adds sentence-transformers for another
# model named by MATCHER_MODEL.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    PATH=/opt/venv/bin:$PATH \
    MATCHER_CONFIG_DIR=/opt/app/config \
    MATCHER_DATABASE_URL=sqlite:////data/matcher.sqlite \
    MATCHER_HEALTH_DIR=/tmp/matcher-health

# 1. Dependencies (root-owned venv), from pyproject.toml only: no test extras.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG EXTRAS=postgres,charts,bot
COPY pyproject.toml /opt/app/pyproject.toml
RUN python -m venv /opt/venv \
 && python -c "import tomllib, sys; p = tomllib.load(open('/opt/app/pyproject.toml', 'rb'))['project']; extras = [e for e in sys.argv[1].split(',') if e]; print('\n'.join(p['dependencies'] + [d for e in extras for d in p['optional-dependencies'][e]]))" "$EXTRAS" > /opt/app/requirements.txt \
 && if grep -q '^torch' /opt/app/requirements.txt; then \
        pip install --index-url "$TORCH_INDEX_URL" "$(grep '^torch' /opt/app/requirements.txt)"; fi \
 && pip install -r /opt/app/requirements.txt

# 2. The code: matcher, bot and config only (no tests), installed as root, read-only for the user.
COPY README.md LICENSE /opt/app/
COPY config /opt/app/config
COPY matcher /opt/app/matcher
COPY bot /opt/app/bot
RUN pip install --no-deps /opt/app \
 && rm -rf /opt/app/build \
 && printf '#!/bin/sh\nexec python -m matcher "$@"\n' > /usr/local/bin/matcher \
 && printf '#!/bin/sh\nexec python -m bot "$@"\n' > /usr/local/bin/bot \
 && chmod 755 /usr/local/bin/matcher /usr/local/bin/bot \
 && useradd --create-home --uid 10001 matcher \
 && mkdir /data && chown matcher /data

USER 10001
WORKDIR /home/matcher
VOLUME ["/data"]
# The bot beats while its gateway is connected and its loops run; compose gives `sync` its own check.
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "-m", "matcher.health", "bot", "180"]
CMD ["bot"]
