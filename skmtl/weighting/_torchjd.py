"""The gradient aggregators taken from torchjd, exposed as skmtl weighting specs.

Each class only maps its hyperparameters to the torchjd aggregator of the same name;
the aggregation itself is torchjd's (https://github.com/TorchJD/torchjd).

Some aggregators need a solver package that only an extra installs (see
:data:`SOLVER_EXTRAS`); picking one without it makes ``fit`` raise an ``ImportError``
that names the method and the ``pip install`` command, before the first step.
"""

from __future__ import annotations

import importlib
from numbers import Integral, Real

import numpy as np
import torch
import torchjd.aggregation as tja
from sklearn.utils._param_validation import Interval, StrOptions

from ._aggregation import Aggregation

_MODE = Aggregation._parameter_constraints

#: Weighting name -> (modules its torchjd aggregator imports, pip requirement installing
#: them). ``cagrad`` and ``nash_mtl`` need a skmtl extra (``skmtl[weightings]`` installs
#: both); ``upgrad`` and ``dualproj`` need quadprog, one of skmtl's own dependencies.
SOLVER_EXTRAS: dict[str, tuple[tuple[str, ...], str]] = {
    "cagrad": (("cvxpy",), "skmtl[cagrad]"),
    "nash_mtl": (("cvxpy", "ecos"), "skmtl[nash]"),
    "upgrad": (("qpsolvers", "quadprog"), "torchjd[quadprog-projector]>=0.18,<0.19"),
    "dualproj": (("qpsolvers", "quadprog"), "torchjd[quadprog-projector]>=0.18,<0.19"),
}


def missing_solvers(name: str) -> list[str]:
    """The solver modules that weighting ``name`` needs and that cannot be imported.

    Parameters
    ----------
    name : str
        A weighting name (``"cagrad"``, ``"nash_mtl"``, ...); names that need no
        optional package give ``[]``.

    Returns
    -------
    list of str
    """
    missing = []
    for module in SOLVER_EXTRAS.get(name, ((), ""))[0]:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    return missing


def _require_solvers(spec: Aggregation) -> None:
    """Raise a clear ``ImportError`` when ``spec``'s solver packages are missing."""
    missing = missing_solvers(spec.name)
    if missing:
        requirement = SOLVER_EXTRAS[spec.name][1]
        packages = " and ".join(missing)
        raise ImportError(
            f'weighting="{spec.name}" ({type(spec).__name__}) needs the optional solver '
            f"package{'s' if len(missing) > 1 else ''} {packages}, which cannot be imported. "
            f'Install {"them" if len(missing) > 1 else "it"} with: pip install "{requirement}"'
        )


class _NeedsSolver:
    """Mixin of the aggregations listed in :data:`SOLVER_EXTRAS`: checks the solver
    packages when the balancer is built in ``fit`` (before the first step, even where
    the torchjd aggregator itself is only made at the first step), and again whenever
    an aggregator is made."""

    def _build(self, *args, **kwargs):
        _require_solvers(self)
        return super()._build(*args, **kwargs)


class MGDA(Aggregation):
    """Multiple-gradient descent (Désidéri 2012; Sener and Koltun, NeurIPS 2018):
    the minimum-norm point of the convex hull of the task gradients
    (``torchjd.aggregation.MGDA``).

    Parameters
    ----------
    epsilon : float, default=0.001
        Convergence tolerance of the Frank-Wolfe solver.
    max_iters : int, default=100
    mode : {"auto", "representation", "parameters"}, default="auto"
    """

    name = "mgda"
    _parameter_constraints = {**_MODE, "epsilon": [Interval(Real, 0, None, closed="neither")],
                              "max_iters": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, epsilon=0.001, max_iters=100, mode="auto"):
        self.epsilon = epsilon
        self.max_iters = max_iters
        self.mode = mode

    def _aggregator(self, n_tasks):
        return tja.MGDA(epsilon=self.epsilon, max_iters=self.max_iters)


class PCGrad(Aggregation):
    """Projecting conflicting gradients (Yu et al., NeurIPS 2020)
    (``torchjd.aggregation.PCGrad``).

    Parameters
    ----------
    mode : {"auto", "representation", "parameters"}, default="auto"
    """

    name = "pcgrad"

    def _aggregator(self, n_tasks):
        return tja.PCGrad()


