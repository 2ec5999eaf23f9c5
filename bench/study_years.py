"""Many reference years in one command (issue 16): `eocic study --years` over 8 years of the demo
against one year, on this machine's cores, each in a fresh temporary project root.

Prints the wall time of one year (`--year 2020`), of eight years (`--years 2013-2020`) and
their ratio (target: at most 4). Each run starts with an empty store of shared work
(eocic.shared_work) and no earlier run (no stage reused); the demo economy is written into each
root before the clock starts. About 6 minutes on 2 cores. ``EOCIC_BENCH_YEARS=2017-2020`` runs fewer years.

Each measurement brackets the eight-year run by two one-year runs, one before and one after,
and divides by their mean: the host's speed drifts over minutes (the fixed loop below took
0.50-0.78 s within one hour), and a one-year run taken only before the long run moved a single
ratio by several tenths (3.5 to 4.5 on the same commit); with the bracket, a drift that is
linear over the three runs cancels. ``EOCIC_BENCH_REPEATS=3`` makes three such measurements,
one after the other, and prints each and the medians. Before each measurement it times a fixed
CPU-bound loop, so that a slowed host shows in the output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def timed_study(arguments: list[str]) -> float:
    """Seconds of ``eocic study --source demo --no-progress <arguments>`` in a new root."""
    with tempfile.TemporaryDirectory(prefix="eocic-bench-years-") as scratch:
        root = Path(scratch)
        (root / "notebooks").symlink_to(REPO_ROOT / "notebooks", target_is_directory=True)
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT), *filter(None, [environment.get("PYTHONPATH")])])
        subprocess.run([sys.executable, "-m", "eocic", "demo", "--out",
                        str(root / "data" / "raw" / "demo")], cwd=root, env=environment,
                       check=True, stdout=subprocess.DEVNULL)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "eocic", "study", "--source", "demo",
                        "--no-progress", *arguments], cwd=root, env=environment, check=True,
                       stdout=subprocess.DEVNULL, stderr=sys.stderr)
        return time.perf_counter() - started


def host_check() -> float:
    """Seconds of a fixed pure-Python loop (10 million additions): about 0.3 s on the
    reference machine; a larger value means the host is slowed (other load, throttling)."""
    started = time.perf_counter()
    total = 0
    for number in range(10_000_000):
        total += number
    return time.perf_counter() - started


def main() -> None:
    import statistics

    from eocic.config import parse_years

    years = os.environ.get("EOCIC_BENCH_YEARS", "2013-2020")
    repeats = int(os.environ.get("EOCIC_BENCH_REPEATS", "1"))
    count = len(parse_years(years))
    ones, manys, ratios = [], [], []
    one_year = ["--year", str(parse_years(years)[-1])]
    for repeat in range(repeats):
        check = host_check()
        before = timed_study(one_year)
        many = timed_study(["--years", years])
        after = timed_study(one_year)
        one = (before + after) / 2
        ones.append(one)
        manys.append(many)
        ratios.append(many / one)
        print(f"study, one year: {before:.1f} s before, {after:.1f} s after (mean {one:.1f} s); "
              f"{count} years (--years {years}): {many:.1f} s; ratio {many / one:.2f} "
              f"(target <= 4 for 8 years on 2 cores; {os.cpu_count()} cores here; host check "
              f"{check:.2f} s before, {host_check():.2f} s after)", flush=True)
    if repeats > 1:
        print(f"medians over {repeats} pairs: one year {statistics.median(ones):.1f} s, "
              f"{count} years {statistics.median(manys):.1f} s; median ratio "
              f"{statistics.median(ratios):.2f}, ratio of the medians "
              f"{statistics.median(manys) / statistics.median(ones):.2f}")

if __name__ == "__main__":
    main()
