"""Chunks of work on a dask.distributed cluster, when the user names its scheduler.

The one place that turns a scheduler address into a :class:`distributed.Client` and spreads
chunks of a computation over it (issue 16, "beyond one machine"). The scoreboard's Monte Carlo
draws (:func:`eocic.scoreboard.uncertainty.simulate`) and Sobol runs
(:func:`eocic.scoreboard.sensitivity.evaluate`) use it; the study runner can use
:func:`connect` for its stage tasks.

Addresses are those of ``dask scheduler`` (printed when it starts), e.g.
``tcp://10.0.0.5:8786``; ``tls://``, ``ws://`` and ``ucx://`` work where distributed supports
them, and ``host:port`` means ``tcp://host:port``. No cluster is ever started here: an empty
address (``''`` or None) means "this machine", and the work runs in this process as before.
Start a cluster yourself (``dask scheduler`` and ``dask worker``, ``dask-jobqueue`` on SLURM,
or :class:`distributed.LocalCluster`) and pass its address or its client.

Workers need eocic importable (the same version: the chunks are pickled by reference to
eocic's functions) and enough memory for the shared inputs (the reference-year matrices,
a few MB for ~280 regions x ~40 indicators) plus one chunk.

How :func:`map_chunks` runs on a cluster:

* the shared inputs are scattered once to every worker (``broadcast=True``);
* each chunk is one task, submitted with ``retries=`` :data:`RETRIES`: a task that raises
  (a transient file-system or network fault) runs again up to twice. A task whose worker dies
  (killed, out of memory) is rescheduled on another worker by the scheduler itself, up to
  ``distributed.scheduler.allowed-failures`` (3 by default) times, after which
  :class:`SchedulerError` names the chunk and the fix. The scattered inputs survive as long as
  one worker holding them does (every worker holds a copy): if all of them die at once,
  scattered data cannot be recomputed and :class:`SchedulerError` says so;
* results come back in the order of the chunks, so the assembled arrays are identical, byte for
  byte, to those computed in this process with the same chunks (the same function runs on the
  same arguments; only the machine differs).

``distributed`` is imported only when a scheduler is given (it adds about 0.25 s to a start-up
that runs everything on this machine).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import socket
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from eocic.errors import EocicError

if TYPE_CHECKING:
    import distributed

DEFAULT_TIMEOUT = 10.0  # seconds to wait for the scheduler to answer
RETRIES = 2  # extra attempts of a chunk whose task raised


class SchedulerError(EocicError, ConnectionError):
    """The dask scheduler cannot be reached or used; the message names the address and the
    fix."""


def connect(scheduler: str, timeout: float = DEFAULT_TIMEOUT) -> distributed.Client:
    """A client of the running dask.distributed scheduler at ``scheduler`` (never starts one).

    Parameters
    ----------
    scheduler : str
        The scheduler's address, e.g. ``"tcp://127.0.0.1:8786"``.
    timeout : float
        Seconds to wait for the scheduler to answer.

    The client is not made the global default of dask (``set_as_default=False``): eocic passes
    it explicitly, so connecting never redirects other dask code of the session. Close it when
    done (``client.close()``), or use :func:`client_for`.

    Raises
    ------
    SchedulerError
        Empty or malformed address (e.g. the dashboard's ``http://...:8787``), or no scheduler
        answering there within ``timeout`` seconds.
    """
    import distributed
    from distributed.comm import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    address = scheduler.strip() if isinstance(scheduler, str) else scheduler
    if not isinstance(address, str) or not address:
        raise SchedulerError(
            f"scheduler address {scheduler!r}: give the address of a running dask scheduler, "
            "e.g. 'tcp://10.0.0.5:8786' (printed by 'dask scheduler' when it starts), or leave "
            "it empty to run on this machine")
    # Address and reachability are checked before a Client exists: a Client whose constructor
    # fails is closed by the garbage collector later, in whatever thread runs it, which can
    # deadlock the start of the next Client's event loop (distributed 2026.8).
    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        host_port = parse_host_port(location) if scheme in ("tcp", "tls") else None
    except ValueError as error:  # unknown scheme, no port
        raise SchedulerError(
            f"scheduler address {address!r} is not a dask scheduler address ({error}); give "
            "it as tcp://host:port, e.g. 'tcp://10.0.0.5:8786' (the scheduler's port, 8786 by "
            "default, not the dashboard's http:// address)") from error
    if host_port is not None:
        try:
            socket.create_connection(host_port, timeout=timeout).close()
        except OSError as error:  # refused, unknown host, timed out
            raise _unreachable(address, timeout, error) from error
    try:
        return distributed.Client(address, timeout=timeout, set_as_default=False)
    except OSError as error:  # listening, but no scheduler answered (or it just went away)
        raise _unreachable(address, timeout, error) from error


def _unreachable(address: str, timeout: float, error: OSError) -> SchedulerError:
    return SchedulerError(
        f"no dask scheduler answered at {address!r} within {timeout:g} s ({error}); start one "
        f"there ('dask scheduler', then 'dask worker {address}' on each machine, or "
        "dask-jobqueue on a SLURM cluster), check the host, port and firewall, or leave the "
        "address empty to run on this machine")


@contextlib.contextmanager
def client_for(scheduler: str | distributed.Client | None,
               timeout: float = DEFAULT_TIMEOUT) -> Iterator[distributed.Client | None]:
    """The client to run on: None for this machine (``None`` or ``''``), the given client as it
    is (the caller keeps and closes it), or a new client of the address (closed on exit)."""
    if scheduler is None or (isinstance(scheduler, str) and not scheduler.strip()):
        yield None
        return
    import distributed

    if isinstance(scheduler, distributed.Client):
        yield scheduler
    else:
        client = connect(scheduler, timeout)
        try:
            yield client
        finally:
            client.close()


def map_chunks(function: Callable[..., Any], shared: Any, chunks: Sequence[tuple],
               client: distributed.Client | None = None) -> Iterator[Any]:
    """Yield ``function(shared, *arguments)`` for each ``arguments`` of ``chunks``, in order.

    Without a client the chunks run one after another in this process, each when the caller
    asks for it. With a client, ``shared`` is scattered once to every worker, every chunk is
    submitted at once as a task (``retries=RETRIES``) and the results are yielded in the order
    of ``chunks`` (module docstring). ``function`` must be importable by the workers (a
    module-level function of eocic).

    Raises
    ------
    SchedulerError
        A chunk's task lost its worker more often than the scheduler allows, or every worker
        holding the scattered inputs was lost.
    """
    if client is None:
        for arguments in chunks:
            yield function(shared, *arguments)
        return
    import distributed

    # a key of its own (hash=False): a hashed key shared with an earlier call's inputs could
    # be forgotten by that call's late release
    [shared_future] = client.scatter([shared], broadcast=True, hash=False)
    futures = [client.submit(function, shared_future, *arguments, retries=RETRIES, pure=False)
               for arguments in chunks]
    try:
        for number, future in enumerate(futures):
            try:
                yield future.result()
            except distributed.KilledWorker as error:
                raise SchedulerError(
                    f"chunk {number + 1} of {len(futures)} ({function.__name__}) lost its "
                    f"worker on every attempt at the scheduler {client.scheduler.address} "
                    f"({error}); the workers may run out of memory: give them more memory, "
                    "use smaller chunks, or leave the address empty to run on this "
                    "machine") from error
            except concurrent.futures.CancelledError as error:  # distributed's FutureCancelledError
                raise SchedulerError(
                    f"chunk {number + 1} of {len(futures)} ({function.__name__}) was cancelled "
                    f"by the scheduler {client.scheduler.address} ({error}): every worker "
                    "holding the scattered inputs was lost (they cannot be recomputed); run "
                    "again once the workers are back") from error
            futures[number] = None  # release each result once it is handed over
    finally:
        pending = [future for future in futures if future is not None]
        if pending:  # the caller stopped early or a chunk failed: free the cluster
            client.cancel(pending)
