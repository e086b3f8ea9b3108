"""Out-of-fold predictions of a multi-task estimator, its missing labels kept missing.

scikit-learn's :func:`sklearn.model_selection.cross_val_predict` serves single-output
models: with ``method="predict_proba"`` it replaces each column of ``y`` by integer codes
before fitting, so a missing label (NaN) becomes a class of its own that the network learns
to predict, a task of strings with missing labels fails inside scikit-learn, and a
regression column's values become classes. It also returns a NumPy array without X's index
or the tasks' names. :func:`cross_val_predict` here fits and predicts the folds with ``y``
as it is and returns what the estimator's own ``predict`` / ``predict_proba`` /
``predict_proba_frame`` would.
"""

from __future__ import annotations

import warnings
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.model_selection import GroupKFold, KFold
from sklearn.pipeline import Pipeline
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples

from ._base import BaseMultiTask
from ._declared import all_classes, fit_with_classes, lacked_classes
from ._ensemble import MultiTaskEnsemble, _check_folds_label_every_task, _fit_params, _rows
from ._frames import _is_polars
from ._grouping import TaskGrouping
from ._predict import proba_frame
from ._validation import check_aligned, check_groups
from .callbacks._resume import in_subdirectory
from .tasks import TaskSet

__all__ = ["cross_val_predict"]

_METHODS = ("predict", "predict_proba", "predict_proba_frame")


