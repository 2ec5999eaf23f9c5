"""Progress of a study in the terminal: a bar per year, a bar per running stage, the time left.

``eocic study`` shows them when its standard error is a terminal (``--progress`` forces them,
``--no-progress`` turns them off; CI logs get the plain lines of the runner instead):

* one line for the whole study: stages done out of all, elapsed time and the **estimated time
  left**;
* one line per reference year (``--years``): its stages done out of all;
* one line per running stage: its notebook's cells executed out of all (papermill's own bar).

The time left weighs each stage by how long it took in the previous run of the same run id
(``reports/<run_id>/run.json``; a reused stage counts nothing), or, for a run without one, by
the mean of the stage over the other years' previous runs, else by one unit per stage. It is
tqdm's estimate on those weights: remaining weight x elapsed time / weight done, so it adapts
as stages finish. Log lines are printed above the bars (:meth:`StudyProgress.write`).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from tqdm import tqdm


def previous_seconds(report_dir: Path) -> dict[str, float]:
    """Seconds of each stage that ran (status ``ok``) in the run published at ``report_dir``
    (``run.json``); empty when there is none."""
    try:
        record = json.loads((Path(report_dir) / "run.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return {stage["stage"]: float(stage["seconds"]) for stage in record.get("stages", [])
            if isinstance(stage, dict) and stage.get("status") == "ok"
            and isinstance(stage.get("seconds"), (int, float))}


def stage_weights(stems: Sequence[str], report_dirs: dict[int, Path]) -> dict[tuple[int, str],
                                                                                float]:
    """Expected seconds of every (year, stage): the same stage in the year's previous run, else
    its mean over the other years' previous runs, else 1."""
    known = {year: previous_seconds(folder) for year, folder in report_dirs.items()}
    weights = {}
    for stem in stems:
        seen = [seconds[stem] for seconds in known.values() if stem in seconds]
        fallback = sum(seen) / len(seen) if seen else 1.0
        for year in report_dirs:
            weights[(year, stem)] = max(known[year].get(stem, fallback), 0.1)
    return weights


class StudyProgress:
    """Progress bars of one ``eocic study`` (one or several years), on ``stream``.

    Parameters
    ----------
    stems : sequence of str
        The stages that will run (``NN_<name>``).
    report_dirs : dict
        Reference year -> published report folder of that year's run (for the weights).
    stream : file, optional
        Where the bars go (default standard error).
    """

    def __init__(self, stems: Sequence[str], report_dirs: dict[int, Path],
                 stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.weights = stage_weights(stems, report_dirs)
        self._lock = threading.Lock()
        self._done: set[tuple[int, str]] = set()
        several = len(report_dirs) > 1
        self.total = tqdm(total=sum(self.weights.values()), file=self.stream,
                          position=0, desc="study", unit="s", dynamic_ncols=True,
                          unit_scale=False,
                          bar_format="{desc:<14}{bar} {percentage:3.0f}% "
                                     "| {elapsed} elapsed, about {remaining} left")
        self.years = {year: tqdm(total=len(stems), file=self.stream, position=1 + number,
                                 desc=str(year), unit="stage", dynamic_ncols=True,
                                 bar_format="{desc:<14}{bar} {n_fmt}/{total_fmt} stages")
                      for number, year in enumerate(sorted(report_dirs))} if several else {}

    def cell_bar(self, year: int, stem: str) -> dict:
        """papermill's ``progress_bar`` options for the cells of ``stem`` (a tqdm bar below the
        study's and the years' bars, removed when the stage ends)."""
        return {"desc": f"{year} {stem[:14]}", "file": self.stream, "leave": False,
                "unit": "cell", "dynamic_ncols": True,
                "bar_format": "  {desc:<24}{bar} {n_fmt}/{total_fmt} cells"}

    def stage_finished(self, year: int, stem: str, status: str, seconds: float | None) -> None:
        """A stage ended (ran, reused, failed): advance the bars once per stage. A reused stage
        took no time: its weight leaves the total instead, so the time left stays an estimate
        of the work still to do."""
        with self._lock:
            if (year, stem) in self._done:
                return
            self._done.add((year, stem))
            weight = self.weights.get((year, stem), 1.0)
            if status == "reused":
                self.total.total = max(self.total.total - weight, self.total.n)
                if len(self._done) == len(self.weights) and self.total.total <= 0:
                    # every stage reused: nothing was left to do, the study is complete (a
                    # bar of 0 out of 0 shows 0 %)
                    self.total.total = 1
                    self.total.update(1)
                self.total.refresh()
            else:
                self.total.update(min(weight, self.total.total - self.total.n))
            if year in self.years:
                self.years[year].update(1)

    def write(self, line: str) -> None:
        """Print a log line above the bars."""
        tqdm.write(line, file=self.stream)

    def close(self) -> None:
        for bar in (*self.years.values(), self.total):
            bar.close()
