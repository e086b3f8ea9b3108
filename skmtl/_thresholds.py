"""Per-label decision thresholds of binary and multi-label tasks (the ``threshold`` parameter).

A binary classification task predicts its second class (``classes_[1]``) when that
class's probability is at least the task's threshold; a multi-label task predicts a
label present when its probability is at least that label's threshold. Probabilities
are those of ``predict_proba`` (after temperature scaling when it is on).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, softmax

#: Threshold of a label whose validation rows cannot choose one.
DEFAULT = 0.5


def is_thresholded(task: Any) -> bool:
    """Whether ``threshold`` applies to ``task``: a binary classification or a multi-label task."""
    return task.kind == "multilabel" or (task.kind == "classification" and task.n_outputs_ == 2)


def positive_probabilities(task: Any, output: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Probability of the positive class of each label, shape (n_samples, n_labels).

    One column (``classes_[1]``) for a binary task, one per label for a multi-label task.
    """
    logits = np.asarray(output, dtype=np.float64) / temperature
    if task.kind == "multilabel":
        return expit(logits)
    return softmax(logits, axis=1)[:, 1:]


def best_threshold(proba: np.ndarray, truth: np.ndarray, metric: str,
                   weight: np.ndarray | None = None) -> float:
    """The cut point maximising ``metric`` for one label on held-out rows.

    A row is predicted positive when its probability is at least the threshold. The
    candidates are the midpoints between consecutive distinct probabilities of the
    labelled rows, and a point below the smallest (all positive) and above the largest
    (all negative); ties go to the candidate closest to 0.5.

    Parameters
    ----------
    proba : ndarray of shape (n_samples,)
        Positive-class probabilities.
    truth : ndarray of shape (n_samples,)
        1 for positive, 0 for negative, NaN where the label is missing.
    metric : {"accuracy", "f1"}
        Accuracy (one minus the Hamming loss) or F1 of the label.
    weight : ndarray of shape (n_samples,), default=None
        Sample weights: each row counts this many times in the metric, and a row of
        weight 0 is a missing label. None counts every row once.

    Returns
    -------
    float
        0.5 when no row is labelled, or the labelled rows are all positive or all
        negative.
    """
    w = np.ones(len(truth)) if weight is None else np.asarray(weight, dtype=np.float64)
    labelled = ~np.isnan(truth) & (w > 0)
    p = np.asarray(proba, dtype=np.float64)[labelled]
    positive, w = truth[labelled] > 0.5, w[labelled]
    if len(p) == 0 or positive.all() or not positive.any():
        return DEFAULT
    order = np.argsort(p, kind="stable")
    p, positive, w = p[order], positive[order], w[order]
    values = np.unique(p)
    cuts = np.concatenate([[values[0] / 2], (values[:-1] + values[1:]) / 2,
                           [(values[-1] + 1) / 2]])
    first = np.searchsorted(p, cuts, side="left")  # rows first.. are predicted positive

    def from_row(values: np.ndarray) -> np.ndarray:  # sum over rows first..n-1, per first
        return np.concatenate([np.cumsum(values[::-1])[::-1], [0.0]])[first]

    tp, predicted = from_row(w * positive), from_row(w)
    total, total_positive = w.sum(), (w * positive).sum()
    fp, fn = predicted - tp, total_positive - tp
    if metric == "accuracy":
        scores = (tp + (total - total_positive - fp)) / total
    else:  # tp + fn = total_positive > 0
        scores = 2 * tp / (2 * tp + fp + fn)
    best = np.flatnonzero(scores >= scores.max() - 1e-12)
    return float(cuts[best[np.argmin(np.abs(cuts[best] - DEFAULT))]])


