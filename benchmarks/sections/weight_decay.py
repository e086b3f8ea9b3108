"""The ``weight_decay`` section of docs/benchmarks.md, rendered from ``results/weight_decay.json``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from report import settings_section

DELTA = "Δ vs no decay (%)"


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """Per large table, each network's metrics and each decay's change against Adam without
    decay (labelled by the decay), then the small tables."""
    cfg = res["config"]
    labels = {m: f"{s['weight_decay']:g}" for m, s in cfg["methods"].items()
              if m != cfg["reference"]}
    return settings_section("weight_decay", res, DELTA, labels)
