"""Shared test configuration."""

import pytest
import torch

# The tests train tiny networks, for which one thread is fastest; and two torch processes
# with two threads each on two cores (pytest-xdist workers) run 3-4x slower each.
torch.set_num_threads(1)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--architectures", default=None, metavar="NAMES",
        help="comma-separated architecture names: a test parametrised by architecture (a "
             "parameter named 'architecture', or an estimator parameter) runs only for these. "
             "scripts/test_lower.sh passes 'shared_bottom,mmoe': the architectures are torch "
             "modules, and torch is the same version in both of CI's environments.",
    )


def _architecture(params: dict) -> str | None:
    """The architecture a parametrised test runs, or None if it is not parametrised by one."""
    if isinstance(params.get("architecture"), str):
        return params["architecture"]
    for value in params.values():
        inner = getattr(value, "estimator", value)  # TaskGrouping wraps its estimator
        if isinstance(getattr(inner, "architecture", None), str):
            return inner.architecture
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    names = config.getoption("--architectures")
    if not names:
        return
    keep = {name.strip() for name in names.split(",") if name.strip()}
    from skmtl.architectures import ARCHITECTURES

    unknown = keep - set(ARCHITECTURES)
    if unknown:
        raise pytest.UsageError(f"--architectures: unknown {sorted(unknown)}; "
                                f"known: {sorted(ARCHITECTURES)}")
    selected, deselected = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        name = _architecture(callspec.params) if callspec is not None else None
        (deselected if name is not None and name not in keep else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
