"""Chunks on a dask.distributed cluster: a LocalCluster on loopback (two worker processes) runs
the scoreboard's Monte Carlo draws and Sobol runs with results identical to this process, a
chunk whose task fails or whose worker dies is run again, and bad addresses are refused with
the fix."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import dask
import distributed
import numpy as np
import pandas as pd
import pytest

from eocic.errors import EocicError
from eocic.scheduler import SchedulerError, client_for, connect, map_chunks
from eocic.scoreboard import sensitivity, uncertainty
from eocic.scoreboard.engine import Scoreboard
from eocic.scoreboard.framework import load_framework
from test_scoreboard_uncertainty import _synthetic_board


def _loopback_cluster(n_workers: int) -> distributed.LocalCluster:
    """Worker processes on 127.0.0.1, no dashboard; the scheduler's own HTTP endpoint (health,
    metrics), which it opens even without a dashboard, on a free loopback port instead of
    8787 on every interface."""
    return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                    host="127.0.0.1", dashboard_address=None,
                                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})


@pytest.fixture(scope="module")
def cluster():
    with _loopback_cluster(2) as local:
        yield local


@pytest.fixture(scope="module")
def client(cluster):
    with connect(cluster.scheduler_address) as connected:
        yield connected


@pytest.fixture(scope="module")
def board(fixtures_dir):
    framework = load_framework(fixtures_dir / "scoreboard" / "tiny_framework.yaml")
    return Scoreboard(framework["tiny"], {"context": _synthetic_board(n_regions=40)}, year=2020)


# -- functions the workers run (module level: pickled by reference) ---------------------------
def _scaled(shared: dict, factor: float) -> np.ndarray:
    return shared["values"] * factor


def _fails_once(folder: str, number: int) -> tuple[int, int]:
    """Raises OSError on its first attempt (a transient fault), then answers (number, pid)."""
    marker = Path(folder) / f"attempted-{number}"
    if not marker.exists():
        marker.touch()
        raise OSError(f"transient fault in chunk {number}")
    return number, os.getpid()


def _dies_once(folder: str, number: int) -> int:
    """The first chunk to run (of any call sharing ``folder``) kills its worker process; every
    other attempt answers ``number``. The marker is created atomically (O_EXCL), so exactly one
    worker dies even when two chunks start together."""
    try:
        os.close(os.open(Path(folder) / "died", os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return number
    os._exit(1)


# -- map_chunks and the client -----------------------------------------------------------------
def test_chunks_come_back_in_order_and_equal_the_local_results(client):
    shared = {"values": np.arange(6.0)}  # a dict: scattered as one object, not per key
    chunks = [(factor,) for factor in (3.0, 1.0, 2.5, 0.0, 7.0)]
    remote = list(map_chunks(_scaled, shared, chunks, client))
    local = list(map_chunks(_scaled, shared, chunks))
    assert len(remote) == len(chunks)
    for got, expected in zip(remote, local):
        np.testing.assert_array_equal(got, expected)


def test_a_chunk_that_raises_is_retried(client, tmp_path):
    results = list(map_chunks(_fails_once, str(tmp_path), [(0,), (1,), (2,)], client))
    assert [number for number, _ in results] == [0, 1, 2]
    assert os.getpid() not in {pid for _, pid in results}  # ran on the workers
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"attempted-{k}" for k in range(3)]


def test_a_chunk_whose_worker_dies_runs_again_on_another_worker(client, tmp_path):
    # one worker dies with its chunk; the other keeps its copy of the inputs and reruns it
    assert list(map_chunks(_dies_once, str(tmp_path), [(k,) for k in range(4)], client)) == [
        0, 1, 2, 3]
    assert (tmp_path / "died").exists()
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed worker


@pytest.mark.parametrize("allowed_failures, message", [
    (0, "chunk 1 of 1 \\(_dies_once\\) lost its worker on every attempt.*give them more memory"),
    (3, "chunk 1 of 1 \\(_dies_once\\) was cancelled.*every worker holding the scattered "
        "inputs was lost"),
])
def test_a_chunk_that_cannot_finish_is_reported_with_the_fix(tmp_path, allowed_failures,
                                                             message):
    # one worker: when it dies, either the task has used up its attempts (KilledWorker) or the
    # only copy of the scattered inputs is gone
    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}), \
            _loopback_cluster(1) as single, \
            connect(single.scheduler_address) as client:
        with pytest.raises(SchedulerError, match=message):
            list(map_chunks(_dies_once, str(tmp_path), [(0,)], client))


def test_client_for_this_machine_an_address_or_a_client(cluster, client):
    for nothing in (None, "", "  "):
        with client_for(nothing) as chosen:
            assert chosen is None
    with client_for(client) as chosen:
        assert chosen is client
    assert client.status == "running"  # a client passed in stays open
    with client_for(cluster.scheduler_address) as chosen:
        assert isinstance(chosen, distributed.Client) and chosen is not client
        assert chosen.scheduler.address == cluster.scheduler_address
    assert chosen.status == "closed"  # one opened for the call is closed after it


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("address, message", [
    ("", "give the address of a running dask scheduler"),
    ("http://127.0.0.1:8787", "'http://127.0.0.1:8787' is not a dask scheduler address .*"
                              "not the dashboard's http:// address"),
    ("scheduler", "'scheduler' is not a dask scheduler address .*tcp://host:port"),
])
def test_malformed_addresses_are_refused_with_the_fix(address, message):
    with pytest.raises(SchedulerError, match=message) as caught:
        connect(address)
    assert isinstance(caught.value, EocicError) and isinstance(caught.value, ConnectionError)


def test_an_unreachable_scheduler_is_refused_naming_the_address():
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(SchedulerError, match=f"no dask scheduler answered at '{address}' "
                                             "within 0.5 s.*dask scheduler"):
        connect(address, timeout=0.5)


# -- the scoreboard's draws on the cluster ----------------------------------------------------
@pytest.mark.parametrize("chunk", [7, 2000])
def test_sobol_runs_on_the_cluster_equal_the_local_runs(board, client, chunk):
    spec = sensitivity.SensitivitySpec(n=16, n_boot=20, seed=8)
    inputs = sensitivity.prepare_inputs(board, spec)
    runs = sensitivity.sample_runs(inputs, spec)
    local = sensitivity.evaluate(inputs, runs, chunk=chunk)
    remote = sensitivity.evaluate(inputs, runs, chunk=chunk, client=client)
    assert remote.dtype == local.dtype == np.float32
    np.testing.assert_array_equal(remote, local)


def test_run_sensitivity_given_an_address_equals_the_local_result(board, cluster):
    spec = sensitivity.SensitivitySpec(n=16, n_boot=20, seed=9)
    local = sensitivity.run_sensitivity(board, spec)
    remote = sensitivity.run_sensitivity(board, spec, scheduler=cluster.scheduler_address)
    np.testing.assert_array_equal(remote.ranks, local.ranks)
    np.testing.assert_array_equal(remote.outputs, local.outputs)
    pd.testing.assert_frame_equal(remote.indices, local.indices)
    pd.testing.assert_frame_equal(remote.regions, local.regions)


@pytest.mark.parametrize("chunk", [7, 2000])
def test_monte_carlo_draws_on_the_cluster_equal_the_local_draws(board, client, chunk):
    spec = uncertainty.UncertaintySpec(draws=90, seed=10)
    inputs = uncertainty.prepare_inputs(board, spec)
    draws = uncertainty.sample_draws(inputs, spec)
    local = uncertainty.simulate(inputs, draws, spec, chunk=chunk)
    remote = uncertainty.simulate(inputs, draws, spec, chunk=chunk, client=client)
    assert list(remote) == list(local) == inputs.tracked
    for code in inputs.tracked:
        np.testing.assert_array_equal(remote[code], local[code])


def test_run_uncertainty_given_a_client_equals_the_local_result(board, client):
    spec = uncertainty.UncertaintySpec(draws=60, seed=11)
    local = uncertainty.run_uncertainty(board, spec)
    remote = uncertainty.run_uncertainty(board, spec, scheduler=client)
    for code in local.ranks:
        np.testing.assert_array_equal(remote.ranks[code], local.ranks[code])
    pd.testing.assert_frame_equal(remote.summary, local.summary)
