"""Percentiles and medians of 8-bit pictures, counted from their histogram (pure numpy).

``np.percentile`` and ``np.median`` sort (partition) a copy of every pixel: ~1.4 ms for the
428 × 270 card the QR-corner test straightens, several times per camera frame. A picture of
8-bit pixels has 256 possible values, so its sorted order is its cumulative histogram: the
k-th smallest pixel is the first value whose running count passes k. These functions give
exactly what numpy gives (its default «linear» method, the same float64 arithmetic, to the
bit: tests/test_pixel_stats.py compares them), in about a sixth of the time.

Any other dtype (a float picture, a wider integer) is handed to numpy as it is: a value outside
0–255 would have no bin. An int16 or float32 copy of a uint8 picture gives the same values as
the original, so callers pass the original.
"""
from __future__ import annotations

import numpy as np

_LEVELS = 256


def _lerp(low: int, high: int, t: float) -> float:
    # numpy's _lerp, operation for operation: a + (b − a)·t, and from the top for t ≥ ½ (so
    # that t = 1 gives b exactly)
    diff = float(high - low)
    if t >= 0.5:
        return high - diff * (1.0 - t)
    return low + diff * t


def _at(cumulative: np.ndarray, rank: int) -> int:
    """The rank-th smallest pixel (0-based) of a picture with this cumulative histogram."""
    return int(np.searchsorted(cumulative, rank, side="right"))


def _checked(q: float) -> float:
    if not 0 <= q <= 100:  # NaN included, as numpy refuses it
        raise ValueError(f"Percentiles must be in the range [0, 100], not {q}")
    return q


def _from_cumulative(cumulative: np.ndarray, count: int, q: float) -> float:
    position = (count - 1) * (q / 100)  # numpy's virtual index for the linear method
    below = int(np.floor(position))
    if position >= count - 1:
        return float(_at(cumulative, count - 1))
    if below < 0:
        return float(_at(cumulative, 0))
    return _lerp(_at(cumulative, below), _at(cumulative, below + 1), position - below)


def percentiles(image: np.ndarray, qs) -> np.ndarray:
    """``np.percentile(image, qs)`` of a uint8 picture (float64, one value per q)."""
    if image.dtype != np.uint8 or image.size == 0:
        return np.asarray(np.percentile(image, qs), np.float64).reshape(-1)
    cumulative = np.bincount(image.ravel(), minlength=_LEVELS).cumsum()
    count = int(cumulative[-1])
    return np.array([_from_cumulative(cumulative, count, _checked(float(q)))
                     for q in np.atleast_1d(qs)],
                    np.float64)


def median(image: np.ndarray) -> float:
    """``np.median(image)`` of a uint8 picture: the middle pixel, or the mean of the two."""
    if image.dtype != np.uint8 or image.size == 0:
        return float(np.median(image))
    cumulative = np.bincount(image.ravel(), minlength=_LEVELS).cumsum()
    count = int(cumulative[-1])
    if count % 2:
        return float(_at(cumulative, count // 2))
    return (_at(cumulative, count // 2 - 1) + _at(cumulative, count // 2)) / 2.0


def row_percentiles(rows: np.ndarray, q: float) -> np.ndarray:
    """``np.percentile(rows, q, axis=1)`` of a 2-D uint8 array: one value per row, with one
    histogram pass over all rows (each row's values offset into its own 256 bins)."""
    if rows.dtype != np.uint8 or rows.ndim != 2 or rows.size == 0:
        return np.asarray(np.percentile(rows, q, axis=1), np.float64)
    q = _checked(float(q))
    pixels = rows
    n_rows, count = pixels.shape
    offsets = (np.arange(n_rows, dtype=np.int32) * _LEVELS)[:, None]
    histograms = np.bincount((pixels + offsets).ravel(), minlength=n_rows * _LEVELS)
    cumulative = histograms.reshape(n_rows, _LEVELS).cumsum(axis=1)
    position = (count - 1) * (q / 100)
    below = int(np.floor(position))
    if position >= count - 1 or below < 0:
        rank = count - 1 if below >= 0 else 0
        return (cumulative <= rank).sum(axis=1).astype(np.float64)
    low = (cumulative <= below).sum(axis=1)
    high = (cumulative <= below + 1).sum(axis=1)
    t = position - below
    return np.array([_lerp(int(a), int(b), t) for a, b in zip(low, high, strict=True)], np.float64)
