"""The ``precision`` section renders from a results file alone (a hand-made fixture)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import harness  # noqa: E402

precision = importlib.import_module("sections.precision")


def _rec(method: str, seed: int, epochs: list[float], loss: float, error: str | None = None):
    rec = harness.record(method, "synthetic", seed, n=1000, epoch_seconds=epochs,
                         fit_seconds=sum(epochs), other_load=0.0, train_loss=loss,
                         metrics={"reg_r2": 0.8, "binary_acc": 0.9, "multiclass_acc": 0.7})
    rec["error"] = error
    return rec


@pytest.fixture
def results() -> dict:
    records = []
    for seed in (0, 1):
        records += [
            _rec("float32", seed, [0.6, 0.5, 0.5, 0.5], 1.00),
            _rec("bf16", seed, [0.5, 0.4, 0.4, 0.4], 1.01 if seed == 0 else 0.98),
            _rec("compile module", seed, [20.5 if seed == 0 else 5.5, 0.25, 0.25, 0.25], 1.00),
        ]
    records.append(_rec("compile step", 0, [], 1.0, error="RuntimeError: boom"))
    config = {"n_train": 1000, "n_test": 500, "epochs": 4, "seeds": 2,
              "methods": ["float32", "bf16", "compile module", "compile step"], "threads": 2,
              "data_seed": 0, "latent_seed": 1234, "hidden": 256, "batch_size": 256,
              "lr": 1e-3, "compile_options": {}, "cpu_capability": "AVX512"}
    return {"benchmark": "precision", "schema": harness.SCHEMA, "quick": False,
            "command": "python benchmarks/precision.py", "runner": None,
            "machine": {**harness.machine_info(), "date_utc": "2026-01-01T00:00:00+00:00"},
            "skmtl": "skmtl 0.0", "total_seconds": 120.0, "other_load": 0.0,
            "records": records, "extra": {}, "config": config}


def test_precision_section_rows_and_ratios(results):
    text = precision.render(results, Path("docs/benchmarks.md"), False)
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
            for line in text.splitlines() if line.startswith("| ") and "---" not in line}
    header = rows.pop("method")
    col = {name: i for i, name in enumerate(header)}
    # steady epochs (2+): 0.5 s float32, 0.4 s bf16, 0.25 s compiled: paired ratios 0.8, 0.5
    assert rows["float32"][col["s/epoch (epochs 2+)"]] == "0.500 ± 0.000"
    assert rows["bf16"][col["ratio to float32 (paired)"]] == "0.800 ± 0.000"
    assert rows["compile module"][col["ratio to float32 (paired)"]] == "0.500 ± 0.000"
    # warm-up = first epoch minus the steady time: 20.25 s (seed 0, cold cache), then 5.25 s
    assert rows["compile module"][col["warm-up s"]] == "12.75 ± 10.61"
    assert rows["compile module"][col["cold warm-up s"]] == "20.25"
    # loss gaps +1 % and -2 %: mean -0.5 %, largest 2 %
    assert rows["bf16"][col["loss gap to float32"]].startswith("-0.50 ± 2.12 % (largest 2.00 %)")
    assert "compile step (not measured: RuntimeError: boom)" in rows
    assert "torch's defaults (inductor)" in text and "AVX512" in text
    assert "- bf16: steady epoch time 0.80× float32's (1.25× as fast as float32)" in text
    assert "within 2.00 % of float32's on every seed" in text
    assert "- compile step: not compared" in text
    assert "$" not in text.replace("$results_file", "")  # every placeholder filled
