"""The ``groups`` section renders from a results file alone, and the benchmark gives the
grouped network its training rows' groups and the other none."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from bench_results import BENCHMARKS, payload, render_section, seed_records

RANDOM = "skmtl, random validation rows"
GROUPED = "skmtl, validation on whole groups"


def test_groups_section_gives_the_grouped_network_against_random_rows_by_seed(tmp_path):
    r2 = {RANDOM: (-0.21, -0.20), GROUPED: (0.10, 0.12), "hgb": (0.04, 0.04)}
    records = seed_records(r2, "storms", "wind", 7.0, 100)
    config = {"reference": RANDOM, "quick": None,
              "views": {RANDOM: "random rows", GROUPED: "whole groups"},
              "datasets": {"storms": {"citation": "dplyr", "description": "by storm",
                                      "train_rows": 14_819, "test_rows": 4_718,
                                      "tasks": ["wind"]}}}
    text = render_section(tmp_path, "groups", payload("groups", records, config))
    # paired by seed: +0.31 and +0.32
    assert f"- storms, *{GROUPED}* against *{RANDOM}*: wind +0.3150 ± 0.0071." in text
    assert f"| {RANDOM} | -0.2050 ± 0.0071 | 7.0 (7.0–7.0) | 100 (100–100) |" in text
    assert "| hgb | 0.0400 ± 0.0000 |" in text
    assert f"- *{GROUPED}*: whole groups;" in text
    assert "## Grouped rows: validation on whole groups" in text
    assert "by storm (14,819 training / 4,718 test rows)" in text


def test_only_the_grouped_network_gets_groups_and_the_split_keeps_groups_whole(monkeypatch):
    sys.path.insert(0, str(BENCHMARKS))
    import datasets
    import groups

    rng = np.random.default_rng(0)
    names = np.repeat([f"s{i}" for i in range(30)], 4)
    X = pd.DataFrame({"a": rng.normal(size=120)})
    y = pd.DataFrame({"r": X["a"] + rng.normal(size=120)})
    data = datasets._grouped("toy", X, y, names, "here", "toy")
    assert not set(names[data.train]) & set(names[data.test])
    assert len(set(names[data.test])) == 8  # a quarter of the 30 groups, rounded up
    seen = {}

    def record(est, name, X_fit, y_fit, X_te, y_te, **fit_params):
        seen[est.random_state] = fit_params
        return {"metrics": {}}

    monkeypatch.setattr(groups, "fit_skmtl_table", record)
    groups.fit(RANDOM, data, 0, quick=False)
    groups.fit(GROUPED, data, 1, quick=False)
    assert seen[0] == {}
    np.testing.assert_array_equal(seen[1]["groups"], names[data.train])
