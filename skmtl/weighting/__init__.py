"""Task balancing: loss weightings and gradient aggregations (the latter from torchjd)."""

from ._aggregation import AggregatingBalancer, Aggregation, implied_weights
from ._base import Balancer, LossBalancer, Weighting
from ._dwa import DWA
from ._equal import Equal
from ._gls import GLS
from ._gradnorm import GradNorm, gradnorm_targets
from ._rlw import RLW
from ._torchjd import IMTLG, MGDA, AlignedMTL, CAGrad, DualProj, GradDrop, NashMTL, PCGrad, UPGrad
from ._uncertainty import Uncertainty

#: Registry of weighting names to spec classes. Adding one is one module plus one line.
WEIGHTINGS: dict[str, type[Weighting]] = {
    cls.name: cls
    for cls in (Equal, Uncertainty, DWA, GLS, RLW, GradNorm,
                MGDA, PCGrad, CAGrad, NashMTL, IMTLG, GradDrop, AlignedMTL, UPGrad, DualProj)
}


def get_weighting(weighting: str | Weighting) -> Weighting:
    """Resolve a weighting given by name or as a spec instance.

    Parameters
    ----------
    weighting : str or Weighting

    Returns
    -------
    Weighting
    """
    if isinstance(weighting, Weighting):
        return weighting
    if weighting in WEIGHTINGS:
        return WEIGHTINGS[weighting]()
    raise ValueError(f"Unknown weighting {weighting!r}; use one of {sorted(WEIGHTINGS)}.")


__all__ = [
    "CAGrad", "DWA", "GLS", "IMTLG", "MGDA", "RLW", "WEIGHTINGS", "AggregatingBalancer",
    "Aggregation", "AlignedMTL", "Balancer", "DualProj", "Equal", "GradDrop", "GradNorm",
    "LossBalancer", "NashMTL", "PCGrad", "UPGrad", "Uncertainty", "Weighting",
    "get_weighting", "gradnorm_targets", "implied_weights",
]
