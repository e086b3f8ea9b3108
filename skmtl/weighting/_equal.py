"""Equal weighting: the sum of the tasks' losses (each times its static ``weight``)."""

from __future__ import annotations

import torch

from ._base import LossBalancer, Weighting


class EqualBalancer(LossBalancer):
    """Sum of the statically weighted losses."""

    # a batch without labels: combine() adds the same zero gradients as the host path
    device_presence = True

    def combine(self, losses, present):
        return losses.sum(), torch.ones_like(losses)


class Equal(Weighting):
    """Equal weighting (the default): minimise ``sum_t weight_t * L_t``.

    Each task's static ``weight`` (from its spec) still applies.
    """

    name = "equal"
    _parameter_constraints: dict = {}

    def _build(self, n_tasks, module):
        return EqualBalancer(n_tasks)
