"""The ``data_parallel`` benchmark section renders from a results file alone."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import harness  # noqa: E402
from bench_results import payload  # noqa: E402

ONE, TWO = "1 process × 2 threads", "2 processes × 1 thread"


def _payload(records: list) -> dict:
    config = {"n": 20_000, "epochs": 5, "repeats": 2, "settings": {ONE: [1, 2], TWO: [2, 1]},
              "hidden": 256, "batch_size": 256, "lr": 1e-3, "test_fraction": 0.2,
              "data_seed": 0, "latent_seed": 1234}
    return payload("data_parallel", records, config, total_seconds=90.0,
                   _path="benchmarks/results/data_parallel.json")


def _record(method: str, seed: int, epochs: list[float], r2: float, **extra) -> dict:
    return harness.record(method, "synthetic", seed, n=20_000, epoch_seconds=epochs,
                          fit_seconds=sum(epochs) + 1.0, other_load=0.05,
                          metrics={"reg_r2": r2, "binary_acc": 0.8, "multiclass_acc": 0.5},
                          **extra)


def test_data_parallel_section_gives_mean_std_and_the_paired_ratio(tmp_path):
    records = [
        # medians: 1.0 and 2.0 for one process, 0.6 and 1.0 for two -> ratios 0.6 and 0.5
        _record(ONE, 0, [1.5, 1.0, 0.9], 0.70), _record(TWO, 0, [0.7, 0.6, 0.5], 0.70),
        _record(ONE, 1, [2.2, 2.0, 1.9], 0.72), _record(TWO, 1, [1.1, 1.0, 0.9], 0.7202),
        harness.record(TWO, "synthetic", 2, error="RuntimeError: the launch failed"),
    ]
    render = importlib.import_module("sections.data_parallel").render
    text = render(_payload(records), tmp_path / "report.md", False)
    # mean ± std over the seeds of the median epoch times, and of the test scores
    assert "| 1 process × 2 threads | 2 | 1.500 ± 0.707 |" in text
    assert "| 2 processes × 1 thread (1 failed) | 2 | 0.800 ± 0.283 |" in text
    assert "0.7100 ± 0.0141" in text
    assert "0.7101 ± 0.0143" in text
    # the paired ratio over the seeds both settings measured, and the score gap
    assert "over 2 seed(s): 0.55 ± 0.07" in text
    assert "one seed: 2.0e-04" in text
    assert "20,000 rows: the first 16,000 train" in text
    assert "$" not in text.replace("$results_file", "")


def test_data_parallel_section_without_pairs_says_so(tmp_path):
    records = [_record(ONE, 0, [1.0], 0.7),
               harness.record(TWO, "synthetic", 0, error="RuntimeError: boom")]
    render = importlib.import_module("sections.data_parallel").render
    text = render(_payload(records), tmp_path / "report.md", False)
    assert "Paired ratio: not available" in text
    assert "| 2 processes × 1 thread (1 failed) | 0 |" in text
