"""Predictions line up with ``y`` by index inside a Pipeline (issue 10, defect 11).

A ``ColumnTransformer`` outputs NumPy arrays by default, so inside a ``Pipeline`` the
network never sees X's index and ``predict`` returns a fresh ``RangeIndex``: after a
shuffled split, ``pred[col] - y_test[col]`` silently pairs the wrong rows. The README and
every example must ask for pandas output; these tests check that they do, and that with
it the rows pair up.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skmtl import MultiTaskNet

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
TRANSFORMERS = ("ColumnTransformer", "make_column_transformer")


def _penguin_like(n: int = 120, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small table shaped like the README's penguins (no dataset package needed)."""
    rng = np.random.RandomState(seed)
    island = rng.choice(["Biscoe", "Dream", "Torgersen"], n)
    bill = rng.normal(44, 5, n)
    flipper = rng.normal(200, 14, n)
    X = pd.DataFrame({"island": island, "bill_length_mm": bill, "flipper_length_mm": flipper})
    y = pd.DataFrame({
        "species": np.where(flipper > 205, "Gentoo", np.where(bill > 44, "Chinstrap", "Adelie")),
        "sex": pd.Series(np.where(bill + rng.normal(0, 2, n) > 44, "male", "female"), dtype=object),
        "body_mass_g": 20.0 * flipper + rng.normal(0, 100, n),
    })
    y.loc[rng.rand(n) < 0.1, "sex"] = np.nan  # some labels missing, as in the README
    # A non-default index, as a real table loaded from a file and filtered would have.
    index = pd.Index(rng.permutation(np.arange(1000, 1000 + 3 * n, 3)), name="penguin_id")
    return X.set_axis(index), y.set_axis(index)


def _readme_pipeline(**params) -> object:
    """The README's pipeline (pandas output), with a short training."""
    return make_pipeline(
        make_column_transformer(
            (OneHotEncoder(sparse_output=False), ["island"]), remainder=StandardScaler()
        ).set_output(transform="pandas"),
        MultiTaskNet(**{"max_epochs": 5, "device": "cpu", "random_state": 0, **params}),
    )


# -- (a) predictions pair with the right rows after a shuffled split -------------------


def test_pipeline_predictions_align_with_shuffled_y_test():
    X, y = _penguin_like()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.4, random_state=0)
    assert not y_test.index.is_monotonic_increasing  # really shuffled
    model = _readme_pipeline().fit(X_train, y_train)
    pred = model.predict(X_test)

    assert pred.index.equals(y_test.index)
    assert pred.index.equals(X_test.index)

    # The row-by-row error, computed by hand: predict each test row on its own and
    # subtract that row's label, looked up by its index label.
    diff = pred["body_mass_g"] - y_test["body_mass_g"]
    assert diff.index.equals(y_test.index) and not diff.isna().any()
    for label in y_test.index[:8]:
        alone = model.predict(X_test.loc[[label]])
        assert alone.index.tolist() == [label]
        expected = alone["body_mass_g"].iloc[0] - y_test.loc[label, "body_mass_g"]
        assert diff.loc[label] == pytest.approx(expected, rel=1e-5, abs=1e-3)
        assert pred.loc[label, "species"] == alone["species"].iloc[0]

    # Positional and index-aligned comparisons agree (nothing was re-paired).
    np.testing.assert_allclose(
        diff.to_numpy(), pred["body_mass_g"].to_numpy() - y_test["body_mass_g"].to_numpy()
    )
    labelled = y_test["sex"].notna()
    by_index = (pred["sex"] == y_test["sex"])[labelled].mean()
    by_position = (pred["sex"].to_numpy() == y_test["sex"].to_numpy())[labelled.to_numpy()].mean()
    assert by_index == by_position


