"""Uncertainty weighting (Kendall et al., CVPR 2018)."""

from __future__ import annotations

import torch
from torch import nn

from ._base import LossBalancer, Weighting


class UncertaintyBalancer(LossBalancer):
    """``sum_t 0.5 * exp(-s_t) * L_t + 0.5 * s_t`` with learned log-variances ``s_t``."""

    def __init__(self, n_tasks: int):
        super().__init__(n_tasks)
        self.log_vars = nn.Parameter(torch.zeros(n_tasks))

    def combine(self, losses, present):
        # an absent task's log-variance gets no gradient (its 0.5 * s_t term would
        # otherwise pull it down on every step without labels)
        precision = 0.5 * torch.exp(-self.log_vars)
        terms = precision * losses + 0.5 * self.log_vars
        total = torch.where(present, terms, torch.zeros_like(terms)).sum()
        return total, precision.detach()


class Uncertainty(Weighting):
    """Homoscedastic uncertainty weighting (Kendall, Gal and Cipolla, CVPR 2018).

    Each task ``t`` gets a learned log-variance ``s_t = log sigma_t^2`` (initialised to 0
    and trained with the network); the objective is
    ``sum_t 0.5 * exp(-s_t) * L_t + 0.5 * s_t``, so noisier tasks (larger irreducible
    loss) get smaller weights ``0.5 * exp(-s_t)``. The learned values are in
    ``net_.criterion_.balancer.log_vars``.
    """

    name = "uncertainty"
    _parameter_constraints: dict = {}

    def _build(self, n_tasks, module):
        return UncertaintyBalancer(n_tasks)