class CAGrad(_NeedsSolver, Aggregation):
    """Conflict-averse gradient descent (Liu et al., NeurIPS 2021)
    (``torchjd.aggregation.CAGrad``, which needs ``cvxpy``: ``pip install "skmtl[cagrad]"``).

    Parameters
    ----------
    c : float, default=0.5
        Radius of the ball around the mean gradient the update is searched in.
    mode : {"auto", "representation", "parameters"}, default="auto"
    """

    name = "cagrad"
    _parameter_constraints = {**_MODE, "c": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, c=0.5, mode="auto"):
        self.c = c
        self.mode = mode

    def _aggregator(self, n_tasks):
        _require_solvers(self)
        return tja.CAGrad(c=self.c)


class NashMTL(_NeedsSolver, Aggregation):
    """Nash bargaining solution (Navon et al., ICML 2022) (``torchjd.aggregation.NashMTL``,
    which needs ``cvxpy`` and ``ecos``: ``pip install "skmtl[nash]"``).

    Parameters
    ----------
    update_weights_every : int, default=1
        Solve for new weights every this many steps.
    mode : {"auto", "representation", "parameters"}, default="auto"
    """

    name = "nash_mtl"
    _parameter_constraints = {**_MODE, "update_weights_every": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, update_weights_every=1, mode="auto"):
        self.update_weights_every = update_weights_every
        self.mode = mode

    def _aggregator(self, n_tasks):
        _require_solvers(self)
        return tja.NashMTL(n_tasks=n_tasks, update_weights_every=self.update_weights_every)

    # torchjd's NashMTL is stateful: it starts each solve from the last solution and
    # counts steps for update_weights_every. A checkpoint keeps both.
    @staticmethod
    def _save_state(aggregator) -> dict:
        weighting = aggregator.weighting
        return {"step": float(weighting.step),
                "prvs_alpha": torch.from_numpy(np.array(weighting.prvs_alpha)),
                "normalization_factor": torch.from_numpy(np.array(weighting.normalization_factor))}

    @staticmethod
    def _load_state(aggregator, state: dict) -> None:
        weighting = aggregator.weighting
        weighting.prvs_alpha = state["prvs_alpha"].numpy().copy()
        weighting.normalization_factor = state["normalization_factor"].numpy().copy()
        weighting.step = float(state["step"])
        if weighting.step > 0:  # forward builds the problem at step 0 only
            weighting._init_optim_problem()


class IMTLG(Aggregation):
    """Impartial MTL, gradient part (Liu et al., ICLR 2021): equal projections of the
    update on every task gradient (``torchjd.aggregation.IMTLG``).

    Parameters
    ----------
    mode : {"auto", "representation", "parameters"}, default="auto"
    """

    name = "imtl_g"

    def _aggregator(self, n_tasks):
        return tja.IMTLG()


class GradDrop(Aggregation):
    """Gradient sign dropout (Chen et al., NeurIPS 2020) (``torchjd.aggregation.GradDrop``).
    It is random and has no task weights: the recorded weights are the least-squares
    weights reproducing its update.

    Parameters
    ----------
    mode : {"auto", "representation", "parameters"}, default="auto"
    """

    name = "graddrop"

    def _aggregator(self, n_tasks):
        return tja.GradDrop()


class AlignedMTL(Aggregation):
    """Aligned-MTL (Senushkin et al., CVPR 2023): align the principal components of the
    task gradients (``torchjd.aggregation.AlignedMTL``).

    Parameters
    ----------
    scale_mode : {"min", "median", "rmse"}, default="min"
    mode : {"auto", "representation", "parameters"}, default="auto"
    """

    name = "aligned_mtl"
    _parameter_constraints = {**_MODE, "scale_mode": [StrOptions({"min", "median", "rmse"})]}

    def __init__(self, scale_mode="min", mode="auto"):
        self.scale_mode = scale_mode
        self.mode = mode

    def _aggregator(self, n_tasks):
        return tja.AlignedMTL(scale_mode=self.scale_mode)


class UPGrad(_NeedsSolver, Aggregation):
    """Unconflicting projection of gradients (Quinton and Rey, 2024)
    (``torchjd.aggregation.UPGrad``; needs ``torchjd[quadprog-projector]``).

    Parameters
    ----------
    mode : {"auto", "representation", "parameters"}, default="auto"
    """

    name = "upgrad"

    def _aggregator(self, n_tasks):
        _require_solvers(self)
        return tja.UPGrad()


class DualProj(_NeedsSolver, Aggregation):
    """Projection of the mean gradient onto the dual cone of the task gradients
    (``torchjd.aggregation.DualProj``; needs ``torchjd[quadprog-projector]``).

    Parameters
    ----------
    mode : {"auto", "representation", "parameters"}, default="auto"
    """

    name = "dualproj"

    def _aggregator(self, n_tasks):
        _require_solvers(self)
        return tja.DualProj()
