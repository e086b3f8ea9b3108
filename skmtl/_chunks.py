"""Prediction in chunks of rows: memory bounded by a chunk, whatever the number of rows.

Inputs are converted, encoded and moved to the device ``CHUNK_ROWS`` rows at a time
(fewer when the network's rows are wide), each chunk is run through the network in
slices of ``FORWARD_ROWS`` rows (``FUSED_FORWARD_ROWS`` for a network predicting through
fused kernels) on the CPU, and the outputs are written into arrays
allocated once for all rows: prediction holds at most one chunk of converted inputs
and one slice of activations beyond X and the outputs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np
import torch

from ._training import SparseRows
from .architectures import _fused, combine_members

#: Rows checked, encoded and moved to the device at once when predicting (at most).
#: Chosen by measurement with 64 features: the tabular encoder ran about twice as fast
#: per row on chunks of 32,768 rows as on 4,096 (its per-call cost amortised) and no
#: faster on 131,072, while a chunk's converted inputs stay at 8 MB.
CHUNK_ROWS: int = 32_768
#: Values of the largest tensor of a chunk (at most; 32 MB of float32): networks whose
#: rows are wide (piecewise-linear embeddings of every feature, images) get fewer rows.
CHUNK_VALUES: int = 1 << 23
#: Up to this many rows, a prediction runs in one chunk without sizing the network.
SMALL_ROWS: int = 256
#: Rows per call of the network on the CPU: a chunk is run in slices of this many rows,
#: whose activations stay in the processor's cache (a (256, 256) MLP ran about twice as
#: fast in slices of 1,024-2,048 rows as in slices of 32,768). On a GPU a chunk is run
#: whole.
FORWARD_ROWS: int = 2048
#: Rows per call on the CPU of a module that predicts through oneDNN's fused dense kernel
#: (its ``fused_prediction`` is true; see :mod:`skmtl.architectures._fused`): with it, the
#: serving benchmark's (256, 256) MLP predicted 1,000,000 rows about 4 % faster in slices
#: of 4,096 rows than of 2,048 (medians of 10 interleaved calls, 1.007 against 0.969
#: million rows/s), where the modules' own path was slower at 4,096.
FUSED_FORWARD_ROWS: int = 4096


#: Bytes of the block :func:`settle_heap` allocates and frees: as large as glibc lets a
#: freed block raise its thresholds (32 MB on 64-bit systems, block header included).
HEAP_BLOCK_BYTES: int = 24 << 20


def settle_heap() -> None:
    """Allocate and free one block of :data:`HEAP_BLOCK_BYTES`, so that glibc's ``malloc``
    keeps the activations of the following slices on its heap.

    glibc maps blocks above its mmap threshold (128 KB at start) afresh, and returns the top
    of its heap to the system beyond a trim threshold; both thresholds rise when a mapped
    block is freed, up to 32 MB. Until the process has freed one large block, each slice's
    activations (megabytes) are mapped and their pages faulted in again: the first
    1,000,000-row prediction in the serving benchmark's process made 498,000 page faults
    and ran at 0.55 million rows/s, against 6,500 faults and 0.91 million rows/s after one
    such block (the following calls: about 1.05 million either way). The block's pages are
    never written, so it costs one mapping and its release; with another C library it is
    just that. Where a ``MALLOC_*`` environment variable fixes glibc's thresholds (Dask's
    nanny sets ``MALLOC_TRIM_THRESHOLD_`` in its workers), no freed block moves them, and
    this does nothing.
    """
    torch.empty(HEAP_BLOCK_BYTES // 4, dtype=torch.float32)


def slice_rows(module: torch.nn.Module) -> int:
    """Rows per call of ``module`` on the CPU: :data:`FUSED_FORWARD_ROWS` when it predicts
    through the fused kernel, else :data:`FORWARD_ROWS`."""
    return FUSED_FORWARD_ROWS if getattr(module, "fused_prediction", False) else FORWARD_ROWS


def chunk_rows(values_per_row: int, limit: int | None = None) -> int:
    """Rows per chunk when the widest tensor of the network has ``values_per_row`` values a row.

    Parameters
    ----------
    values_per_row : int
        Values per row of the largest tensor (inputs or activations; see :func:`widest_row`).
    limit : int or None, default=None
        A further cap (sparse inputs: the batch size, as they are densified per chunk).

    Returns
    -------
    int
        ``min(CHUNK_ROWS, CHUNK_VALUES // values_per_row, limit)``, at least 1.
    """
    rows = min(CHUNK_ROWS, CHUNK_VALUES // max(int(values_per_row), 1))
    if limit is not None:
        rows = min(rows, int(limit))
    return max(1, rows)


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in _tensors(item)]
    return []


def widest_row(module: torch.nn.Module, probe: Any) -> int:
    """Values per row of the largest input or output of ``module`` and its submodules.

    Parameters
    ----------
    module : torch.nn.Module
    probe : torch.Tensor or dict of torch.Tensor
        A few rows of inputs (e.g. zeros), on the module's device; run once, without
        gradients, with a forward hook on every submodule.

    Returns
    -------
    int
    """
    inputs = _tensors(probe)
    rows = len(inputs[0])
    widest = max(t.numel() // max(rows, 1) for t in inputs)

    def record(_module, _args, output):
        nonlocal widest
        for tensor in _tensors(output):
            if tensor.ndim and len(tensor) == rows:
                widest = max(widest, tensor.numel() // max(rows, 1))

    handles = [sub.register_forward_hook(record) for sub in module.modules()]
    try:
        if module.training:
            module.train(False)
        with torch.inference_mode():
            module(probe)
    finally:
        for handle in handles:
            handle.remove()
    return widest


def row_count(inputs: Any) -> int:
    """Number of rows of checked inputs (array, tensor, :class:`SparseRows` or dict)."""
    if isinstance(inputs, dict):
        return len(next(iter(inputs.values())))
    return len(inputs)


def take_rows(inputs: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of checked inputs, without copying where slicing allows."""
    if isinstance(inputs, dict):
        return {key: value[start:stop] for key, value in inputs.items()}
    return inputs[start:stop]


def to_device(inputs: Any, device: torch.device) -> Any:
    """One chunk of checked inputs as float tensors on ``device`` (a dict stays a dict)."""
    if isinstance(inputs, dict):
        return {key: torch.as_tensor(value, device=device) for key, value in inputs.items()}
    if isinstance(inputs, SparseRows):
        return inputs.to(device).dense()
    if isinstance(inputs, np.ndarray) and not inputs.flags.writeable:
        # the user's X read in place (prediction never writes into it): torch's warning
        # that it cannot protect a read-only array does not concern this use
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            return torch.as_tensor(inputs, device=device)
    return torch.as_tensor(inputs, device=device)


def forward_in_chunks(
    module: torch.nn.Module,
    n: int,
    read: Callable[[int, int], Any],
    kinds: Sequence[str],
    device: torch.device,
    rows: int | None = None,
    context: Callable[[], AbstractContextManager] | None = None,
) -> list[np.ndarray]:
    """Every task's output for ``n`` rows, converted ``rows`` rows at a time.

    Each chunk of ``rows`` rows is read, moved to ``device`` and, on the CPU, run
    through the module in slices of :func:`slice_rows` rows (on a GPU, whole); the
    outputs of each call are written into arrays allocated once for all rows.

    Parameters
    ----------
    module : torch.nn.Module
        The multi-task module: called on one chunk, it returns one tensor per task.
        It is put in eval mode and run under ``torch.inference_mode``.
    n : int
        Number of rows.
    read : callable
        ``read(start, stop)`` returns rows ``start:stop`` as checked inputs (an array,
        tensor, :class:`~skmtl._training.SparseRows` or dict of them). It is called
        once per chunk, in order, and at least once (with ``(0, 0)`` when ``n`` is 0).
    kinds : sequence of str
        Each task's ``kind``: an ensemble output ``(rows, k, width)`` is averaged over
        its members as :func:`~skmtl.architectures.combine_members` does.
    device : torch.device
        Where the module's weights are.
    rows : int or None, default=None
        Rows per chunk (see :func:`chunk_rows`); None: :data:`CHUNK_ROWS`.
    context : callable or None, default=None
        Makes a context manager entered around each call of the module (e.g. an
        autocast); outputs of another float dtype are returned as float32.

    Returns
    -------
    list of ndarray of float32
        One array per task, of shape ``(n, width)``, on the CPU.
    """
    size = CHUNK_ROWS if rows is None else int(rows)
    step = size if torch.device(device).type != "cpu" else max(1, min(size, slice_rows(module)))
    if module.training:
        module.train(False)
    if torch.device(device).type == "cpu" and n > step:
        settle_heap()
    outputs: list[np.ndarray] | None = None
    planner = getattr(type(module), "prediction_plan", None)  # the plain module's own
    plan, stacked = None, None
    with torch.inference_mode():
        for start in range(0, max(n, 1), size):
            stop = min(start + size, n)
            chunk = to_device(read(start, stop), device)
            if start == 0 and planner is not None and context is None and _fused.applies(chunk):
                plan = module.prediction_plan()
            if plan is not None:  # every task's outputs side by side, in one array
                run, widths = plan
                if stacked is None:
                    stacked = torch.from_numpy(np.empty((n, sum(widths)), dtype=np.float32))
                for first in range(start, stop, step):
                    last = min(first + step, stop)
                    stacked[first:last] = run(chunk[first - start:last - start])
                continue
            for first in range(start, max(stop, start + 1), step):
                last = min(first + step, stop)
                with context() if context is not None else nullcontext():
                    raw = module(take_rows(chunk, first - start, last - start))
                parts = [combine_members(out.to(torch.float32), kind).cpu().numpy()
                         for out, kind in zip(raw, kinds)]
                if outputs is None:
                    outputs = [np.empty((n, *part.shape[1:]), dtype=np.float32)
                               for part in parts]
                for out, part in zip(outputs, parts):
                    out[first:last] = part
    if plan is not None:  # each task's columns (views of the one array)
        bounds = np.cumsum([0, *plan[1]])
        return [stacked.numpy()[:, a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    return outputs
