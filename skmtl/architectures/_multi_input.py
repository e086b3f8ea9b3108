"""A trunk for several inputs (modalities), each with its own encoder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from ._mlp import ACTIVATIONS


class MultiInput(nn.Module):
    """Encode each input of a dict with its own encoder, concatenate, then dense layers.

    Use it as an estimator's ``trunk`` when ``X`` is a dict of arrays (preferably a
    ``skorch.helper.SliceDict``, which scikit-learn can slice in cross-validation):
    each key's array goes through its encoder, the flattened encodings are
    concatenated, and optional shared dense layers follow.

    Parameters
    ----------
    encoders : dict
        Input name to a ``torch.nn.Module`` instance, a module class (instantiated
        without arguments), or None (the input is only flattened).
    hidden_layer_sizes : sequence of int, default=()
        Widths of the shared dense layers after the concatenation (the first one is a
        ``torch.nn.LazyLinear``, sized on the first batch).
    activation : str, default="relu"
    dropout : float, default=0.0
    """

    def __init__(
        self,
        encoders: Mapping[str, nn.Module | type[nn.Module] | None],
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        dropout: float = 0.0,
    ):
        super().__init__()
        self.encoders = nn.ModuleDict({
            key: nn.Flatten() if enc is None else (enc() if isinstance(enc, type) else enc)
            for key, enc in encoders.items()
        })
        layers: list[nn.Module] = []
        for i, size in enumerate(hidden_layer_sizes):
            linear = nn.LazyLinear(int(size)) if i == 0 else nn.Linear(int(hidden_layer_sizes[i - 1]), int(size))
            layers += [linear, ACTIVATIONS[activation]()]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        self.shared = nn.Sequential(*layers)

    def forward(self, X: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Encode and concatenate the inputs.

        Parameters
        ----------
        X : dict of torch.Tensor
            Must hold every key of ``encoders``.

        Returns
        -------
        torch.Tensor of shape (n_samples, width)
        """
        missing = set(self.encoders) - set(X)
        if missing:
            raise KeyError(f"MultiInput has encoders for {sorted(missing)}, which X lacks.")
        encoded = [enc(X[key]).flatten(1) for key, enc in self.encoders.items()]
        return self.shared(torch.cat(encoded, dim=1))
