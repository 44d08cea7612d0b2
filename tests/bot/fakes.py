"""Fast stand-ins for the bot tests: a hashing embedder and a small issue catalogue."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from matcher.models import Issue

DIM = 256


class HashingEmbedder:
    """Bag of hashed words, L2-normalised: similar texts share words, so they share directions."""

    name = "test-hashing-256"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest()[:8], 16) % DIM] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else 1.0 / np.sqrt(DIM)
        return out


UPDATED = datetime(2025, 12, 20, tzinfo=UTC)


def issue(
    repo: str, number: int, title: str, body: str, labels=("good first issue",), niches=()
) -> Issue:
    return Issue(
        url=f"https://github.com/{repo}/issues/{number}",
        repo=repo,
        number=number,
        title=title,
        body=body,
        labels=tuple(labels),
        updated_at=UPDATED,
        created_at=UPDATED,
        niches=tuple(niches),
        language="Python",
    )


ISSUES = [
    issue(
        "huggingface/tokenizers",
        101,
        "Tokenizer decode drops whitespace for byte-level BPE",
        "The python tokenizer decode step loses spaces with byte level BPE models "
        "in nlp pipelines.",
        niches=("nlp",),
    ),
    issue(
        "huggingface/transformers",
        202,
        "Add type hints to the pytorch tokenizer utilities",
        "Add python type hints to tokenizer utils used by pytorch nlp models.",
        niches=("nlp",),
    ),
    issue(
        "huggingface/transformers",
        203,
        "Docs: example for text classification pipeline in pytorch",
        "Write a docs example showing an nlp text classification pipeline with pytorch.",
        labels=("good first issue", "documentation"),
        niches=("nlp",),
    ),
    issue(
        "pytorch/vision",
        301,
        "Resize transform ignores antialias on tensors",
        "Computer vision image resize transform for pytorch tensors ignores antialias.",
        niches=("vision",),
    ),
    issue(
        "pytorch/vision",
        302,
        "Add a docs example for object detection image models",
        "Documentation example for computer vision object detection with pytorch image models.",
        labels=("good first issue", "documentation"),
        niches=("vision",),
    ),
    issue(
        "mlflow/mlflow",
        401,
        "CLI flag to export runs as csv",
        "Add a command line flag to export experiment runs to csv for mlops tracking.",
        niches=("mlops",),
    ),
    issue(
        "pandas-dev/pandas",
        501,
        "Improve error message for read_csv with bad dtype",
        "pandas read_csv dtype error message should name the python column.",
        niches=("data",),
    ),
    issue(
        "scikit-learn/scikit-learn",
        601,
        "Clarify docs of StandardScaler with_mean",
        "Documentation of scikit learn StandardScaler with_mean for sparse python data.",
        labels=("good first issue", "documentation"),
        niches=("classical-ml",),
    ),
]
