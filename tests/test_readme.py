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
    assert "species" in out and "body_mass_g" in out
    model, X, y = namespace["model"], namespace["X"], namespace["y"]
    pred = model.predict(X)
    assert isinstance(pred, pd.DataFrame) and list(pred.columns) == ["species", "sex", "body_mass_g"]
    assert int(y["sex"].isna().sum()) == 9  # the README's claim
    scores = model[-1].score_tasks(model[:-1].transform(X), y)
    assert scores["species"] > 0.95 and scores["sex"] > 0.75 and scores["body_mass_g"] > 0.75
