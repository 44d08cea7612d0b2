"""Build matcher/data/demo_vectors.npz: the bundled demo issues' vectors, so a first `match` or
`import` of the demo stores them instead of encoding 220 texts.

    python scripts/build_demo_vectors.py [--model all-MiniLM-L6-v2]

The texts are the demo's as `import` stores them (with the catalogue's niches named in them), in
a throwaway store; each is encoded by the model's own embedder. Rerun after changing the demo
snapshot, the catalogue (config/repos.yaml, config/ecosystem.yaml) or the default model, and
commit the new file.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from matcher.catalog import load_catalog  # noqa: E402
from matcher.demo_vectors import DEMO_VECTORS, write_demo_vectors  # noqa: E402
from matcher.embedding import DEFAULT_MODEL, load_embedder  # noqa: E402
from matcher.models import text_hash  # noqa: E402
from matcher.snapshot import demo_snapshot_path, import_snapshot  # noqa: E402
from matcher.store import Database  # noqa: E402
from matcher.store.issues import load_issues  # noqa: E402


def demo_texts() -> dict[str, str]:
    """text hash -> embedding text of every demo issue, as `import` stores it."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/demo.sqlite")
        import_snapshot(db, demo_snapshot_path(), load_catalog().labels)
        texts = {text_hash(i.embedding_text()): i.embedding_text() for i in load_issues(db)}
        db.close()
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--out", type=Path, default=ROOT / "matcher" / "data" / DEMO_VECTORS)
    args = parser.parse_args()
    texts = demo_texts()
    embedder = load_embedder(args.model)
    vectors = dict(zip(texts, embedder.encode(list(texts.values())), strict=True))
    write_demo_vectors(args.out, embedder.name, vectors)
    print(f"{args.out}: {len(vectors)} vectors of {embedder.name}")


if __name__ == "__main__":
    main()
