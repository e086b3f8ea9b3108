"""Training internals: data path, criterion and the skorch net."""

from ._criterion import MultiTaskCriterion
from ._data import HoldoutSplit, TensorBatchIterator, TensorData, group_holdout
from ._neuralnet import MultiTaskNeuralNet, gradient_kind, train_step
from ._sparse import SparseRows

__all__ = ["HoldoutSplit", "MultiTaskCriterion", "MultiTaskNeuralNet", "SparseRows", "TensorBatchIterator", "TensorData",
           "gradient_kind", "group_holdout", "train_step"]
