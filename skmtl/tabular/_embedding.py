"""The network's input layer for encoded tables: categorical embeddings and, as an option,
numeric feature embeddings from ``rtdl_num_embeddings``."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
from rtdl_num_embeddings import PeriodicEmbeddings, PiecewiseLinearEmbeddings, compute_bins
from torch import nn

#: Numeric embeddings by name (see :class:`FeatureEmbedding`).
NUMERIC_EMBEDDINGS: tuple[str, ...] = ("periodic", "piecewise_linear")


def piecewise_linear_bins(n_rows: int) -> int:
    """Number of quantile bins of ``numeric_embedding="piecewise_linear"`` for ``n_rows``
    training rows: ``min(48, n_rows // 4)`` (at least 2) up to 48,000 rows, then one bin
    per 1,000 rows up to 128 (from 128,000 rows).

    48 bins were the defaults benchmark's setting (tables of up to 20,000 rows). On the
    training rows of two large tables (``benchmarks/bins.py``, 3 seeds, 20 % held out), 128
    bins did better than 48 on every task but one: Census-Income KDD income AUC 0.9479 to
    0.9502 (never-married unchanged), nycflights13 delay R² 0.1985 to 0.2061, late and
    cancelled AUC +0.0036 and +0.0017.

    Parameters
    ----------
    n_rows : int

    Returns
    -------
    int
    """
    n_rows = int(n_rows)
    if n_rows < 48_000:
        return int(max(2, min(48, n_rows // 4)))
    return int(min(128, n_rows // 1000))


def embedding_dim(cardinality: int) -> int:
    """Width of a categorical column's embedding: ``min(32, round(1.6 * c ** 0.56))``, at
    least 2 (the rule of fast.ai's tabular models), for ``c`` codes.

    Parameters
    ----------
    cardinality : int
        Number of codes of the column (the reserved code 0 included).

    Returns
    -------
    int
    """
    return int(max(2, min(32, round(1.6 * cardinality ** 0.56))))


class FeatureEmbedding(nn.Module):
    """Map a :class:`~skmtl.tabular.TabularEncoder` matrix to the trunk's input vector.

    The first ``n_numeric`` columns (the transformed numeric columns) go through a
    numeric embedding when ``numeric_embedding`` is set and as they are otherwise; the
    next ``n_plain`` columns (binary flags and missing indicators) pass as they are; the
    last ``len(cardinalities)`` columns are integer codes, each looked up in its own
    learned embedding table. The outputs are concatenated.

    Parameters
    ----------
    n_numeric : int
    n_plain : int
    cardinalities : sequence of int
        Number of codes of each categorical column (code 0 included).
    numeric_embedding : {"periodic", "piecewise_linear"} or None, default=None
        ``"periodic"``: ``rtdl_num_embeddings.PeriodicEmbeddings`` (PLR, Gorishniy et
        al., NeurIPS 2022) with 24-wide embeddings; ``"piecewise_linear"``:
        ``PiecewiseLinearEmbeddings`` (version "B") with 16-wide embeddings on quantile
        bins computed from ``X_train`` (:func:`piecewise_linear_bins`: 48 for most
        tables, up to 128 from 48,000 rows).
    X_train : torch.Tensor of shape (n_samples, n_numeric), default=None
        The training rows' numeric columns, needed for ``"piecewise_linear"`` bins.
    n_bins : int, default=None
        Number of ``"piecewise_linear"`` bins per column (fewer where a column has fewer
        distinct values, and fewer than the rows); None: :func:`piecewise_linear_bins` of ``len(X_train)``.
    """

    def __init__(self, n_numeric: int, n_plain: int, cardinalities: Sequence[int],
                 numeric_embedding: str | None = None, X_train: torch.Tensor | None = None,
                 n_bins: int | None = None):
        super().__init__()
        self.n_numeric, self.n_plain = int(n_numeric), int(n_plain)
        self.cardinalities = [int(c) for c in cardinalities]
        self.numeric = None
        numeric_width = self.n_numeric
        if numeric_embedding is not None and self.n_numeric:
            if numeric_embedding == "periodic":
                self.numeric = PeriodicEmbeddings(self.n_numeric, 24, lite=False)
            elif numeric_embedding == "piecewise_linear":
                if X_train is None:
                    raise ValueError("numeric_embedding='piecewise_linear' needs the training "
                                     "rows to compute its bins.")
                if n_bins is None:
                    n_bins = piecewise_linear_bins(len(X_train))
                n_bins = min(int(n_bins), max(2, len(X_train) - 1))  # compute_bins: < rows
                with warnings.catch_warnings():  # a column with few values gets one bin: fine
                    warnings.filterwarnings("ignore", message=".*bin edges", category=UserWarning)
                    bins = compute_bins(X_train.float().cpu(), n_bins=n_bins)
                self.numeric = PiecewiseLinearEmbeddings(bins, 16, activation=False,
                                                         version="B")
            else:
                raise ValueError(f"numeric_embedding={numeric_embedding!r}; use one of "
                                 f"{NUMERIC_EMBEDDINGS} or None.")
            numeric_width = self.n_numeric * int(self.numeric.get_output_shape()[1])
        self.embeddings = nn.ModuleList(
            nn.Embedding(c, embedding_dim(c)) for c in self.cardinalities)
        self.output_width = (numeric_width + self.n_plain
                             + sum(e.embedding_dim for e in self.embeddings))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """The concatenated features of a batch of encoded rows."""
        numeric = X[:, :self.n_numeric]
        if self.numeric is not None:
            numeric = self.numeric(numeric).flatten(1)
        parts = [numeric, X[:, self.n_numeric:self.n_numeric + self.n_plain]]
        if self.embeddings:
            # codes are stored as floats; round (a noisy copy in pretraining) and clamp
            codes = X[:, self.n_numeric + self.n_plain:].round().long()
            for j, table in enumerate(self.embeddings):
                parts.append(table(codes[:, j].clamp(0, table.num_embeddings - 1)))
        return torch.cat(parts, dim=1)
