"""Record each task's mean train and validation loss in the History every epoch."""

from __future__ import annotations

from collections.abc import Sequence

from skorch.callbacks import Callback


class PerTaskLoss(Callback):
    """Record ``train_loss_<task>`` and ``valid_loss_<task>`` in the History.

    Each value is the epoch's mean loss of that task over its labelled rows. Batch
    losses are accumulated on the device and read once per epoch.

    Parameters
    ----------
    task_names : sequence of str
        Names of the tasks, in the order of the steps' ``task_losses``.
    """

    def __init__(self, task_names: Sequence[str]):
        self.task_names = task_names

    def initialize(self):
        self._sums: dict = {}
        self._counts: dict = {}
        return self

    def on_epoch_begin(self, net, **kwargs):
        self._sums, self._counts = {}, {}

    def on_batch_end(self, net, batch=None, training=False, task_losses=None, task_counts=None,
                     **kwargs):
        if task_losses is None:
            return
        prefix = "train" if training else "valid"
        count = task_counts if task_counts is not None else float(len(batch[1]))
        total = task_losses * count
        if prefix in self._sums:
            self._sums[prefix] = self._sums[prefix] + total
            self._counts[prefix] = self._counts[prefix] + count
        else:
            self._sums[prefix], self._counts[prefix] = total, count

    def on_epoch_end(self, net, **kwargs):
        for prefix, total in self._sums.items():
            count = self._counts[prefix]
            if not isinstance(count, float):
                count = count.clamp(min=1)
            means = (total / count).tolist()
            for name, value in zip(self.task_names, means):
                net.history.record(f"{prefix}_loss_{name}", value)
