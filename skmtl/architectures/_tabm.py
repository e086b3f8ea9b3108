"""TabM: a parameter-efficient ensemble of k MLPs in one network (Gorishniy et al., 2025)."""

from __future__ import annotations

import math
from numbers import Integral

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from tabm import ElementwiseAffine, EnsembleView, LinearBatchEnsemble, LinearEnsemble
from torch import nn

from ._base import LAYER_SIZES, LayeredArchitecture, last_layer, pick
from ._mlp import ACTIVATIONS
from ._shared_bottom import SharedBottomModule


def _block(layer: nn.Module, activation: str, dropout: float) -> list[nn.Module]:
    block = [layer, ACTIVATIONS[activation]()]
    return block + [nn.Dropout(dropout)] if dropout > 0 else block


def ensemble_head(n_in: int, sizes, n_out: int, k: int, activation: str,
                  dropout: float) -> nn.Sequential:
    """A task head of ``k`` independent members: ``LinearEnsemble`` layers.

    Parameters
    ----------
    n_in : int
    sizes : sequence of int
        Hidden widths.
    n_out : int
    k : int
    activation : str
    dropout : float

    Returns
    -------
    torch.nn.Sequential
        Maps ``(n, k, n_in)`` to ``(n, k, n_out)``.
    """
    layers: list[nn.Module] = []
    for size in sizes:
        layers += _block(LinearEnsemble(n_in, int(size), k=k), activation, dropout)
        n_in = int(size)
    return nn.Sequential(*layers, LinearEnsemble(n_in, int(n_out), k=k))


class TabMModule(SharedBottomModule):
    """k ensemble members sharing one trunk, each with its own head per task.

    Every task's output has shape ``(n_samples, k, n_outputs)``, one row per member, in
    training and evaluation mode alike: the criterion trains each member on its own
    loss (:class:`~skmtl._training.MultiTaskCriterion` flattens the member axis into
    rows), and prediction averages the members (:func:`combine_members`).

    Parameters
    ----------
    trunk : torch.nn.Module
        Maps ``(n, d)`` to ``(n, k, width)`` (starts with ``EnsembleView``).
    heads : list of torch.nn.Module
        One ensemble head per task, ``(n, k, width)`` to ``(n, k, n_outputs)``.
    k : int
        Number of members.
    """

    def __init__(self, trunk: nn.Module, heads: list[nn.Module], k: int):
        super().__init__(trunk, heads)
        self.k = int(k)

    def heads_forward(self, features):
        members = features.unflatten(1, (self.k, -1))
        return tuple(h(members) for h in self.heads)

    def forward(self, X):
        return tuple(h(self.trunk(X)) for h in self.heads)

    def last_shared_parameters(self):
        layers = [m for m in self.trunk.modules()
                  if isinstance(m, (nn.Linear, LinearBatchEnsemble, ElementwiseAffine))]
        return list(layers[-1].parameters()) if layers else last_layer(self.trunk)


def combine_members(output: torch.Tensor, kind: str) -> torch.Tensor:
    """Average an ensemble output ``(n, k, n_outputs)`` over its k members.

    Probabilities are averaged, not logits, and returned in the space the tasks decode
    (so temperature scaling and ``predict_proba`` apply unchanged): for a
    ``"classification"`` task the log of the mean softmax probabilities, for a
    ``"multilabel"`` task the logit of the mean sigmoid probabilities, for any other
    task the mean value. A 2-D output (one member) is returned as is.

    Parameters
    ----------
    output : torch.Tensor of shape (n, k, n_outputs) or (n, n_outputs)
    kind : str
        The task's ``kind``.

    Returns
    -------
    torch.Tensor of shape (n, n_outputs)
    """
    if output.ndim != 3:
        return output
    log_k = math.log(output.shape[1])
    if kind == "classification":
        return torch.logsumexp(torch.log_softmax(output, dim=2), dim=1) - log_k
    if kind == "multilabel":
        log_p = torch.logsumexp(nn.functional.logsigmoid(output), dim=1)
        log_q = torch.logsumexp(nn.functional.logsigmoid(-output), dim=1)
        return log_p - log_q  # log(mean p) - log(mean (1 - p)); log k cancels
    return output.mean(dim=1)


