"""The ``averaging`` section of docs/benchmarks.md, rendered from ``results/averaging.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from report import development_tables, fill, metric_chains

DELTA = "Δ vs no averaging (%)"


def verdicts(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    """Per dataset and task: the mean held-out metric of each network in the order of
    ``cfg["methods"]``, the defaults' change against the reference (no averaging), and
    per-task HGB's."""
    default = list(cfg["methods"]).index(
        next(m for m in cfg["methods"] if m.startswith("skmtl defaults")))
    lines = []
    for name, chains in metric_chains(recs, cfg).items():
        cells = [f"{task} {' → '.join(f'{v:.4f}' for v in means)} (defaults "
                 f"{means[default] - ref:+.4f}; HGB {h:.4f})" for task, means, ref, h in chains]
        lines.append(f"- {name} ({cfg['datasets'][name]['train_rows']:,} rows fitted): "
                     f"{'; '.join(cells)}.")
    return "\n".join(lines) + "\n"


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    values = development_tables(res, DELTA)
    return fill("averaging", values | {"verdicts": verdicts(res["records"], res["config"])})
