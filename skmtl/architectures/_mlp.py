"""Building block shared by the architectures: a stack of dense layers."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

#: Activation names accepted by the estimators' ``activation`` parameter, to torch modules.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "identity": nn.Identity,
}


def mlp(n_in: int, sizes: Sequence[int], activation: str = "relu", dropout: float = 0.0) -> nn.Sequential:
    """A stack of dense layers of widths ``sizes`` on ``n_in`` inputs.

    Each layer is followed by the activation and, when ``dropout > 0``, by dropout.

    Parameters
    ----------
    n_in : int
        Input width.
    sizes : sequence of int
        Width of each layer; empty gives an identity block.
    activation : str, default="relu"
        A key of :data:`ACTIVATIONS`.
    dropout : float, default=0.0
        Dropout probability after each layer.

    Returns
    -------
    torch.nn.Sequential
    """
    layers: list[nn.Module] = []
    for size in sizes:
        layers += [nn.Linear(n_in, int(size)), ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        n_in = int(size)
    return nn.Sequential(*layers)
