"""Batch match speed: 500 issues x 10 profiles in one process, cold (empty store) and warm (cached).

    python bench/match_speed.py [--issues 500] [--runs 3]

Builds a 500-issue snapshot from the bundled demo issues (renumbered copies with varied titles) and
10 profiles, then runs `python -m matcher match --profiles P --snapshot S --top 20 --json` as a
separate process: once on an empty store, then again on the same store. Prints wall seconds per run
(median of --runs) and how many issue texts each run embedded.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matcher.snapshot import demo_snapshot_path  # noqa: E402

PROFILES = [
    {"id": "cv", "skills": "Python, PyTorch, OpenCV", "niche": "computer vision"},
    {"id": "nlp", "skills": "Hugging Face transformers, tokenizers", "niche": "NLP"},
    {"id": "docs", "skills": "technical writing, Sphinx, Markdown", "niche": "documentation"},
    {"id": "gpu", "skills": "C++, CUDA", "niche": "fast inference"},
    {"id": "web", "skills": "TypeScript, React", "niche": "dashboards for ML tools"},
    {"id": "rl", "skills": "Gymnasium, stable-baselines3", "niche": "reinforcement learning"},
    {"id": "ops", "skills": "Docker, Kubernetes, GitHub Actions", "niche": "MLOps"},
    {"id": "tab", "skills": "scikit-learn, pandas", "niche": "tabular data"},
    {"id": "audio", "skills": "librosa, torchaudio", "niche": "speech and audio"},
    {"id": "llm", "skills": "LangChain, prompt engineering", "niche": "LLM apps"},
]


def build_snapshot(path: Path, count: int) -> None:
    demo = [json.loads(line) for line in demo_snapshot_path().read_text().splitlines() if line]
    with path.open("w") as out:
        for n in range(count):
            record = dict(demo[n % len(demo)])
            copy = n // len(demo)
            if copy:
                record["number"] = record["number"] + 100000 * copy
                record["url"] = re.sub(r"/\d+$", f"/{record['number']}", record["url"])
                record["title"] = f"{record['title']} (part {copy + 1})"
            out.write(json.dumps(record) + "\n")


def run(db: Path, profiles: Path, snapshot: Path) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "matcher",
            "--db",
            str(db),
            "match",
            "--profiles",
            str(profiles),
            "--snapshot",
            str(snapshot),
            "--top",
            "20",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    seconds = time.perf_counter() - start
    embedded = int(re.search(r"embedded (\d+) new issue texts", done.stderr).group(1))
    assert len(json.loads(done.stdout)) == len(PROFILES)
    return seconds, embedded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cold, warm = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        snapshot, profiles = tmp / "issues.jsonl", tmp / "profiles.json"
        build_snapshot(snapshot, args.issues)
        profiles.write_text(json.dumps(PROFILES))
        for n in range(args.runs):
            db = tmp / f"store{n}.sqlite"
            cold.append(run(db, profiles, snapshot))
            warm.append(run(db, profiles, snapshot))
    print(
        f"{args.issues} issues x {len(PROFILES)} profiles, top 20, one process per run, "
        f"{args.runs} runs"
    )
    print(
        f"cold (empty store): median {statistics.median(s for s, _ in cold):.1f} s, "
        f"embedded {cold[0][1]} texts"
    )
    print(
        f"warm (same store):  median {statistics.median(s for s, _ in warm):.1f} s, "
        f"embedded {warm[0][1]} texts"
    )


if __name__ == "__main__":
    main()