def fit_thresholds(estimator: Any, inputs: Any, targets: np.ndarray,
                   weights: np.ndarray | None = None) -> dict[str, Any]:
    """``thresholds_`` of a just-fitted estimator, following its ``threshold`` parameter.

    Parameters
    ----------
    estimator : BaseMultiTask
        Fitted (``net_``, ``tasks_``, ``temperatures_``).
    inputs : tensor, dict of tensors or SparseRows
        The inputs of the fit call, on the training device.
    targets : ndarray of shape (n_samples, width)
        The encoded targets of the fit call (NaN where missing).
    weights : ndarray of shape (n_samples, n_tasks), default=None
        The fit call's sample weights per (row, task); None weighs every entry 1.

    Returns
    -------
    dict
        Task name to a float (binary task) or an array of one threshold per label
        (multi-label task); empty when ``threshold`` is None.
    """
    threshold = estimator.threshold
    tasks = [(t, task) for t, task in enumerate(estimator.tasks_) if is_thresholded(task)]
    if threshold is None or not tasks:
        return {}
    if not isinstance(threshold, str):
        return {task.name_: float(threshold) if task.kind == "classification"
                else np.full(task.n_outputs_, float(threshold)) for _, task in tasks}
    _, index = estimator.net_.train_split.split(len(targets))
    if isinstance(inputs, dict):
        held_out = {k: v[index.to(v.device)] for k, v in inputs.items()}
    else:
        held_out = inputs[index.to(inputs.device)]
    outputs = estimator._forward(held_out)
    temperatures = getattr(estimator, "temperatures_", None) or {}
    probabilities = {t: positive_probabilities(task, outputs[t], temperatures.get(task.name_, 1.0))
                     for t, task in tasks}
    index = index.numpy()
    return best_thresholds(tasks, probabilities, targets[index],
                           estimator.taskset_.target_slices_, threshold,
                           None if weights is None else weights[index])


def best_thresholds(tasks: list[tuple[int, Any]], probabilities: dict[int, np.ndarray],
                    truth: np.ndarray, target_slices: list[slice], metric: str,
                    weights: np.ndarray | None = None) -> dict[str, Any]:
    """The :func:`best_threshold` of every label of thresholded tasks on held-out rows.

    Parameters
    ----------
    tasks : list of (int, Task)
        The thresholded tasks (:func:`is_thresholded`) and their positions.
    probabilities : dict
        Task position to the held-out rows' positive probabilities
        (:func:`positive_probabilities`), shape (n_rows, n_labels).
    truth : ndarray of shape (n_rows, width)
        The held-out rows' encoded targets (NaN where missing).
    target_slices : list of slice
        Each task's columns of ``truth``.
    metric : {"accuracy", "f1"}
    weights : ndarray of shape (n_rows, n_tasks), default=None
        The held-out rows' sample weights per (row, task), tasks in the order of
        ``target_slices``; None weighs every entry 1.

    Returns
    -------
    dict
        Task name to a float (binary task) or an array of one threshold per label
        (multi-label task).
    """
    thresholds: dict[str, Any] = {}
    for t, task in tasks:
        proba, part = probabilities[t], truth[:, target_slices[t]]
        weight = None if weights is None else weights[:, t]
        # a binary task's one column is its class index: 1 is the positive class
        cuts = [best_threshold(proba[:, j], part[:, j], metric, weight)
                for j in range(proba.shape[1])]
        thresholds[task.name_] = cuts[0] if task.kind == "classification" else np.array(cuts)
    return thresholds


def apply_thresholds(estimator: Any, outputs: list[np.ndarray]) -> list[np.ndarray]:
    """Outputs whose decoding (argmax, or > 0 per label) follows ``thresholds_``.

    The outputs of thresholded tasks are replaced by ±1 scores of the decision; the
    others are returned unchanged.
    """
    thresholds = getattr(estimator, "thresholds_", None)
    if not thresholds:
        return outputs
    temperatures = getattr(estimator, "temperatures_", None) or {}
    decided = list(outputs)
    for t, task in enumerate(estimator.tasks_):
        if task.name_ not in thresholds:
            continue
        proba = positive_probabilities(task, outputs[t], temperatures.get(task.name_, 1.0))
        positive = proba >= np.asarray(thresholds[task.name_], dtype=np.float64)
        if task.kind == "multilabel":
            decided[t] = np.where(positive, 1.0, -1.0).astype(np.float32)
        else:
            decided[t] = np.concatenate([~positive, positive], axis=1).astype(np.float32)
    return decided
