"""A trunk for several inputs (modalities), each with its own encoder."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ._mlp import ACTIVATIONS

#: A feature that an encoder of None passes on as it is, with a mean or standard deviation
#: beyond this, draws :meth:`MultiInput.check_scales`'s warning.
UNSCALED_INPUT = 10.0


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
        without arguments), or None (the input is only flattened: its values reach the
        dense layers as they are, so give it on a unit scale; ``fit`` warns where a
        feature's mean or standard deviation exceeds 10).
    hidden_layer_sizes : sequence of int, default=()
        Widths of the shared dense layers after the concatenation (the first one is a
        ``torch.nn.LazyLinear``, sized on the first batch).
    activation : str, default="relu"
    dropout : float, default=0.0

    Notes
    -----
    What MultiInput builds itself (the encoders given as classes or None, and the shared
    layers) it builds anew for every network an estimator makes from it
    (:meth:`rebuilt`), so that the estimator's ``random_state`` seeds their initial
    weights: two fits with the same seed start alike wherever the instance was made, and
    the members of an ensemble or the towers of ``"separate"`` start apart. Encoders
    given as module instances are copied with their weights (a trained encoder stays
    trained); so is the trunk of a fitted network, taken with
    :func:`skmtl.transfer.shared_trunk` or by hand, as a whole.
    """

    def __init__(
        self,
        encoders: Mapping[str, nn.Module | type[nn.Module] | None],
        hidden_layer_sizes: Sequence[int] = (),
        activation: str = "relu",
        dropout: float = 0.0,
    ):
        super().__init__()
        # what rebuilt() builds anew: the encoders given as classes or None, the settings
        self._recipe = {
            "encoders": {key: enc for key, enc in encoders.items()
                         if enc is None or isinstance(enc, type)},
            "hidden_layer_sizes": tuple(hidden_layer_sizes), "activation": activation,
            "dropout": dropout,
        }
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

    def rebuilt(self) -> nn.Module:
        """A fresh MultiInput of the same specification, for a new network.

        Encoders given as classes or None, and the shared layers, are built anew (with
        torch's current random state, which the estimator seeds); encoders given as
        instances are deep copies of the current ones. The result keeps no recipe: it is
        the network's own, so a copy of it taken after training (by
        :func:`skmtl.transfer.shared_trunk` or by hand) is deep-copied with its trained
        weights. An instance without a recipe (that one, a subclass, or one pickled
        before it was kept) is deep-copied.

        Returns
        -------
        torch.nn.Module
        """
        recipe = getattr(self, "_recipe", None)
        if recipe is None or type(self) is not MultiInput:
            return copy.deepcopy(self)
        built = recipe["encoders"]
        encoders = {key: built[key] if key in built else copy.deepcopy(module)
                    for key, module in self.encoders.items()}
        fresh = MultiInput(encoders, hidden_layer_sizes=recipe["hidden_layer_sizes"],
                           activation=recipe["activation"], dropout=recipe["dropout"])
        fresh._recipe = None  # the network trains it: later copies keep its weights
        return fresh

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

    def check_scales(self, X: Mapping[str, Any], owner: str = "The estimator",
                     max_rows: int = 10_000) -> None:
        """Warn about inputs that reach the dense layers as they are, far from unit scale.

        An input whose encoder is a bare ``nn.Flatten`` (None) is not normalised, and dense
        layers train poorly on features with a large mean or spread (a two-feature table
        beside the digits' images, at its raw scale, took the digit task to chance under
        MMoE; standardised, it helped). Encoders of their own (a CNN, a normalising layer)
        are left to the user.

        Parameters
        ----------
        X : dict of array-like
            The training inputs, by name.
        owner : str, default="The estimator"
            Who is warning (the estimator's class name).
        max_rows : int, default=10_000
            The statistics are of the first ``max_rows`` rows.
        """
        for key, encoder in self.encoders.items():
            if type(encoder) is not nn.Flatten or key not in X:
                continue
            values = np.asarray(X[key][:max_rows], dtype=np.float64)
            values = values.reshape(len(values), -1)
            if not len(values) or not values.shape[1]:
                continue
            mean, std = values.mean(axis=0), values.std(axis=0)
            scale = np.maximum(np.abs(mean), std)
            worst = int(np.argmax(scale))
            if scale[worst] > UNSCALED_INPUT:
                warnings.warn(
                    f"{owner}: input {key!r} reaches the network as it is (MultiInput "
                    f"encoder None only flattens it), and its feature {worst} has mean "
                    f"{mean[worst]:.4g} and standard deviation {std[worst]:.4g}; dense "
                    "layers train poorly on features far from unit scale. Scale that input "
                    "(e.g. StandardScaler on its array), or give it an encoder that "
                    "normalises it, such as nn.Sequential(nn.Flatten(), "
                    f"nn.BatchNorm1d({values.shape[1]})).", UserWarning, stacklevel=4)
