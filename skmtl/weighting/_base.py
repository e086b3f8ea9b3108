"""Base classes of task-balancing methods: a spec (hyperparameters) and a balancer (runtime)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from sklearn.base import BaseEstimator
from torch import nn


class Balancer(nn.Module):
    """Turns the per-task losses of a training batch into parameter gradients.

    The training step runs forward, computes each task's masked (and weighted) loss
    and which tasks are present in the batch, and hands them to the balancer, which
    backpropagates: data flow one way, forward -> losses -> balancer -> optimizer. A
    balancer never sees the network or the criterion; one that needs per-task gradients
    declares it in :attr:`jacobian` and receives a
    :class:`~skmtl.weighting._jacobian.TaskGradients` source.

    A balancer's own parameters (e.g. learned log-variances) are trained by the net's
    optimizer, in their own parameter group without weight decay.

    Parameters
    ----------
    n_tasks : int
    """

    #: Per-task gradients the balancer needs: None, "shared" (the shared representation
    #: or parameters, see ``mode``) or "last_shared" (the last shared layer).
    jacobian: str | None = None
    #: Whether :meth:`backward` takes ``present`` as a boolean tensor on the device (and
    #: gives exactly the same result as with the list of bools, also when no task is
    #: present): the training step then reads nothing back from the device. Balancers
    #: that branch in Python on which tasks are present keep it False, and the step
    #: reads the presence of the tasks with missing labels (one device sync per step).
    device_presence: bool = False

    def __init__(self, n_tasks: int):
        super().__init__()
        self.n_tasks = n_tasks

    def backward(self, losses: Sequence[torch.Tensor], present: Sequence[bool],
                 gradients: Any = None) -> torch.Tensor:
        """Backpropagate one training batch's losses.

        Parameters
        ----------
        losses : sequence of torch.Tensor
            One scalar per task: the task's weighted mean loss over its labelled rows,
            times its static ``weight``.
        present : sequence of bool, or torch.Tensor of bool of shape (n_tasks,)
            Whether each task has a labelled row of positive weight in the batch. An
            absent task takes no part in the balancing and its weight is 0. A tensor
            (on the losses' device) only when :attr:`device_presence` is True.
        gradients : TaskGradients or None
            The source of per-task gradients, when :attr:`jacobian` is set and the
            network has trainable shared tensors; None otherwise, and then each task's
            parameters are trained with its own gradient (see :meth:`independent`).

        Returns
        -------
        torch.Tensor of shape (n_tasks,)
            The effective multiplier of each task's (statically weighted) loss or
            gradient in this step, detached; 0 for absent tasks.
        """
        raise NotImplementedError

    def independent(self, losses: Sequence[torch.Tensor], present: Sequence[bool]) -> torch.Tensor:
        """Backpropagate the sum of the present tasks' losses (weights 1).

        What gradient-level methods do when nothing shared is trainable (e.g.
        ``architecture="separate"`` or ``freeze="trunk"``): each task's parameters get
        their own task's gradient, and there is nothing to combine.
        """
        tasks = [t for t, p in enumerate(present) if p]
        if tasks:
            total = sum(losses[t] for t in tasks)
            if total.requires_grad:
                total.backward()
        return _indicator(present, losses)

    def on_epoch_end(self, train_losses: torch.Tensor) -> None:
        """Receive the epoch's mean per-task training losses (for epoch-based methods).

        Parameters
        ----------
        train_losses : torch.Tensor of shape (n_tasks,)
        """


_MASKS: dict[tuple, torch.Tensor] = {}
_MAX_MASKS = 4096


def presence_mask(present: Sequence[bool], device: torch.device | str) -> torch.Tensor:
    """``present`` as a boolean tensor on ``device``, made once per pattern and device.

    Copying a Python list to a CUDA device waits for the device (a sync); a batch has
    one of at most ``2 ** n_tasks`` patterns, so each is copied once and then reused
    (the first 4096 patterns are kept).

    Parameters
    ----------
    present : sequence of bool
    device : torch.device or str

    Returns
    -------
    torch.Tensor of bool of shape (len(present),)
        Shared: do not modify it in place.
    """
    key = (tuple(bool(p) for p in present), str(torch.device(device)))
    mask = _MASKS.get(key)
    if mask is None:
        mask = torch.tensor(key[0], dtype=torch.bool, device=device)
        if len(_MASKS) < _MAX_MASKS:  # bounded: many tasks have many patterns
            _MASKS[key] = mask
    return mask


def _indicator(present: Sequence[bool], losses: Sequence[torch.Tensor]) -> torch.Tensor:
    like = losses[0]
    return presence_mask(present, like.device).to(like.dtype)


class LossBalancer(Balancer):
    """Base class of loss-level weightings: the objective is a function of the losses."""

    def combine(self, losses: torch.Tensor, present: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Combine the (statically weighted) per-task losses into the objective.

        Parameters
        ----------
        losses : torch.Tensor of shape (n_tasks,)
            Absent tasks' entries are 0.
        present : torch.Tensor of bool of shape (n_tasks,)

        Returns
        -------
        total : torch.Tensor
            The scalar objective; absent tasks must not change it.
        weights : torch.Tensor of shape (n_tasks,)
            d total / d losses, detached (what each task's loss is multiplied by).
        """
        raise NotImplementedError

    def backward(self, losses, present, gradients=None):
        # An absent task's loss is an exact 0 (a masked mean over no row): it adds a zero
        # gradient, as a masked loss does in plain PyTorch, and its weight is reported 0.
        stacked = torch.stack(list(losses))
        if isinstance(present, torch.Tensor):  # device_presence: no branch on the host
            total, weights = self.combine(stacked, present)
            if total.requires_grad:
                total.backward()
            return torch.where(present, weights.detach(), torch.zeros_like(weights))
        mask = presence_mask(present, stacked.device)
        if any(present):
            total, weights = self.combine(stacked, mask)
        else:  # no label in the batch: nothing to weigh (a zero step, as in plain PyTorch)
            total, weights = stacked.sum(), torch.zeros_like(stacked)
        if total.requires_grad:
            total.backward()
        return torch.where(mask, weights.detach(), torch.zeros_like(weights))


class Weighting(BaseEstimator):
    """Base class of task-balancing specs.

    A spec only stores its hyperparameters, so ``get_params``/``set_params``, ``clone``
    and ``GridSearchCV`` see them as ``weighting__<name>``; :meth:`build` makes the
    balancer used during fit. Subclasses are registered by name in
    :data:`skmtl.weighting.WEIGHTINGS`.
    """

    #: Registry name.
    name: str = ""
    #: "loss" for loss-level weightings, "gradient" for gradient aggregations.
    level: str = "loss"

    def build(self, n_tasks: int, module: nn.Module | None = None) -> Balancer:
        """Make the balancer for a network with ``n_tasks`` tasks.

        Parameters
        ----------
        n_tasks : int
        module : MultiTaskModule, default=None
            The network, for methods whose behaviour depends on its structure.

        Returns
        -------
        Balancer
        """
        self._validate_params()
        return self._build(n_tasks, module)

    def _build(self, n_tasks: int, module: nn.Module | None) -> Balancer:
        raise NotImplementedError
