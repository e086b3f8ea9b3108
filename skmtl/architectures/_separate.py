"""Separate networks: one independent tower per task, nothing shared."""

from __future__ import annotations

from torch import nn

from ._base import (
    Architecture,
    LayeredArchitecture,
    MultiTaskModule,
    head,
    instantiate_trunk,
    output_width,
    pick,
)
from ._mlp import mlp


class SeparateModule(MultiTaskModule):
    """One independent network per task.

    Parameters
    ----------
    towers : list of torch.nn.Module
        One network per task, mapping the input to that task's output.
    """

    def __init__(self, towers: list[nn.Module]):
        super().__init__()
        self.towers = nn.ModuleList(towers)

    def forward(self, X):
        return tuple(tower(X) for tower in self.towers)

    @property
    def n_tasks(self):
        return len(self.towers)

    def task_parameters(self, task):
        return self.towers[task].parameters()


class _Flatten(nn.Module):
    def __init__(self, module: nn.Module, tail: nn.Module):
        super().__init__()
        self.module = module
        self.tail = tail

    def forward(self, X):
        return self.tail(self.module(X).flatten(1))


class Separate(LayeredArchitecture):
    """No sharing: each task gets its own copy of the whole network.

    The single-task baseline inside the multi-task API: ``architecture="separate"``
    against ``"shared_bottom"`` answers "is sharing worth it?" in one GridSearchCV.
    With a user ``trunk``, each task gets its own copy of it (fresh instances for a
    class, deep copies for an instance). The parameter count is
    ``sum_t [P(d; h) + P(h_k; g, o_t)]`` (see :class:`SharedBottom` for ``P``).

    Parameters
    ----------
    hidden_layer_sizes : array-like of int or None, default=None
        Widths of each task's tower; None uses the estimator's ``hidden_layer_sizes``.
    head_layer_sizes : array-like of int or None, default=None
        Hidden widths of each head; None uses the estimator's ``head_layer_sizes``.
    """

    name = "separate"
    def build(self, n_features, head_outputs, settings, trunk=None, sample=None, stem=None):
        self._validate_params()
        heads = pick(self.head_layer_sizes, settings.head_layer_sizes)
        if trunk is None and stem is not None:  # each task its own input layer
            encoders = [stem() for _ in head_outputs]
            body = self._build_body(encoders[0].output_width, head_outputs, settings)
            return SeparateModule([nn.Sequential(encoder, tower)
                                   for encoder, tower in zip(encoders, body.towers)])
        if trunk is None:
            return self._build_body(n_features, head_outputs, settings)
        towers = []
        for n_out in head_outputs:
            encoder = instantiate_trunk(trunk)
            width = output_width(encoder, sample)
            towers.append(_Flatten(encoder, head(width, heads, n_out, settings)))
        return SeparateModule(towers)

    build.__doc__ = Architecture.build.__doc__

    def _build_body(self, n_features, head_outputs, settings):
        sizes = pick(self.hidden_layer_sizes, settings.hidden_layer_sizes)
        heads = pick(self.head_layer_sizes, settings.head_layer_sizes)
        width = sizes[-1] if len(sizes) else n_features
        return SeparateModule([
            nn.Sequential(mlp(n_features, sizes, settings.activation, settings.dropout),
                          head(width, heads, n_out, settings))
            for n_out in head_outputs
        ])
