# The matcher CLI (and the bot) on CPU torch, with the embedding model inside the image.
# Same install path as CI: scripts/install.sh.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 \
    MATCHER_DATABASE_URL=sqlite:////data/matcher.sqlite

RUN useradd --create-home --uid 10001 matcher && mkdir /data && chown matcher /data
WORKDIR /app
COPY --chown=matcher . /app
USER matcher
# Pass --build-arg TORCH_INDEX_URL=<PyTorch's CPU wheel index> for a CPU-only torch.
ARG TORCH_INDEX_URL=""
RUN TORCH_INDEX_URL="$TORCH_INDEX_URL" bash scripts/install.sh

VOLUME ["/data"]
ENTRYPOINT ["/app/.venv/bin/python", "-m", "matcher"]
CMD ["match", "--skills", "Python, PyTorch", "--niche", "computer vision"]
