"""Fast stand-ins for the bot tests: the shared hashing embedder and a small issue catalogue."""

from __future__ import annotations

from datetime import UTC, datetime

from matcher.models import Issue
from tests.fakes.embedder import HashingEmbedder as SharedHashingEmbedder


class HashingEmbedder(SharedHashingEmbedder):
    """The shared test embedder, wider, so the bot's small catalogue rarely collides."""

    def __init__(self):
        super().__init__(dim=256, name="test-hashing-256")


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
