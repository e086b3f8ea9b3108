"""Customized Gate Control (CGC): a single extraction level of PLE."""

from __future__ import annotations

from ._ple import PLE


class CGC(PLE):
    """Customized Gate Control (Tang et al., RecSys 2020): one level of PLE.

    Each task mixes its own ``n_task_experts`` experts and the ``n_shared_experts``
    shared experts with its own softmax gate; there is no shared gate, so a task's
    experts receive gradient from that task's loss only. The parameter count is
    ``(T m_t + m_s) P(d; e) + T (m_t + m_s)(d + 1) + sum_t P(w; g, o_t)`` (notation of
    :class:`PLE`).

    Parameters
    ----------
    n_task_experts : int, default=1
        Experts per task.
    n_shared_experts : int, default=2
        Shared experts.
    expert_layer_sizes : array-like of int or None, default=None
        Widths of each expert; None uses the estimator's ``hidden_layer_sizes``.
    tower_layer_sizes : array-like of int or None, default=None
        Hidden widths of each task tower; None uses the estimator's
        ``head_layer_sizes``.
    """

    name = "cgc"
    _parameter_constraints = {k: v for k, v in PLE._parameter_constraints.items() if k != "n_levels"}

    def __init__(self, n_task_experts=1, n_shared_experts=2, expert_layer_sizes=None,
                 tower_layer_sizes=None):
        self.n_task_experts = n_task_experts
        self.n_shared_experts = n_shared_experts
        self.expert_layer_sizes = expert_layer_sizes
        self.tower_layer_sizes = tower_layer_sizes

    @property
    def n_levels(self) -> int:
        """CGC is a single extraction level."""
        return 1
