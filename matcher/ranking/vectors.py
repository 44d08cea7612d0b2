"""How a snapshot keeps its issues' vectors.

At or below the candidate stage's threshold: float32 rows, which the exact scorer reads as they
are. Above it (pool.compact_vectors): each row as int8 codes and one float32 scale, 388 bytes at
384 dimensions against float32's 1,536, in one structured array, so every column-wise operation
of a snapshot (rooms, gathers, merges) treats a row as one value. Rows are widened back to
float32 only where they are read: a learner's candidates, or a block of rows at a time.

A code is the value over its row's largest magnitude, times 127, rounded: a product of unit
vectors of 384 dimensions moves by about 1e-3 at most (see docs/scaling.md).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

WIDE_BLOCK = 16_384  # compact rows widened to float32 at a time (24 MB at 384 dims)
LEVELS = 127  # int8 codes -127..127: symmetric, so a value and its negation keep one magnitude


def compact_dtype(dim: int) -> np.dtype:
    return np.dtype([("codes", np.int8, (dim,)), ("scale", np.float32)])


def is_compact(vectors: np.ndarray) -> bool:
    return vectors.dtype.names == ("codes", "scale")


def width(vectors: np.ndarray) -> int:
    """The vectors' dimension, however they are kept."""
    if is_compact(vectors):
        return int(vectors.dtype["codes"].shape[0])
    return int(vectors.shape[1])


def empty(rows: int, dim: int, compact: bool) -> np.ndarray:
    """Zeroed rows (np.zeros: not resident until written), compact or float32."""
    return np.zeros(rows if compact else (rows, dim), compact_dtype(dim) if compact else np.float32)


def compacted(matrix: np.ndarray) -> np.ndarray:
    """float32 rows (n, dim) as compact rows, a block at a time (no full-size temporary)."""
    matrix = np.asarray(matrix)
    out = np.empty(len(matrix), compact_dtype(matrix.shape[1]))
    for start in range(0, len(matrix), WIDE_BLOCK):
        block = matrix[start : start + WIDE_BLOCK].astype(np.float32, copy=False)
        scale = np.abs(block).max(axis=1, initial=0.0) / LEVELS
        scale[scale == 0] = 1.0  # an all-zero row (nothing embedded) stays zero
        rows = out[start : start + WIDE_BLOCK]
        rows["scale"] = scale
        rows["codes"] = np.rint(block / scale[:, None])
    return out


def stored(matrix: np.ndarray, like: np.ndarray) -> np.ndarray:
    """`matrix` (float32 rows, or rows kept either way) in the form `like`'s rows are kept."""
    if is_compact(like):
        return matrix if is_compact(matrix) else compacted(matrix)
    return widened(matrix)


def widened(rows: np.ndarray) -> np.ndarray:
    """Rows as float32 (n, dim): compact rows' codes times their scales; float32 as it is."""
    if not is_compact(rows):
        return rows.astype(np.float32, copy=False)
    out = rows["codes"].astype(np.float32)
    out *= rows["scale"][:, None]
    return out


def row(vectors: np.ndarray, at: int) -> np.ndarray:
    """One row as a float32 vector."""
    return widened(vectors[at : at + 1])[0]


def wide_blocks(vectors: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, the rows as float32) a block at a time: numpy has no int8 BLAS."""
    for start in range(0, len(vectors), WIDE_BLOCK):
        yield start, widened(vectors[start : start + WIDE_BLOCK])
