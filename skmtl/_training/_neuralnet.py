"""skorch NeuralNet extended with per-task losses and a balancer in every step."""

from __future__ import annotations

import torch
from skorch import NeuralNet
from skorch.utils import to_tensor

from ..weighting._jacobian import shared_trainable, step_gradients


def gradient_kind(module, balancer, jacobian_mode: str = "parameters") -> str | None:
    """Which per-task gradients a training step takes for ``balancer`` on ``module``.

    Parameters
    ----------
    module : MultiTaskModule
    balancer : Balancer
    jacobian_mode : {"representation", "parameters"}
        Where a balancer asking for the shared Jacobian gets it.

    Returns
    -------
    {None, "representation", "parameters", "last_shared"}
        None when the balancer needs none, or when nothing shared is trainable.
    """
    kind = balancer.jacobian
    if kind == "shared":
        kind = jacobian_mode
    return kind if shared_trainable(module, kind) else None


def train_step(module, criterion, balancer, X, y, kind: str | None,
               alternate=None) -> dict:
    """One training step: forward -> masked per-task losses -> balancer's backward.

    Parameters
    ----------
    module : MultiTaskModule
    criterion : MultiTaskCriterion
    balancer : Balancer
    X : torch.Tensor or dict of torch.Tensor
    y : torch.Tensor
        Encoded targets then per-task row weights.
    kind : {None, "representation", "parameters", "last_shared"}
        See :func:`gradient_kind`.
    alternate : callable or None, default=None
        Alternating training: maps the present tasks to the one task trained.

    Returns
    -------
    dict
        ``loss``, ``y_pred``, ``task_losses``, ``task_counts`` and ``task_weights``.
    """
    y_pred, gradients = step_gradients(module, X, kind)
    losses, totals = criterion.task_losses(y_pred, y, training=True)
    # dense tasks are present in every batch: no device sync needed when all are
    present = [True] * len(losses) if all(criterion.dense) else (totals > 0).tolist()
    scaled = [loss if w == 1.0 else loss * w for loss, w in zip(losses, criterion.static_weights)]
    if alternate is not None:
        present = alternate(present)
        # the other tasks get no gradient at all (not a zero one, which a momentum
        # optimizer would still apply), so their heads stay unchanged
        scaled = [s if p else s.detach() for s, p in zip(scaled, present)]
    weights = balancer.backward(scaled, present, gradients)
    detached = torch.stack(losses).detach()
    return {"loss": (detached * criterion.weights).sum(), "y_pred": y_pred,
            "task_losses": detached, "task_counts": totals,
            "task_weights": weights.to(detached) * criterion.weights}


class MultiTaskNeuralNet(NeuralNet):
    """A skorch ``NeuralNet`` whose training step runs forward -> masked per-task losses
    -> balancer -> optimizer.

    The criterion must be a :class:`~skmtl._training.MultiTaskCriterion`; the balancer
    (``balancer``, a :class:`~skmtl.weighting.Balancer`) becomes ``balancer_``, whose
    parameters the optimizer trains in a group without weight decay. Each train and
    validation step returns, besides skorch's ``loss`` and ``y_pred``,
    ``task_losses`` (a detached tensor of shape ``(n_tasks,)``), ``task_counts`` (the
    total weight of each task's labelled rows) and, in training, ``task_weights``,
    which callbacks receive in ``on_batch_end``.

    Parameters
    ----------
    *args, **kwargs
        As for ``skorch.NeuralNet``.
    balancer : Balancer
        Turns the per-task losses into gradients.
    schedule : {"joint", "alternating"}, default="joint"
        "alternating" trains one task per step, round-robin over the tasks present in
        the batch.
    jacobian_mode : {"representation", "parameters"}, default="parameters"
        Where a balancer that asks for the shared Jacobian gets it.
    """

    def __init__(self, *args, balancer=None, schedule: str = "joint",
                 jacobian_mode: str = "parameters", **kwargs):
        # set before skorch's __init__, which treats later torch-module attributes as
        # components to register
        self.balancer = balancer
        self.schedule = schedule
        self.jacobian_mode = jacobian_mode
        super().__init__(*args, **kwargs)

    def initialize_criterion(self):
        """Initialise the criterion and the balancer (a criterion-like module)."""
        super().initialize_criterion()
        if self.balancer is None:
            from ..weighting import Equal

            self.balancer_ = Equal().build(len(self.criterion_.names))
        else:
            self.balancer_ = self.balancer
        self.steps_done_ = 0
        return self

    def get_all_learnable_params(self):
        """The module's parameters, then the balancer's, named ``balancer_.<name>``."""
        balancer = {id(p) for p in self.balancer_.parameters()} if hasattr(self, "balancer_") else set()
        for name, param in super().get_all_learnable_params():
            yield ("balancer_." + name if id(param) in balancer else name), param

    def refresh_gradient_kind(self) -> None:
        """Decide, from what is trainable now, which per-task gradients steps take.

        Called at the start of every fit (freezing may have changed): a balancer that
        needs shared gradients gets none when nothing shared is trainable.
        """
        self.gradient_kind_ = gradient_kind(self.module_, self.balancer_, self.jacobian_mode)

    def infer(self, x, **fit_params):
        """Run the module on one batch; a dict of inputs is passed as one argument."""
        return self.module_(to_tensor(x, device=self.device), **fit_params)

    def train_step_single(self, batch, **fit_params):
        """Forward, masked per-task losses, then the balancer's backward."""
        self._set_training(True)
        Xi, yi = batch
        return train_step(
            self.module_, self.criterion_, self.balancer_, to_tensor(Xi, device=self.device), yi,
            getattr(self, "gradient_kind_", None),
            self._alternate if self.schedule == "alternating" else None,
        )

    def _alternate(self, present: list[bool]) -> list[bool]:
        """The one task this step trains: the next present task, round-robin."""
        n = len(present)
        start = self.steps_done_ % n
        self.steps_done_ += 1
        for k in range(n):
            t = (start + k) % n
            if present[t]:
                return [i == t for i in range(n)]
        return [False] * n

    def validation_step(self, batch, **fit_params):
        """Forward and per-task losses on one validation batch, without gradients."""
        self._set_training(False)
        Xi, yi = batch
        with torch.no_grad():
            y_pred = self.infer(Xi, **fit_params)
            losses, totals = self.criterion_.task_losses(y_pred, yi)
            losses = torch.stack(losses)
            loss = self.criterion_.combine(losses)
        return {"loss": loss, "y_pred": y_pred, "task_losses": losses, "task_counts": totals}

    def _set_training(self, training=True):
        # skorch sets the mode of every module on every batch; skip the recursive
        # ``train()`` call when the module is already in the requested mode.
        if getattr(self, "module_", None) is not None and self.module_.training == training:
            return
        super()._set_training(training)

    def _zero_grad_optimizer(self, set_to_none=None):
        super()._zero_grad_optimizer(set_to_none=True)
