"""Base classes of multi-task networks and of the architecture specs that build them."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from numbers import Integral
from typing import Any

import torch
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval
from torch import nn

#: Parameter constraint of an architecture's layer sizes (None: the estimator's).
LAYER_SIZES = ["array-like", Interval(Integral, 1, None, closed="left"), None]


@dataclass(frozen=True)
class LayerSettings:
    """The estimator-level layer settings an architecture falls back on.

    Attributes
    ----------
    hidden_layer_sizes : tuple of int
        Widths of the shared layers (or of each expert, tower or column).
    head_layer_sizes : tuple of int
        Widths of each task head's hidden layers.
    activation : str
    dropout : float
    """

    hidden_layer_sizes: tuple[int, ...] = (128, 128)
    head_layer_sizes: tuple[int, ...] = ()
    activation: str = "relu"
    dropout: float = 0.0


class MultiTaskModule(nn.Module):
    """Base class of the networks skmtl trains.

    A multi-task module maps a batch of inputs to a tuple with one output tensor per
    task, in task order. It also says which of its parameters belong to one task only
    (:meth:`task_parameters`); all others are shared (:meth:`shared_parameters`).
    """

    def forward(self, X: Any) -> tuple[torch.Tensor, ...]:  # pragma: no cover
        """Compute every task's output.

        Parameters
        ----------
        X : torch.Tensor or dict of torch.Tensor
            A batch of inputs.

        Returns
        -------
        tuple of torch.Tensor
            One ``(n_samples, n_outputs)`` tensor per task.
        """
        raise NotImplementedError

    @property
    def n_tasks(self) -> int:
        """Number of tasks (outputs)."""
        raise NotImplementedError

    def task_parameters(self, task: int) -> Iterator[nn.Parameter]:
        """Parameters used by task ``task`` only.

        Parameters
        ----------
        task : int
            Position of the task.

        Returns
        -------
        iterator of torch.nn.Parameter
        """
        raise NotImplementedError

    def shared_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters that are not specific to one task.

        Returns
        -------
        iterator of torch.nn.Parameter
        """
        own = {id(p) for t in range(self.n_tasks) for p in self.task_parameters(t)}
        return (p for p in self.parameters() if id(p) not in own)

    #: Whether every task reads one shared representation (see :meth:`represent`).
    has_shared_representation: bool = False

    def represent(self, X: Any) -> torch.Tensor:
        """The shared representation every task reads (only if ``has_shared_representation``).

        Parameters
        ----------
        X : torch.Tensor or dict of torch.Tensor

        Returns
        -------
        torch.Tensor of shape (n_samples, width)
        """
        raise NotImplementedError(f"{type(self).__name__} has no single shared representation.")

    def heads_forward(self, features: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Every task's output from the shared representation (see :meth:`represent`).

        Parameters
        ----------
        features : torch.Tensor of shape (n_samples, width)

        Returns
        -------
        tuple of torch.Tensor
        """
        raise NotImplementedError(f"{type(self).__name__} has no single shared representation.")

    def last_shared_parameters(self) -> list[nn.Parameter]:
        """The parameters of the last shared layer (GradNorm measures gradients there).

        Each architecture names its own (e.g. the last dense layer of the trunk, or of
        every shared expert); empty when nothing is shared (``"separate"``). Frozen
        parameters are included: callers keep the trainable ones.

        Returns
        -------
        list of torch.nn.Parameter
        """
        return []

    def gate_outputs(self, X: Any) -> dict[str, torch.Tensor]:
        """Mixture weights of every gate for a batch (empty for gate-free networks).

        Parameters
        ----------
        X : torch.Tensor or dict of torch.Tensor

        Returns
        -------
        dict
            Gate name to a ``(n_samples, n_experts)`` tensor of weights summing to 1.
        """
        return {}


class Encoded(MultiTaskModule):
    """A shared input encoder (a user trunk) followed by a multi-task body.

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps a batch to a representation; its output is flattened to 2-D.
    body : MultiTaskModule
        The architecture built on the representation.
    """

    def __init__(self, encoder: nn.Module, body: MultiTaskModule):
        super().__init__()
        self.encoder = encoder
        self.body = body

    def forward(self, X):
        return self.body(self.encoder(X).flatten(1))

    @property
    def has_shared_representation(self) -> bool:  # type: ignore[override]
        return self.body.has_shared_representation

    def represent(self, X):
        return self.body.represent(self.encoder(X).flatten(1))

    def heads_forward(self, features):
        return self.body.heads_forward(features)

    @property
    def n_tasks(self) -> int:
        return self.body.n_tasks

    def task_parameters(self, task):
        return self.body.task_parameters(task)

    def last_shared_parameters(self):
        return self.body.last_shared_parameters() or last_layer(self.encoder)

    def gate_outputs(self, X):
        return self.body.gate_outputs(self.encoder(X).flatten(1))


def last_layer(*modules: nn.Module) -> list[nn.Parameter]:
    """Parameters of the last dense layer of each module (of its last parameterised
    submodule when it has no dense layer), for ``last_shared_parameters``.

    Parameters
    ----------
    *modules : torch.nn.Module

    Returns
    -------
    list of torch.nn.Parameter
    """
    params: list[nn.Parameter] = []
    for module in modules:
        dense = [m for m in module.modules() if isinstance(m, nn.Linear)]
        if dense:
            params += list(dense[-1].parameters())
            continue
        owners = [m for m in module.modules() if list(m.parameters(recurse=False))]
        if owners:
            params += list(owners[-1].parameters(recurse=False))
    return params


def instantiate_trunk(trunk: nn.Module | type[nn.Module]) -> nn.Module:
    """A fresh trunk: a new instance of a class, an instance's ``rebuilt()`` where it has
    one (:meth:`skmtl.architectures.MultiInput.rebuilt`: what it built itself is built
    anew, unless it is a fitted network's, which is deep-copied), or a deep copy of an
    instance.

    Parameters
    ----------
    trunk : torch.nn.Module or subclass of it

    Returns
    -------
    torch.nn.Module
    """
    if isinstance(trunk, type):
        return trunk()
    try:
        if callable(getattr(trunk, "rebuilt", None)):
            return trunk.rebuilt()
        return copy.deepcopy(trunk)
    except ValueError as error:
        if "uninitialized parameter" not in str(error):
            raise
        lazy = sorted({type(m).__name__ for m in trunk.modules()
                       if isinstance(m, nn.modules.lazy.LazyModuleMixin)
                       and m.has_uninitialized_params()})
        raise ValueError(
            f"The trunk holds uninitialised lazy layers ({', '.join(lazy) or 'lazy'}) that "
            "torch cannot copy, and a fit trains a copy of the trunk it is given. Give those "
            "layers their sizes (e.g. nn.BatchNorm1d(n_features) for nn.LazyBatchNorm1d), "
            "pass the trunk's class instead of an instance, or run one batch through the "
            "instance first.") from error


def output_width(module: nn.Module, sample: Any) -> int:
    """Width of ``module``'s flattened output on a sample batch (computed in eval mode).

    Parameters
    ----------
    module : torch.nn.Module
    sample : torch.Tensor or dict of torch.Tensor
        A small batch of inputs.

    Returns
    -------
    int
    """
    was_training = module.training
    module.eval()
    with torch.no_grad():
        out = module(sample)
    module.train(was_training)
    if not isinstance(out, torch.Tensor):
        raise TypeError(
            f"The trunk {type(module).__name__} must return one tensor per batch, got "
            f"{type(out).__name__}."
        )
    return int(out.flatten(1).shape[1])


class Architecture(BaseEstimator):
    """Base class of architecture specs: hyperparameters plus a ``build`` method.

    A spec only stores its hyperparameters (so ``get_params``/``set_params``,
    ``clone`` and ``GridSearchCV`` see them as ``architecture__<name>``); a value of
    None falls back on the estimator's ``hidden_layer_sizes``, ``head_layer_sizes``,
    ``activation`` and ``dropout``. Subclasses implement :meth:`_build_body`, and are
    registered by name in :data:`skmtl.architectures.ARCHITECTURES`.
    """

    #: Registry name.
    name: str = ""

    def build(
        self,
        n_features: int,
        head_outputs: Sequence[int],
        settings: LayerSettings,
        trunk: nn.Module | type[nn.Module] | None = None,
        sample: Any = None,
        stem: Callable[[], nn.Module] | None = None,
    ) -> MultiTaskModule:
        """Build the network.

        Parameters
        ----------
        n_features : int
            Number of input features (ignored when ``trunk`` is given).
        head_outputs : sequence of int
            Output width of each task.
        settings : LayerSettings
            The estimator's layer settings, used where a hyperparameter is None.
        trunk : torch.nn.Module, subclass of it, or None
            A user encoder. By default it is shared by all tasks and the architecture
            is built on its (flattened) output.
        sample : torch.Tensor or dict of torch.Tensor, default=None
            A few input rows, used to measure the trunk's output width.
        stem : callable or None, default=None
            Without a ``trunk``: a factory of the input layer (e.g.
            :class:`skmtl.tabular.FeatureEmbedding`, with an ``output_width``) the
            network reads X through. Shared by all tasks, except under ``"separate"``
            where each task gets its own.

        Returns
        -------
        MultiTaskModule
        """
        self._validate_params()
        if trunk is None and stem is not None:
            encoder = stem()
            return Encoded(encoder, self._build_body(encoder.output_width, head_outputs, settings))
        if trunk is None:
            return self._build_body(n_features, head_outputs, settings)
        encoder = instantiate_trunk(trunk)
        body = self._build_body(output_width(encoder, sample), head_outputs, settings)
        return Encoded(encoder, body)

    def _build_body(
        self, n_features: int, head_outputs: Sequence[int], settings: LayerSettings
    ) -> MultiTaskModule:
        raise NotImplementedError


class LayeredArchitecture(Architecture):
    """Base of the architectures configured by trunk (or column) and head layer sizes.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int or None, default=None
        None uses the estimator's ``hidden_layer_sizes``.
    head_layer_sizes : array-like of int or None, default=None
        None uses the estimator's ``head_layer_sizes``.
    """

    _parameter_constraints = {"hidden_layer_sizes": LAYER_SIZES, "head_layer_sizes": LAYER_SIZES}

    def __init__(self, hidden_layer_sizes=None, head_layer_sizes=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.head_layer_sizes = head_layer_sizes


def pick(value: Any, default: Any) -> tuple[int, ...] | Any:
    """``value`` as a tuple of ints when given, else ``default``."""
    if value is None:
        return default
    if isinstance(value, Integral):
        return (int(value),)
    return tuple(int(v) for v in value)


def head(n_in: int, sizes: Sequence[int], n_out: int, settings: LayerSettings) -> nn.Sequential:
    """A task head: hidden dense layers then a linear output layer.

    Parameters
    ----------
    n_in : int
    sizes : sequence of int
    n_out : int
    settings : LayerSettings

    Returns
    -------
    torch.nn.Sequential
    """
    from ._mlp import mlp

    body = mlp(n_in, sizes, settings.activation, settings.dropout)
    last = int(sizes[-1]) if len(sizes) else n_in
    return nn.Sequential(*body, nn.Linear(last, int(n_out)))
