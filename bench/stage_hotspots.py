"""Hot spots of a demo study made faster for issue 16 (target: demo study < 45 s on 2 cores),
each timed against the way it was done before, in one run (ratios; medians of 3; CPU seconds
of the process and its threads, so that other programs on the machine count less). Every pair
is also checked to give the same numbers, bit for bit.

1. ``ranks.rank_within`` (one sort over every group) against a groupby ``transform`` of
   ``rank_series`` (a Python call per group), on a scores table of the demo's shape.
2. ``treatment.skew_and_kurtosis`` (one pass, once per vector) against ``skewness`` and
   ``kurtosis`` called as ``treat_indicator`` called them before (twice each per vector).
3. ``nuts.regions`` (built once, copied) against building the list on every call.
4. The cluster linkages' matrix products in a kernel-like subprocess with OpenBLAS's default
   spin after each product and with ``OPENBLAS_THREAD_TIMEOUT=4`` (the runner's
   :data:`eocic.study.KERNEL_ENVIRONMENT`), same number of BLAS threads.

Synthetic inputs made here; nothing is read from or written to data/.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from eocic import nuts
from eocic.scoreboard import ranks, treatment


def cpu_median(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        started = time.process_time()
        function()
        times.append(time.process_time() - started)
    return statistics.median(times)


def report(name: str, before: float, after: float) -> None:
    print(f"{name:<46} before {before:7.3f} s  after {after:7.3f} s  ratio {before / after:5.1f}x")


def bench_ranks() -> None:
    rng = np.random.default_rng(1)
    codes = [f"c{k:02d}" for k in range(52)]
    years = list(range(1999, 2023))
    geo = [f"R{k:03d}" for k in range(240)]
    frame = pd.DataFrame([(c, y, g) for c in codes for y in years for g in geo],
                         columns=["code", "year", "geo"])
    frame["score"] = np.round(rng.normal(50, 15, len(frame)), 1)  # rounded: ties occur
    grouped = frame.groupby(["code", "year"], sort=False)["score"]
    old = grouped.transform(ranks.rank_series)
    new = ranks.rank_within(frame, "score", ["code", "year"])
    pd.testing.assert_series_equal(new, old)
    report("rank_within (1,248 groups x 240 regions)",
           cpu_median(lambda: grouped.transform(ranks.rank_series)),
           cpu_median(lambda: ranks.rank_within(frame, "score", ["code", "year"])))


def bench_moments() -> None:
    rng = np.random.default_rng(2)
    vectors = [rng.lognormal(size=240) for _ in range(3000)]
    for x in vectors[:50]:
        assert treatment.skew_and_kurtosis(x) == (treatment.skewness(x), treatment.kurtosis(x))
    # a passing indicator in treat_indicator: before, the skew and kurtosis of the values,
    # then passes() (both again), then all three of the treated values; now one pass each
    def before():
        for x in vectors:
            for _ in range(2):
                treatment.skewness(x), treatment.kurtosis(x)
                treatment.skewness(x), treatment.kurtosis(x)

    def after():
        for x in vectors:
            for _ in range(2):
                treatment.skew_and_kurtosis(x)

    report("moments of 3,000 passing indicators", cpu_median(before), cpu_median(after))


def bench_regions() -> None:
    build = nuts._regions.__wrapped__  # the list built from the files, no cache
    pd.testing.assert_frame_equal(nuts.regions(2021, 2), build(2021, 2, False))
    report("nuts.regions x 200",
           cpu_median(lambda: [build(2021, 2, False) for _ in range(200)]),
           cpu_median(lambda: [nuts.regions(2021, 2) for _ in range(200)]))


PRODUCTS = """
import hashlib, time
import numpy as np
rng = np.random.default_rng(3)
digest = hashlib.sha256()
started = time.process_time()
for _ in range(150):  # about the linkages of the demo's 48 schemes and years, 3 products each
    values = rng.random((242, 71))
    for _ in range(3):
        digest.update((values.T @ values).tobytes())
print(time.process_time() - started, digest.hexdigest())
"""


def bench_openblas_spin() -> None:
    runs = {}
    for label, timeout in (("default", None), ("timeout 4", "4")):
        environment = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
        if timeout:
            environment["OPENBLAS_THREAD_TIMEOUT"] = timeout
        outputs = [subprocess.run([sys.executable, "-c", PRODUCTS], env=environment, check=True,
                                  capture_output=True, text=True).stdout.split()
                   for _ in range(3)]
        runs[label] = (statistics.median(float(seconds) for seconds, _ in outputs),
                       {digest for _, digest in outputs})
    assert runs["default"][1] == runs["timeout 4"][1], "BLAS results changed"
    report("450 BLAS products 71x242x71 (subprocess)", runs["default"][0], runs["timeout 4"][0])


if __name__ == "__main__":
    bench_ranks()
    bench_moments()
    bench_regions()
    bench_openblas_spin()
