"""Prediction for skmtl's estimators: outputs, labels, probabilities and scores."""

from __future__ import annotations

from functools import update_wrapper
from types import MethodType
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy import sparse
from sklearn.utils.validation import check_is_fitted

from ._sample_weight import task_weights
from ._thresholds import apply_thresholds
from ._training import SparseRows
from ._validation import check_frame, check_X, uses_frame
from .architectures import combine_members


def _has_probabilities(estimator: Any) -> bool:
    """True when ``estimator`` may have a classification task; else AttributeError saying why."""
    forced = getattr(estimator, "_forced_task", None)
    tasks = getattr(estimator, "tasks_", None)
    if forced is not None and forced.is_classification:
        return True
    if forced is None and (tasks is None or any(task.is_classification for task in tasks)):
        return True
    if tasks is not None:
        which = f"has only regression tasks ({', '.join(repr(task.name_) for task in tasks)})"
    else:
        which = "fits regression tasks only"
    raise AttributeError(
        f"This {type(estimator).__name__} {which}, so there are no probabilities to predict "
        "(predict_proba is for classification and multi-label tasks); use predict for their "
        "values."
    )


class _available_if_probabilities:
    """``available_if(_has_probabilities)`` that lets the check's message through.

    scikit-learn's ``available_if`` replaces the AttributeError of its check by a bare
    "has no attribute 'predict_proba'" (the reason only survives as ``__cause__``); this
    descriptor raises ``_has_probabilities``'s own. ``hasattr(estimator, "predict_proba")``
    is False exactly when the check raises, as with ``available_if``.
    """

    def __init__(self, fn):
        self.fn = fn
        update_wrapper(self, fn)

    def __get__(self, obj, owner=None):
        if obj is None:
            return self.fn
        _has_probabilities(obj)
        return MethodType(self.fn, obj)


class PredictMixin:
    """Prediction methods of :class:`~skmtl._base.BaseMultiTask` (on a fitted ``net_``).

    Inputs go to the device where the network's weights are, whatever ``device_`` says
    (a model fitted on a GPU and unpickled without one predicts on the CPU).
    """

    # -- prediction ----------------------------------------------------------------
    def _weights_device(self) -> torch.device:
        """Where the network's weights are (after unpickling, not necessarily ``device_``)."""
        for param in self.net_.module_.parameters():
            return param.device
        return torch.device("cpu")

    def _forward(self, inputs: Any) -> list[np.ndarray]:
        """Every task's raw output for checked inputs, as arrays on the CPU."""
        device = self._weights_device()
        if sparse.issparse(inputs) or isinstance(inputs, SparseRows):
            # densified one batch at a time by the net's batch iterator
            inputs = inputs.to(device) if isinstance(inputs, SparseRows) else SparseRows(inputs, device)
        elif isinstance(inputs, dict):
            inputs = {k: torch.as_tensor(v, device=device) for k, v in inputs.items()}
        else:
            inputs = torch.as_tensor(inputs, device=device)
        outputs = self.net_.forward(inputs, device="cpu")
        # an ensemble's (n, k, n_out) outputs (TabM) are averaged over its members
        return [combine_members(out, task.kind).numpy() for out, task in zip(outputs, self.tasks_)]

    def _outputs(self, X) -> list[np.ndarray]:
        check_is_fitted(self)
        if uses_frame(self, X, reset=False):
            return self._forward(check_frame(self, X, reset=False))
        return self._forward(check_X(self, X, reset=False, allow_nd=self.trunk is not None))

    def predict(self, X):
        """Predict every task.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        DataFrame, Series or ndarray
            Shaped like the ``y`` given to fit: a DataFrame with y's columns, labels and
            dtypes (and X's index when X is a DataFrame) when y was a DataFrame; a Series
            when it was a Series; an array of shape (n_samples, n_columns), or
            (n_samples,) when y was 1-D, otherwise.
        """
        outputs = apply_thresholds(self, self._outputs(X))
        index = X.index if isinstance(X, pd.DataFrame) else None
        return self.taskset_.decode(outputs, index=index)

    @_available_if_probabilities
    def predict_proba(self, X):
        """Class probabilities of every classification task.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        list of ndarray, or ndarray
            One array per classification task, in task order (regression tasks are
            skipped): (n_samples, n_classes) with columns in ``classes_`` order, or
            (n_samples, n_labels) of per-label probabilities for a
            :class:`~skmtl.tasks.MultiLabel` task. A single array when the estimator
            has exactly one task.
        """
        outputs = self._outputs(X)
        temperatures = getattr(self, "temperatures_", {})
        probas = [
            task.predict_proba(out / temperatures.get(task.name_, 1.0))
            for task, out in zip(self.tasks_, outputs)
            if task.is_classification
        ]
        return probas[0] if len(self.tasks_) == 1 else probas

    def score_tasks(self, X, y, sample_weight=None) -> dict[str, float]:
        """Score each task on the labelled entries of ``y``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like, Series or DataFrame
            True targets, with the columns seen in fit; missing labels are skipped.
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Weights of the rows (or of each row and task) in each task's score.

        Returns
        -------
        dict
            Task name to its score: accuracy for a classification task, R² for a
            regression task, the mean per-label accuracy for a multi-label task (NaN for
            a task with no labelled entry).
        """
        outputs = apply_thresholds(self, self._outputs(X))  # scores of what predict returns
        if sample_weight is None:
            return self.taskset_.score_tasks(y, outputs)
        weights = task_weights(sample_weight, len(outputs[0]), self.taskset_)
        return self.taskset_.score_tasks(y, outputs, sample_weight=weights)

    def score(self, X, y, sample_weight=None) -> float:
        """Mean over tasks of each task's score (see :meth:`score_tasks`).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like, Series or DataFrame
        sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
            Weights of the rows (or of each row and task) in each task's score.

        Returns
        -------
        float
        """
        scores = np.array(list(self.score_tasks(X, y, sample_weight).values()), dtype=float)
        return float(np.nanmean(scores)) if (~np.isnan(scores)).any() else float("nan")
