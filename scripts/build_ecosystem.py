"""Build config/ecosystem.yaml, the ML ecosystem catalogue, from two public curated lists.

    python scripts/build_ecosystem.py                   # fetch the pinned versions below
    python scripts/build_ecosystem.py --best-of projects.yaml --awesome README.md   # local copies

Sources (each list's own categories decide an entry's niches; nothing is written by hand):
- ml-tooling/best-of-ml-python, projects.yaml: about 900 ML Python projects in 34 categories.
  Licence CC BY-SA 4.0, so the generated file is shared under CC BY-SA 4.0 too.
- EthicalML/awesome-production-machine-learning, README.md: about 550 production ML tools in 28
  sections. Licence MIT.
A repository in both lists gets the niches of both. Rerun with newer commits to refresh.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
RAW = "https://raw.githubusercontent.com"
BEST_OF = (
    "ml-tooling/best-of-ml-python",
    "edd2a131e1dad5bdfc0b05081fe3d366a6967db4",
    "projects.yaml",
)
AWESOME = (
    "EthicalML/awesome-production-machine-learning",
    "30a25821cb77dbfb24b0e427888ff4a10ddae318",
    "README.md",
)

# best-of-ml-python category -> niche slugs (matcher/niches.py NICHE_NAMES)
BEST_OF_NICHES: dict[str, tuple[str, ...]] = {
    "ml-frameworks": ("deep-learning-frameworks",),
    "data-viz": ("visualization",),
    "nlp": ("nlp",),
    "image": ("vision",),
    "graph": ("graph",),
    "audio": ("audio",),
    "geospatial-data": ("geospatial",),
    "financial-data": ("finance",),
    "time-series-data": ("time-series",),
    "medical-data": ("medical",),
    "tabular": ("tabular",),
    "ocr": ("vision", "nlp"),
    "data-containers": ("data-tooling",),
    "data-loading": ("data-tooling",),
    "web-scraping": ("data-tooling",),
    "data-pipelines": ("data-tooling", "mlops"),
    "distributed-ml": ("gpu-performance", "mlops"),
    "hyperopt": ("optimization", "mlops"),
    "reinforcement-learning": ("rl",),
    "recommender-systems": ("recsys",),
    "privacy-ml": ("privacy",),
    "ml-experiments": ("mlops",),
    "model-serialisation": ("mlops",),
    "interpretability": ("explainability",),
    "nn-search": ("retrieval",),
    "probabilistics": ("probabilistic",),
    "adversarial": ("privacy",),
    "gpu-utilities": ("gpu-performance",),
    "tensorflow-utils": ("deep-learning-frameworks",),
    "jax-utils": ("deep-learning-frameworks",),
    "sklearn-utils": ("classical-ml",),
    "pytorch-utils": ("deep-learning-frameworks",),
    "db-clients": ("data-tooling",),
    "chinese-nlp": ("nlp",),
}

# awesome-production-machine-learning section title -> niche slugs
AWESOME_NICHES: dict[str, tuple[str, ...]] = {
    "AutoML": ("optimization", "mlops"),
    "Computation and Communication Optimisation": ("gpu-performance",),
    "Data Annotation and Synthesis": ("data-tooling",),
    "Data Pipeline": ("data-tooling", "mlops"),
    "Data Science Notebook": ("data-tooling",),
    "Data Storage Optimisation": ("data-tooling",),
    "Data Stream Processing": ("data-tooling",),
    "Deployment and Serving": ("mlops",),
    "Evaluation and Monitoring": ("mlops",),
    "Explainability and Fairness": ("explainability",),
    "Feature Store": ("mlops", "data-tooling"),
    "Industry-strength Anomaly Detection": ("time-series",),
    "Industry Strength Computer Vision": ("vision",),
    "Industry Strength Information Retrieval": ("retrieval", "llm-apps"),
    "Industry Strength Natural Language Processing": ("nlp", "llm-apps"),
    "Industry Strength Recommender System": ("recsys",),
    "Industry Strength Reinforcement Learning": ("rl",),
    "Industry Strength Robotics": ("robotics",),
    "Industry Strength Visualisation": ("visualization",),
    "Metadata Management": ("mlops",),
    "Model, Data and Experiment Management": ("mlops",),
    "Model Training and Orchestration": ("mlops",),
    "Model Storage Optimisation": ("mlops", "gpu-performance"),
    "Privacy and Safety": ("privacy",),
}

_LINK = re.compile(r"^\* \[([^\]]+)\]\(https://github\.com/([\w.-]+/[\w.-]+?)/?\)")
_REPO = re.compile(r"^[\w.-]+/[\w.-]+$")


def read_source(where: str) -> str:
    """A local file's text, or an https URL's body."""
    if where.startswith("https://"):
        answer = httpx.get(where, timeout=60, follow_redirects=True)
        answer.raise_for_status()
        return answer.text
    return Path(where).read_text(encoding="utf-8")


def best_of_entries(text: str) -> Iterable[dict]:
    """(repo, name, niches, packages, frameworks) of every best-of-ml-python project."""
    data = yaml.safe_load(text)
    for project in data.get("projects") or []:
        repo = str(project.get("github_id") or "").strip()
        niches = BEST_OF_NICHES.get(str(project.get("category")))
        if not _REPO.match(repo) or niches is None:
            continue
        packages = [str(project[k]) for k in ("pypi_id",) if project.get(k)]
        yield {
            "repo": repo,
            "name": str(project.get("name") or repo.split("/")[1]),
            "niches": list(niches),
            "packages": packages,
            "frameworks": [str(x) for x in project.get("labels") or [] if len(str(x)) > 1],
        }


def awesome_entries(text: str) -> Iterable[dict]:
    """(repo, name, niches) of every GitHub link under a known awesome-production-ml section."""
    niches: tuple[str, ...] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            niches = AWESOME_NICHES.get(line[3:].strip())
            continue
        link = _LINK.match(line)
        if niches is not None and link:
            yield {"repo": link.group(2), "name": link.group(1), "niches": list(niches)}


def merge(entries: Iterable[dict]) -> list[dict]:
    """One entry per repository (GitHub names are case-insensitive), niches in source order."""
    by_key: dict[str, dict] = {}
    for entry in entries:
        known = by_key.setdefault(entry["repo"].lower(), {**entry, "niches": []})
        for key in ("niches", "packages", "frameworks"):
            values = known.setdefault(key, [])
            values.extend(v for v in entry.get(key, []) if v not in values)
    entries = ({k: v for k, v in e.items() if v} for e in by_key.values())
    return sorted(entries, key=lambda e: e["repo"].lower())


def render(entries: list[dict]) -> str:
    """The YAML file: a header naming the sources and licences, then one flow mapping a line."""
    head = [
        "# The ML ecosystem catalogue, made by scripts/build_ecosystem.py: do not edit by hand.",
        f"# Sources: {BEST_OF[0]}@{BEST_OF[1][:12]} (CC BY-SA 4.0) and",
        f"# {AWESOME[0]}@{AWESOME[1][:12]} (MIT). This file is shared under CC BY-SA 4.0.",
        "# Each entry's niches come from the lists' own categories (see the script's tables).",
        f"# {len(entries)} repositories.",
        "repos:",
    ]
    lines = [
        "  - " + yaml.safe_dump(e, default_flow_style=True, width=10**6, sort_keys=False).strip()
        for e in entries
    ]
    return "\n".join(head + lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--best-of", default=f"{RAW}/{BEST_OF[0]}/{BEST_OF[1]}/{BEST_OF[2]}")
    parser.add_argument("--awesome", default=f"{RAW}/{AWESOME[0]}/{AWESOME[1]}/{AWESOME[2]}")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "config" / "ecosystem.yaml")
    args = parser.parse_args(argv)
    try:
        best_of, awesome = read_source(args.best_of), read_source(args.awesome)
    except (OSError, httpx.HTTPError) as exc:
        print(f"error: cannot read a source list: {exc}", file=sys.stderr)
        return 1
    entries = merge([*best_of_entries(best_of), *awesome_entries(awesome)])
    args.output.write_text(render(entries), encoding="utf-8")
    print(f"{len(entries)} repositories -> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
