"""Multi-task network architectures, each in its own module, registered by name."""

from ._base import MultiTaskModule
from ._mlp import ACTIVATIONS, mlp
from ._shared_bottom import SharedBottom

#: Registry of architecture names to module classes.
ARCHITECTURES: dict[str, type[MultiTaskModule]] = {
    "shared_bottom": SharedBottom,
}

__all__ = ["ACTIVATIONS", "ARCHITECTURES", "MultiTaskModule", "SharedBottom", "mlp"]
