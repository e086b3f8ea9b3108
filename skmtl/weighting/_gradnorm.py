"""GradNorm (Chen et al., ICML 2018)."""

from __future__ import annotations

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval
from torch import nn

from ._base import LossBalancer, Weighting


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


class GradNormBalancer(LossBalancer):
    """Learned weights whose gradient norms are pulled towards GradNorm's targets."""

    def __init__(self, n_tasks: int, alpha: float):
        super().__init__(n_tasks)
        self.alpha = alpha
        self.task_weights = nn.Parameter(torch.ones(n_tasks))
        self.register_buffer("initial", torch.zeros(n_tasks))

    def train_step(self, module, criterion, X, y, active=None):
        if active is not None:
            return super().train_step(module, criterion, X, y, active)
        with torch.no_grad():  # keep sum_t w_t = T (the paper renormalises every step)
            self.task_weights.clamp_(min=1e-4)
            self.task_weights.mul_(self.n_tasks / self.task_weights.sum())
        y_pred = module(X)
        losses, counts = criterion.task_losses(y_pred, y)
        scaled = losses * criterion.weights
        detached = scaled.detach()
        with torch.no_grad():
            unset = (self.initial == 0) & (detached > 0)
            self.initial.copy_(torch.where(unset, detached, self.initial))
        shared = module.last_shared_parameters()
        norms = []
        for t in range(self.n_tasks):
            grads = torch.autograd.grad(scaled[t], shared, retain_graph=True, allow_unused=True)
            squares = [g.pow(2).sum() for g in grads if g is not None]
            norms.append(torch.stack(squares).sum().sqrt() if squares else scaled.new_zeros(()))
        g = torch.stack(norms)  # ||grad_W L_t||; G_t = w_t * g_t
        w = self.task_weights
        target = gradnorm_targets(w.detach() * g, detached, self.initial, self.alpha)
        # d/dw_t sum_s |w_s g_s - target_s| with the targets held constant
        self.task_weights.grad = torch.sign(w.detach() * g - target) * g
        total = (w.detach() * scaled).sum()
        total.backward()
        return {"loss": total, "y_pred": y_pred, "task_losses": losses.detach(),
                "task_counts": counts, "task_weights": w.detach() * criterion.weights}


class GradNorm(Weighting):
    """GradNorm (Chen et al., ICML 2018): learn loss weights that balance gradient norms.

    Task weights ``w_t`` (initialised to 1, renormalised to sum to ``T``) are learned by
    the net's optimizer from ``L_grad = sum_t |G_t - mean(G) * r_t^alpha|``, where
    ``G_t = ||grad_W w_t L_t||`` on the last shared layer ``W``
    (``module.last_shared_parameters()``), ``r_t = L~_t / mean(L~)`` and
    ``L~_t = L_t / L_t(0)`` (targets held constant). The network minimises
    ``sum_t w_t L_t``.

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
