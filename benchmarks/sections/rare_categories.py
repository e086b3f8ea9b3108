"""The ``rare_categories`` section of docs/benchmarks.md, rendered from
``results/rare_categories.json``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from report import settings_section

DELTA = "Δ vs every category its own code (%)"


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """Per large table, each network's metrics and each setting's change against every
    category having its own code (labelled by the setting), then the small tables."""
    cfg = res["config"]
    labels = {m: m.removeprefix("skmtl, ") for m in cfg["methods"] if m != cfg["reference"]}
    return settings_section("rare_categories", res, DELTA, labels)
