"""Shared-bottom network: hard parameter sharing, one head per task."""

from __future__ import annotations

import torch
from torch import nn

from . import _fused
from ._base import (
    Architecture,
    LayeredArchitecture,
    MultiTaskModule,
    head,
    instantiate_trunk,
    last_layer,
    output_width,
    pick,
)
from ._mlp import mlp


class SharedBottomModule(MultiTaskModule):
    """One shared trunk feeding one head per task.

    Parameters
    ----------
    trunk : torch.nn.Module
        The shared layers; their output is flattened to 2-D.
    heads : list of torch.nn.Module
        One head per task.
    """

    def __init__(self, trunk: nn.Module, heads: list[nn.Module]):
        super().__init__()
        self.trunk = trunk
        self.heads = nn.ModuleList(heads)

    has_shared_representation = True

    @property
    def fused_prediction(self) -> bool:
        """Whether prediction on the CPU runs the trunk through oneDNN's fused kernel."""
        return _fused.usable() and isinstance(self.trunk, nn.Sequential)

    def represent(self, X):
        if isinstance(self.trunk, nn.Sequential):  # prediction: fused dense kernels
            return _fused.sequential(self.trunk, X).flatten(1)
        return self.trunk(X).flatten(1)

    def heads_forward(self, features):
        if torch.is_grad_enabled():
            return tuple(h(features) for h in self.heads)
        # prediction: one matrix product for all one-layer heads, else fused dense kernels
        layers = _plain_linear_heads(self.heads) if len(self.heads) > 1 else None
        if layers is not None:
            return _stacked_linear(features, layers)
        return tuple(_fused.sequential(h, features) if isinstance(h, nn.Sequential)
                     else h(features) for h in self.heads)

    def forward(self, X):
        return self.heads_forward(self.represent(X))

    def prediction_plan(self):
        """Prediction on the CPU through the fused kernel in one function: a slice of
        inputs to every head's outputs side by side, with the weights gathered once.

        Returns
        -------
        tuple of (callable, list of int) or None
            The function and each head's width; None where the module's forward must run
            (hooks on the module or its trunk, a trunk that is not an ``nn.Sequential``,
            heads that are not one ``nn.Linear`` each). The caller checks
            :func:`~skmtl.architectures._fused.applies` on the inputs.
        """
        if (_fused.hooked(self) or not isinstance(self.trunk, nn.Sequential)
                or _fused.hooked(self.trunk)):
            return None
        layers = _plain_linear_heads(self.heads)
        if layers is None:
            return None
        trunk = _fused.steps(self.trunk)
        heads = _fused.Dense(*_stacked_weights(layers), relu=False)

        def run(X):
            return heads(_fused.run(trunk, X).flatten(1))

        return run, [layer.out_features for layer in layers]

    @property
    def n_tasks(self):
        return len(self.heads)

    def task_parameters(self, task):
        return self.heads[task].parameters()

    def last_shared_parameters(self):
        return last_layer(self.trunk)


def _plain_linear_heads(heads: nn.ModuleList) -> list[nn.Linear] | None:
    """Each head's only layer when every head is one ``nn.Linear`` without hooks, all with
    a bias or all without; else None."""
    layers = []
    for h in heads:
        layer = h[0] if isinstance(h, nn.Sequential) and len(h) == 1 else h
        if type(layer) is not nn.Linear or _fused.hooked(h) or _fused.hooked(layer):
            return None
        layers.append(layer)
    if len({layer.bias is None for layer in layers}) > 1:
        return None
    return layers


def _stacked_weights(layers: list[nn.Linear]) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The weights and biases of ``layers`` stacked, as one layer's (the heads' outputs
    side by side, in the heads' order)."""
    weight = torch.cat([layer.weight for layer in layers])
    bias = None if layers[0].bias is None else torch.cat([layer.bias for layer in layers])
    return weight, bias


def _stacked_linear(features: torch.Tensor, layers: list[nn.Linear]) -> tuple:
    """The outputs of ``layers`` on ``features`` from one matrix product of their stacked
    weights (a prediction makes one call instead of one per task: on the CPU the heads'
    small products cost about a tenth of a (256, 256) trunk's forward when made apart)."""
    weight, bias = _stacked_weights(layers)
    out = (_fused.Dense(weight, bias, relu=False)(features) if _fused.applies(features)
           else nn.functional.linear(features, weight, bias))
    return out.split([layer.out_features for layer in layers], dim=1)


class SharedBottom(LayeredArchitecture):
    """Hard parameter sharing: one shared trunk, one head per task (Caruana, 1997).

    With ``d`` input features, trunk widths ``h_1..h_k`` and, per task ``t``, head
    widths ``g_1..g_m`` and ``o_t`` outputs, the parameter count is
    ``P(d; h) + sum_t P(h_k; g, o_t)`` where ``P(a; w_1..w_n) = sum_i (w_{i-1} + 1) w_i``
    with ``w_0 = a`` (dense layers with biases).

    A user ``trunk`` replaces the trunk's dense layers.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int or None, default=None
        Trunk widths; None uses the estimator's ``hidden_layer_sizes``.
    head_layer_sizes : array-like of int or None, default=None
        Hidden widths of each head; None uses the estimator's ``head_layer_sizes``.
    """

    name = "shared_bottom"
    def build(self, n_features, head_outputs, settings, trunk=None, sample=None, stem=None):
        self._validate_params()
        if trunk is None and stem is not None:  # the input layer joins the shared trunk
            encoder = stem()
            body = self._build_body(encoder.output_width, head_outputs, settings)
            body.trunk = nn.Sequential(encoder, *body.trunk)
            return body
        if trunk is None:
            return self._build_body(n_features, head_outputs, settings)
        encoder = instantiate_trunk(trunk)
        return self._with_trunk(encoder, output_width(encoder, sample), head_outputs, settings)

    build.__doc__ = Architecture.build.__doc__

    def _build_body(self, n_features, head_outputs, settings):
        sizes = pick(self.hidden_layer_sizes, settings.hidden_layer_sizes)
        trunk = mlp(n_features, sizes, settings.activation, settings.dropout)
        width = sizes[-1] if len(sizes) else n_features
        return self._with_trunk(trunk, width, head_outputs, settings)

    def _with_trunk(self, trunk, width, head_outputs, settings):
        sizes = pick(self.head_layer_sizes, settings.head_layer_sizes)
        return SharedBottomModule(trunk, [head(width, sizes, n, settings) for n in head_outputs])