class TabM(LayeredArchitecture):
    """TabM: k MLPs trained at once as one parameter-efficient ensemble (Gorishniy et al., ICLR 2025).

    The trunk is shared by all tasks and by all members, up to small per-member
    adapters; each task has one head per member. In one forward pass every member
    predicts every task; the training loss of a task is the mean over members of each
    member's loss (not the loss of the mean prediction), and predictions average the
    members (class probabilities for classification, values for regression). Balancing
    methods see one loss per task, as with the other architectures.

    * ``arch_type="tabm"``: every trunk layer is a BatchEnsemble layer
      (``tabm.LinearBatchEnsemble``: a shared weight and per-member input and output
      scalings and bias); the first layer's input scalings start at random signs,
      the others at one (TabM's initialisation).
    * ``arch_type="tabm-mini"``: one per-member scaling of the input
      (``tabm.ElementwiseAffine``, random signs, no bias), then plain shared dense
      layers.

    Heads are ``tabm.LinearEnsemble`` layers (k independent dense layers). With ``d``
    input features, trunk widths ``h_1..h_m`` (``h_0 = d``) and, per task ``t``, head
    widths ``g`` and ``o_t`` outputs, the parameter count is
    ``sum_i [h_{i-1} h_i + k (h_{i-1} + 2 h_i)] + k sum_t P(h_m; g, o_t)`` for
    ``"tabm"`` and ``k d + P(d; h) + k sum_t P(h_m; g, o_t)`` for ``"tabm-mini"``
    (``P`` as in :class:`SharedBottom`). The published configuration (k=32, width 512)
    costs about 30 times a plain MLP's step on a small CPU; the default k is 8.

    The per-member axis makes every task's raw output ``(n, k, n_outputs)``; the
    estimators' ``predict``, ``predict_proba``, ``score`` and temperature scaling see
    the averaged output. The validation loss (early stopping) is, like the training
    loss, the mean over members of their losses.

    Parameters
    ----------
    k : int, default=8
        Number of ensemble members.
    arch_type : {"tabm", "tabm-mini"}, default="tabm"
        Where the per-member adapters are (see above).
    hidden_layer_sizes : array-like of int or None, default=None
        Trunk widths; None uses the estimator's ``hidden_layer_sizes``.
    head_layer_sizes : array-like of int or None, default=None
        Hidden widths of each member's head; None uses the estimator's
        ``head_layer_sizes``.
    """

    name = "tabm"
    _parameter_constraints = {
        "k": [Interval(Integral, 1, None, closed="left")],
        "arch_type": [StrOptions({"tabm", "tabm-mini"})],
        "hidden_layer_sizes": LAYER_SIZES,
        "head_layer_sizes": LAYER_SIZES,
    }

    def __init__(self, k=8, arch_type="tabm", hidden_layer_sizes=None, head_layer_sizes=None):
        super().__init__(hidden_layer_sizes=hidden_layer_sizes, head_layer_sizes=head_layer_sizes)
        self.k = k
        self.arch_type = arch_type

    def _build_body(self, n_features, head_outputs, settings):
        k = int(self.k)
        sizes = pick(self.hidden_layer_sizes, settings.hidden_layer_sizes)
        heads = pick(self.head_layer_sizes, settings.head_layer_sizes)
        layers: list[nn.Module] = [EnsembleView(k=k)]
        if self.arch_type == "tabm-mini":
            layers.append(ElementwiseAffine((k, n_features), bias=False,
                                            scaling_init="random-signs"))
        n_in = n_features
        for i, size in enumerate(sizes):
            if self.arch_type == "tabm":
                layer: nn.Module = LinearBatchEnsemble(
                    n_in, int(size), k=k,
                    scaling_init=("random-signs", "ones") if i == 0 else "ones")
            else:
                layer = nn.Linear(n_in, int(size))
            layers += _block(layer, settings.activation, settings.dropout)
            n_in = int(size)
        return TabMModule(
            nn.Sequential(*layers),
            [ensemble_head(n_in, heads, n, k, settings.activation, settings.dropout)
             for n in head_outputs],
            k,
        )
