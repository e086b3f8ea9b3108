"""The ``dates`` section of docs/benchmarks.md, rendered from ``results/dates.json``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from report import views_section


def render(res: Mapping[str, Any], report: Path, figures: bool) -> str:
    return views_section("dates", res)
