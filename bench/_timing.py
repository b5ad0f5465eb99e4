"""Timing helpers shared by the benchmark scripts (run from the repository root, so that
``bench/`` is on the path): a fit's wall time, and a per-iteration time by differencing."""

from __future__ import annotations

import statistics
import time
import warnings


def timed(model, x, w=None):
    """Seconds to fit ``model`` on ``x`` (with ``sample_weight=w`` if given), warnings silenced."""
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x) if w is None else model.fit(x, sample_weight=w)
    return time.perf_counter() - t0


def per_iteration(fit, m1, m2, reps):
    """Median over ``reps`` of ``(fit(m2) - fit(m1)) / (m2 - m1)``: ``fit(m)`` times a fit of
    ``m`` iterations from the same start, so set-up and initialisation cancel."""
    times = []
    for _ in range(reps):
        t1 = fit(m1)
        t2 = fit(m2)
        times.append((t2 - t1) / (m2 - m1))
    return statistics.median(times)
