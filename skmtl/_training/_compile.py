"""``compile=``: the network's forward through :func:`torch.compile`.

The compiled wrapper shares the module's parameters and is kept beside it, never in
its place: the module keeps its parameter names (``freeze``, checkpoints, state dicts)
and the fitted estimator pickles without it (the wrapper is rebuilt on first use).
"""

from __future__ import annotations

import contextlib
import shutil
from typing import Any

import torch


def compile_options(compile: bool | dict) -> dict | None:
    """Keyword arguments of :func:`torch.compile` for ``compile=`` (None: no compiling).

    Parameters
    ----------
    compile : bool or dict
        False, True (torch's defaults) or a dict of ``torch.compile`` keyword arguments
        (``mode``, ``dynamic``, ``backend``, ``options``, ...).

    Returns
    -------
    dict or None
    """
    if compile is False:
        return None
    return {} if compile is True else dict(compile)


def check_compile(options: dict | None, device: str) -> None:
    """Raise a clear error when ``torch.compile`` with ``options`` cannot work here.

    The default backend (inductor) generates C++ on the CPU: it needs a C++ compiler.

    Parameters
    ----------
    options : dict or None
    device : str
    """
    if options is None:
        return
    backend = options.get("backend", "inductor")
    if backend == "inductor" and torch.device(device).type == "cpu":
        from torch._inductor import config

        cxx = config.cpp.cxx[0] if isinstance(config.cpp.cxx, tuple) else config.cpp.cxx
        names = [cxx] if cxx else ["g++", "c++", "clang++"]
        if not any(shutil.which(name) for name in names):
            raise RuntimeError(
                "compile=True compiles the network with torch.compile, whose default backend "
                "(inductor) needs a C++ compiler on the CPU, and none was found "
                f"({', '.join(names)}). Install one (e.g. g++), pass "
                "compile={'backend': 'aot_eager'}, or set compile=False."
            )


def compile_module(module: torch.nn.Module, options: dict) -> torch.nn.Module:
    """A :func:`torch.compile` wrapper of ``module`` (sharing its parameters).

    Parameters
    ----------
    module : torch.nn.Module
    options : dict
        Keyword arguments of ``torch.compile``.

    Returns
    -------
    torch.nn.Module
        The compiled module; attributes other than its call (``represent``,
        ``task_parameters``, ...) are the module's own, uncompiled.
    """
    return torch.compile(module, **options)


@contextlib.contextmanager
def compile_errors() -> Any:
    """Turn a failure of torch.compile (dynamo or inductor) into a RuntimeError that
    names ``compile=`` and what to do; other errors pass unchanged."""
    try:
        yield
    except Exception as exc:
        origin = type(exc).__module__ or ""
        if origin.startswith(("torch._dynamo", "torch._inductor")):
            raise RuntimeError(
                f"compile= failed to compile the network with torch.compile "
                f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}). "
                "Set compile=False to train it without compiling."
            ) from exc
        raise
