"""Regression task: one numeric column, standardised (or divided by its mean) for training."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import r2_score

from ..losses._base import in_target_range
from ..losses._deviance import MAX_LOG_RATE
from ._base import SingleColumnTask, as_series, check_has_labels, missing_mask, plain

#: The links a regression loss may declare (``TaskLoss.link``).
LINKS = ("identity", "log")


def output_to_values(output: Any, link: str, mean: float, scale: float) -> Any:
    """Predictions from a regression head's output (a numpy array or a torch tensor).

    ``"identity"``: ``output * scale + mean``; ``"log"``: ``exp(output) * scale + mean``
    (``mean`` is 0 for a log link), the output clipped at ``MAX_LOG_RATE`` (as the deviance
    losses clip it).
    """
    if link == "log":
        if isinstance(output, torch.Tensor):
            output = torch.exp(output.clamp(max=MAX_LOG_RATE))
        else:
            output = np.exp(np.minimum(output, MAX_LOG_RATE))
    return output * scale + mean


def values_to_output(values: Any, link: str, mean: float, scale: float) -> Any:
    """The head output that :func:`output_to_values` maps to ``values`` (its inverse)."""
    encoded = (values - mean) / scale
    if link != "log":
        return encoded
    if isinstance(encoded, torch.Tensor):
        return torch.log(encoded.clamp(min=1e-30))
    return np.log(np.maximum(encoded, 1e-30))


class Regression(SingleColumnTask):
    """A regression task reading one numeric column.

    The target is standardised with the mean and standard deviation of its labelled
    values during fit, and predictions are mapped back to the original scale. With a
    loss of log link (``loss="poisson"`` for counts, ``loss="gamma"`` for prices) the
    target is divided by its mean instead, the head outputs the log of the prediction on
    that scale, and every prediction is positive.

    Parameters
    ----------
    column : str, int or None, default=None
        Column of ``y`` (a name for DataFrames, a position for arrays). None lets the
        estimator assign it (only valid inside ``tasks={column: spec}``).
    weight : float, default=1.0
        Multiplier of this task's loss in the total loss.
    loss : str or TaskLoss, default=None
        Training loss; None means ``"mse"``. ``"huber"`` and ``"l1"`` are robust to
        outliers; ``"poisson"`` (the Poisson deviance, a log link) suits counts: its
        labels must be non-negative; ``"gamma"`` (the Gamma deviance, a log link) suits
        positive skewed targets such as prices: its labels must be positive.
    name : str, default=None
        Task name; None uses the column name.

    Attributes
    ----------
    mean_ : float
        Mean of the labelled training targets (0 with a log link).
    scale_ : float
        Standard deviation of the labelled training targets (1 when constant); with a
        log link their mean (1 when it is 0).
    link_ : {"identity", "log"}
        How the head's output becomes a prediction: ``output * scale_ + mean_``, or
        ``exp(output) * scale_`` (the loss's ``link``).
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
        link = getattr(self.loss_, "link", "identity")
        if link not in LINKS:
            raise ValueError(f"The loss of regression task {self.name_!r} declares link "
                             f"{link!r}; a regression task reads one of {list(LINKS)}.")
        self.link_ = link
        series = frame.iloc[:, 0]
        missing = (missing_mask(series) if allow_unlabelled
                   else check_has_labels(series, self.name_))
        values = self._values(series, missing)[~missing]
        self.has_missing_ = bool(missing.any())
        if not len(values):  # the scale comes with the first labels (fit_first_labels)
            self.mean_, self.scale_ = 0.0, 1.0
            return
        self.fit_statistics(values)  # encode, which follows, checks the loss's range

    def fit_statistics(self, values: np.ndarray, sample_weight: np.ndarray | None = None) -> None:
        """Set ``mean_`` and ``scale_`` from labelled target values (weighted or not).

        Parameters
        ----------
        values : ndarray of shape (n,)
            Labelled targets, on the original scale.
        sample_weight : ndarray of shape (n,) or None, default=None
            Non-negative weight of each value.
        """
        mean = float(np.average(values, weights=sample_weight))
        if getattr(self, "link_", "identity") == "log":
            self.mean_, self.scale_ = 0.0, mean if mean > 0 and np.isfinite(mean) else 1.0
            return
        scale = float(np.sqrt(np.average((values - mean) ** 2, weights=sample_weight)))
        self.mean_, self.scale_ = mean, scale if scale > 0 and np.isfinite(scale) else 1.0

    def _check_range(self, values: np.ndarray, column: Any) -> None:
        """The labels must lie in the loss's ``target_range`` (if it declares one)."""
        wanted = getattr(self.loss_, "target_range", None)
        bad = values[~in_target_range(values, wanted)]
        if len(bad):
            kind = "negative" if wanted == "non-negative" else "zero or negative"
            other = ("loss='poisson' (counts may be 0), or " if wanted == "positive"
                     and (bad == 0).all() else "")
            raise ValueError(
                f"Regression task {self.name_!r} has loss {type(self.loss_).__name__}, which "
                f"needs {wanted} targets, but column {plain(column)!r} holds {len(bad)} {kind} "
                f"value(s) such as {plain(bad[0])!r}. Use {other}loss='mse' (or 'huber'), or "
                "shift the column."
            )

    def encode(self, frame):
        series = frame.iloc[:, 0]
        values = self._values(series, np.asarray(pd.isna(series), dtype=bool))
        self._check_range(values[~np.isnan(values)], series.name)
        return ((values - self.mean_) / self.scale_).astype(np.float32)[:, None]

    def output_of(self, values: np.ndarray) -> np.ndarray:
        """The head output whose prediction is ``values`` (the inverse of :meth:`decode`).

        Parameters
        ----------
        values : ndarray of shape (n_samples,) or (n_samples, 1)

        Returns
        -------
        ndarray of shape (n_samples, 1)
        """
        values = np.asarray(values, dtype=np.float64).reshape(-1, 1)
        return values_to_output(values, getattr(self, "link_", "identity"), self.mean_,
                                self.scale_)

    def decode(self, output) -> dict[Any, pd.Series]:
        values = output_to_values(np.asarray(output, dtype=np.float64)[:, 0],
                                  getattr(self, "link_", "identity"), self.mean_, self.scale_)
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
