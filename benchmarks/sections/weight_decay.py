"""The ``weight_decay`` section of docs/benchmarks.md, rendered from ``results/weight_decay.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from report import chain_verdicts, development_tables, fill

DELTA = "Δ vs no decay (%)"


def verdicts(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    """Per dataset and task: the mean held-out metric of each network in the order of
    ``cfg["methods"]``, each decay's change against Adam without decay, and per-task HGB's."""
    labels = {m: f"{s['weight_decay']:g}" for m, s in cfg["methods"].items()
              if m != cfg["reference"]}
    return chain_verdicts(recs, cfg, labels)


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    values = development_tables(res, DELTA)
    defaults = res["config"]["defaults"]
    values["defaults"] = ", ".join(f"{k}={v!r}" for k, v in defaults.items())
    return fill("weight_decay", values | {"verdicts": verdicts(res["records"], res["config"])})
