"""A long series drawn with a bounded number of points, its extremes kept."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def sample_indices(values: npt.NDArray[np.float64], max_points: int) -> npt.NDArray[np.int64]:
    """Indices of at most ``max_points`` points of ``values``, in order: the first and the
    last, and between them each stretch's lowest and highest point (a chart of the sample shows
    the drawdowns and peaks the whole series has, which every-n-th point would miss)."""
    if max_points < 4:
        raise ValueError("max_points must be at least 4")
    n = int(values.shape[0])
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    stretches = (max_points - 2) // 2
    keep = [0, n - 1]
    for chunk in np.array_split(np.arange(1, n - 1, dtype=np.int64), stretches):
        if chunk.size:
            stretch = values[chunk]
            keep.append(int(chunk[int(np.argmin(stretch))]))
            keep.append(int(chunk[int(np.argmax(stretch))]))
    return np.unique(np.asarray(keep, dtype=np.int64))
