"""Cross-stitch networks: one column per task, linearly mixed after every layer."""

from __future__ import annotations

import torch
from torch import nn

from ._base import LayeredArchitecture, MultiTaskModule, head, last_layer, pick
from ._mlp import ACTIVATIONS

#: Initial weight of a column on itself; the rest is spread evenly over the others.
SELF_WEIGHT = 0.9


def stitch_init(n_tasks: int) -> torch.Tensor:
    """Near-identity mixing matrix: ``SELF_WEIGHT`` on the diagonal, rows summing to 1."""
    if n_tasks == 1:
        return torch.ones(1, 1)
    off = (1 - SELF_WEIGHT) / (n_tasks - 1)
    return torch.full((n_tasks, n_tasks), off) + (SELF_WEIGHT - off) * torch.eye(n_tasks)


class CrossStitchModule(MultiTaskModule):
    """Task columns whose hidden layers are mixed by learned cross-stitch units.

    Parameters
    ----------
    layers : torch.nn.ModuleList
        Per hidden layer, a ModuleList with one layer block per task column.
    stitches : torch.nn.ParameterList
        Per hidden layer, a (n_tasks, n_tasks) mixing matrix: column ``t``'s next
        input is ``sum_s stitch[t, s] * h_s``.
    heads : torch.nn.ModuleList
        One head per task.
    """

    def __init__(self, layers: nn.ModuleList, stitches: nn.ParameterList, heads: nn.ModuleList):
        super().__init__()
        self.layers = layers
        self.stitches = stitches
        self.heads = heads

    def forward(self, X):
        hidden = [X] * len(self.heads)
        for blocks, stitch in zip(self.layers, self.stitches):
            stacked = torch.stack([block(h) for block, h in zip(blocks, hidden)])  # (T, n, w)
            hidden = list(torch.einsum("ts,snw->tnw", stitch, stacked))
        return tuple(h(x) for h, x in zip(self.heads, hidden))

    @property
    def n_tasks(self):
        return len(self.heads)

    def task_parameters(self, task):
        # Columns exchange activations through the stitches, so every task's loss
        # reaches every column: only the heads belong to one task.
        return self.heads[task].parameters()

    def last_shared_parameters(self):
        # the last dense layer of every column (not a cross-stitch unit)
        return last_layer(*self.layers[-1]) if len(self.layers) else []


class CrossStitch(LayeredArchitecture):
    """Cross-stitch networks (Misra et al., CVPR 2016).

    One column per task (dense layers of ``hidden_layer_sizes``); after each hidden
    layer a learnable ``T x T`` matrix mixes the columns' activations, initialised
    near the identity (0.9 on the diagonal, 0.1 spread over the other columns). The
    parameter count is ``T * P(d; h) + k * T^2 + sum_t P(h_k; g, o_t)`` (``k`` hidden
    layers, ``P`` as in :class:`MMoE`).

    Parameters
    ----------
    hidden_layer_sizes : array-like of int or None, default=None
        Widths of each task column; None uses the estimator's ``hidden_layer_sizes``.
    head_layer_sizes : array-like of int or None, default=None
        Hidden widths of each head; None uses the estimator's ``head_layer_sizes``.
    """

    name = "cross_stitch"
    def _build_body(self, n_features, head_outputs, settings):
        sizes = pick(self.hidden_layer_sizes, settings.hidden_layer_sizes)
        heads = pick(self.head_layer_sizes, settings.head_layer_sizes)
        n_tasks = len(head_outputs)
        layers, stitches, n_in = [], [], n_features
        for size in sizes:
            blocks = []
            for _ in range(n_tasks):
                block = [nn.Linear(n_in, size), ACTIVATIONS[settings.activation]()]
                if settings.dropout > 0:
                    block.append(nn.Dropout(settings.dropout))
                blocks.append(nn.Sequential(*block))
            layers.append(nn.ModuleList(blocks))
            stitches.append(nn.Parameter(stitch_init(n_tasks)))
            n_in = size
        return CrossStitchModule(
            nn.ModuleList(layers), nn.ParameterList(stitches),
            nn.ModuleList(head(n_in, heads, n, settings) for n in head_outputs),
        )
