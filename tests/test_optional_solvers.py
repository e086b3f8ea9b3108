"""Weighting methods whose solver comes from an extra: a clear error without it, and a
test suite that still collects and runs (skipping them) when the extras are missing."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from skorch.callbacks import Callback

from skmtl import MultiTaskNet
from skmtl.weighting import CAGrad, NashMTL
from skmtl.weighting._torchjd import SOLVER_EXTRAS, missing_solvers

ROOT = Path(__file__).resolve().parents[1]
FAST = dict(hidden_layer_sizes=(8,), max_epochs=2, batch_size=32, device="cpu", random_state=0)
STEPS: list = []  # batches started (callbacks are cloned: record outside the instance)


class RecordSteps(Callback):
    def on_batch_begin(self, net, **kwargs):
        STEPS.append(1)


def _data(n=64):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n, 3)).astype("float32")
    y = pd.DataFrame({"r": X[:, 0] + 0.1 * rng.normal(size=n),
                      "c": np.where(X[:, 1] > 0, "a", "b")})
    return X, y


def _block(monkeypatch, *modules):
    """Make ``import module`` fail as if the package were not installed."""
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.parametrize(("weighting", "blocked", "extra"), [
    ("cagrad", ["cvxpy"], "skmtl[cagrad]"),
    (CAGrad(c=0.2), ["cvxpy"], "skmtl[cagrad]"),
    ("nash_mtl", ["ecos"], "skmtl[nash]"),
    (NashMTL(), ["cvxpy", "ecos"], "skmtl[nash]"),
], ids=["cagrad", "CAGrad", "nash_mtl-ecos", "NashMTL-both"])
def test_missing_solver_fails_before_training_and_names_the_extra(monkeypatch, weighting,
                                                                  blocked, extra):
    _block(monkeypatch, *blocked)
    name = weighting if isinstance(weighting, str) else weighting.name
    assert set(blocked) <= set(missing_solvers(name))
    STEPS.clear()
    X, y = _data()
    est = MultiTaskNet(weighting=weighting, callbacks=[RecordSteps()], **FAST)
    with pytest.raises(ImportError) as info:
        est.fit(X, y)
    message = str(info.value)
    assert f'weighting="{name}"' in message
    assert f'pip install "{extra}"' in message
    for module in blocked:
        assert module in message
    assert STEPS == []  # refused before the first step


def test_core_quadprog_solver_names_its_requirement(monkeypatch):
    _block(monkeypatch, "quadprog")
    X, y = _data()
    with pytest.raises(ImportError, match=r'weighting="upgrad".*quadprog.*'
                                          r'pip install "torchjd\[quadprog-projector\]'):
        MultiTaskNet(weighting="upgrad", **FAST).fit(X, y)


def test_methods_without_optional_solvers_need_nothing(monkeypatch):
    _block(monkeypatch, "cvxpy", "ecos")
    assert missing_solvers("equal") == missing_solvers("mgda") == []
    X, y = _data()
    est = MultiTaskNet(weighting="mgda", **FAST).fit(X, y)
    assert len(est.history_) == 2


def test_extras_named_in_errors_exist_and_the_tests_extra_has_them():
    tomllib = pytest.importorskip("tomllib")  # python >= 3.11
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for _, requirement in SOLVER_EXTRAS.values():
        if requirement.startswith("skmtl["):
            assert requirement[len("skmtl["):-1] in extras, requirement

    def torchjd_extras(group):
        (req,) = [r for r in extras[group] if r.startswith("torchjd[")]
        return set(req[len("torchjd["):req.index("]")].split(","))

    assert torchjd_extras("cagrad") == {"cagrad"}
    assert torchjd_extras("nash") == {"nash-mtl"}
    for group in ("weightings", "tests", "benchmarks"):
        assert torchjd_extras(group) >= {"cagrad", "nash-mtl"}, group


def test_suite_collects_and_skips_without_the_solver_extras():
    """In a fresh interpreter where cvxpy and ecos cannot be imported, the whole suite is
    collected and the solver tests skip with the reason."""
    code = (
        "import sys\n"
        "sys.modules['cvxpy'] = sys.modules['ecos'] = None\n"
        "import pytest\n"
        "args = ['-p', 'no:cacheprovider', '-p', 'no:xdist', '-q', '-rs']\n"
        "rc = pytest.main(args + ['--collect-only', 'tests'])\n"
        "if rc: sys.exit(f'collection failed: {rc}')\n"
        "sys.exit(pytest.main(args + ['tests/test_weighting.py', '-k',\n"
        "    'CAGrad or cagrad or nash_mtl or grid_search']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert " passed" not in out.splitlines()[-1], out[-3000:]  # every selected test skipped
    assert 'pip install "skmtl[cagrad]"' in out and "cvxpy" in out, out[-3000:]
