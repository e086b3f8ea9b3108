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
    """Number of bins of ``numeric_embedding="piecewise_linear"`` for ``n_rows``
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


def _columns(X: torch.Tensor, caller: str) -> torch.Tensor:
    X = torch.as_tensor(X).detach().to("cpu", torch.float64)
    if X.ndim != 2 or not torch.isfinite(X).all():
        raise ValueError(f"{caller} needs a 2-D tensor of finite values.")
    return X


def _quantiles(ordered: torch.Tensor, ranks: torch.Tensor) -> torch.Tensor:
    """Linear-interpolation quantiles (``torch.quantile``'s default) of sorted values, at any
    length (``torch.quantile`` refuses inputs of more than 2 ** 24 values)."""
    position = ranks * (len(ordered) - 1)
    low = position.floor().long()
    high = position.ceil().long()
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def _edges(parts: list[torch.Tensor]) -> torch.Tensor:
    """Sorted distinct float32 edges of ``parts``; a single value ``v`` gives ``[v, v + 1]``."""
    edges = torch.unique(torch.cat(parts).float())  # float32 may merge neighbours
    return edges if len(edges) >= 2 else torch.cat([edges, edges + 1])


def mass_aware_bins(X: torch.Tensor, n_bins: int) -> list[torch.Tensor]:
    """Piecewise-linear bin edges of each column of ``X`` at quantiles of its rows, where
    every value that more than ``1 / n_bins`` of the rows hold (a point mass, such as the
    zeros of a mostly-zero column) is an edge of its own and is left out of the quantiles,
    which are taken over the other rows with the bins that remain.

    Quantiles of all rows (``rtdl_num_embeddings.compute_bins``) spend the bins a point
    mass covers on one value: on Census-Income KDD's training rows, 128 row quantiles left
    capital gains (96 % zeros) 5 bins and wage per hour (94 % zeros) 8. Here a column
    without point masses gets the row quantiles' edges.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
        The training rows (finite values).
    n_bins : int
        The number of bins per column (fewer where values repeat), at least 1.

    Returns
    -------
    list of torch.Tensor
        Sorted float32 edges per column, at least 2 (a column with one value gets that
        value and the value + 1).
    """
    X = _columns(X, "mass_aware_bins")
    n_bins = max(1, int(n_bins))
    bins = []
    for column in X.T:
        values, counts = torch.unique(column, return_counts=True)
        masses = values[counts * n_bins > len(column)]  # at most n_bins - 1 of them
        rest = column[~torch.isin(column, masses)]
        parts = [masses, values[:1], values[-1:]]
        if len(rest):
            ranks = torch.linspace(0.0, 1.0, n_bins - len(masses) + 1, dtype=torch.float64)
            parts.append(_quantiles(torch.sort(rest).values, ranks))
        bins.append(_edges(parts))
    return bins


def distinct_value_bins(X: torch.Tensor, n_bins: int) -> list[torch.Tensor]:
    """Piecewise-linear bin edges of each column of ``X`` at quantiles of its **distinct
    values** (each value counted once): all of them when a column has at most
    ``n_bins + 1``, else ``n_bins + 1`` edges evenly spaced in their ranks.

    Like :func:`mass_aware_bins` (the default), this gives a mostly-zero column as many
    bins as its other values allow; unlike it, a long tail of rare values takes as many
    edges as the values where most rows lie. A column whose values are all distinct gets
    the row quantiles' edges.

    Parameters
    ----------
    X : torch.Tensor of shape (n_samples, n_features)
        The training rows (finite values).
    n_bins : int
        The most bins per column (at least 1).

    Returns
    -------
    list of torch.Tensor
        Sorted float32 edges per column, at least 2 (a column with one value gets that
        value and the value + 1).
    """
    X = _columns(X, "distinct_value_bins")
    ranks = torch.linspace(0.0, 1.0, max(1, int(n_bins)) + 1, dtype=torch.float64)
    bins = []
    for column in X.T:
        values = torch.unique(column)  # sorted
        bins.append(_edges([values if len(values) <= len(ranks)
                            else _quantiles(values, ranks)]))
    return bins


_BIN_RULES = {
    "mass_aware": mass_aware_bins,
    "quantile": lambda X, n_bins: compute_bins(torch.as_tensor(X).float().cpu(), n_bins=n_bins),
    "distinct": distinct_value_bins,
}
#: Placements of the piecewise-linear bin edges (see :class:`FeatureEmbedding`).
BIN_EDGES: tuple[str, ...] = tuple(_BIN_RULES)


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
        ``PiecewiseLinearEmbeddings`` (version "B") with 16-wide embeddings on bins
        computed from ``X_train`` (:func:`piecewise_linear_bins`: 48 for most
        tables, up to 128 from 48,000 rows; edges placed by ``bin_edges``).
    X_train : torch.Tensor of shape (n_samples, n_numeric), default=None
        The training rows' numeric columns, needed for ``"piecewise_linear"`` bins.
    n_bins : int, default=None
        Number of ``"piecewise_linear"`` bins per column (fewer where a column has fewer
        distinct values, and fewer than the rows); None: :func:`piecewise_linear_bins` of ``len(X_train)``.
    bin_edges : {"mass_aware", "quantile", "distinct"}, default="mass_aware"
        Where the ``"piecewise_linear"`` bin edges go: at quantiles of the training rows
        with each point mass an edge of its own (:func:`mass_aware_bins`), at quantiles
        of the training rows (``rtdl_num_embeddings.compute_bins``), or at quantiles of
        each column's distinct values (:func:`distinct_value_bins`).
    unseen_codes : sequence of int, default=None
        The code that each categorical column's unseen categories read
        (:meth:`TabularEncoder.unseen_codes`); None: 0 for every column.
    category_dropout : float in [0, 1), default=0.0
        In training only, each categorical code of each row is replaced by its column's
        unseen code with this probability, so that the embedding which categories unseen
        in fit read is trained (on rows like every other row) instead of staying at its
        random initial value. 0: no replacement.
    """

    def __init__(self, n_numeric: int, n_plain: int, cardinalities: Sequence[int],
                 numeric_embedding: str | None = None, X_train: torch.Tensor | None = None,
                 n_bins: int | None = None, bin_edges: str = "mass_aware",
                 unseen_codes: Sequence[int] | None = None, category_dropout: float = 0.0):
        super().__init__()
        self.n_numeric, self.n_plain = int(n_numeric), int(n_plain)
        self.cardinalities = [int(c) for c in cardinalities]
        if not 0.0 <= float(category_dropout) < 1.0:
            raise ValueError(f"category_dropout={category_dropout!r}; give a probability in "
                             "[0, 1).")
        self.category_dropout = float(category_dropout)
        unseen = [0] * len(self.cardinalities) if unseen_codes is None else list(unseen_codes)
        if len(unseen) != len(self.cardinalities):
            raise ValueError(f"unseen_codes has {len(unseen)} entries for "
                             f"{len(self.cardinalities)} categorical columns.")
        # not in the state dict: it follows from the encoding, as the cardinalities do
        self.register_buffer("unseen_codes", torch.tensor(unseen, dtype=torch.long),
                             persistent=False)
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
                if bin_edges not in BIN_EDGES:
                    raise ValueError(f"bin_edges={bin_edges!r}; use one of {BIN_EDGES}.")
                with warnings.catch_warnings():  # a column with few values gets one bin: fine
                    warnings.filterwarnings("ignore", message=".*bin edges", category=UserWarning)
                    bins = _BIN_RULES[bin_edges](X_train, n_bins)
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

    def __setstate__(self, state: dict) -> None:
        # a layer pickled before category_dropout existed: no replacement, as it trained
        super().__setstate__(state)
        self.__dict__.setdefault("category_dropout", 0.0)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """The concatenated features of a batch of encoded rows."""
        numeric = X[:, :self.n_numeric]
        if self.numeric is not None:
            numeric = self.numeric(numeric).flatten(1)
        parts = [numeric, X[:, self.n_numeric:self.n_numeric + self.n_plain]]
        if self.embeddings:
            # codes are stored as floats; round (a noisy copy in pretraining) and clamp
            codes = X[:, self.n_numeric + self.n_plain:].round().long()
            if self.training and self.category_dropout > 0:
                drop = torch.rand(codes.shape, device=codes.device) < self.category_dropout
                codes = torch.where(drop, self.unseen_codes.expand_as(codes), codes)
            for j, table in enumerate(self.embeddings):
                parts.append(table(codes[:, j].clamp(0, table.num_embeddings - 1)))
        return torch.cat(parts, dim=1)
