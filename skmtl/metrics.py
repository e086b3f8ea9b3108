"""Per-task scorers for scikit-learn's model selection (GridSearchCV, cross_validate)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.pipeline import Pipeline

from .tasks import as_target_frame

__all__ = ["mean_task_scorer", "task_scorer", "task_scorers"]

#: Metrics computed from predicted labels/values, and whether higher is better.
_PREDICT_METRICS: dict[str, Callable] = {
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
    "f1": lambda y, p: skm.f1_score(y, p, average="binary" if len(np.unique(y)) <= 2 else "macro",
                                    pos_label=_positive(y)),
    "f1_macro": lambda y, p: skm.f1_score(y, p, average="macro"),
    "r2": skm.r2_score,
    "neg_mean_squared_error": lambda y, p: -skm.mean_squared_error(y, p),
    "neg_root_mean_squared_error": lambda y, p: -skm.root_mean_squared_error(y, p),
    "neg_mean_absolute_error": lambda y, p: -skm.mean_absolute_error(y, p),
}
#: Metrics computed from predicted probabilities.
_PROBA_METRICS = {"roc_auc", "neg_log_loss", "neg_brier_score"}


def _positive(y: np.ndarray) -> Any:
    return np.unique(y)[-1]


def _final(estimator: Any) -> Any:
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def _task(estimator: Any, name: str) -> tuple[int, Any]:
    tasks = _final(estimator).tasks_
    for position, task in enumerate(tasks):
        if task.name_ == name:
            return position, task
    hint = (f" ({name!r} is a metric: pass it as the metric, after the task)"
            if isinstance(name, str) and _known_metric(name) else "")
    raise ValueError(f"No task named {name!r}; the tasks are {[t.name_ for t in tasks]}{hint}.")


def task_column(predictions: Any, task: Any) -> np.ndarray:
    """``task``'s column of a model's ``predict`` output: a DataFrame, a Series or an array
    shaped like the ``y`` of fit (1-D, or 2-D with the task's column position)."""
    column = task.columns_[0]
    if isinstance(predictions, pd.DataFrame):
        return predictions[column].to_numpy()
    if np.ndim(predictions) == 1:
        return np.asarray(predictions)
    return np.asarray(predictions)[:, column]


def task_proba(tasks: Sequence[Any], probas: Any, task: Any) -> np.ndarray:
    """``task``'s array of a model's ``predict_proba`` output (one array per classification
    task of ``tasks``, or a single array when the model has one task)."""
    if len(tasks) == 1:
        return np.asarray(probas)
    classification = [t.name_ for t in tasks if t.is_classification]
    return np.asarray(probas[classification.index(task.name_)])


def _predictions(estimator: Any, X: Any, metric: str | Callable) -> Any:
    """What ``metric`` scores: ``predict(X)``, or ``predict_proba(X)`` for a probability metric.

    One call covers every task, so scoring several tasks runs the network once.
    """
    if callable(metric) or metric in _PREDICT_METRICS:
        return estimator.predict(X)
    return estimator.predict_proba(X)


def _scorable(estimator: Any, name: str, metric: str | Callable) -> Any:
    """Task ``name``, checked for ``metric`` (before anything is predicted)."""
    _, task = _task(estimator, name)
    if task.kind == "multilabel":
        raise ValueError(f"Task {name!r} is multi-label; score its label columns with a callable.")
    if not (callable(metric) or metric in _PREDICT_METRICS or task.is_classification):
        raise ValueError(f"{metric!r} needs probabilities, but task {name!r} is a regression.")
    return task


def _score(estimator: Any, predictions: Any, y: Any, name: str, metric: str | Callable) -> float:
    """Score of task ``name`` from :func:`_predictions` of all tasks."""
    task = _scorable(estimator, name, metric)
    truth = as_target_frame(y)[0][task.columns_[0]]
    labelled = ~pd.isna(truth).to_numpy()
    truth = truth.to_numpy()[labelled]
    if callable(metric) or metric in _PREDICT_METRICS:
        column = task_column(predictions, task)[labelled]
        function = metric if callable(metric) else _PREDICT_METRICS[metric]
        return float(function(truth, column))
    proba = task_proba(_final(estimator).tasks_, predictions, task)[labelled]
    classes = task.classes_
    unknown = pd.unique(truth[~np.isin(truth, classes)])
    if len(unknown):  # a binary metric would count them as the negative class
        raise ValueError(
            f"Task {name!r}: y holds label(s) {sorted(map(str, unknown))} that the model was not "
            f"fitted with (its classes: {[str(c) for c in classes]}), so {metric!r} of its "
            "probabilities is undefined for those rows. Drop them, or fit on them too.")
    if metric == "roc_auc":
        if len(classes) == 2:
            return float(skm.roc_auc_score(truth == classes[1], proba[:, 1]))
        # one-vs-rest, macro: a class absent from the scored rows (a rare class in a
        # fold) has no AUC of its own and is left out of the mean, instead of making it NaN
        defined = [k for k, c in enumerate(classes) if 0 < (truth == c).sum() < len(truth)]
        if len(defined) == len(classes):
            return float(skm.roc_auc_score(truth, proba, multi_class="ovr", labels=classes))
        if not defined:
            return float("nan")
        return float(np.mean([skm.roc_auc_score(truth == classes[k], proba[:, k])
                              for k in defined]))
    if metric == "neg_log_loss":
        return float(-skm.log_loss(truth, proba, labels=classes))
    if len(classes) != 2:
        raise ValueError("neg_brier_score is for binary tasks.")
    return float(-skm.brier_score_loss(truth == classes[1], proba[:, 1]))


def _several(tasks: Any) -> bool:
    """Whether ``tasks`` holds several task names (a list, an Index, ...), not one name."""
    return isinstance(tasks, Iterable) and not isinstance(tasks, (str, bytes))


def _known_metric(metric: Any) -> bool:
    return callable(metric) or (isinstance(metric, str)
                                and (metric in _PREDICT_METRICS or metric in _PROBA_METRICS))


def _check_metric(metric: Any) -> None:
    if not _known_metric(metric):
        raise ValueError(
            f"Unknown metric {metric!r}; use one of "
            f"{sorted([*_PREDICT_METRICS, *_PROBA_METRICS])} or a callable(y_true, y_pred)."
        )


def task_scorer(task: str, metric: str | Callable = "accuracy") -> Callable:
    """A scorer of one task, for ``scoring=`` in GridSearchCV or cross_validate.

    The scorer predicts with the (fitted) estimator or pipeline (one ``predict`` or
    ``predict_proba`` call, which runs the network once for all tasks) and scores the
    task's labelled rows only. Higher is better (losses are negated, as in scikit-learn).

    Parameters
    ----------
    task : str
        The task's name (``tasks_[i].name_``, the column name by default).
    metric : str or callable, default="accuracy"
        ``"accuracy"``, ``"balanced_accuracy"``, ``"f1"``, ``"f1_macro"``, ``"r2"``,
        ``"neg_mean_squared_error"``, ``"neg_root_mean_squared_error"``,
        ``"neg_mean_absolute_error"`` (from predictions); ``"roc_auc"``,
        ``"neg_log_loss"``, ``"neg_brier_score"`` (from probabilities); or a callable
        ``f(y_true, y_pred)`` on the task's predictions.

    Returns
    -------
    callable
        ``scorer(estimator, X, y) -> float``.

    Examples
    --------
    >>> from skmtl.metrics import mean_task_scorer, task_scorer
    >>> scoring = {"income_auc": task_scorer("income", "roc_auc"),
    ...            "married_auc": task_scorer("never_married", "roc_auc"),
    ...            "mean_auc": mean_task_scorer(["income", "never_married"], "roc_auc")}
    """
    _check_metric(metric)
    if _several(task):
        raise TypeError(f"task_scorer scores one task, got {task!r}; use mean_task_scorer("
                        f"{list(task)!r}, metric) for the mean over several.")

    def scorer(estimator: Any, X: Any, y: Any) -> float:
        _scorable(estimator, task, metric)  # a wrong task fails before predicting
        return _score(estimator, _predictions(estimator, X, metric), y, task, metric)

    scorer.__name__ = f"{task}_{getattr(metric, '__name__', metric)}"
    return scorer


def mean_task_scorer(tasks: Sequence[str] | None = None,
                     metric: str | Callable = "accuracy") -> Callable:
    """A scorer of the mean of one metric over several tasks.

    The scorer predicts once (one ``predict`` or ``predict_proba`` call for all the
    tasks) and scores each task's labelled rows from those predictions.

    Parameters
    ----------
    tasks : sequence of str, default=None
        Task names; None: every task of the fitted estimator (each must be one that
        ``metric`` scores).
    metric : str or callable, default="accuracy"
        As in :func:`task_scorer`.

    Returns
    -------
    callable
        ``scorer(estimator, X, y) -> float``.

    Examples
    --------
    >>> from skmtl.metrics import mean_task_scorer
    >>> mean_auc = mean_task_scorer(["income", "never_married"], "roc_auc")
    >>> mean_accuracy = mean_task_scorer(metric="accuracy")  # over every task
    """
    _check_metric(metric)
    if tasks is not None and not _several(tasks):
        hint = (f"{tasks!r} is a metric: pass it as the metric, e.g. mean_task_scorer(metric="
                f"{tasks!r}) for every task, or mean_task_scorer(['a', 'b'], {tasks!r})"
                if isinstance(tasks, str) and _known_metric(tasks) else
                "use task_scorer(name, metric) for one task")
        raise TypeError(f"mean_task_scorer's tasks is a list of task names or None (every "
                        f"task), got {tasks!r}; {hint}.")
    names = None if tasks is None else list(tasks)
    if names == []:
        raise ValueError("mean_task_scorer's tasks is empty; name at least one task, or pass "
                         "None for every task.")
    mean = task_scorers({"mean": (names, metric)})  # checks first, predicts once

    def scorer(estimator: Any, X: Any, y: Any) -> float:
        return mean(estimator, X, y)["mean"]

    scorer.__name__ = f"mean_{getattr(metric, '__name__', metric)}"
    return scorer


def task_scorers(scores: Mapping[str, tuple[str | Sequence[str], str | Callable]]) -> Callable:
    """One scorer of several tasks and metrics that predicts once, for ``scoring=``.

    A ``scoring`` dict of :func:`task_scorer` and :func:`mean_task_scorer` runs the
    network once per entry (scikit-learn calls them one after the other); this scorer
    makes at most one ``predict`` and one ``predict_proba`` call for all its entries and
    returns a dict of scores, which GridSearchCV and cross_validate accept as
    multi-metric ``scoring`` (``refit`` then names one of its keys).

    Parameters
    ----------
    scores : mapping
        Score name to ``(task, metric)``, the score of :func:`task_scorer`, or
        ``(list of tasks, metric)``, the mean over the tasks as :func:`mean_task_scorer`
        gives (``(None, metric)``: over every task); metrics as in :func:`task_scorer`.

    Returns
    -------
    callable
        ``scorer(estimator, X, y) -> dict`` of score name to float.

    Examples
    --------
    >>> from skmtl.metrics import task_scorers
    >>> scoring = task_scorers({"income_auc": ("income", "roc_auc"),
    ...                         "married_auc": ("never_married", "roc_auc"),
    ...                         "mean_auc": (["income", "never_married"], "roc_auc")})
    """
    entries = {}
    for key, spec in scores.items():
        if not (isinstance(spec, tuple) and len(spec) == 2):
            raise ValueError(f"scores[{key!r}] is {spec!r}; give a (task, metric) or "
                             "([task, ...], metric) pair.")
        tasks, metric = spec
        _check_metric(metric)
        names = None if tasks is None else list(tasks) if _several(tasks) else [tasks]
        if names == []:
            raise ValueError(f"scores[{key!r}] names no task; name at least one.")
        entries[key] = (names, metric)

    def scorer(estimator: Any, X: Any, y: Any) -> dict[str, float]:
        every = [t.name_ for t in _final(estimator).tasks_]
        resolved = {key: (every if tasks is None else tasks, metric)
                    for key, (tasks, metric) in entries.items()}
        for tasks, metric in resolved.values():  # a wrong task fails before predicting
            for name in tasks:
                _scorable(estimator, name, metric)
        predictions: dict[bool, Any] = {}  # probabilities or not -> one call for all tasks
        out = {}
        for key, (tasks, metric) in resolved.items():
            proba = not (callable(metric) or metric in _PREDICT_METRICS)
            if proba not in predictions:
                predictions[proba] = _predictions(estimator, X, metric)
            out[key] = float(np.mean([_score(estimator, predictions[proba], y, name, metric)
                                      for name in tasks]))
        return out

    scorer.__name__ = "task_scorers"
    return scorer