def test_pipeline_index_alignment_through_global_set_config():
    """``set_config(transform_output="pandas")`` carries the index as well."""
    from sklearn import config_context

    X, y = _penguin_like(seed=1)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=1)
    with config_context(transform_output="pandas"):
        model = make_pipeline(
            make_column_transformer(
                (OneHotEncoder(sparse_output=False), ["island"]), remainder=StandardScaler()
            ),
            MultiTaskNet(max_epochs=2, device="cpu", random_state=0),
        ).fit(X_train, y_train)
        pred = model.predict(X_test)
    assert pred.index.equals(y_test.index)


# -- (b) the README's example carries the index ------------------------------------------


def _readme_code() -> str:
    return re.search(r"```python\n(.*?)```", README.read_text(), re.S).group(1)


def test_readme_example_fits_the_raw_frame_or_keeps_pandas_output():
    code = _readme_code()
    assert "fit(X, y)" in code and "ColumnTransformer" not in code
    assert _transformers_without_pandas_output(code) == [], (
        "a ColumnTransformer in the README must carry X's index: add "
        '.set_output(transform="pandas")'
    )


def test_readme_pipeline_pairs_rows_after_a_shuffled_split():
    """The README's own model, refitted on a shuffled split of its data: the
    predictions keep X_test's index, so ``pred[col] - y_test[col]`` pairs the right rows."""
    pytest.importorskip("palmerpenguins")
    code = _readme_code().replace("MultiTaskNet(random_state=0)",
                                  "MultiTaskNet(random_state=0, max_epochs=3)")
    code = code.split("print(", 1)[0]  # the README's code up to its fit
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    X, y = namespace["X"], namespace["y"]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
    model = clone(namespace["model"]).fit(X_train, y_train)
    assert model.max_epochs == 3
    pred = model.predict(X_test)
    assert pred.index.equals(y_test.index)
    diff = pred["body_mass_g"] - y_test["body_mass_g"]
    assert not diff.isna().any()
    for label in y_test.index[:5]:
        alone = model.predict(X_test.loc[[label]])
        expected = alone["body_mass_g"].iloc[0] - y_test.loc[label, "body_mass_g"]
        assert diff.loc[label] == pytest.approx(expected, rel=1e-5, abs=1e-3)


# -- (c) no example or doc snippet builds a ColumnTransformer without pandas output -----


def _is_pandas_output_call(node: ast.AST) -> bool:
    """``<something>.set_output(transform="pandas")``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "set_output"
        and any(
            kw.arg == "transform" and isinstance(kw.value, ast.Constant)
            and kw.value.value == "pandas"
            for kw in node.keywords
        )
    )


def _sets_global_pandas_output(tree: ast.AST) -> bool:
    """``set_config(transform_output="pandas")`` or ``config_context(...)`` anywhere."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            if name in ("set_config", "config_context") and any(
                kw.arg == "transform_output" and isinstance(kw.value, ast.Constant)
                and kw.value.value == "pandas"
                for kw in node.keywords
            ):
                return True
    return False


def _transformers_without_pandas_output(code: str) -> list[int]:
    """Line numbers of ColumnTransformers built in ``code`` whose output is not pandas.

    A ColumnTransformer is fine when the call is directly followed by
    ``.set_output(transform="pandas")``, when the variable it is assigned to gets
    ``.set_output(transform="pandas")`` later, or when the code sets pandas output
    globally with ``set_config`` / ``config_context``.
    """
    tree = ast.parse(code)
    if _sets_global_pandas_output(tree):
        return []
    wrapped: set[int] = set()
    configured_names: set[str] = set()
    for node in ast.walk(tree):
        if _is_pandas_output_call(node):
            target = node.func.value
            wrapped.add(id(target))
            if isinstance(target, ast.Name):
                configured_names.add(target.id)
    assigned: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            if isinstance(node.targets[0], ast.Name):
                assigned[id(node.value)] = node.targets[0].id
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", None))
        if name not in TRANSFORMERS:
            continue
        if id(node) in wrapped or assigned.get(id(node)) in configured_names:
            continue
        bad.append(node.lineno)
    return bad


