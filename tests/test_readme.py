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

    # What the four prints show, as the README's comments say: a DataFrame of the three
    # tasks with X's index, the sex task's class probabilities, the mean score, and one
    # score per task.
    head = model.predict(X.head(3))
    assert head.index.equals(X.head(3).index)  # a DataFrame's index flows to the predictions
    summary = model.preprocessor_.summary()  # what was done to each column
    assert summary.loc["island", "kind"] == "categorical"
    assert (summary.loc[["bill_length_mm", "bill_depth_mm", "flipper_length_mm"], "kind"]
            == "numeric").all()
    lines = out.strip().splitlines()
    assert lines[0].split() == ["species", "sex", "body_mass_g"]
    assert [line.split()[0] for line in lines[1:4]] == [str(i) for i in X.head(3).index]
    # the sex task's probabilities, labelled by class, on the same rows
    assert lines[4].split() == ["class", "female", "male"]
    proba = model.predict_proba(X.head(3))[1]
    for line, label, row in zip(lines[5:8], X.head(3).index, proba):
        assert line.split()[0] == str(label)
        assert [float(v) for v in line.split()[1:]] == pytest.approx(row, abs=1e-6)
    assert float(lines[8]) == pytest.approx(model.score(X, y))
    assert float(lines[8]) == pytest.approx(sum(scores.values()) / 3)
    assert lines[9].startswith("{'species': ") and "'sex': " in lines[9]
    assert "'body_mass_g': " in lines[9] and len(lines) == 10

    # Predictions follow X's index, in any row order (defect 11 of issue 10).
    rows = X.sample(15, random_state=0)
    assert model.predict(rows).index.equals(rows.index)
