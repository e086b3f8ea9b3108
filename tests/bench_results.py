"""A benchmark results file as the harness writes it, for the tests of the report's sections."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import harness  # noqa: E402
import report  # noqa: E402


def payload(name: str, records: list, config: dict, total_seconds: float = 60.0,
            **extra: Any) -> dict:
    """The results file of benchmark ``name`` (``harness.Run.save``'s fields, a fixed
    date); ``extra`` adds top-level fields (e.g. ``_path``)."""
    return {"benchmark": name, "schema": harness.SCHEMA, "quick": False,
            "command": f"python benchmarks/{name}.py", "runner": None,
            "machine": {**harness.machine_info(), "date_utc": "2026-01-01T00:00:00+00:00"},
            "skmtl": "skmtl 0.0", "total_seconds": total_seconds, "other_load": 0.0,
            "records": records, "extra": {}, "config": config, **extra}


def render_section(tmp_path: Path, name: str, results: dict) -> str:
    """The report that ``report.render`` writes for section ``name`` from ``results``
    (saved under ``tmp_path``)."""
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(results))
    out = tmp_path / "report.md"
    report.render(name, path, out, figures=False)
    return out.read_text()


def seed_records(values: Mapping[str, Sequence[float]], dataset: str, metric: str,
                 fit_seconds: float, epochs: int, seconds_per_seed: float = 0.0) -> list[dict]:
    """One record per method of ``values`` and seed s: ``metric`` is the method's s-th
    value, the fit time ``fit_seconds + s * seconds_per_seed``."""
    return [harness.record(m, dataset, s, metrics={metric: v}, epochs=epochs,
                           fit_seconds=fit_seconds + s * seconds_per_seed)
            for m, seeds in values.items() for s, v in enumerate(seeds)]


#: Descriptions of development-suite datasets as the harness writes them (census and
#: yeast: large tables; journals: a small one).
DEVELOPMENT_DATASETS = {
    "census": {"citation": "UCI", "description": "the training rows", "train_rows": 159_618,
               "test_rows": 39_905, "tasks": ["income_50k"]},
    "yeast": {"citation": "river", "description": "yeast's training rows", "train_rows": 1_200,
              "test_rows": 300, "tasks": ["Class1", "Class2"]},
    "journals": {"citation": "AER", "description": "d", "train_rows": 144, "test_rows": 36,
                 "tasks": ["r"]},
}


def development_datasets(*names: str) -> dict:
    """The :data:`DEVELOPMENT_DATASETS` named, in that order (copies)."""
    return {name: dict(DEVELOPMENT_DATASETS[name]) for name in names}
