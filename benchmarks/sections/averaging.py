"""The ``averaging`` section of docs/benchmarks.md, rendered from ``results/averaging.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from report import chain_verdicts, development_tables, fill

DELTA = "Δ vs no averaging (%)"


def verdicts(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    """Per dataset and task: the mean held-out metric of each network in the order of
    ``cfg["methods"]``, the defaults' change against the reference (no averaging), and
    per-task HGB's."""
    default = next(m for m in cfg["methods"] if m.startswith("skmtl defaults"))
    return chain_verdicts(recs, cfg, {default: "defaults"})


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    values = development_tables(res, DELTA)
    return fill("averaging", values | {"verdicts": verdicts(res["records"], res["config"])})
