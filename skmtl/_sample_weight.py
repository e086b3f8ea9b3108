"""Sample weights: per row or per (row, task), checked and turned into task weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .tasks import TaskSet


def task_weights(sample_weight: Any, n_samples: int, taskset: TaskSet) -> np.ndarray:
    """Check ``sample_weight`` and return one weight per (row, task).

    Parameters
    ----------
    sample_weight : None, array-like of shape (n_samples,) or (n_samples, n_tasks)
        None weighs every row 1; a 1-D array weighs each row for every task; a 2-D
        array (or a DataFrame whose columns are the task names) weighs each (row,
        task) pair, columns in task order.
    n_samples : int
    taskset : TaskSet
        The fitted tasks.

    Returns
    -------
    ndarray of float32 of shape (n_samples, n_tasks)
    """
    names = [task.name_ for task in taskset.tasks_]
    n_tasks = len(names)
    if sample_weight is None:
        return np.ones((n_samples, n_tasks), dtype=np.float32)
    if isinstance(sample_weight, pd.DataFrame):
        missing = [n for n in names if n not in sample_weight.columns]
        if missing:
            raise ValueError(
                f"sample_weight is a DataFrame without column(s) {missing}; its columns must "
                f"be the task names {names}."
            )
        sample_weight = sample_weight[names]
    try:
        weights = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("sample_weight must be numeric (one non-negative number per row, "
                         "or per row and task).") from None
    if weights.ndim == 0:
        weights = np.full(n_samples, float(weights))
    if weights.ndim == 1:
        if len(weights) != n_samples:
            raise ValueError(
                f"sample_weight has {len(weights)} entries but X has {n_samples} rows."
            )
        weights = np.repeat(weights[:, None], n_tasks, axis=1)
    elif weights.ndim == 2:
        if weights.shape != (n_samples, n_tasks):
            raise ValueError(
                f"A 2-D sample_weight must have shape (n_samples, n_tasks) = ({n_samples}, "
                f"{n_tasks}), one column per task {names}; got {weights.shape}."
            )
    else:
        raise ValueError(f"sample_weight must be 1-D or 2-D; got {weights.ndim}-D.")
    if not np.isfinite(weights).all():
        raise ValueError("sample_weight contains NaN or infinity; weights must be finite.")
    if (weights < 0).any():
        raise ValueError("sample_weight contains negative values; weights must be >= 0.")
    return weights.astype(np.float32)


def weigh_statistics(taskset: TaskSet, y: Any, targets: np.ndarray, weights: np.ndarray,
                     tasks: list[int] | None = None) -> np.ndarray:
    """Refit the tasks' training statistics on the entries of positive weight.

    A regression task's standardisation becomes the weighted mean and standard
    deviation, and each loss's statistics (balanced class or positive weights) ignore
    entries of weight 0, so that such entries have no influence on training.

    Parameters
    ----------
    taskset : TaskSet
        Fitted on ``y``; changed in place.
    y : array-like, Series or DataFrame
    targets : ndarray
        ``taskset.encode(y)``.
    weights : ndarray of shape (n_samples, n_tasks)
    tasks : list of int, default=None
        The positions of the tasks whose statistics ``y`` gave (all when None). A task
        without labels yet (``labelled_`` False, fitted by a first ``partial_fit`` call
        that did not label it) is left as it is.

    Returns
    -------
    ndarray
        The targets encoded again with the new statistics.
    """
    chosen = [t for t in (range(len(taskset.tasks_)) if tasks is None else tasks)
              if getattr(taskset.tasks_[t], "labelled_", True)]
    if (weights == 1).all() or not chosen:
        return targets
    for t in chosen:
        task, part = taskset.tasks_[t], taskset.target_slices_[t]
        w = weights[:, t].astype(np.float64)
        block = targets[:, part].astype(np.float64)
        labelled = ~np.isnan(block).all(axis=1) & (w > 0)  # some label of the task
        if not labelled.any():
            raise ValueError(
                f"Task {task.name_!r} has no labelled row with a positive sample_weight "
                "(the weights of its labelled rows are all zero); give it some weight or "
                "drop the task."
            )
        if task.kind == "regression":  # encoded targets are affine in the values
            task.fit_statistics(task.mean_ + task.scale_ * block[labelled, 0], w[labelled])
    targets = taskset.encode(y)
    for t in chosen:
        task, part = taskset.tasks_[t], taskset.target_slices_[t]
        kept = targets[:, part].copy()
        kept[weights[:, t] == 0] = np.nan
        task.loss_ = task.loss_.fit(kept, task.n_outputs_)
    return targets
