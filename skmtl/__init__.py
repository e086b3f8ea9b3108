"""skmtl: multi-task learning as a first-class citizen of scikit-learn."""

from . import architectures, callbacks, losses, metrics, tasks, transfer, weighting
from ._ensemble import MultiTaskEnsemble
from ._estimators import MultiTaskClassifier, MultiTaskNet, MultiTaskRegressor

__version__ = "0.1.0"

__all__ = [
    "MultiTaskClassifier",
    "MultiTaskEnsemble",
    "MultiTaskNet",
    "MultiTaskRegressor",
    "__version__",
    "architectures",
    "callbacks",
    "losses",
    "metrics",
    "tasks",
    "transfer",
    "weighting",
]
