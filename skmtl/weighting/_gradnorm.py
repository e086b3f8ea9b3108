"""GradNorm (Chen et al., ICML 2018)."""

from __future__ import annotations

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval
from torch import nn

from ._base import Balancer, Weighting


def gradnorm_targets(grad_norms: torch.Tensor, losses: torch.Tensor, initial: torch.Tensor,
                     alpha: float) -> torch.Tensor:
    """GradNorm's target gradient norms ``mean(G) * r_t^alpha``.

    Parameters
    ----------
    grad_norms : torch.Tensor of shape (n_tasks,)
        ``G_t = ||grad_W w_t L_t||``.
    losses : torch.Tensor of shape (n_tasks,)
        Current losses ``L_t``.
    initial : torch.Tensor of shape (n_tasks,)
        Losses at the first step ``L_t(0)``.
    alpha : float

    Returns
    -------
    torch.Tensor of shape (n_tasks,)
        With ``L~_t = L_t / L_t(0)`` and ``r_t = L~_t / mean(L~)``.
    """
    ratios = losses / initial.clamp(min=1e-12)
    return grad_norms.mean() * (ratios / ratios.mean()) ** alpha


class GradNormBalancer(Balancer):
    """Learned weights whose gradient norms are pulled towards GradNorm's targets.

    Only the tasks present in a batch take part in that step's balancing: the targets
    are computed among them, and only their weights receive a gradient.
    """

    jacobian = "last_shared"

    def __init__(self, n_tasks: int, alpha: float):
        super().__init__(n_tasks)
        self.alpha = alpha
        self.task_weights = nn.Parameter(torch.ones(n_tasks))
        self.register_buffer("initial", torch.zeros(n_tasks))

    def backward(self, losses, present, gradients=None):
        if gradients is None:  # nothing shared is trainable: nothing to balance
            return self.independent(losses, present)
        tasks = [t for t, p in enumerate(present) if p]
        if not tasks:
            return torch.zeros(self.n_tasks, device=self.task_weights.device)
        with torch.no_grad():  # keep sum_t w_t = T (the paper renormalises every step)
            self.task_weights.clamp_(min=1e-4)
            self.task_weights.mul_(self.n_tasks / self.task_weights.sum())
        index = torch.tensor(tasks, device=self.task_weights.device)
        detached = torch.stack([losses[t].detach() for t in tasks])
        with torch.no_grad():
            initial = self.initial[index]
            unset = (initial == 0) & (detached > 0)
            self.initial[index] = torch.where(unset, detached, initial)
        g = gradients.jacobian(losses, tasks, own=False).norm(dim=1)  # ||grad_W L_t||
        w = self.task_weights.detach()[index]
        target = gradnorm_targets(w * g, detached, self.initial[index], self.alpha)
        # d/dw_t sum_s |w_s g_s - target_s| with the targets held constant
        grad = torch.zeros_like(self.task_weights)
        grad[index] = torch.sign(w * g - target) * g
        self.task_weights.grad = grad if self.task_weights.grad is None else self.task_weights.grad + grad
        total = sum(w[i] * losses[t] for i, t in enumerate(tasks))
        total.backward()
        weights = torch.zeros(self.n_tasks, device=w.device, dtype=w.dtype)
        weights[index] = w
        return weights


class GradNorm(Weighting):
    """GradNorm (Chen et al., ICML 2018): learn loss weights that balance gradient norms.

    Task weights ``w_t`` (initialised to 1, renormalised to sum to ``T``) are learned by
    the net's optimizer (without weight decay) from
    ``L_grad = sum_t |G_t - mean(G) * r_t^alpha|``, where ``G_t = ||grad_W w_t L_t||`` on
    the last shared layer ``W`` (each architecture names it:
    ``module.last_shared_parameters()``), ``r_t = L~_t / mean(L~)`` and
    ``L~_t = L_t / L_t(0)`` (targets held constant). The network minimises
    ``sum_t w_t L_t``. Tasks without a label in a batch sit that step out. With nothing
    shared to train (``architecture="separate"``, ``freeze="trunk"``) every task trains
    its own parameters with weight 1.

    Parameters
    ----------
    alpha : float, default=1.5
        Strength of the pull towards balanced training rates (0: equal gradient norms).
    """

    name = "gradnorm"
    _parameter_constraints = {"alpha": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, alpha=1.5):
        self.alpha = alpha

    def _build(self, n_tasks, module):
        return GradNormBalancer(n_tasks, float(self.alpha))
