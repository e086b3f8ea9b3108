"""Prediction for skmtl's estimators: outputs, labels, probabilities and scores."""

from __future__ import annotations

import warnings
from functools import update_wrapper
from types import MethodType
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy import sparse
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples, check_is_fitted

from . import _chunks
from ._chunks import forward_in_chunks, row_count, take_rows
from ._sample_weight import task_weights
from ._thresholds import apply_thresholds
from ._training import SparseRows
from ._validation import check_aligned, check_frame, check_X, is_input_dict, uses_frame


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


def mean_score(scores: dict[str, float]) -> float:
    """The mean of per-task scores, skipping NaN (tasks without a label); NaN if all are.

    Parameters
    ----------
    scores : dict
        Task name to score, as ``score_tasks`` returns.

    Returns
    -------
    float
    """
    values = np.array(list(scores.values()), dtype=float)
    return float(np.nanmean(values)) if (~np.isnan(values)).any() else float("nan")


def weighted_scores(taskset: Any, y: Any, outputs: list[np.ndarray],
                    sample_weight: Any = None) -> dict[str, float]:
    """``taskset.score_tasks`` of decided ``outputs``, each task's entries weighted by
    ``sample_weight`` (per row or per (row, task), as ``score_tasks`` takes it; None: 1)."""
    if sample_weight is None:
        return taskset.score_tasks(y, outputs)
    weights = task_weights(sample_weight, len(outputs[0]), taskset)
    return taskset.score_tasks(y, outputs, sample_weight=weights)


def proba_frame(tasks: list, probas: Any, index: Any = None) -> pd.DataFrame:
    """``predict_proba``'s output as one DataFrame of (task, class) columns.

    Parameters
    ----------
    tasks : list of Task
        The estimator's fitted tasks, in output order (regression tasks are skipped).
    probas : list of ndarray, or ndarray
        What ``predict_proba`` returned (a single array for a single task).
    index : pandas.Index or None
        The rows' index (None: 0..n_samples-1).

    Returns
    -------
    DataFrame
    """
    if len(tasks) == 1:
        probas = [probas]
    tasks = [task for task in tasks if task.is_classification]
    return pd.concat(
        {task.name_: pd.DataFrame(proba, index=index, columns=pd.Index(list(task.classes_)))
         for task, proba in zip(tasks, probas)},
        axis=1, names=["task", "class"])


class ProbabilityFrameMixin:
    """``predict_proba_frame``: the class probabilities as one DataFrame (needs ``tasks_``
    and ``predict_proba``)."""

    @_available_if_probabilities
    def predict_proba_frame(self, X) -> pd.DataFrame:
        """Class probabilities of every classification task, as one DataFrame.

        The same numbers as :meth:`predict_proba`, labelled: one column per (task,
        class), so ``proba["sex"]["male"]`` is a Series, and the rows carry X's index
        when X is a DataFrame, so arithmetic with ``y_test`` pairs rows by index as
        with :meth:`predict`.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        DataFrame of shape (n_samples, total number of classes)
            Columns: a MultiIndex of (task name, class) in task order and ``classes_``
            order; for a multi-label task, (task name, label column) with each label's
            probability. Index: X's index when X is a DataFrame, else 0..n_samples-1.
        """
        index = X.index if isinstance(X, pd.DataFrame) else None
        return proba_frame(self.tasks_, self.predict_proba(X), index)


class PredictMixin(ProbabilityFrameMixin):
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

    def _forward(self, inputs: Any, rows: int | None = None) -> list[np.ndarray]:
        """Every task's raw output for checked inputs, as float32 arrays on the CPU.

        ``inputs`` (an array, tensor, sparse matrix, :class:`SparseRows` or dict of them)
        go to the device and through the network in chunks of ``rows`` rows (None: as
        :meth:`_chunk_rows` says).
        """
        if sparse.issparse(inputs):
            inputs = SparseRows(inputs)
        n = row_count(inputs)
        if rows is None or isinstance(inputs, SparseRows):
            rows = self._chunk_rows(n, isinstance(inputs, SparseRows))
        return self._run_chunks(n, lambda a, b: take_rows(inputs, a, b), rows)

    def _chunk_rows(self, n: int, densified: bool = False) -> int:
        """Rows per prediction chunk of ``n`` rows (see :func:`~skmtl._chunks.chunk_rows`).

        Beyond :data:`~skmtl._chunks.SMALL_ROWS` rows, the network's widest tensor per row
        is found on two rows of zeros. Sparse inputs, densified chunk by chunk, get at
        most a batch.
        """
        limit = self.net_.batch_size if densified else None
        if n <= _chunks.SMALL_ROWS:
            return _chunks.chunk_rows(1, limit)
        device = self._weights_device()
        shapes = self.input_shapes_
        if isinstance(shapes, dict):
            probe = {key: torch.zeros((2, *shape), device=device) for key, shape in shapes.items()}
        else:
            probe = torch.zeros((2, *shapes), device=device)
        return _chunks.chunk_rows(_chunks.widest_row(self.net_.module_, probe), limit)

    def _run_chunks(self, n: int, read, rows: int) -> list[np.ndarray]:
        """:func:`~skmtl._chunks.forward_in_chunks` with this estimator's network."""
        kinds = [task.kind for task in self.tasks_]
        device = self._weights_device()
        net = self.net_
        # the training's autocast (precision=) and torch.compile wrapper (compile=), if any
        amp = net._mixed_precision()
        context = None if amp is None else (lambda: amp.autocast(device.type))
        return forward_in_chunks(net._network(), n, read, kinds, device, rows, context=context)

    def _outputs(self, X) -> list[np.ndarray]:
        """Every task's raw output for X as given to predict: checked and encoded chunk by
        chunk (a sparse matrix or a dict of inputs is checked whole, then chunked)."""
        check_is_fitted(self)
        frame = uses_frame(self, X, reset=False)
        if not frame and (sparse.issparse(X) or is_input_dict(X)):
            return self._forward(check_X(self, X, reset=False, allow_nd=self.trunk is not None))
        try:
            n = _num_samples(X)
        except TypeError:  # not array-like: the checks below say why
            n = None
        if frame:
            def check(part):
                return check_frame(self, part, reset=False)
        else:
            def check(part):
                return check_X(self, part, reset=False, allow_nd=self.trunk is not None)
        rows = None if n is None else self._chunk_rows(n)
        if rows is None or n <= rows:
            return self._forward(check(X), rows)

        def read(start: int, stop: int) -> Any:
            part = _safe_indexing(X, slice(start, stop))
            if start == 0:
                return check(part)
            with warnings.catch_warnings():  # the first chunk's warnings (e.g. about
                warnings.simplefilter("ignore")  # feature names) hold for every chunk
                return check(part)

        return self._run_chunks(n, read, rows)

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
        check_aligned(X, y=y, sample_weight=sample_weight)
        outputs = apply_thresholds(self, self._outputs(X))  # scores of what predict returns
        return weighted_scores(self.taskset_, y, outputs, sample_weight)

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
        return mean_score(self.score_tasks(X, y, sample_weight))
