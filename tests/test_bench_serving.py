"""The ``serving`` section renders from a results file alone, with the target verdict."""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import harness  # noqa: E402
from bench_results import payload  # noqa: E402
from sections.serving import render  # noqa: E402 - also before report.py lists the section

CONFIG = {"rows": 1_000_000, "defaults_rows": 200_000, "features": 64, "repeats": 3, "threads": 2, "hidden": [256, 256],
          "fit_rows": 5000, "epochs": 1, "x_seed": 1, "model_seed": 0, "methods": {},
          "as_before": {"numeric_transform": "none", "numeric_embedding": None},
          "target": {"rows": 1_000_000, "rows_per_s": 1_000_000, "memory_mb": 600},
          "before": {"skmtl_rows_per_s": 675_000, "skmtl_memory_mb": 1354,
                     "mlp_rows_per_s": 275_000, "mlp_memory_mb": 1975,
                     "compute_limit_rows_per_s": 1_500_000},
          "chunk_rows": 32768, "forward_rows": 2048, "fused_forward_rows": 4096}


def _rec(key: str, method: str, seconds: list[float], memory: float, **extra) -> dict:
    rec = harness.record(method, "synthetic", 1, key=key, rows=1_000_000, seconds=seconds,
                         rows_per_s=[1_000_000 / s for s in seconds], memory_mb=memory,
                         baseline_mb=600.0, x_mb=244.140625, peak_reset=True, other_load=0.01)
    rec.update(extra)
    return rec


def _render(tmp_path: Path, records: list, config: dict = CONFIG) -> str:
    results = tmp_path / "serving.json"
    results.write_text(json.dumps(payload("serving", records, config, total_seconds=90.0)))
    res = harness.load_results(results)
    res["_path"] = results.name
    return render(res, tmp_path / "report.md", figures=False)


def test_serving_section_meets_the_target(tmp_path):
    records = [_rec("skmtl", "skmtl predict (plain MLP, as in the issue)", [0.8, 0.5, 1.0], 200.0),
               _rec("mlp", "scikit-learn MLPRegressor", [4.0, 4.0, 4.0], 1950.0),
               harness.record("skmtl ONNX export, ONNX Runtime", "synthetic", 1, key="onnx",
                              error="ModuleNotFoundError: No module named 'skmtl.export'")]
    text = _render(tmp_path, records)
    # best 1/0.5 = 2,000,000 rows/s; mean of 1.25M, 2M, 1M = 1,416,667 ± 520,416
    assert ("| skmtl predict (plain MLP, as in the issue) | 1,000,000 | 2,000,000 "
            "| 1,416,667 ± 520,416 "
            "| 0.767 | 200 | 0.82 | 0.01 |") in text
    assert ("| scikit-learn MLPRegressor | 1,000,000 | 250,000 | 250,000 ± 0 | 4.000 | 1,950 "
            "| 7.99 |") in text
    assert "on the first 200,000 rows only" in text
    assert "(failed: ModuleNotFoundError: No module named 'skmtl.export')" in text
    assert "- Throughput: 2,000,000 rows/s (best of 3; mean 1,416,667 ± 520,416): met." in text
    assert "- Peak memory growth: 200 MB: met." in text
    assert "before: 675,000 rows/s, +1,354 MB" in text
    assert "32,768 rows at a time" in text and "slices of 2,048 rows (4,096 rows when" in text


def test_serving_section_says_when_the_target_is_not_met(tmp_path):
    records = [_rec("skmtl", "skmtl predict (plain MLP, as in the issue)", [1.6, 1.5, 1.7], 700.0,
                    other_load=0.6)]
    text = _render(tmp_path, records)
    assert "- Throughput: 666,667 rows/s (best of 3; mean 626,634 ± 39,241): NOT met." in text
    assert "- Peak memory growth: 700 MB: NOT met." in text
    assert "Other processes used 0.60 cores" in text
    assert "matrix products alone" not in text.split("Target (")[1]
    # with the floor in the same run: how far the target and the result are from it
    records.append(_rec("gemm", "the network's matrix products alone, MKL (floor)",
                        [0.95, 0.9, 0.92], 10.0))
    text = _render(tmp_path, records)
    assert ("- The network's matrix products alone reached 1,111,111 rows/s (best of the floor "
            "rows) in this run: the target asks `predict` for 90% of that speed, and it "
            "reached 60%.") in text
    # two floors (MKL's and oneDNN's products): the faster one is the floor
    records.append(_rec("gemm-dnn", "the network's matrix products alone, oneDNN (floor)",
                        [0.8, 0.85, 0.9], 10.0))
    text = _render(tmp_path, records)
    assert "reached 1,250,000 rows/s (best of the floor rows)" in text
    assert "asks `predict` for 80% of that speed, and it reached 53%." in text


def test_serving_section_without_a_verdict_for_a_smaller_run_or_a_failure(tmp_path):
    quick = dict(CONFIG, rows=100_000)
    records = [_rec("skmtl", "skmtl predict (plain MLP, as in the issue)", [0.1, 0.1, 0.1], 50.0)]
    text = _render(tmp_path, records, quick)
    assert "Not evaluated: this run predicted 100,000 rows, the target is for 1,000,000." in text
    failed = [harness.record("skmtl predict (plain MLP, as in the issue)", "synthetic", 1,
                             key="skmtl", error="RuntimeError: boom")]
    text = _render(tmp_path, failed)
    assert "Cannot be evaluated: skmtl's predict was not measured (RuntimeError: boom)." in text