def _code_blocks(path: Path) -> list[tuple[int, str]]:
    """Python code of a file: the whole module, or each Python block of a doc page."""
    text = path.read_text()
    if path.suffix == ".py":
        return [(1, text)]
    blocks = []
    if path.suffix == ".md":
        for match in re.finditer(r"```(?:python|py)\n(.*?)```", text, re.S):
            blocks.append((text[: match.start()].count("\n") + 2, match.group(1)))
    elif path.suffix == ".rst":
        pattern = (
            r"\.\. (?:code-block|code|sourcecode):: (?:python|py)\n"  # the directive,
            r"(?:[ \t]+:.*\n)*\n"  # its options and a blank line,
            r"((?:[ \t]+.*\n|\n)+)"  # then the indented code
        )
        for match in re.finditer(pattern, text):
            lines = match.group(1).splitlines()
            indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
            code = "\n".join(line[indent:] for line in lines)
            blocks.append((text[: match.start(1)].count("\n") + 1, code))
    return blocks


def _documented_files() -> list[Path]:
    files = [README]
    files += sorted((ROOT / "docs").glob("*.md")) + sorted((ROOT / "docs").glob("*.rst"))
    files += sorted((ROOT / "examples").glob("*.py")) + sorted((ROOT / "scripts").glob("*.py"))
    return files


def test_examples_and_docs_scan_finds_the_known_usages():
    """The scan sees the pipelines it is meant to guard (so it cannot pass vacuously)."""
    found = {
        path.name
        for path in _documented_files()
        for _, code in _code_blocks(path)
        if any(name in code for name in TRANSFORMERS)
    }
    # (the README's example fits the raw DataFrame: no transformer there any more)
    assert {"guide.md", "getting_started.rst", "plot_1_quickstart.py",
            "penguins_demo.py"} <= found


def test_scan_flags_a_column_transformer_without_pandas_output():
    bad = "from sklearn.compose import make_column_transformer\nct = make_column_transformer()\n"
    assert _transformers_without_pandas_output(bad) == [2]
    fixed = [
        "ct = make_column_transformer().set_output(transform='pandas')",
        "ct = ColumnTransformer([])\nct.set_output(transform='pandas')",
        "set_config(transform_output='pandas')\nct = ColumnTransformer([])",
        "make_pipeline(make_column_transformer(\n  (OneHotEncoder(), ['a'])\n"
        ").set_output(transform='pandas'), MultiTaskNet())",
    ]
    for code in fixed:
        assert _transformers_without_pandas_output(code) == [], code
    assert _transformers_without_pandas_output(
        "ct = ColumnTransformer([]).set_output(transform='default')"
    ) == [1]


