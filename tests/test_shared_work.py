"""The store of year-independent work (eocic.shared_work) and the pipeline reading from it."""

from __future__ import annotations

import hashlib
import pickle
import threading
import warnings
from pathlib import Path

import pytest

from eocic import shared_work


def test_a_result_is_computed_once_and_its_warnings_replayed(tmp_path: Path):
    calls = []

    def compute():
        calls.append(1)
        warnings.warn("a note on the data", UserWarning)
        return {"answer": 42}

    key = shared_work.shared_key("test", {"files": {"a": "1"}})
    with pytest.warns(UserWarning, match="a note on the data"):
        first, reused_first = shared_work.computed_once(tmp_path, key, compute)
    with pytest.warns(UserWarning, match="a note on the data"):
        second, reused_second = shared_work.computed_once(tmp_path, key, compute)
    assert first == second == {"answer": 42}
    assert (reused_first, reused_second) == (False, True) and len(calls) == 1
    # no store: computed every time
    shared_work.computed_once(None, key, lambda: 1)
    assert len(calls) == 1


def test_the_key_changes_with_the_material_and_the_code(monkeypatch):
    one = shared_work.shared_key("pipeline", {"files": {"sbs": "aa"}})
    assert one == shared_work.shared_key("pipeline", {"files": {"sbs": "aa"}})
    assert one != shared_work.shared_key("pipeline", {"files": {"sbs": "ab"}})
    monkeypatch.setattr(shared_work, "code_fingerprint", lambda: "edited code")
    assert one != shared_work.shared_key("pipeline", {"files": {"sbs": "aa"}})


def test_a_damaged_entry_is_recomputed(tmp_path: Path):
    key = shared_work.shared_key("test", {})
    (tmp_path / f"{key}.pickle").write_bytes(b"not a pickle")
    result, reused = shared_work.computed_once(tmp_path, key, lambda: "fresh")
    assert (result, reused) == ("fresh", False)
    with open(tmp_path / f"{key}.pickle", "rb") as handle:
        assert pickle.load(handle)[0] == "fresh"


def test_two_runs_needing_the_same_entry_compute_it_once(tmp_path: Path):
    calls = []
    started = threading.Event()

    def slow():
        calls.append(1)
        started.set()
        threading.Event().wait(0.5)
        return "done"

    key = shared_work.shared_key("test", {"slow": True})
    outcomes = []
    first = threading.Thread(target=lambda: outcomes.append(
        shared_work.computed_once(tmp_path, key, slow)))
    first.start()
    started.wait(5)
    outcomes.append(shared_work.computed_once(tmp_path, key, slow))
    first.join()
    assert sorted(outcomes) == [("done", False), ("done", True)] and len(calls) == 1


def test_old_entries_are_pruned(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(shared_work, "KEEP_ENTRIES", 2)
    shared_work.computed_once(tmp_path, "other-0", lambda: "kept")
    for number in range(4):
        shared_work.computed_once(tmp_path, f"test-{number}", lambda: number)
    assert sorted(path.stem for path in tmp_path.glob("*.pickle")) == [
        "other-0", "test-2", "test-3"]  # the two used last of the kind; other kinds kept


def test_frame_digest_changes_with_any_value_name_type_or_order():
    import pandas as pd

    frame = pd.DataFrame({"geo": ["AT11", "AT12"], "employment": [1.0, 2.0]})
    digest = shared_work.frame_digest(frame)
    assert shared_work.frame_digest(frame.copy()) == digest
    assert shared_work.frame_digest(frame.assign(employment=[1.0, 2.5])) != digest
    assert shared_work.frame_digest(frame.rename(columns={"geo": "region"})) != digest
    assert shared_work.frame_digest(frame.astype({"employment": "float32"})) != digest
    assert shared_work.frame_digest(frame.iloc[::-1]) != digest


def test_the_pipeline_writes_identical_tables_from_the_store(tmp_path: Path):
    from eocic import pipeline, sources
    from eocic.demo import generate_demo_economy

    data_dir = tmp_path / "raw"
    generate_demo_economy(data_dir, last_year=2011)
    files = sources.locate_datasets(data_dir)
    store = tmp_path / "store"

    def tables_of(folder: Path) -> dict[str, str]:
        return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
                for path in sorted(folder.glob("*.parquet"))}

    with warnings.catch_warnings(record=True) as plain_notes:
        warnings.simplefilter("always")
        pipeline.run_pipeline(files, data_dir, tmp_path / "plain", year=2011)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.run_pipeline(files, data_dir, tmp_path / "other_year", year=2010,
                              shared_dir=store)
    with warnings.catch_warnings(record=True) as stored_notes:
        warnings.simplefilter("always")
        result = pipeline.run_pipeline(files, data_dir, tmp_path / "stored", year=2011,
                                       shared_dir=store)
    assert len(list(store.glob("pipeline-*.pickle"))) == 1  # one entry for both years
    # the harmonised tables are written once and copied for the other year; coverage is the
    # year's own
    kept = list(store.glob("pipeline_tables-*.files"))
    assert len(kept) == 1 and "coverage.parquet" not in {path.name for path in kept[0].iterdir()}
    assert "sbs.parquet" in {path.name for path in kept[0].iterdir()}
    assert tables_of(tmp_path / "stored") == tables_of(tmp_path / "plain")
    assert result.estimation is not None and result.sbs_hierarchy is not None
    assert sorted(str(w.message) for w in stored_notes) == sorted(
        str(w.message) for w in plain_notes)


