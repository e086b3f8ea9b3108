"""Geometric loss strategy (Chennupati et al., CVPR Workshops 2019)."""

from __future__ import annotations

import torch

from ._base import LossBalancer, Weighting


class GLSBalancer(LossBalancer):
    """Geometric mean of the losses of the tasks labelled in the batch."""

    # a batch without labels: combine() adds the same zero gradients as the host path
    device_presence = True

    def combine(self, losses, present):
        logs = torch.where(present, torch.log(losses.clamp(min=1e-12)), torch.zeros_like(losses))
        n = present.sum().clamp(min=1)
        total = torch.exp(logs.sum() / n)
        weights = torch.where(present, total.detach() / (n * losses.detach().clamp(min=1e-12)),
                              torch.zeros_like(losses))
        return total, weights


class GLS(Weighting):
    """Geometric loss strategy: minimise ``(prod_t L_t)^(1/T)``.

    Its gradient weighs task ``t`` by ``GLS / (T * L_t)``, so tasks with small losses
    are not drowned out by tasks with large ones. A task with no labelled row in a batch
    is left out of that batch's product.
    """

    name = "gls"
    _parameter_constraints: dict = {}

    def _build(self, n_tasks, module):
        return GLSBalancer(n_tasks)
