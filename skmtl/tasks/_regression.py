"""Regression task: one numeric column, standardised for training."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import r2_score

from ._base import SingleColumnTask, as_series, check_has_labels, missing_mask, plain


class Regression(SingleColumnTask):
    """A regression task reading one numeric column.

    The target is standardised with the mean and standard deviation of its labelled
    values during fit, and predictions are mapped back to the original scale.

    Parameters
    ----------
    column : str, int or None, default=None
        Column of ``y`` (a name for DataFrames, a position for arrays). None lets the
        estimator assign it (only valid inside ``tasks={column: spec}``).
    weight : float, default=1.0
        Multiplier of this task's loss in the total loss.
    loss : str or TaskLoss, default=None
        Training loss; None means ``"mse"``.
    name : str, default=None
        Task name; None uses the column name.

    Attributes
    ----------
    mean_ : float
        Mean of the labelled training targets.
    scale_ : float
        Standard deviation of the labelled training targets (1 when constant).
    labelled_ : bool
        Whether ``mean_`` and ``scale_`` come from labels: False after a first
        ``partial_fit`` call without labels of the task (they are then 0 and 1), until a
        later call brings some.
    """

    kind = "regression"
    default_loss = "mse"
    n_outputs_ = 1
    target_width_ = 1

    def _values(self, series: pd.Series, missing: np.ndarray) -> np.ndarray:
        """Labelled values as float64, NaN where missing; errors on strings and inf."""
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        numbers = pd.to_numeric(series.where(~missing), errors="coerce")
        # nullable dtypes (Float64, Int64, boolean) with NA: to_numpy maps NA to NaN
        numbers = pd.Series(numbers).to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isnan(numbers) & ~missing
        if bad.any():
            example = plain(series[bad].iloc[0])
            raise ValueError(
                f"Regression task {self.name_!r}: column {plain(series.name)!r} holds non-numeric "
                f"values such as {example!r}. Convert the column to numbers, or declare the "
                f"task as skmtl.tasks.Classification({plain(series.name)!r}) if it holds labels."
            )
        if np.isinf(numbers).any():
            raise ValueError(
                f"Input y contains infinity in column {plain(series.name)!r} (regression task "
                f"{self.name_!r}). Replace infinite targets with finite values or NaN "
                "(missing)."
            )
        return numbers

    def _fit(self, frame, allow_unlabelled=False):
        series = frame.iloc[:, 0]
        missing = (missing_mask(series) if allow_unlabelled
                   else check_has_labels(series, self.name_))
        values = self._values(series, missing)[~missing]
        self.has_missing_ = bool(missing.any())
        if not len(values):  # the scale comes with the first labels (fit_first_labels)
            self.mean_, self.scale_ = 0.0, 1.0
            return
        self.mean_ = float(values.mean())
        scale = float(values.std())
        self.scale_ = scale if scale > 0 and np.isfinite(scale) else 1.0

    def encode(self, frame):
        series = frame.iloc[:, 0]
        values = self._values(series, np.asarray(pd.isna(series), dtype=bool))
        return ((values - self.mean_) / self.scale_).astype(np.float32)[:, None]

    def decode(self, output) -> dict[Any, pd.Series]:
        values = np.asarray(output, dtype=np.float64)[:, 0] * self.scale_ + self.mean_
        dtype = self.dtypes_[0]
        keep = pd.api.types.is_float_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)
        return {self.columns_[0]: as_series(values, dtype if keep else np.float64, self.columns_[0])}

    def score(self, frame, output, sample_weight=None):
        series = frame.iloc[:, 0]
        missing = np.asarray(pd.isna(series), dtype=bool)
        kept = ~missing if sample_weight is None else ~missing & (np.asarray(sample_weight) > 0)
        if not kept.any():
            return float("nan")
        y_true = self._values(series, missing)[kept]
        y_pred = self.decode(output)[self.columns_[0]].to_numpy(dtype=np.float64)[kept]
        weights = None if sample_weight is None else np.asarray(sample_weight)[kept]
        return float(r2_score(y_true, y_pred, sample_weight=weights))
