"""Dynamic Weight Average (Liu, Johns and Davison, CVPR 2019)."""

from __future__ import annotations

from numbers import Real

import torch
from sklearn.utils._param_validation import Interval

from ._base import LossBalancer, Weighting


class DWABalancer(LossBalancer):
    """Weights from the ratio of each task's last two epoch losses."""

    # a batch without labels: combine() adds the same zero gradients as the host path
    device_presence = True

    def __init__(self, n_tasks: int, temperature: float):
        super().__init__(n_tasks)
        self.temperature = temperature
        self.register_buffer("weights", torch.ones(n_tasks))
        self.register_buffer("previous", torch.full((n_tasks,), float("nan")))

    def combine(self, losses, present):
        return (self.weights * losses).sum(), self.weights.clone()

    def on_epoch_end(self, train_losses):
        current = train_losses.to(self.previous)
        if not torch.isnan(self.previous).any():
            rates = current / self.previous.clamp(min=1e-12)
            self.weights.copy_(self.n_tasks * torch.softmax(rates / self.temperature, dim=0))
        self.previous.copy_(current)


class DWA(Weighting):
    """Dynamic Weight Average (Liu et al., CVPR 2019).

    With ``r_t = L_t(e-1) / L_t(e-2)`` the ratio of task ``t``'s mean training loss in
    the last two epochs, epoch ``e`` uses ``w_t = T * softmax(r / temperature)_t``;
    the first two epochs use ``w_t = 1``. Tasks whose loss falls slowly get more
    weight.

    Parameters
    ----------
    temperature : float, default=2.0
        Softness of the weights (the paper uses 2); larger is closer to equal.
    """

    name = "dwa"
    _parameter_constraints = {"temperature": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, temperature=2.0):
        self.temperature = temperature

    def _build(self, n_tasks, module):
        return DWABalancer(n_tasks, float(self.temperature))
