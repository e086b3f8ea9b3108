"""The ``bins`` section of docs/benchmarks.md, rendered from ``results/bins.json``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from report import development_tables, fill, metric_chains

DELTA = "Δ vs n_bins='auto' at row quantiles (%)"


def verdicts(recs: Sequence[Mapping[str, Any]], cfg: Mapping[str, Any]) -> str:
    """Per dataset and task: the mean held-out metric of each skmtl rule, in the order of
    ``cfg["methods"]`` (the defaults last), the defaults' change against the reference
    (``cfg["reference"]``), and per-task HGB's."""
    lines = []
    for name, chains in metric_chains(recs, cfg).items():
        cells = [f"{task} {' → '.join(f'{v:.4f}' for v in means)} ({means[-1] - ref:+.4f}; "
                 f"HGB {h:.4f})" for task, means, ref, h in chains]
        d = cfg["datasets"][name]
        lines.append(f"- {name} (`n_bins='auto'` = {cfg['auto_bins'][name]} bins at "
                     f"{d['train_rows']:,} rows): {'; '.join(cells)}.")
    return "\n".join(lines) + "\n"


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    values = development_tables(res, DELTA)
    return fill("bins", values | {"verdicts": verdicts(res["records"], res["config"])})
