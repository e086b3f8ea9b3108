"""Multi-task network architectures, each in its own module, registered by name."""

from ._base import Architecture, Encoded, LayerSettings, MultiTaskModule
from ._cgc import CGC
from ._cross_stitch import CrossStitch, CrossStitchModule
from ._mlp import ACTIVATIONS, mlp
from ._mmoe import MMoE, MMoEModule
from ._multi_input import MultiInput
from ._ple import PLE, PLEModule
from ._separate import Separate, SeparateModule
from ._shared_bottom import SharedBottom, SharedBottomModule
from ._tabm import TabM, TabMModule, combine_members

#: Registry of architecture names to spec classes. Adding one is one module plus one line.
ARCHITECTURES: dict[str, type[Architecture]] = {
    SharedBottom.name: SharedBottom,
    Separate.name: Separate,
    MMoE.name: MMoE,
    CGC.name: CGC,
    PLE.name: PLE,
    CrossStitch.name: CrossStitch,
    TabM.name: TabM,
}


def get_architecture(architecture: str | Architecture) -> Architecture:
    """Resolve an architecture given by name or as a spec instance.

    Parameters
    ----------
    architecture : str or Architecture

    Returns
    -------
    Architecture
    """
    if isinstance(architecture, Architecture):
        return architecture
    if architecture in ARCHITECTURES:
        return ARCHITECTURES[architecture]()
    raise ValueError(
        f"Unknown architecture {architecture!r}; use one of {sorted(ARCHITECTURES)} or a "
        "skmtl.architectures.Architecture instance."
    )


__all__ = [
    "ACTIVATIONS",
    "ARCHITECTURES",
    "CGC",
    "PLE",
    "Architecture",
    "CrossStitch",
    "CrossStitchModule",
    "Encoded",
    "LayerSettings",
    "MMoE",
    "MMoEModule",
    "MultiInput",
    "MultiTaskModule",
    "PLEModule",
    "Separate",
    "SeparateModule",
    "SharedBottom",
    "SharedBottomModule",
    "TabM",
    "TabMModule",
    "combine_members",
    "get_architecture",
    "mlp",
]
