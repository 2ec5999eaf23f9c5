r"""The inner loops of iterative proportional fitting, compiled (numba).

:func:`eocic.confidential.estimate_measure` fits the missing cells of the regional SBS to the
residuals of the published aggregates by iterative proportional fitting (Bishop, Fienberg &
Holland 1975, ch. 3): in a sweep, family after family of aggregates, every missing cell ``u``
of an aggregate ``a`` is scaled to the aggregate's residual,

.. math::

    x_u \leftarrow x_u \, R_a / \textstyle\sum_{v \in a} x_v ,

and an aggregate whose missing cells sum to zero (or to NaN) gets ``R_a`` split equally. At
NUTS-3 x NACE class detail (bench/scale_mapping.py: 2.9 million missing cells, 5 families,
500 sweeps) numpy's version of a step (gather, ``bincount``, gather, multiply, divide,
``copyto``, scatter) passes over the cells seven times and allocates; the loops below pass
twice and allocate nothing: 60 sweeps took 1.4-1.6 s instead of 3.1-3.6 s. They do the same
floating-point operations in the same order as ``np.bincount`` (which adds its weights in
input order) followed by ``x * R / total``, so the estimates are the same to the bit.

The functions release the GIL (``nogil``), so blocks of years fitted in threads run side by
side. They are compiled at their first call and cached beside this file (numba's ``cache``:
``__pycache__``, or the user's cache folder when that is not writable), so a later process
loads them in a fraction of a second. Importing this module imports numba (about 0.5 s),
which is why :mod:`eocic.confidential` imports it only when it fits.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(nogil=True, cache=True)
def scale_to_residuals(x: np.ndarray, cells: np.ndarray, aggregate: np.ndarray,
                       residual: np.ndarray, equal_split: np.ndarray,
                       total: np.ndarray) -> None:  # pragma: no cover - compiled
    """One step of a sweep, in place: scale the cells ``x[cells[i]]`` of each aggregate
    ``a = aggregate[i]`` (numbered 0..K-1) so that they sum to the aggregate's residual
    ``residual[a]``, ``x_u * R_a / sum_{v in a} x_v``; where that sum is not positive,
    ``x_u = equal_split[a]`` (``R_a`` over the aggregate's number of cells). ``total`` is a
    work array of K floats. Each cell appears at most once in ``cells``."""
    total[:] = 0.0
    for i in range(cells.shape[0]):
        total[aggregate[i]] += x[cells[i]]
    for i in range(cells.shape[0]):
        cell = cells[i]
        a = aggregate[i]
        current = total[a]
        if current > 0.0:
            x[cell] = x[cell] * residual[a] / current
        else:
            x[cell] = equal_split[a]


@numba.njit(nogil=True, cache=True)
def largest_change(x: np.ndarray, previous: np.ndarray) -> float:  # pragma: no cover - compiled
    """The largest relative change of a sweep, ``max_u |x_u - p_u| / max(|p_u|, 1)`` (NaN if
    any change is NaN), and ``previous`` set to ``x`` for the next sweep."""
    largest = 0.0
    undefined = False
    for i in range(x.shape[0]):
        before = previous[i]
        change = abs(x[i] - before) / max(abs(before), 1.0)
        if np.isnan(change):
            undefined = True
        elif change > largest:
            largest = change
        previous[i] = x[i]
    return np.nan if undefined else largest