@pytest.mark.parametrize("path", _documented_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_column_transformer_in_examples_and_docs_outputs_pandas(path):
    problems = []
    for start, code in _code_blocks(path):
        if not any(name in code for name in TRANSFORMERS):
            continue
        try:
            lines = _transformers_without_pandas_output(code)
        except SyntaxError as exc:  # a block we cannot read must not hide a usage
            pytest.fail(f"{path.name}: the Python block at line {start} does not parse: {exc}")
        problems += [start + line - 1 for line in lines]
    assert not problems, (
        f"{path.relative_to(ROOT)}: ColumnTransformer at line(s) {problems} outputs NumPy "
        "arrays, so predictions lose X's index; add .set_output(transform=\"pandas\") "
        "(or set_config(transform_output=\"pandas\"))."
    )


# -- (d) X and y whose indexes hold the same rows in different orders ------------------
@pytest.mark.parametrize("make", ["net", "ensemble", "grouping"])
def test_x_and_y_indexes_in_different_orders_are_refused_in_fit_and_score(make):
    """skmtl pairs rows by position, as scikit-learn does: y sorted (or from a shuffled
    copy) would train every row on another row's labels, without an error."""
    from skmtl import MultiTaskEnsemble, TaskGrouping

    X, y = _penguin_like()
    net = MultiTaskNet(max_epochs=2, random_state=0)
    model = {"net": net, "ensemble": MultiTaskEnsemble([net], n_seeds=2),
             "grouping": TaskGrouping(net, n_groups=2, affinity_epochs=1, random_state=0)}[make]
    shuffled = y.sort_index()
    message = (r"X and y hold the same row labels \(index\) in different orders: row 0 is "
               rf"{X.index[0]} in X but {shuffled.index[0]} in y\. .* y = y\.loc\[X\.index\]")
    with pytest.raises(ValueError, match=message):
        clone(model).fit(X, shuffled)
    fitted = clone(model).fit(X, y)
    with pytest.raises(ValueError, match=message):
        fitted.score(X, shuffled)
    assert fitted.score(X, shuffled.loc[X.index]) == fitted.score(X, y)
    if make == "net":
        with pytest.raises(ValueError, match=message):
            clone(model).partial_fit(X, shuffled, classes={
                "species": ["Adelie", "Chinstrap", "Gentoo"], "sex": ["female", "male"]})
        # other indexes are paired by position, as scikit-learn pairs them
        reset = clone(model).fit(X, y.reset_index(drop=True))
        assert reset.score(X, y.reset_index(drop=True)) == pytest.approx(fitted.score(X, y))
        clone(model).fit(X.to_numpy(), shuffled)  # an array has no index to compare


@pytest.mark.parametrize("make", ["net", "ensemble", "grouping"])
def test_sample_weight_and_groups_in_another_order_than_x_are_refused(make):
    from skmtl import MultiTaskEnsemble, TaskGrouping

    X, y = _penguin_like()
    weights = pd.Series(np.arange(1.0, len(X) + 1), index=X.index)
    groups = pd.Series(np.arange(len(X)) // 4, index=X.index)
    net = MultiTaskNet(max_epochs=2, random_state=0, early_stopping=True)
    model = {"net": net, "ensemble": MultiTaskEnsemble([net], cv=2),
             "grouping": TaskGrouping(net, n_groups=2, affinity_epochs=1, random_state=0)}[make]
    with pytest.raises(ValueError, match=r"X and sample_weight hold the same row labels "
                       r"\(index\) in different orders: .* another row's sample_weight\. "
                       r"Align them first, e\.g\. sample_weight = sample_weight\.loc\[X\.index\]"):
        clone(model).fit(X, y, sample_weight=weights.sort_index())
    with pytest.raises(ValueError, match=r"X and groups hold the same row labels"):
        clone(model).fit(X, y, groups=groups.sort_index())
    fitted = clone(model).fit(X, y, sample_weight=weights, groups=groups)
    with pytest.raises(ValueError, match=r"X and sample_weight hold the same row labels"):
        fitted.score(X, y, sample_weight=weights.sort_index())
    assert fitted.score(X, y, sample_weight=weights) == pytest.approx(
        fitted.score(X, y, sample_weight=weights.to_numpy()))


def test_a_default_range_index_pairs_by_position_whatever_the_other_order():
    """A frame built from an array (or reset_index(drop=True)) has 0..n-1 as its index: its
    labels say nothing about which row is which, so a shuffled X with such a y is paired
    by position, as scikit-learn pairs it; the same shuffled rows with their own labels
    are refused."""
    X, y = _penguin_like()
    X = X.reset_index(drop=True)
    y = y.reset_index(drop=True)
    shuffled = X.sample(frac=1.0, random_state=0)  # index: a permutation of 0..n-1
    labels = y.loc[shuffled.index].reset_index(drop=True)  # positional, fresh RangeIndex
    model = MultiTaskNet(max_epochs=2, random_state=0)
    fitted = clone(model).fit(shuffled, labels)
    assert fitted.score(shuffled, labels) == pytest.approx(
        fitted.score(shuffled.to_numpy(), labels))
    scaled = pd.DataFrame(shuffled.to_numpy(), columns=shuffled.columns)  # X fresh
    clone(model).fit(scaled.astype({"bill_length_mm": float, "flipper_length_mm": float}),
                     y.loc[shuffled.index])
    with pytest.raises(ValueError, match="X and y hold the same row labels"):
        clone(model).fit(shuffled, y.loc[shuffled.index].sort_index().set_axis(
            shuffled.index[::-1]))
