"""Training internals: data path, criterion and the skorch net."""

from ._criterion import MultiTaskCriterion
from ._data import HoldoutSplit, TensorBatchIterator, TensorData
from ._neuralnet import MultiTaskNeuralNet, gradient_kind, train_step

__all__ = ["HoldoutSplit", "MultiTaskCriterion", "MultiTaskNeuralNet", "TensorBatchIterator", "TensorData",
           "gradient_kind", "train_step"]
