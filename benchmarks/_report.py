"""Compatibility shim for the benchmark scripts not yet migrated to results files.

``architectures.py`` and ``weighting.py`` still build
their sections themselves and import these names from here; the code now lives
in ``harness.py`` (measuring) and ``report.py`` (rendering).  Delete this module
once the last of them writes a results file instead.
"""

from __future__ import annotations

from harness import (  # noqa: F401 - re-exported
    REPO_ROOT,
    CpuSnapshot,
    command_line,
    cpu_snapshot,
    delta_mtl,
    machine_info,
    other_cpu_load,
)
from report import (  # noqa: F401 - re-exported
    _TITLE,
    DEFAULT_REPORT,
    FIGURE_DIR,
    _markers,
    markdown_table,
    plot_metric_by_method,
    plot_time_vs_quality,
    provenance,
    report_path,
    save_figure,
    write_section,
)