def cross_val_predict(estimator: Any, X: Any, y: Any, *, groups: Any = None, cv: Any = 5,
                      method: str = "predict", sample_weight: Any = None,
                      n_jobs: int | None = None, verbose: int = 0) -> Any:
    """Out-of-fold predictions: each row predicted by a clone fitted on the other folds.

    The multi-task counterpart of :func:`sklearn.model_selection.cross_val_predict`:
    ``y`` reaches each fold's ``fit`` as it is, so a missing label stays missing (that
    row and task do not count in that fold's loss), and the result is what the
    estimator's ``method`` returns, rows in X's order, with X's index when X is a
    DataFrame (so ``pred["a"] - y["a"]`` pairs the right rows).

    Parameters
    ----------
    estimator : estimator
        An unfitted skmtl estimator (``MultiTaskNet``, ``MultiTaskClassifier``,
        ``MultiTaskRegressor``, ``MultiTaskEnsemble``, ``TaskGrouping``) or a
        ``Pipeline`` ending in one; each fold fits a clone of it.
    X : array-like, DataFrame, sparse matrix or dict of arrays
    y : array-like, Series or DataFrame
        The targets, with NaN (or None, ``pd.NA``) where a label is missing.
    groups : array-like of shape (n_samples,), default=None
        Each row's group. An int ``cv`` then makes folds of whole groups
        (``GroupKFold``), a splitter gets them (``split(X, y, groups)``), and each fold's
        ``fit`` gets its rows' groups, so that its validation rows are whole groups too.
    cv : int or cross-validation splitter, default=5
        An int k: ``KFold(k)`` (``GroupKFold(k)`` with ``groups``), without shuffling, as
        scikit-learn's default. A splitter (``KFold(5, shuffle=True, random_state=0)``,
        ``GroupKFold``, ...) must hold out every row exactly once.
    method : {"predict", "predict_proba", "predict_proba_frame"}, default="predict"
        ``"predict"``: what ``estimator.predict`` returns (a DataFrame, Series or
        array shaped like ``y``). ``"predict_proba"``: one array per classification task
        (a single array for a single task), columns in the order of the classes of the
        whole ``y``. ``"predict_proba_frame"``: one DataFrame of (task, class) columns.
        A class that a fold's training rows lack: a skmtl model (an estimator, a
        ``MultiTaskEnsemble``, a ``TaskGrouping``, or a Pipeline ending in one) is
        fitted on that fold with every class of ``y`` declared, as
        ``partial_fit(classes=...)`` does and as the members of a cross-fitted
        ``MultiTaskEnsemble`` are, so it predicts a (small) probability for it, and a
        fold holding one class of a task still fits.
    sample_weight : array-like of shape (n_samples,) or (n_samples, n_tasks), default=None
        Each fold's ``fit`` gets its rows' weights.
    n_jobs : int or None, default=None
        Folds fitted in parallel (joblib); each worker process limits its threads, as
        under ``GridSearchCV(n_jobs=...)``.
    verbose : int, default=0
        joblib's verbosity.

    Returns
    -------
    DataFrame, Series, ndarray or list of ndarray
        As ``method`` of a fitted estimator returns it, for every row of X. The index is
        X's when X is a DataFrame, else 0..n_samples-1; predictions of a polars ``y``
        are polars', rows in X's order.

    Raises
    ------
    ValueError
        For an unknown ``method``, or a ``cv`` that does not hold out every row exactly
        once (use ``MultiTaskEnsemble(cv=...)`` for repeated folds).

    Notes
    -----
    A ``checkpoint`` of the estimator (or of a Pipeline step, or of an ensemble's or
    grouping's networks) is given to fold k as its subdirectory ``fold<k>``: a directory
    holds one fit, and running the same ``cross_val_predict`` again resumes each fold.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from skmtl import MultiTaskNet
    >>> from skmtl.model_selection import cross_val_predict
    >>> rng = np.random.RandomState(0)
    >>> X = pd.DataFrame(rng.normal(size=(120, 3)), columns=["a", "b", "c"])
    >>> y = pd.DataFrame({"size": X["a"] * 2.0, "kind": np.where(X["b"] > 0, "p", "q")})
    >>> y.loc[::4, "kind"] = None  # a missing label stays missing in every fold
    >>> pred = cross_val_predict(MultiTaskNet(max_epochs=5, random_state=0), X, y, cv=3)
    >>> pred.shape, pred.index.equals(X.index)
    ((120, 2), True)
    """
    if method not in _METHODS:
        raise ValueError(f"method={method!r} is not one of {list(_METHODS)}.")
    if method != "predict":
        _ = estimator.predict_proba  # a regression-only model says so before fitting
    n = _num_samples(next(iter(X.values())) if isinstance(X, dict) else X)
    check_aligned(X, y=y, sample_weight=sample_weight, groups=groups)
    groups = check_groups(groups, n)
    splits = list(_splitter(cv, groups, n).split(np.zeros((n, 0)), y, groups))
    positions = np.concatenate([np.asarray(test, dtype=np.intp) for _, test in splits])
    if len(positions) != n or not np.array_equal(np.sort(positions), np.arange(n)):
        raise ValueError(f"cv={cv!r} does not hold out each of the {n} rows exactly once, so "
                         "some rows would have no prediction or several; use a partition "
                         "(KFold, GroupKFold, ...), or MultiTaskEnsemble(cv=...) for repeated "
                         "folds.")
    taskset = _tasks_of_all_rows(estimator, y, n)
    classes = {} if taskset is None else all_classes(taskset)
    if taskset is not None:  # before any fold trains, and saying which fold
        _check_folds_label_every_task(taskset, y, [splits], cv)
    results = Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_fit_and_predict)(
            in_subdirectory(clone(estimator), f"fold{k}"), X, y, train, test, method,
            _fit_params(train, sample_weight=sample_weight, groups=groups), classes)
        for k, (train, test) in enumerate(splits))
    order = np.argsort(positions, kind="stable")
    index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(n)
    if method == "predict":
        return _assemble_predictions(results, order, index)
    frame = _assemble_probabilities([r for r, _ in results], order, index,
                                    _classes_of_all_rows(y, results[0][1]))
    if method == "predict_proba_frame":
        return frame
    tasks = frame.columns.get_level_values("task").unique()
    probas = [frame[task].to_numpy() for task in tasks]
    return probas[0] if len(results[0][1]) == 1 else probas


def _splitter(cv: Any, groups: np.ndarray | None, n: int) -> Any:
    """The splitter of ``cv``: KFold / GroupKFold for an int, ``cv`` itself otherwise."""
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        units = n if groups is None else len(pd.unique(groups))
        if cv < 2 or cv > units:
            raise ValueError(f"cv={cv} folds need 2 <= cv <= the number of "
                             f"{'rows' if groups is None else 'groups'} ({units}).")
        return KFold(cv) if groups is None else GroupKFold(cv)
    if not (hasattr(cv, "split") and hasattr(cv, "get_n_splits")):
        raise TypeError(f"cv must be an int or a splitter with split and get_n_splits; "
                        f"got {cv!r}.")
    return cv


