"""Random loss weighting (Lin et al., TMLR 2022)."""

from __future__ import annotations

import torch

from ._base import LossBalancer, Weighting


class RLWBalancer(LossBalancer):
    """New random weights ``softmax(z)``, ``z ~ N(0, I)``, at every step."""

    def combine(self, losses, present):
        z = torch.randn(self.n_tasks, device=losses.device)
        # softmax over the tasks present in the batch
        weights = torch.softmax(torch.where(present, z, torch.full_like(z, float("-inf"))), dim=0)
        return (weights * losses).sum(), weights


class RLW(Weighting):
    """Random loss weighting (Lin et al., "Reasonable effectiveness of random
    weighting", TMLR 2022): each step weighs the losses by ``softmax(z)`` with
    ``z ~ N(0, I)``, drawn from torch's generator (seeded by ``random_state``).
    """

    name = "rlw"
    _parameter_constraints: dict = {}

    def _build(self, n_tasks, module):
        return RLWBalancer(n_tasks)
