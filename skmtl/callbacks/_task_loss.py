"""Record each task's mean train and validation loss in the History every epoch."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from skorch.callbacks import Callback


class PerTaskLoss(Callback):
    """Record ``train_loss_<task>`` and ``valid_loss_<task>`` in the History.

    Each value is the epoch's mean loss of that task over its labelled rows. The
    steps' detached per-task losses are kept on the device and reduced once per
    epoch, so the hot loop does no extra tensor work or device sync.

    Parameters
    ----------
    task_names : sequence of str
        Names of the tasks, in the order of the steps' ``task_losses``.
    """

    def __init__(self, task_names: Sequence[str]):
        self.task_names = task_names

    def initialize(self):
        self.losses_: dict[str, list] = {}
        self.counts_: dict[str, list] = {}
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.losses_, self.counts_ = {}, {}

    def on_batch_end(self, net, batch=None, training=False, task_losses=None, task_counts=None,
                     **kwargs):
        if task_losses is None:
            return
        prefix = "train" if training else "valid"
        count = task_counts if task_counts is not None else len(batch[1])
        self.losses_.setdefault(prefix, []).append(task_losses)
        self.counts_.setdefault(prefix, []).append(count)

    def on_epoch_end(self, net, **kwargs):
        for prefix, losses in self.losses_.items():
            losses = torch.stack(losses)  # (n_batches, n_tasks)
            counts = self.counts_[prefix]
            if isinstance(counts[0], int):
                weights = torch.tensor(counts, dtype=losses.dtype, device=losses.device)[:, None]
            else:
                weights = torch.stack(counts).to(losses.dtype)
            totals = (losses * weights).sum(0) / weights.sum(0).clamp(min=1)
            for name, value in zip(self.task_names, totals.tolist()):
                net.history.record(f"{prefix}_loss_{name}", value)
        # release the steps' device tensors (a pickled net must not hold CUDA tensors)
        self.losses_, self.counts_ = {}, {}
