"""skorch NeuralNet extended with per-task losses in every step."""

from __future__ import annotations

import torch
from skorch import NeuralNet
from skorch.utils import to_tensor


class MultiTaskNeuralNet(NeuralNet):
    """A skorch ``NeuralNet`` whose steps also report each task's loss.

    The criterion must be a :class:`~skmtl._training.MultiTaskCriterion`. Each train
    and validation step returns, besides skorch's ``loss`` and ``y_pred``,
    ``task_losses`` (a detached tensor of shape ``(n_tasks,)``) and ``task_counts``
    (labelled rows per task, or None when every row is labelled), which callbacks
    receive in ``on_batch_end``.
    """

    def infer(self, x, **fit_params):
        """Run the module on one batch; a dict of inputs is passed as one argument."""
        return self.module_(to_tensor(x, device=self.device), **fit_params)

    def _task_step(self, batch, training: bool, **fit_params) -> dict:
        Xi, yi = batch
        y_pred = self.infer(Xi, **fit_params)
        losses, counts = self.criterion_.task_losses(y_pred, yi)
        loss = self.criterion_.combine(losses)
        if training:
            loss.backward()
        return {"loss": loss, "y_pred": y_pred, "task_losses": losses.detach(), "task_counts": counts}

    def train_step_single(self, batch, **fit_params):
        """Forward, per-task losses and backward on one training batch."""
        self._set_training(True)
        return self._task_step(batch, True, **fit_params)

    def validation_step(self, batch, **fit_params):
        """Forward and per-task losses on one validation batch, without gradients."""
        self._set_training(False)
        with torch.no_grad():
            return self._task_step(batch, False, **fit_params)

    def _set_training(self, training=True):
        # skorch sets the mode of every module on every batch; skip the recursive
        # ``train()`` call when the module is already in the requested mode.
        if getattr(self, "module_", None) is not None and self.module_.training == training:
            return
        super()._set_training(training)

    def _zero_grad_optimizer(self, set_to_none=None):
        super()._zero_grad_optimizer(set_to_none=True)