def _tasks_of_all_rows(estimator: Any, y: Any, n: int) -> TaskSet | None:
    """The tasks of a skmtl model (an estimator, an ensemble or a task grouping; or the one
    a Pipeline ends in) fitted on all the rows of ``y``; None for other estimators, or
    when y's tasks do not resolve (each fold's fit then says why)."""
    final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
    if not isinstance(final, (BaseMultiTask, MultiTaskEnsemble, TaskGrouping)):
        return None
    try:
        return final._unfitted_taskset().fit(y, n_samples=n)
    except (ValueError, TypeError):
        return None


def _fit_and_predict(estimator: Any, X: Any, y: Any, train: np.ndarray, test: np.ndarray,
                     method: str, params: dict, classes: dict) -> tuple[Any, list]:
    """Fit ``estimator`` on the ``train`` rows (a skmtl model, or the one a Pipeline ends
    in, with every class of ``classes`` declared when those rows lack some); its
    ``method`` on the ``test`` rows (a probability method as a frame of (task, class)
    columns), and its fitted tasks."""
    X_train, y_train = _rows(X, train), _safe_indexing(y, train)
    pipeline = isinstance(estimator, Pipeline)
    if not (classes and lacked_classes(y_train, classes)):
        prefix = f"{estimator.steps[-1][0]}__" if pipeline else ""
        estimator.fit(X_train, y_train, **{prefix + k: v for k, v in params.items()})
    elif pipeline:  # its steps fitted as Pipeline.fit fits them, then its model
        X_train = estimator[:-1].fit_transform(X_train, y_train)
        fit_with_classes(estimator[-1], X_train, y_train, classes, **params)
    else:
        fit_with_classes(estimator, X_train, y_train, classes, **params)
    X_test = _rows(X, test)
    tasks = (estimator[-1] if pipeline else estimator).tasks_
    if method == "predict":
        return estimator.predict(X_test), tasks
    return proba_frame(tasks, estimator.predict_proba(X_test)), tasks


def _assemble_predictions(results: list, order: np.ndarray, index: pd.Index) -> Any:
    """The folds' predictions, in X's row order, with ``index`` (a frame's or Series')."""
    preds = [pred for pred, _ in results]
    if _is_polars(preds[0]):  # y was polars': so are the predictions, without an index
        import polars as pl

        return pl.concat(preds)[order]
    if isinstance(preds[0], (pd.DataFrame, pd.Series)):
        joined = pd.concat(preds).iloc[order]
        joined.index = index
        return joined
    return np.concatenate([np.asarray(pred) for pred in preds])[order]


def _classes_of_all_rows(y: Any, tasks: list) -> dict[Any, list]:
    """Task name -> its classes as a model fitted on all the rows of ``y`` has them (the
    folds' task specs fitted on ``y``: sorted, or a categorical column's category order),
    for the classification tasks."""
    whole = TaskSet([clone(task) for task in tasks]).fit(y)
    return {task.name_: list(task.classes_) for task in whole.tasks_ if task.is_classification}


def _assemble_probabilities(frames: list[pd.DataFrame], order: np.ndarray,
                            index: pd.Index, classes: dict[Any, list]) -> pd.DataFrame:
    """The folds' probability frames, in X's row order, each task's columns its classes
    as a model fitted on all the rows has them (``classes``: task -> classes, the union of
    the folds'; 0 where a fold's training rows lacked a class)."""
    columns = []
    for task in frames[0].columns.get_level_values("task").unique():
        per_fold = [list(frame[task].columns) for frame in frames]
        union = per_fold[0]
        if any(seen != union for seen in per_fold[1:]):
            union = classes[task]
            missing = [c for c in union if any(c not in seen for seen in per_fold)]
            warnings.warn(f"Task {task!r}: the training rows of some folds lack the classes "
                          f"{missing}; their held-out rows get probability 0 for them.",
                          RuntimeWarning, stacklevel=3)
        columns += [(task, c) for c in union]
    joined = pd.concat(frames).reindex(columns=pd.MultiIndex.from_tuples(
        columns, names=["task", "class"])).fillna(0.0).iloc[order]
    joined.index = index
    return joined
