"""skmtl: multi-task learning as a first-class citizen of scikit-learn."""

from . import (
    affinity,
    architectures,
    callbacks,
    losses,
    metrics,
    model_selection,
    tasks,
    transfer,
    weighting,
)
from ._ensemble import MultiTaskEnsemble
from ._estimators import MultiTaskClassifier, MultiTaskNet, MultiTaskRegressor
from ._grouping import TaskGrouping
from ._task_view import TaskClassifierView, TaskRegressorView, task_view

__version__ = "0.1.0"

__all__ = [
    "MultiTaskClassifier",
    "MultiTaskEnsemble",
    "MultiTaskNet",
    "MultiTaskRegressor",
    "TaskClassifierView",
    "TaskGrouping",
    "TaskRegressorView",
    "__version__",
    "affinity",
    "architectures",
    "callbacks",
    "losses",
    "metrics",
    "model_selection",
    "task_view",
    "tasks",
    "transfer",
    "weighting",
]
