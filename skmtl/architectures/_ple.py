"""Progressive Layered Extraction (PLE)."""

from __future__ import annotations

from numbers import Integral

from sklearn.utils._param_validation import Interval
from torch import nn

from ._base import LAYER_SIZES, Architecture, MultiTaskModule, head, last_layer, pick
from ._experts import experts, mix


class PLEModule(MultiTaskModule):
    """Stacked extraction levels of task-specific and shared experts, then towers.

    At each level, task ``t``'s gate mixes task ``t``'s experts and the shared experts;
    below the last level a shared gate mixes all experts of the level into the input of
    the next level's shared experts (Tang et al., 2020, section 4.2).

    Parameters
    ----------
    task_experts : torch.nn.ModuleList
        Per level, per task, a ModuleList of experts.
    shared_experts : torch.nn.ModuleList
        Per level, a ModuleList of shared experts.
    task_gates : torch.nn.ModuleList
        Per level, per task, a linear gate.
    shared_gates : torch.nn.ModuleList
        One linear shared gate per level except the last.
    towers : torch.nn.ModuleList
        One tower per task.
    """

    def __init__(self, task_experts, shared_experts, task_gates, shared_gates, towers):
        super().__init__()
        self.task_experts = task_experts
        self.shared_experts = shared_experts
        self.task_gates = task_gates
        self.shared_gates = shared_gates
        self.towers = towers

    def _extract(self, X):
        n_levels, n_tasks = len(self.shared_experts), len(self.towers)
        task_in, shared_in, gates = [X] * n_tasks, X, {}
        for level in range(n_levels):
            shared_out = [e(shared_in) for e in self.shared_experts[level]]
            task_out = [[e(task_in[t]) for e in self.task_experts[level][t]] for t in range(n_tasks)]
            next_in = []
            for t in range(n_tasks):
                mixed, w = mix(self.task_gates[level][t](task_in[t]), task_out[t] + shared_out)
                next_in.append(mixed)
                gates[f"level{level}_task{t}"] = w
            if level < n_levels - 1:
                everything = [o for outs in task_out for o in outs] + shared_out
                shared_in, w = mix(self.shared_gates[level](shared_in), everything)
                gates[f"level{level}_shared"] = w
            task_in = next_in
        return task_in, gates

    def forward(self, X):
        task_in, _ = self._extract(X)
        return tuple(tower(x) for tower, x in zip(self.towers, task_in))

    @property
    def n_tasks(self):
        return len(self.towers)

    def task_parameters(self, task):
        # Below the last level, a task's experts also feed the shared gate, so every
        # task's loss reaches them: only the last level's experts and gates (and the
        # tower) belong to one task.
        last = len(self.shared_experts) - 1
        yield from self.task_experts[last][task].parameters()
        yield from self.task_gates[last][task].parameters()
        yield from self.towers[task].parameters()

    def last_shared_parameters(self):
        # the last level's shared experts feed every task's gate
        return last_layer(*self.shared_experts[-1])

    def gate_outputs(self, X):
        return self._extract(X)[1]


class PLE(Architecture):
    """Progressive Layered Extraction (Tang et al., RecSys 2020).

    ``n_levels`` extraction levels, each with ``n_task_experts`` experts per task and
    ``n_shared_experts`` shared experts. Task ``t``'s gate at a level mixes its own and
    the shared experts; below the last level a shared gate mixes all experts of the
    level for the next level's shared experts. With ``d`` inputs, ``T`` tasks, expert
    widths ``e_1..e_k`` (``w = e_k``), ``m_t`` task and ``m_s`` shared experts, ``L``
    levels and towers ``g`` with ``o_t`` outputs, the parameter count is
    ``(T m_t + m_s) [P(d; e) + (L - 1) P(w; e)]``
    ``+ T (m_t + m_s) [(d + 1) + (L - 1)(w + 1)]``
    ``+ (T m_t + m_s) [(d + 1) + (L - 2)(w + 1)]`` (shared gates, when ``L > 1``)
    ``+ sum_t P(w; g, o_t)``, with ``P`` as in :class:`MMoE`.

    Parameters
    ----------
    n_levels : int, default=2
        Number of extraction levels.
    n_task_experts : int, default=1
        Experts per task at each level.
    n_shared_experts : int, default=2
        Shared experts at each level.
    expert_layer_sizes : array-like of int or None, default=None
        Widths of each expert; None uses the estimator's ``hidden_layer_sizes``.
    tower_layer_sizes : array-like of int or None, default=None
        Hidden widths of each task tower; None uses the estimator's
        ``head_layer_sizes``.
    """

    name = "ple"
    _parameter_constraints = {
        "n_levels": [Interval(Integral, 1, None, closed="left")],
        "n_task_experts": [Interval(Integral, 1, None, closed="left")],
        "n_shared_experts": [Interval(Integral, 1, None, closed="left")],
        "expert_layer_sizes": LAYER_SIZES,
        "tower_layer_sizes": LAYER_SIZES,
    }

    def __init__(self, n_levels=2, n_task_experts=1, n_shared_experts=2,
                 expert_layer_sizes=None, tower_layer_sizes=None):
        self.n_levels = n_levels
        self.n_task_experts = n_task_experts
        self.n_shared_experts = n_shared_experts
        self.expert_layer_sizes = expert_layer_sizes
        self.tower_layer_sizes = tower_layer_sizes

    def _build_body(self, n_features, head_outputs, settings):
        sizes = pick(self.expert_layer_sizes, settings.hidden_layer_sizes)
        towers = pick(self.tower_layer_sizes, settings.head_layer_sizes)
        width = sizes[-1] if len(sizes) else n_features
        n_tasks, act, drop = len(head_outputs), settings.activation, settings.dropout
        m_t, m_s = self.n_task_experts, self.n_shared_experts
        task_experts, shared_experts, task_gates, shared_gates = [], [], [], []
        for level in range(self.n_levels):
            n_in = n_features if level == 0 else width
            task_experts.append(nn.ModuleList(experts(m_t, n_in, sizes, act, drop) for _ in range(n_tasks)))
            shared_experts.append(experts(m_s, n_in, sizes, act, drop))
            task_gates.append(nn.ModuleList(nn.Linear(n_in, m_t + m_s) for _ in range(n_tasks)))
            if level < self.n_levels - 1:
                shared_gates.append(nn.Linear(n_in, n_tasks * m_t + m_s))
        return PLEModule(
            nn.ModuleList(task_experts), nn.ModuleList(shared_experts),
            nn.ModuleList(task_gates), nn.ModuleList(shared_gates),
            nn.ModuleList(head(width, towers, n, settings) for n in head_outputs),
        )
