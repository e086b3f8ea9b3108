"""Shared-bottom network: hard parameter sharing, one head per task."""

from __future__ import annotations

from torch import nn

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

    def represent(self, X):
        return self.trunk(X).flatten(1)

    def heads_forward(self, features):
        return tuple(h(features) for h in self.heads)

    def forward(self, X):
        return self.heads_forward(self.represent(X))

    @property
    def n_tasks(self):
        return len(self.heads)

    def task_parameters(self, task):
        return self.heads[task].parameters()

    def last_shared_parameters(self):
        return last_layer(self.trunk)


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
