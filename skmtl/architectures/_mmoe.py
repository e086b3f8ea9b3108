"""Multi-gate Mixture-of-Experts (MMoE)."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval
from torch import nn

from ._base import LAYER_SIZES, Architecture, MultiTaskModule, head, last_layer, pick
from ._experts import experts, mix


class MMoEModule(MultiTaskModule):
    """Shared experts mixed by one softmax gate per task, then one tower per task.

    Parameters
    ----------
    experts : torch.nn.ModuleList
        The shared expert networks.
    gates : torch.nn.ModuleList
        One linear gate per task (input to one logit per expert).
    towers : torch.nn.ModuleList
        One tower per task.
    """

    def __init__(self, experts: nn.ModuleList, gates: nn.ModuleList, towers: nn.ModuleList):
        super().__init__()
        self.experts = experts
        self.gates = gates
        self.towers = towers

    def _mixtures(self, X):
        outputs = [expert(X) for expert in self.experts]
        return [mix(gate(X), outputs) for gate in self.gates]

    def forward(self, X):
        return tuple(tower(m) for tower, (m, _) in zip(self.towers, self._mixtures(X)))

    @property
    def n_tasks(self):
        return len(self.towers)

    def task_parameters(self, task):
        yield from self.gates[task].parameters()
        yield from self.towers[task].parameters()

    def last_shared_parameters(self):
        return last_layer(*self.experts)

    def gate_outputs(self, X):
        return {f"task{t}": w for t, (_, w) in enumerate(self._mixtures(X))}


class MMoE(Architecture):
    """Multi-gate Mixture-of-Experts (Ma et al., KDD 2018).

    ``n_experts`` expert networks read the input; each task mixes their outputs with
    its own softmax gate (a linear map of the input) and feeds the mixture to its
    tower. With ``d`` inputs, ``E`` experts of widths ``e_1..e_k``, ``T`` tasks and
    tower widths ``g`` with ``o_t`` outputs, the parameter count is
    ``E * P(d; e) + T * (d + 1) * E + sum_t P(e_k; g, o_t)`` where
    ``P(a; w_1..w_n) = sum_i (w_{i-1} + 1) w_i`` with ``w_0 = a``.

    Parameters
    ----------
    n_experts : int, default=4
        Number of shared experts.
    expert_layer_sizes : array-like of int or None, default=None
        Widths of each expert; None uses the estimator's ``hidden_layer_sizes``.
    tower_layer_sizes : array-like of int or None, default=None
        Hidden widths of each task tower; None uses the estimator's
        ``head_layer_sizes``.
    """

    name = "mmoe"
    _parameter_constraints = {
        "n_experts": [Interval(Integral, 1, None, closed="left")],
        "expert_layer_sizes": LAYER_SIZES,
        "tower_layer_sizes": LAYER_SIZES,
    }

    def __init__(self, n_experts=4, expert_layer_sizes=None, tower_layer_sizes=None):
        self.n_experts = n_experts
        self.expert_layer_sizes = expert_layer_sizes
        self.tower_layer_sizes = tower_layer_sizes

    def _build_body(self, n_features, head_outputs, settings):
        sizes = pick(self.expert_layer_sizes, settings.hidden_layer_sizes)
        towers = pick(self.tower_layer_sizes, settings.head_layer_sizes)
        width = sizes[-1] if len(sizes) else n_features
        return MMoEModule(
            experts(self.n_experts, n_features, sizes, settings.activation, settings.dropout),
            nn.ModuleList(nn.Linear(n_features, self.n_experts) for _ in head_outputs),
            nn.ModuleList(head(width, towers, n, settings) for n in head_outputs),
        )
