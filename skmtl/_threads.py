"""Torch's thread count for a fit that runs on a Dask worker's thread.

A Dask worker started by a nanny (``LocalCluster(processes=True)``, ``dask worker``) is a
process whose environment has ``OMP_NUM_THREADS=1`` before torch is imported (distributed's
``distributed.nanny.pre-spawn-environ`` setting), so torch trains single-threaded there.
A worker without a nanny (``LocalCluster(processes=False)``, ``dask worker --no-nanny``)
runs its tasks on threads of a process whose torch may use every core: each of its threads
would start a full OpenMP team, and ``k`` worker threads on ``k`` cores would oversubscribe
them ``k`` times. :func:`limit_worker_threads` gives such a fit the thread count of a
nanny's worker: ``OMP_NUM_THREADS`` when the environment sets it, otherwise 1.

The count is set and left, not restored after the fit: part of torch's setting is
process-wide (MKL's thread count, and the count of threads that start later), so fits on
concurrent worker threads that each restored "their" previous count would undo each
other's setting in the middle of training.
"""

from __future__ import annotations

import os
import sys

import torch


def _on_dask_worker() -> bool:
    """Whether this thread runs a task of a Dask worker (without importing distributed)."""
    if "distributed" not in sys.modules:
        return False
    try:
        from distributed import get_worker
    except ImportError:  # a module of that name that is not Dask's
        return False
    try:
        get_worker()
    except ValueError:  # not on a worker's task thread
        return False
    return True


def dask_worker_threads() -> int | None:
    """Torch threads for a fit on this thread; None off a Dask worker (torch left as is)."""
    if not _on_dask_worker():
        return None
    try:
        return max(1, int(os.environ.get("OMP_NUM_THREADS", "1")))
    except ValueError:  # an unparsable value: OpenMP ignores it, and so do we
        return 1


def limit_worker_threads() -> None:
    """On a Dask worker's thread, set torch's thread count to :func:`dask_worker_threads`."""
    threads = dask_worker_threads()
    if threads is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
