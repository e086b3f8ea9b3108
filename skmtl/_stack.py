"""The ``stacklevel`` that makes a warning point at the user's own call."""

from __future__ import annotations

import os
import sys

#: Packages whose frames a warning skips to reach the user's call.
_LIBRARIES = ("skmtl", "skorch", "torch")


def _library_dirs() -> tuple[str, ...]:
    return tuple(os.path.dirname(os.path.abspath(module.__file__)) + os.sep
                 for name in _LIBRARIES
                 if (module := sys.modules.get(name)) is not None and module.__file__)


def caller_level() -> int:
    """``stacklevel`` for a ``warnings.warn`` made by the function that calls this: it
    points at the first frame outside skmtl, skorch and torch (the user's ``fit`` call,
    not skorch's callback loop or skmtl's own layers)."""
    dirs = _library_dirs()
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(dirs):
        frame, level = frame.f_back, level + 1
    return level
