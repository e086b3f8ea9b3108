"""How the per-task gradients of a training step are taken (not how they are combined).

The training step builds one of these sources from its forward pass; a balancer that
needs per-task gradients asks it for the Jacobian of the present tasks' losses and
hands back the combined update. Combining (the torchjd weightings) lives in
:mod:`skmtl.weighting._aggregation`; this module only differentiates, as torchjd keeps
``autojac`` apart from ``aggregation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torchjd.autojac import jac


def _trainable(params) -> list[nn.Parameter]:
    return [p for p in params if p.requires_grad]


def _accumulate(params: Sequence[torch.Tensor], grads: Sequence[torch.Tensor | None]) -> None:
    for p, g in zip(params, grads):
        if g is not None:
            p.grad = g if p.grad is None else p.grad + g


class TaskGradients:
    """Per-task gradients of one step's losses, and where their combination goes.

    Parameters
    ----------
    task_params : list of list of torch.nn.Parameter
        Each task's own trainable parameters.
    """

    def __init__(self, task_params: list[list[nn.Parameter]]):
        self.task_params = task_params

    def own_backward(self, losses: Sequence[torch.Tensor], tasks: Sequence[int]) -> None:
        """Give each listed task's own parameters the gradient of its own loss."""
        params = [p for t in tasks for p in self.task_params[t]]
        if params:
            total = sum(losses[t] for t in tasks)
            _accumulate(params, torch.autograd.grad(total, params, retain_graph=True,
                                                    allow_unused=True))

    def jacobian(self, losses: Sequence[torch.Tensor], tasks: Sequence[int]) -> torch.Tensor:
        """Jacobian of the listed tasks' losses, one row per task, with respect to the
        shared tensors; each listed task's own parameters receive its own gradient.

        Parameters
        ----------
        losses : sequence of torch.Tensor
            One scalar per task (all tasks).
        tasks : sequence of int
            The tasks to differentiate (those present in the batch).

        Returns
        -------
        torch.Tensor of shape (len(tasks), n_shared)
        """
        raise NotImplementedError

    def apply(self, update: torch.Tensor) -> None:
        """Backpropagate the combined shared update (a flat vector) into the parameters."""
        raise NotImplementedError


class RepresentationGradients(TaskGradients):
    """Gradients with respect to the shared representation ``z`` (cheap mode).

    Each task's loss is differentiated once, through its own head only, with respect to
    ``z`` and its own parameters together; the combined ``dz`` then goes back through
    the trunk in one backward.

    Parameters
    ----------
    features : torch.Tensor
        ``z`` as computed by the trunk (attached to the trunk's graph).
    detached : torch.Tensor
        ``z`` detached, with ``requires_grad``: what the heads read.
    task_params : list of list of torch.nn.Parameter
    """

    def __init__(self, features: torch.Tensor, detached: torch.Tensor,
                 task_params: list[list[nn.Parameter]]):
        super().__init__(task_params)
        self.features = features
        self.detached = detached

    def jacobian(self, losses, tasks):
        rows = []
        for i, t in enumerate(tasks):
            params = self.task_params[t]
            grads = torch.autograd.grad(losses[t], [self.detached, *params], allow_unused=True,
                                        retain_graph=i < len(tasks) - 1)
            rows.append(torch.zeros_like(self.detached) if grads[0] is None else grads[0])
            _accumulate(params, grads[1:])
        # float32 even when z is not (mixed precision): the aggregators solve in it
        return torch.stack(rows).reshape(len(tasks), -1).float()

    def apply(self, update):
        self.features.backward(update.view_as(self.features).to(self.features.dtype))


class ParameterGradients(TaskGradients):
    """Gradients with respect to shared parameters (exact mode; torchjd's ``jac``).

    Parameters
    ----------
    shared : list of torch.nn.Parameter
        The trainable shared parameters (or, for GradNorm, the last shared layer's).
    task_params : list of list of torch.nn.Parameter
    """

    def __init__(self, shared: list[nn.Parameter], task_params: list[list[nn.Parameter]]):
        super().__init__(task_params)
        self.shared = shared

    def jacobian(self, losses, tasks, own: bool = True):
        """As :meth:`TaskGradients.jacobian`; ``own=False`` leaves the tasks' own
        parameters alone and keeps the graph (GradNorm's measurement)."""
        if own:
            self.own_backward(losses, tasks)
        outputs = torch.stack([losses[t] for t in tasks])
        jacobians = jac(outputs, self.shared, retain_graph=True)
        return torch.cat([j.reshape(len(tasks), -1) for j in jacobians], dim=1)

    def apply(self, update):
        start = 0
        for p in self.shared:
            n = p.numel()
            _accumulate([p], [update[start:start + n].view_as(p)])
            start += n


def step_gradients(module: nn.Module, X: Any, kind: str | None
                   ) -> tuple[tuple[torch.Tensor, ...], TaskGradients | None]:
    """Forward pass of a training step, keeping what ``kind`` of gradients need.

    Parameters
    ----------
    module : MultiTaskModule
    X : torch.Tensor or dict of torch.Tensor
    kind : {None, "representation", "parameters", "last_shared"}
        None: a plain forward (loss-level balancing or nothing shared to balance).

    Returns
    -------
    y_pred : tuple of torch.Tensor
    gradients : TaskGradients or None
    """
    if kind is None:
        return module(X), None
    task_params = [_trainable(module.task_parameters(t)) for t in range(module.n_tasks)]
    if kind == "representation":
        features = module.represent(X)
        detached = features.detach().requires_grad_()
        return module.heads_forward(detached), RepresentationGradients(features, detached,
                                                                       task_params)
    if kind == "parameters":
        shared = _trainable(module.shared_parameters())
    else:
        shared = _trainable(module.last_shared_parameters())
    return module(X), ParameterGradients(shared, task_params)


def shared_trainable(module: nn.Module, kind: str | None) -> bool:
    """Whether ``module`` has trainable shared tensors for gradients of ``kind``.

    Parameters
    ----------
    module : MultiTaskModule
    kind : {None, "representation", "parameters", "last_shared"}

    Returns
    -------
    bool
    """
    if kind is None:
        return True
    if kind == "last_shared":
        return bool(_trainable(module.last_shared_parameters()))
    # the representation needs trainable parameters behind it, like the parameters mode
    return bool(_trainable(module.shared_parameters()))
