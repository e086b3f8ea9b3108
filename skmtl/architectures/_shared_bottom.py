"""Shared-bottom network: hard parameter sharing, one head per task."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from ._base import MultiTaskModule
from ._mlp import mlp


class SharedBottom(MultiTaskModule):
    """One shared trunk feeding one head per task (hard parameter sharing).

    Parameters
    ----------
    n_features : int
        Number of input features.
    head_outputs : sequence of int
        Output width of each task's head.
    hidden_layer_sizes : sequence of int, default=(128, 128)
        Widths of the shared trunk's dense layers.
    head_layer_sizes : sequence of int, default=()
        Widths of each head's hidden dense layers before its output layer.
    activation : str, default="relu"
        Activation after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer.
    """

    def __init__(
        self,
        n_features: int,
        head_outputs: Sequence[int],
        hidden_layer_sizes: Sequence[int] = (128, 128),
        head_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        dropout: float = 0.0,
    ):
        super().__init__()
        self.trunk = mlp(n_features, hidden_layer_sizes, activation, dropout)
        width = int(hidden_layer_sizes[-1]) if len(hidden_layer_sizes) else n_features
        heads = []
        for n_out in head_outputs:
            body = mlp(width, head_layer_sizes, activation, dropout)
            last = int(head_layer_sizes[-1]) if len(head_layer_sizes) else width
            heads.append(nn.Sequential(*body, nn.Linear(last, int(n_out))))
        self.heads = nn.ModuleList(heads)

    def forward(self, X):
        shared = self.trunk(X)
        return tuple(head(shared) for head in self.heads)
