"""Sparse inputs: a CSR matrix kept on the host, densified one batch at a time."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy import sparse


class SparseRows:
    """Rows of a CSR matrix held on the host, densified batch by batch on ``device``.

    Indexing (by a slice or an index tensor, as :class:`~skmtl._training.TensorData`
    and :class:`~skmtl._training.HoldoutSplit` do) only composes row positions: it
    copies nothing. :meth:`dense` turns the selected rows into a float32 tensor on
    ``device``; the batch iterator calls it once per batch, so at most one batch of
    rows is ever dense.

    Parameters
    ----------
    matrix : scipy.sparse matrix or array of shape (n_samples, n_features)
        Converted to CSR (float32) if it is not already.
    device : str or torch.device, default="cpu"
        Where :meth:`dense` puts the batches.
    rows : ndarray of int64 or None, default=None
        Positions of the selected rows (None: all of them, in order).
    """

    ndim = 2

    def __init__(self, matrix: Any, device: Any = "cpu", rows: np.ndarray | None = None):
        if not (sparse.issparse(matrix) and matrix.format == "csr" and matrix.dtype == np.float32):
            matrix = sparse.csr_matrix(matrix, dtype=np.float32)
        self.matrix = matrix
        self.device = torch.device(device)
        self.rows = rows

    def __len__(self) -> int:
        return self.matrix.shape[0] if self.rows is None else len(self.rows)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self), self.matrix.shape[1])

    def __getitem__(self, index: Any) -> SparseRows:
        if isinstance(index, torch.Tensor):
            index = index.cpu().numpy()
        if isinstance(index, slice):
            positions = np.arange(*index.indices(len(self)))
        else:
            positions = np.asarray(index, dtype=np.int64)
        rows = positions if self.rows is None else self.rows[positions]
        return SparseRows(self.matrix, self.device, rows)

    def to(self, device: Any) -> SparseRows:
        """The same rows, densified on ``device``."""
        return SparseRows(self.matrix, device, self.rows)

    def dense(self) -> torch.Tensor:
        """The selected rows as a dense float32 tensor on ``device``."""
        block = self.matrix if self.rows is None else self.matrix[self.rows]
        return torch.from_numpy(np.ascontiguousarray(block.toarray())).to(self.device)


def densify(value: Any) -> Any:
    """``value`` as a tensor if it is :class:`SparseRows`, else unchanged."""
    return value.dense() if isinstance(value, SparseRows) else value
