"""The README's example runs and prints what the README says it prints."""

import re
from pathlib import Path

import pandas as pd
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example(capsys):
    pytest.importorskip("palmerpenguins")
    code = re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    model, X, y = namespace["model"], namespace["X"], namespace["y"]
    pred = model.predict(X)
    assert isinstance(pred, pd.DataFrame) and list(pred.columns) == ["species", "sex", "body_mass_g"]
    assert int(y["sex"].isna().sum()) == 9  # the README's claim
    scores = model.score_tasks(X, y)
    assert scores["species"] > 0.95 and scores["sex"] > 0.75 and scores["body_mass_g"] > 0.75

    # What the three prints show, as the README's comments say: a DataFrame of the three
    # tasks with X's index, the mean score, and one score per task.
    head = model.predict(X.head(3))
    assert head.index.equals(X.head(3).index)  # a DataFrame's index flows to the predictions
    summary = model.preprocessor_.summary()  # what was done to each column
    assert summary.loc["island", "kind"] == "categorical"
    assert (summary.loc[["bill_length_mm", "bill_depth_mm", "flipper_length_mm"], "kind"]
            == "numeric").all()
    lines = out.strip().splitlines()
    assert lines[0].split() == ["species", "sex", "body_mass_g"]
    assert [line.split()[0] for line in lines[1:4]] == [str(i) for i in X.head(3).index]
    assert float(lines[4]) == pytest.approx(model.score(X, y))
    assert float(lines[4]) == pytest.approx(sum(scores.values()) / 3)
    assert lines[5].startswith("{'species': ") and "'sex': " in lines[5]
    assert "'body_mass_g': " in lines[5] and len(lines) == 6

    # Predictions follow X's index, in any row order (defect 11 of issue 10).
    rows = X.sample(15, random_state=0)
    assert model.predict(rows).index.equals(rows.index)
