"""Base class of multi-task network modules."""

from __future__ import annotations

import torch
from torch import nn


class MultiTaskModule(nn.Module):
    """Base class of the networks skmtl trains.

    A multi-task module maps a batch of inputs to a tuple with one output tensor per
    task, in task order; the ``i``-th output has ``head_outputs[i]`` columns.
    Subclasses are built from the number of input features and the head widths, plus
    their own hyperparameters.
    """

    def forward(self, X: torch.Tensor) -> tuple[torch.Tensor, ...]:  # pragma: no cover
        """Compute every task's output.

        Parameters
        ----------
        X : torch.Tensor of shape (n_samples, n_features)

        Returns
        -------
        tuple of torch.Tensor
            One ``(n_samples, head_outputs[i])`` tensor per task.
        """
        raise NotImplementedError
