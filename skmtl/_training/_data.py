"""The training data path: tensors on the device, batches as index slices."""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from ._sparse import densify


def _index(X: Any, index: torch.Tensor | slice) -> Any:
    if isinstance(X, dict):
        return {key: value[index] for key, value in X.items()}
    return X[index]


def _length(X: Any) -> int:
    if isinstance(X, dict):
        return len(next(iter(X.values())))
    return len(X)


class TensorData(Dataset):
    """Inputs and encoded targets held as tensors (already on the training device).

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
        return TensorData(_index(self.X, index), None if self.y is None else self.y[index])


class TensorBatchIterator:
    """Iterate over a :class:`TensorData` in batches without a DataLoader.

    When shuffling, each epoch draws one permutation on the data's device, gathers
    the rows in that order once, and yields consecutive slices of the result: batch
    ``k`` holds rows ``perm[k * batch_size:(k + 1) * batch_size]``. Without shuffling,
    batches are contiguous views of the data. Either way there is no per-sample
    indexing and no collate.

    Parameters
    ----------
    dataset : TensorData
    batch_size : int
    shuffle : bool, default=False
    **kwargs
        Ignored (DataLoader arguments skorch may pass).
    """

    def __init__(self, dataset: TensorData, batch_size: int, shuffle: bool = False, **kwargs):
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle

    def __len__(self) -> int:
        return -(-len(self.dataset) // self.batch_size)

    def __iter__(self):
        data = self.dataset
        n, size = len(data), self.batch_size
        if self.shuffle:
            device = data.y.device if data.y is not None else None
            data = data.take(torch.randperm(n, device=device))
        X, y = data.X, data.y
        for start in range(0, n, size):
            index = slice(start, start + size)
            # sparse inputs (SparseRows) become dense here, one batch at a time
            yield densify(_index(X, index)), None if y is None else densify(y[index])


class HoldoutSplit:
    """skorch ``train_split``: hold out a fixed random fraction of the rows for validation.

    The held-out rows are a function of the seed and the number of rows only, so a
    model that sees the same data again (a warm-started ``fit``, repeated
    ``partial_fit`` calls, a resumed fit) validates on the same rows it never trained on.

    Parameters
    ----------
    fraction : float
        Share of rows held out (at least one row, and at least one row is kept).
    seed : int, default=0
        Seed of the split, drawn once per model.

    Attributes
    ----------
    valid_index_ : torch.Tensor
        Positions of the rows held out by the last call.
    """

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
        device = dataset.y.device if dataset.y is not None else None
        train, valid = train.to(device), valid.to(device)
        self.valid_index_ = valid
        return dataset.take(train), dataset.take(valid)
