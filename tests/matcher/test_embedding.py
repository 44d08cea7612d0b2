import dataclasses

import numpy as np

from matcher.embedding import issue_vectors
from tests.conftest import make_issue


def test_second_run_embeds_nothing(db, embedder):
    issues = [make_issue(n, f"Add a test for function {n}", "Body text") for n in range(1, 21)]
    first, encoded = issue_vectors(db, embedder, issues)
    assert encoded == 20 and embedder.encoded == 20
    second, encoded = issue_vectors(db, embedder, issues)
    assert encoded == 0 and embedder.encoded == 20
    np.testing.assert_allclose(first, second, rtol=1e-6)
    assert first.shape == (20, 384)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-4)


def test_only_changed_text_is_embedded_again(db, embedder):
    issues = [make_issue(n, f"Issue {n}") for n in range(1, 6)]
    issue_vectors(db, embedder, issues)
    changed = issues[:4] + [dataclasses.replace(issues[4], body="Now with a body")]
    _, encoded = issue_vectors(db, embedder, changed)
    assert encoded == 1


def test_cache_is_per_model(db, embedder):
    issues = [make_issue(1, "Same text")]
    issue_vectors(db, embedder, issues)
    embedder.name = "another-model"
    _, encoded = issue_vectors(db, embedder, issues)
    assert encoded == 1


def test_vectors_survive_a_new_process(tmp_path, embedder):
    from matcher.store import Database

    url = f"sqlite:///{tmp_path / 'persist.sqlite'}"
    issues = [make_issue(1, "Persisted")]
    issue_vectors(Database(url), embedder, issues)
    _, encoded = issue_vectors(Database(url), embedder, issues)
    assert encoded == 0


def test_loading_the_model_prints_no_progress_bar():
    """Issue 12: the model library's "Loading weights" bar appeared on every run."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", "from matcher.embedding import load_embedder; load_embedder()"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Loading weights" not in done.stderr
