"""Record the effective per-task weights each epoch, and feed epoch-based weightings."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from skorch.callbacks import Callback


class TaskWeights(Callback):
    """Record ``weight_<task>`` in the History: the epoch's mean effective task weight.

    The effective weight is what the task's (unweighted) loss, or for gradient
    aggregation its gradient, was multiplied by in the update, including the task's
    static ``weight``; a task absent from a batch (no labelled row) counts 0 for that
    step. At the end of each epoch the net's balancer also receives
    the epoch's mean per-task training losses (recorded by :class:`PerTaskLoss`, which
    must come first), which epoch-based methods such as DWA use.

    Parameters
    ----------
    task_names : sequence of str
    """

    def __init__(self, task_names: Sequence[str]):
        self.task_names = task_names

    def initialize(self):
        self.weights_: list = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.weights_ = []

    def on_batch_end(self, net, batch=None, training=False, task_weights=None, **kwargs):
        if training and task_weights is not None:
            self.weights_.append(task_weights)

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        if self.weights_:
            means = torch.stack(self.weights_).float().mean(0).tolist()
            for name, value in zip(self.task_names, means):
                net.history.record(f"weight_{name}", value)
            self.weights_ = []  # release the device tensors (a pickled net holds none)
        keys = [f"train_loss_{name}" for name in self.task_names]
        if all(key in row for key in keys):
            losses = torch.tensor([row[key] for key in keys])
            net.balancer_.on_epoch_end(losses)
