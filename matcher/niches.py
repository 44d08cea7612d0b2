"""Niches as a learner says them: one mapping from catalogue slugs and GitHub topics to names.

The catalogue tags each repository with niche slugs (config/repos.yaml); repositories outside
it only have their GitHub topics. Both go through `niche_slug`, so "natural-language-processing"
and "nlp" count once, and a topic that names a language or a tool ("python", "pytorch") is not a
niche at all. A pull request then keeps the repository niches its own words point to (a
tokenizer fix in a repository tagged NLP and LLM apps is NLP), else the repository's first one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# catalogue slug -> the name shown to people
NICHE_NAMES: dict[str, str] = {
    "nlp": "NLP",
    "vision": "computer vision",
    "rl": "reinforcement learning",
    "audio": "audio",
    "speech": "speech",
    "mlops": "MLOps",
    "tabular": "tabular data",
    "llm-apps": "LLM apps",
    "classical-ml": "classical ML",
    "deep-learning-frameworks": "deep learning frameworks",
    "data-tooling": "data tooling",
    "visualization": "visualization",
    "docs": "documentation",
    "probabilistic": "probabilistic modelling",
    "graph": "graph ML",
    "time-series": "time series",
    "recsys": "recommender systems",
    "robotics": "robotics",
    "gpu-performance": "GPU performance",
    "web-ui": "web UIs",
    "optimization": "optimization",
    "explainability": "explainability",
    "education": "ML education",
    # niches the ecosystem catalogue (config/ecosystem.yaml) adds
    "retrieval": "retrieval and vector search",
    "geospatial": "geospatial data",
    "finance": "financial data",
    "medical": "medical data",
    "privacy": "privacy and safety",
}

# GitHub topics (and slug spellings) that mean a catalogue niche; anything else is not a niche
_TOPIC_SLUGS: dict[str, str] = {
    "natural-language-processing": "nlp",
    "natural-language-understanding": "nlp",
    "text-classification": "nlp",
    "tokenization": "nlp",
    "tokenizer": "nlp",
    "computer-vision": "vision",
    "image-processing": "vision",
    "object-detection": "vision",
    "image-classification": "vision",
    "image-segmentation": "vision",
    "reinforcement-learning": "rl",
    "deep-reinforcement-learning": "rl",
    "speech-recognition": "speech",
    "asr": "speech",
    "text-to-speech": "speech",
    "tts": "speech",
    "audio-processing": "audio",
    "machine-learning-operations": "mlops",
    "model-serving": "mlops",
    "llm": "llm-apps",
    "llms": "llm-apps",
    "large-language-models": "llm-apps",
    "rag": "llm-apps",
    "scikit-learn": "classical-ml",
    "dataframe": "data-tooling",
    "dataframes": "data-tooling",
    "data-visualization": "visualization",
    "plotting": "visualization",
    "documentation": "docs",
    "bayesian": "probabilistic",
    "probabilistic-programming": "probabilistic",
    "graph-neural-networks": "graph",
    "gnn": "graph",
    "timeseries": "time-series",
    "forecasting": "time-series",
    "recommender-system": "recsys",
    "recommendation-system": "recsys",
    "cuda": "gpu-performance",
    "gpu": "gpu-performance",
    "interpretability": "explainability",
    "xai": "explainability",
}

# words in a pull request's title or labels that say which of its repository's niches it is in
_CUES: dict[str, tuple[str, ...]] = {
    "nlp": ("token", "tokenizer", "tokenization", "text", "nlp", "bert", "translation"),
    "speech": ("speech", "whisper", "asr", "tts", "wav2vec", "transcri"),
    "audio": ("audio", "waveform", "spectrogram", "sound"),
    "vision": ("image", "vision", "vit", "detection", "segmentation", "augment"),
    "llm-apps": ("llm", "prompt", "chat", "agent", "rag"),
    "gpu-performance": ("cuda", "gpu", "kernel", "triton", "speed", "perf", "memory"),
    "mlops": ("deploy", "serving", "docker", "pipeline", "tracking"),
    "docs": ("docs", "documentation", "docstring", "readme", "tutorial"),
    "deep-learning-frameworks": ("autograd", "tensor", "optimizer", "nn."),
    "rl": ("env", "policy", "reward", "agent"),
    "time-series": ("forecast", "time series", "timeseries"),
    "visualization": ("plot", "chart", "visuali"),
}


def niche_slug(tag: str) -> str | None:
    """The catalogue slug a catalogue niche or GitHub topic stands for, or None."""
    key = re.sub(r"[\s_]+", "-", tag.strip().lower())
    if key in NICHE_NAMES:
        return key
    return _TOPIC_SLUGS.get(key)


def niche_name(slug: str) -> str:
    """'llm-apps' -> 'LLM apps'; an unknown slug reads with spaces."""
    return NICHE_NAMES.get(slug, slug.replace("-", " "))


def repo_niches(catalogue: Iterable[str], topics: Iterable[str]) -> tuple[str, ...]:
    """A repository's niche slugs: catalogue order first, then those its topics add."""
    out: list[str] = []
    for tag in [*catalogue, *topics]:
        slug = niche_slug(tag)
        if slug and slug not in out:
            out.append(slug)
    return tuple(out)


def pull_niches(repo_slugs: tuple[str, ...], words: str) -> tuple[str, ...]:
    """The niches one pull request evidences: those of its repository that its words name.

    With no cue, the repository's first (primary) niche; a repository with none gives none.
    """
    text = words.lower()
    named = tuple(
        s
        for s in repo_slugs
        if any(re.search(rf"\b{re.escape(cue)}", text) for cue in _CUES.get(s, ()))
    )
    return named or repo_slugs[:1]


def join_names(names: list[str], limit: int = 3) -> str:
    """'a, b and c', at most `limit` of them, then '+N more'."""
    shown, rest = names[:limit], len(names) - limit
    if rest > 0:
        return ", ".join(shown) + f" +{rest} more"
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]
