"""The ``unseen_categories`` section of docs/benchmarks.md, rendered from
``results/unseen_categories.json``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from report import chain_verdicts, development_tables, fill, small_tables_table

DELTA = "Δ vs category_dropout=0 (%)"


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    """The new-category splits in one table (each setting's change against no replacement,
    in points), the category each held out, then the ordinary development splits as the
    other development-suite sections show them."""
    cfg = res["config"]
    new = [n for n in cfg["datasets"] if n in cfg["new_category"]]
    ordinary_cfg = dict(cfg) | {"datasets": {n: d for n, d in cfg["datasets"].items()
                                             if n not in new}}
    ordinary = dict(res) | {"config": ordinary_cfg}
    values = development_tables(ordinary, DELTA)
    labels = {m: m.removeprefix("skmtl, ") for m in cfg["methods"] if m != cfg["reference"]}
    held = "\n".join(f"- {n}: {cfg['datasets'][n]['description'].split('; the rows:')[0]}."
                     for n in new)
    return fill("unseen_categories", values | {
        "new_table": small_tables_table(res["records"], cfg, new) if new else "(none measured)",
        "held_out": held,
        "verdicts": chain_verdicts(res["records"], ordinary_cfg, labels),
        "defaults": ", ".join(f"{k}={v!r}" for k, v in cfg["defaults"].items())})
