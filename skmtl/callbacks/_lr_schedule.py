"""A per-step learning-rate schedule over one fit call."""

from __future__ import annotations

import math

from skorch.callbacks import Callback

SCHEDULES = ("constant", "cosine", "flat_cosine")


def lr_factor(schedule: str, step: int, total: int) -> float:
    """Multiplier of the learning rate at ``step`` (0-based) of ``total`` planned steps.

    ``"constant"``: 1. ``"cosine"``: ``(1 + cos(pi * step / total)) / 2``, from 1 at the
    first step towards 0 at the last. ``"flat_cosine"``: 1 for the first half of the
    steps, then the same cosine over the second half.
    """
    if schedule == "constant" or total <= 0:
        return 1.0
    step = min(max(step, 0), total)
    if schedule == "flat_cosine":
        flat = total // 2
        if step < flat:
            return 1.0
        step, total = step - flat, total - flat
    return 0.5 * (1.0 + math.cos(math.pi * step / total))


class LRSchedule(Callback):
    """Set every optimizer group's learning rate to ``lr * lr_factor(...)`` before each
    training step, and record it in the History's batches as ``lr``.

    The horizon is the fit call's planned epochs (``max_epochs``) times its steps per
    epoch (training rows / batch size, rounded up), counted from the history row the
    fit call started at, so a fit resumed from a checkpoint continues its schedule and
    a warm-started fit runs a new one. Every group (the network's and the learned
    weighting parameters') follows the same factor. At the end of training the groups
    get ``lr`` back, so a later ``partial_fit`` trains at the constant ``lr``. Nothing
    is scheduled until :meth:`plan_fit` gives a planned number of epochs.

    Parameters
    ----------
    schedule : {"constant", "cosine", "flat_cosine"}
    lr : float
        The base learning rate.
    """

    def __init__(self, schedule: str, lr: float):
        self.schedule = schedule
        self.lr = lr

    def initialize(self):
        self.start_, self.planned_, self.steps_per_epoch_, self.batch_ = 0, None, 0, 0
        return self

    def plan_fit(self, start: int, planned: int | None) -> None:
        """This fit call's epochs start at history row ``start``; ``planned`` of them (None: constant)."""
        self.start_, self.planned_ = start, planned

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        self.batch_ = 0
        if dataset_train is not None:
            self.steps_per_epoch_ = -(-len(dataset_train) // int(net.batch_size))

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training or getattr(self, "planned_", None) is None:
            return
        steps = self.steps_per_epoch_
        step = (len(net.history) - 1 - self.start_) * steps + self.batch_
        self.batch_ += 1
        lr = self.lr * lr_factor(self.schedule, step, self.planned_ * steps)
        for group in net.optimizer_.param_groups:
            group["lr"] = lr
        net.history.record_batch("lr", lr)

    def on_train_end(self, net, **kwargs):
        for group in net.optimizer_.param_groups:
            group["lr"] = self.lr
