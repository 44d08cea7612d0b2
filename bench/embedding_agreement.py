"""How closely the ONNX default model agrees with the sentence-transformers reference.

    python bench/embedding_agreement.py [--data ../shared/bench/dev]

Encodes every benchmark issue text (Issue.embedding_text, what the store embeds) and every persona
profile (Profile.query_text) with both runtimes: the default `all-MiniLM-L6-v2` on ONNX Runtime
(int8) and `sentence-transformers/all-MiniLM-L6-v2` (the same model's float weights on torch, the
[torch] extra). Prints the per-text cosine between the two (min, 5th percentile, median), and the
CPU seconds each runtime spent on import + load and on encoding. The dev benchmark's nDCG@10 / P@1
with each runtime come from bench/rank_quality.py with MATCHER_MODEL set to either name.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matcher.embedding import DEFAULT_MODEL, load_embedder  # noqa: E402
from matcher.models import Profile  # noqa: E402
from matcher.snapshot import read_snapshot  # noqa: E402

REFERENCE = f"sentence-transformers/{DEFAULT_MODEL}"


def timed_vectors(model: str, texts: list[str]) -> tuple[np.ndarray, float, float]:
    """(vectors, CPU seconds to import and load, CPU seconds to encode)."""
    start = time.process_time()
    embedder = load_embedder(model)
    loaded = time.process_time()
    vectors = embedder.encode(texts)
    return vectors, loaded - start, time.process_time() - loaded


def summary(name: str, cosine: np.ndarray) -> str:
    return (
        f"{name:16s} {len(cosine):4d} texts   cosine min {cosine.min():.5f}   "
        f"p5 {np.percentile(cosine, 5):.5f}   median {np.median(cosine):.5f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "dev")
    args = parser.parse_args()
    if not (args.data / "issues.jsonl").exists():
        sys.exit(f"no benchmark data at {args.data}: pass --data DIR with issues.jsonl")
    issues = [i.embedding_text() for i in read_snapshot(args.data / "issues.jsonl").issues]
    personas = json.loads((args.data / "personas.json").read_text())
    profiles = [
        Profile(id=p["id"], skills=p["skills"], niche=p.get("niche", "")).query_text()
        for p in personas
    ]
    texts = issues + profiles
    onnx, onnx_load, onnx_encode = timed_vectors(DEFAULT_MODEL, texts)
    try:
        ref, ref_load, ref_encode = timed_vectors(REFERENCE, texts)
    except Exception as error:  # noqa: BLE001 - the [torch] extra is missing: say so, stop
        sys.exit(f"the reference cannot be loaded: {error}")
    cosine = np.sum(onnx * ref, axis=1)
    print(f"data {args.data}: {len(issues)} issue texts, {len(profiles)} profiles")
    print(summary("issue texts", cosine[: len(issues)]))
    print(summary("profiles", cosine[len(issues) :]))
    print(summary("all", cosine))
    worst = int(np.argmin(cosine))
    tokens = len(texts[worst].split())
    print(f"lowest: text {worst} ({tokens} words), cosine {cosine[worst]:.5f}")
    for name, load, encode in (
        (f"{DEFAULT_MODEL} (onnxruntime int8)", onnx_load, onnx_encode),
        (f"{REFERENCE} (torch)", ref_load, ref_encode),
    ):
        print(
            f"{name:52s} import+load {load:5.2f} CPU-s   encode {len(texts)} texts "
            f"{encode:6.2f} CPU-s ({len(texts) / encode:.1f} texts per CPU-s)"
        )


if __name__ == "__main__":
    main()