def _writer(calls: list, content: bytes = b"table bytes"):
    def write(folder: Path) -> dict[str, Path]:
        calls.append(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "a.parquet").write_bytes(content)
        (folder / "b.parquet").write_bytes(content * 2)
        return {"a": folder / "a.parquet", "b": folder / "b.parquet"}
    return write


def test_files_are_written_once_and_copied_after(tmp_path: Path):
    calls: list = []
    store, key = tmp_path / "store", shared_work.shared_key("tables", {"result": "x"})
    first, reused_first = shared_work.written_once(store, key, tmp_path / "one", _writer(calls))
    second, reused_second = shared_work.written_once(store, key, tmp_path / "two",
                                                     _writer(calls, b"never written"))
    assert (reused_first, reused_second) == (False, True) and calls == [tmp_path / "one"]
    assert second == {"a": tmp_path / "two" / "a.parquet", "b": tmp_path / "two" / "b.parquet"}
    assert [path.read_bytes() for path in second.values()] == [
        path.read_bytes() for path in first.values()] == [b"table bytes", b"table bytes" * 2]
    # no store: written every time
    shared_work.written_once(None, key, tmp_path / "three", _writer(calls))
    assert len(calls) == 2


def test_an_incomplete_files_entry_is_written_again(tmp_path: Path):
    calls: list = []
    store, key = tmp_path / "store", "tables-1"
    shared_work.written_once(store, key, tmp_path / "one", _writer(calls))
    (store / f"{key}.files" / "b.parquet").unlink()          # a file lost from the entry
    paths, reused = shared_work.written_once(store, key, tmp_path / "two", _writer(calls))
    assert not reused and len(calls) == 2 and paths["b"].read_bytes() == b"table bytes" * 2
    (store / f"{key}.files" / shared_work.WRITTEN_INDEX).write_text("{damaged")
    assert not shared_work.written_once(store, key, tmp_path / "three", _writer(calls))[1]
    assert sorted(path.name for path in (store / f"{key}.files").iterdir()) == [
        "a.parquet", "b.parquet", shared_work.WRITTEN_INDEX]
    assert not [path for path in store.iterdir() if path.name.startswith(".")]  # no staging


def test_a_failed_write_keeps_no_files_entry(tmp_path: Path):
    store = tmp_path / "store"

    def broken(folder: Path) -> dict[str, Path]:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        shared_work.written_once(store, "tables-1", tmp_path / "one", broken)
    assert not list(store.glob("*.files")) and not [
        path for path in store.iterdir() if path.name.startswith(".")]


def test_old_files_entries_are_pruned(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(shared_work, "KEEP_ENTRIES", 2)
    shared_work.computed_once(tmp_path, "tables-9", lambda: "a pickle of the same kind")
    for number in range(4):
        shared_work.written_once(tmp_path, f"tables-{number}", tmp_path / f"run{number}",
                                 _writer([]))
    assert sorted(path.name for path in tmp_path.glob("*.files")) == [
        "tables-2.files", "tables-3.files"]
    assert (tmp_path / "tables-9.pickle").is_file()   # pickles are pruned among pickles
