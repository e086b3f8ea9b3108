"""The training data path: tensors on the device (or streamed to it from pinned host
memory), batches gathered by index."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from . import _distributed
from ._sparse import densify


def _index(X: Any, index: torch.Tensor | slice) -> Any:
    if isinstance(X, dict):
        return {key: value[index] for key, value in X.items()}
    return X[index]


def _length(X: Any) -> int:
    if isinstance(X, dict):
        return len(next(iter(X.values())))
    return len(X)


def _take(X: Any, index: torch.Tensor | slice) -> Any:
    """``_index``, except that rows gathered from pinned memory land in pinned memory."""
    if isinstance(X, dict):
        return {key: _take(value, index) for key, value in X.items()}
    if isinstance(index, slice) or not isinstance(X, torch.Tensor) or not X.is_pinned():
        return X[index]
    out = torch.empty((len(index), *X.shape[1:]), dtype=X.dtype, pin_memory=True)
    return torch.index_select(X, 0, index, out=out)


def _to_device(X: Any, device: Any) -> Any:
    """Tensors copied to ``device`` without waiting (from pinned memory); sparse rows
    (:class:`~skmtl._training.SparseRows`) to be densified there."""
    if isinstance(X, dict):
        return {key: _to_device(value, device) for key, value in X.items()}
    if isinstance(X, torch.Tensor):
        return X.to(device, non_blocking=True)
    return X.to(device)


def _data_device(data: TensorData) -> torch.device:
    """Where the rows of ``data`` are (sparse rows: where they are densified)."""
    value = data.y if data.y is not None else data.X
    if isinstance(value, dict):
        value = next(iter(value.values()))
    return torch.device(value.device)


def _rows_device(X: Any) -> torch.device:
    """Where the rows of inputs ``X`` are selected (sparse rows: on the host)."""
    if isinstance(X, dict):
        X = next(iter(X.values()))
    return X.device if isinstance(X, torch.Tensor) else torch.device("cpu")


def _batch_slices(n: int, size: int, part: tuple[int, int] | None) -> list[slice]:
    """Positions (in the epoch's order) of each batch: this process's share of it when
    training is data-parallel."""
    if part is None:
        return [slice(start, min(start + size, n)) for start in range(0, n, size)]
    return [_distributed.shard(start, min(start + size, n), *part) for start in range(0, n, size)]


class TensorData(Dataset):
    """Inputs and encoded targets held as tensors (on the training device, or in pinned
    host memory when they are streamed to it).

    Parameters
    ----------
    X : torch.Tensor or dict of torch.Tensor
        Inputs; a dict holds one tensor per input (multi-input modules).
    y : torch.Tensor or None, default=None
        Encoded targets.
    """

    def __init__(self, X: Any, y: torch.Tensor | None = None):
        self.X = X
        self.y = y

    def __len__(self) -> int:
        return _length(self.X)

    def __getitem__(self, i):
        return _index(self.X, i), None if self.y is None else self.y[i]

    def take(self, index: torch.Tensor) -> TensorData:
        """Return the rows at ``index`` as a new dataset (one gather, done once).

        Parameters
        ----------
        index : torch.Tensor of int64

        Returns
        -------
        TensorData
        """
        return TensorData(_take(self.X, index), None if self.y is None else _take(self.y, index))


class TensorBatchIterator:
    """Iterate over a :class:`TensorData` in batches without a DataLoader.

    When shuffling, each epoch draws one permutation (from torch's CPU generator, so
    that every device trains on the same batches), copies it once to where the data
    are, and batch ``k`` gathers rows ``perm[k * batch_size:(k + 1) * batch_size]`` by
    index: the data are never copied whole (no permuted copy per epoch). Without
    shuffling, batches are contiguous views of the data. Either way there is no
    per-sample indexing and no collate.

    Data on the host while ``device`` is an accelerator (kept in pinned memory because
    they are too large for it, see :func:`~skmtl._training._placement.keep_on_host`) are
    *streamed*: ``chunk_batches`` batches at a time are gathered into pinned memory and
    copied to the device without waiting (``non_blocking=True``), then sliced there.
    Streaming yields exactly the batches of the resident path.

    Parameters
    ----------
    dataset : TensorData
    batch_size : int
    shuffle : bool, default=False
    shard : bool, default=False
        In data-parallel training (see :mod:`skmtl._training._distributed`), every
        process takes rank 0's permutation and yields only its share of each batch.
    device : str, torch.device or None, default=None
        Where the batches are used (the net sets its own device). None: where the data
        are.
    stream : bool or None, default=None
        Force (True) or forbid (False) streaming; None: stream when the data are on the
        CPU and ``device`` is not.
    chunk_batches : int, default=16
        Batches moved to the device together when streaming.
    **kwargs
        Ignored (DataLoader arguments skorch may pass).
    """

    def __init__(self, dataset: TensorData, batch_size: int, shuffle: bool = False,
                 shard: bool = False, device: Any = None, stream: bool | None = None,
                 chunk_batches: int = 16, **kwargs):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.shard = shard
        self.device = device
        self.stream = stream
        self.chunk_batches = int(chunk_batches)

    def __len__(self) -> int:
        return -(-len(self.dataset) // self.batch_size)

    def streaming(self) -> bool:
        """Whether this iterator streams its batches from the host to ``device``."""
        if self.stream is not None:
            return bool(self.stream)
        return (self.device is not None and torch.device(self.device).type != "cpu"
                and _data_device(self.dataset).type == "cpu")

    def __iter__(self):
        data = self.dataset
        n = len(data)
        part = _distributed.world() if self.shard else None
        order = None
        if self.shuffle:
            # drawn by the CPU generator whatever the device: the same batches on every
            # device, and positions the host can use without reading them back
            order = torch.randperm(n)
            if part is not None:
                order = _distributed.same_order(order)
        batches = _batch_slices(n, self.batch_size, part)
        if self.streaming():
            yield from self._stream(batches, order)
            return
        X, y = data.X, data.y
        # one copy of the permutation per epoch to where the rows are (sparse: the host)
        x_order = None if order is None else order.to(_rows_device(X), non_blocking=True)
        if order is not None and y is not None:
            order = order.to(y.device, non_blocking=True)
        for index in batches:
            x_index = index if order is None else x_order[index]
            y_index = index if order is None else order[index]
            # sparse inputs (SparseRows) become dense here, one batch at a time
            yield densify(_index(X, x_index)), None if y is None else densify(y[y_index])

    def _stream(self, batches: list[slice], order: torch.Tensor | None):
        """The batches, ``chunk_batches`` at a time gathered on the host and moved."""
        X, y = self.dataset.X, self.dataset.y
        device = _data_device(self.dataset) if self.device is None else self.device
        for k in range(0, len(batches), self.chunk_batches):
            group = batches[k:k + self.chunk_batches]
            if order is None and all(a.stop == b.start for a, b in zip(group, group[1:])):
                rows = slice(group[0].start, group[-1].stop)  # a view: still pinned
            else:
                positions = order if order is not None else torch.arange(len(self.dataset))
                rows = torch.cat([positions[index] for index in group])
            X_chunk = _to_device(_take(X, rows), device)
            y_chunk = None if y is None else _to_device(_take(y, rows), device)
            offset = 0
            for index in group:
                local = slice(offset, offset + index.stop - index.start)
                offset = local.stop
                yield densify(_index(X_chunk, local)), None if y_chunk is None else y_chunk[local]


def group_holdout(groups: Any, fraction: float, seed: int) -> np.ndarray:
    """Rows to hold out for validation as whole groups: a boolean mask.

    A group is held out when a hash of ``(seed, group)``, read as a number in [0, 1), is
    below ``fraction``: about that fraction of the groups (not of the rows), the same
    groups for the same seed in every call, so that ``partial_fit`` calls over chunks of
    the data do not train on a group that another call validates on. A call whose groups
    the rule would all keep (or all hold out) holds out the group with the lowest hash
    (keeps the one with the highest): a validation split needs both; with chunks of few
    groups, such a group may then be trained on in another call.

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        Each row's group (any hashable values; missing values form one group).
    fraction : float
        Share of the groups held out.
    seed : int
        Seed of the split.

    Returns
    -------
    ndarray of bool, shape (n_samples,)

    Raises
    ------
    ValueError
        When ``groups`` has fewer than two groups.
    """
    codes, distinct = pd.factorize(pd.Series(np.asarray(groups, dtype=object)).astype(str))
    if len(distinct) < 2:
        raise ValueError(
            f"groups has {len(distinct)} distinct value(s); a validation split by groups holds "
            "out whole groups and keeps others, so it needs at least 2. Pass groups=None to "
            "hold out random rows.")
    keys = pd.util.hash_array(np.asarray([f"{seed}|{g}" for g in distinct], dtype=object))
    uniform = keys.astype(np.float64) / float(np.iinfo(np.uint64).max)
    held = uniform < fraction
    held[np.argmin(uniform)], held[np.argmax(uniform)] = True, False
    return held[codes]


class HoldoutSplit:
    """skorch ``train_split``: hold out a fixed random fraction of the rows for validation.

    The held-out rows are a function of the seed and the number of rows only, so a
    model that sees the same data again (a warm-started ``fit``, repeated
    ``partial_fit`` calls, a resumed fit) validates on the same rows it never trained on.
    When ``held_out`` is set (``fit(..., groups=...)``: :func:`group_holdout`), those
    rows are held out instead.

    Parameters
    ----------
    fraction : float
        Share of rows held out (at least one row, and at least one row is kept).
    seed : int, default=0
        Seed of the split, drawn once per model.

    Attributes
    ----------
    held_out : ndarray of bool or None
        The rows to hold out in this fit call, when given by groups; None: random rows.
    valid_index_ : torch.Tensor
        Positions of the rows held out by the last call.
    """

    held_out: np.ndarray | None = None  # class default: splits pickled before groups

    def __init__(self, fraction: float, seed: int = 0):
        self.fraction = fraction
        self.seed = seed

    def split(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Training and validation positions for ``n`` rows (on the CPU).

        Parameters
        ----------
        n : int

        Returns
        -------
        train, valid : torch.Tensor of int64
        """
        if self.held_out is not None:
            if len(self.held_out) != n:
                raise ValueError(f"The validation groups cover {len(self.held_out)} rows, but "
                                 f"the data have {n}.")
            return (torch.as_tensor(np.flatnonzero(~self.held_out)),
                    torch.as_tensor(np.flatnonzero(self.held_out)))
        if n < 2:
            raise ValueError(
                f"A validation split (early_stopping, validation_fraction, "
                f"temperature_scaling or threshold) needs at least 2 samples; got {n}."
            )
        n_valid = min(max(1, round(self.fraction * n)), n - 1)
        generator = torch.Generator().manual_seed(int(self.seed))
        order = torch.randperm(n, generator=generator)
        return order[n_valid:], order[:n_valid]

    def __call__(self, dataset: TensorData, y: Any = None, **kwargs) -> tuple[TensorData, TensorData]:
        train, valid = self.split(len(dataset))
        self.valid_index_ = valid  # on the CPU: a net fitted on CUDA unpickles anywhere
        device = dataset.y.device if dataset.y is not None else None
        train, valid = train.to(device), valid.to(device)
        return dataset.take(train), dataset.take(valid)
