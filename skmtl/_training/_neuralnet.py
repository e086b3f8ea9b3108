"""skorch NeuralNet extended with per-task losses in every step."""

from __future__ import annotations

import torch
from skorch import NeuralNet
from skorch.utils import to_tensor


class MultiTaskNeuralNet(NeuralNet):
    """A skorch ``NeuralNet`` whose steps also report each task's loss.

    The criterion must be a :class:`~skmtl._training.MultiTaskCriterion`. Training
    steps delegate forward, per-task losses and backward to the criterion's balancer
    (loss weighting or gradient aggregation). Each train and validation step returns,
    besides skorch's ``loss`` and ``y_pred``, ``task_losses`` (a detached tensor of
    shape ``(n_tasks,)``), ``task_counts`` (labelled rows per task, or None when every
    row is labelled) and, in training, ``task_weights``, which callbacks receive in
    ``on_batch_end``.

    Parameters
    ----------
    *args, **kwargs
        As for ``skorch.NeuralNet``.
    schedule : {"joint", "alternating"}, default="joint"
        "alternating" trains one task per step, round-robin.
    """

    def __init__(self, *args, schedule: str = "joint", **kwargs):
        super().__init__(*args, **kwargs)
        self.schedule = schedule
        self.steps_done = 0

    def infer(self, x, **fit_params):
        """Run the module on one batch; a dict of inputs is passed as one argument."""
        return self.module_(to_tensor(x, device=self.device), **fit_params)

    def train_step_single(self, batch, **fit_params):
        """Forward, per-task losses and backward on one training batch (by the balancer)."""
        self._set_training(True)
        Xi, yi = batch
        active = None
        if self.schedule == "alternating":
            active = self.steps_done % len(self.criterion_.names)
        self.steps_done += 1
        return self.criterion_.balancer.train_step(
            self.module_, self.criterion_, to_tensor(Xi, device=self.device), yi, active
        )

    def validation_step(self, batch, **fit_params):
        """Forward and per-task losses on one validation batch, without gradients."""
        self._set_training(False)
        Xi, yi = batch
        with torch.no_grad():
            y_pred = self.infer(Xi, **fit_params)
            losses, counts = self.criterion_.task_losses(y_pred, yi)
            loss = self.criterion_.combine(losses)
        return {"loss": loss, "y_pred": y_pred, "task_losses": losses, "task_counts": counts}

    def _set_training(self, training=True):
        # skorch sets the mode of every module on every batch; skip the recursive
        # ``train()`` call when the module is already in the requested mode.
        if getattr(self, "module_", None) is not None and self.module_.training == training:
            return
        super()._set_training(training)

    def _zero_grad_optimizer(self, set_to_none=None):
        super()._zero_grad_optimizer(set_to_none=True)
