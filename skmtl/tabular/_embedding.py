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
        ``PiecewiseLinearEmbeddings`` (version "B") with 16-wide embeddings on up to 48
        quantile bins computed from ``X_train``.
    X_train : torch.Tensor of shape (n_samples, n_numeric), default=None
        The training rows' numeric columns, needed for ``"piecewise_linear"`` bins.
    """

    def __init__(self, n_numeric: int, n_plain: int, cardinalities: Sequence[int],
                 numeric_embedding: str | None = None, X_train: torch.Tensor | None = None):
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
                n_bins = int(max(2, min(48, len(X_train) // 4)))
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
