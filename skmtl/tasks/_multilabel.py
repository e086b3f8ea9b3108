"""Multi-label task: several 0/1 columns sharing one head."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit

from ._base import Task, as_series, check_has_labels, missing_mask, plain


class MultiLabel(Task):
    """A multi-label task: several binary (0/1 or bool) columns sharing one head.

    The head has one logit per label column; each (row, label) entry may be missing
    independently.

    Parameters
    ----------
    columns : list of str or int
        The label columns of ``y`` (names for DataFrames, positions for arrays).
    weight : float, default=1.0
        Multiplier of this task's loss in the total loss.
    loss : str or TaskLoss, default=None
        Training loss; None means ``"bce"``.
    name : str, default=None
        Task name; None joins the column names with ``+``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_labels,)
        The label columns, in the order of ``predict_proba``'s columns.
    """

    kind = "multilabel"
    is_classification = True
    default_loss = "bce"

    _parameter_constraints = {**Task._parameter_constraints, "columns": [list, tuple]}

    def __init__(self, columns=(), *, weight=1.0, loss=None, name=None):
        self.columns = columns
        self.weight = weight
        self.loss = loss
        self.name = name

    def _declared_columns(self):
        if len(self.columns) == 0:
            raise ValueError("MultiLabel needs at least one column, e.g. MultiLabel(['a', 'b']).")
        return list(self.columns)

    def _with_columns(self, columns):
        return type(self)(list(columns), **{k: v for k, v in self.get_params(deep=False).items() if k != "columns"})

    def _binary(self, series: pd.Series, missing: np.ndarray) -> np.ndarray:
        values = series.to_numpy()[~missing]
        try:
            numeric = values.astype(np.float64)
        except (TypeError, ValueError):
            numeric = np.array([np.nan])
        if not np.isin(numeric, (0.0, 1.0)).all():
            bad = values[~np.isin(numeric, (0.0, 1.0))] if numeric.shape == values.shape else values
            raise ValueError(
                f"MultiLabel task {self.name_!r}: column {plain(series.name)!r} must hold 0/1 or "
                f"bool labels, found {plain(bad[0])!r}. Use a Classification task for other labels."
            )
        out = np.full(len(series), np.nan, dtype=np.float32)
        out[~missing] = numeric
        return out

    def _fit(self, frame, allow_unlabelled=False):
        missing = [missing_mask(frame[c]) if allow_unlabelled
                   else check_has_labels(frame[c], self.name_) for c in self.columns_]
        for column, mask in zip(self.columns_, missing):
            self._binary(frame[column], mask)
        self.has_missing_ = bool(any(m.any() for m in missing))
        self.classes_ = np.asarray(self.columns_)
        self.n_outputs_ = len(self.columns_)
        self.target_width_ = len(self.columns_)

    def encode(self, frame):
        columns = [self._binary(frame[c], np.asarray(pd.isna(frame[c]), bool)) for c in self.columns_]
        return np.stack(columns, axis=1)

    def decode(self, output):
        present = np.asarray(output) > 0
        result = {}
        for j, (column, dtype) in enumerate(zip(self.columns_, self.dtypes_)):
            values = present[:, j]
            if not pd.api.types.is_bool_dtype(dtype):
                values = values.astype(np.int64)
            result[column] = as_series(values, dtype, column)
        return result

    def predict_proba(self, output):
        return expit(np.asarray(output, dtype=np.float64))

    def score(self, frame, output, sample_weight=None):
        present = np.asarray(output) > 0
        weights = np.ones(len(frame)) if sample_weight is None else np.asarray(sample_weight)
        scores = []
        for j, column in enumerate(self.columns_):
            missing = np.asarray(pd.isna(frame[column]), bool)
            kept = ~missing & (weights > 0)
            if kept.any():
                truth = self._binary(frame[column], missing)[kept]
                scores.append(np.average(present[kept, j] == (truth > 0.5), weights=weights[kept]))
        return float(np.mean(scores)) if scores else float("nan")
