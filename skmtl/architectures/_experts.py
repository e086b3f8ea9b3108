"""Helpers shared by the mixture-of-experts architectures (MMoE, CGC, PLE)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._mlp import mlp


def experts(n: int, n_in: int, sizes: Sequence[int], activation: str, dropout: float) -> nn.ModuleList:
    """``n`` expert networks, each a stack of dense layers of widths ``sizes``."""
    return nn.ModuleList(mlp(n_in, sizes, activation, dropout) for _ in range(n))


def mix(gate_logits: torch.Tensor, outputs: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax gate over experts and the weighted sum of their outputs.

    Parameters
    ----------
    gate_logits : torch.Tensor of shape (n, n_experts)
    outputs : sequence of torch.Tensor of shape (n, width)
        One output per expert.

    Returns
    -------
    mixed : torch.Tensor of shape (n, width)
    weights : torch.Tensor of shape (n, n_experts)
        The gate's weights (each row sums to 1).
    """
    weights = torch.softmax(gate_logits, dim=-1)
    stacked = torch.stack(list(outputs), dim=1)  # (n, n_experts, width)
    return torch.bmm(weights.unsqueeze(1), stacked).squeeze(1), weights
