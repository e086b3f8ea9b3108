"""Prediction in chunks of rows: the same results as in one piece, with bounded memory."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import sparse
from skorch.helper import SliceDict

import skmtl._chunks as chunks
from skmtl import MultiTaskNet
from skmtl.architectures import MultiInput, TabM
from skmtl.metrics import mean_task_scorer, task_scorer, task_scorers
from skmtl.tabular import TabularEncoder
from skmtl.tasks import Classification, MultiLabel, Regression

FAST = dict(hidden_layer_sizes=(16,), max_epochs=3, batch_size=16, lr=1e-2, random_state=0,
            device="cpu")
N = 60
CHUNK = 7  # rows per chunk in the chunked runs: 60 rows -> 9 chunks, the last of 4 rows


def _targets(X, seed=0):
    """Regression, binary, 3-class and 2-label targets, with missing labels."""
    rng = np.random.RandomState(seed)
    a, b, c = X[:, 0], X[:, 1], X[:, 2]
    y = pd.DataFrame({
        "r": 2 * a - b + rng.normal(0, 0.1, len(a)),
        "bin": np.where(a + c > 0, "yes", "no"),
        "tri": np.where(b > 0.5, "x", np.where(b < -0.5, "y", "z")),
        "l1": (a > 0).astype(float),
        "l2": (c > 0.3).astype(float),
    })
    y.loc[::5, "bin"] = None
    y.loc[1::6, "r"] = np.nan
    y.loc[2::7, "l1"] = np.nan
    return y


TASKS = [Regression("r"), Classification("bin"), Classification("tri"),
         MultiLabel(["l1", "l2"], name="labels")]


def _data(n=N, d=5, seed=0):
    X = np.random.RandomState(seed).normal(size=(n, d)).astype(np.float32)
    return X, _targets(X, seed)


def _everything(model, X, y):
    """predict, predict_proba, score_tasks and the raw outputs of ``model`` on X."""
    return {"predict": model.predict(X), "proba": model.predict_proba(X),
            "scores": model.score_tasks(X, y), "outputs": model._outputs(X)}


def _assert_same(whole, chunked):
    pred_w, pred_c = whole["predict"], chunked["predict"]
    # labels equal; regression values up to float32 rounding (sums in another order)
    pd.testing.assert_frame_equal(pred_w, pred_c, check_exact=False, rtol=1e-5, atol=1e-5)
    for p_w, p_c in zip(whole["proba"], chunked["proba"]):
        np.testing.assert_allclose(p_w, p_c, rtol=1e-5, atol=1e-6)
    assert whole["scores"].keys() == chunked["scores"].keys()
    np.testing.assert_allclose(list(whole["scores"].values()),
                               list(chunked["scores"].values()), rtol=1e-6)
    for o_w, o_c in zip(whole["outputs"], chunked["outputs"]):
        assert o_c.dtype == np.float32 and o_c.shape == o_w.shape
        np.testing.assert_allclose(o_w, o_c, rtol=1e-5, atol=1e-5)


def _compare(monkeypatch, model, X, y):
    """Results in one chunk, then in chunks of CHUNK rows, which must agree."""
    whole = _everything(model, X, y)
    with monkeypatch.context() as m:
        m.setattr(chunks, "CHUNK_ROWS", CHUNK)
        m.setattr(chunks, "FORWARD_ROWS", 3)  # each chunk of 7 rows run as 3 + 3 + 1
        m.setattr(chunks, "FUSED_FORWARD_ROWS", 3)
        chunked = _everything(model, X, y)
    _assert_same(whole, chunked)
    return whole


@pytest.fixture(scope="module")
def array_model():
    X, y = _data()
    return MultiTaskNet(tasks=TASKS, **FAST).fit(X, y)


def test_chunked_equals_whole_for_arrays_with_missing_labels(monkeypatch, array_model):
    X, y = _data()
    whole = _compare(monkeypatch, array_model, X, y)
    assert whole["predict"].shape == (N, 5)
    assert [o.shape for o in whole["outputs"]] == [(N, 1), (N, 2), (N, 3), (N, 2)]


def test_chunked_equals_whole_for_a_dataframe_with_preprocessing(monkeypatch):
    rng = np.random.RandomState(1)
    X = pd.DataFrame({
        "num": rng.normal(size=N),
        "gap": np.where(rng.rand(N) < 0.2, np.nan, rng.normal(size=N)),
        "flag": rng.rand(N) > 0.5,
        "city": pd.Categorical(rng.choice(["a", "b", "c"], N)),
    }, index=pd.RangeIndex(500, 500 + N))
    y = _targets(np.column_stack([X["num"], rng.normal(size=N), X["num"] * 0.5]))
    y.index = X.index
    model = MultiTaskNet(tasks=TASKS, **FAST).fit(X, y)
    assert model.preprocessor_.numeric_transform == "quantile"
    X_new = X.sample(frac=1.0, random_state=0)  # shuffled: the index must follow the rows
    whole = _compare(monkeypatch, model, X_new, y.loc[X_new.index])
    assert whole["predict"].index.equals(X_new.index)


def test_chunked_equals_whole_for_sparse_input(monkeypatch):
    X, y = _data()
    X[np.abs(X) < 0.8] = 0
    model = MultiTaskNet(tasks=TASKS, **FAST).fit(sparse.csr_matrix(X), y)
    _compare(monkeypatch, model, sparse.csr_matrix(X), y)


def test_chunked_equals_whole_for_a_dict_of_inputs(monkeypatch):
    X, y = _data()
    rng = np.random.RandomState(2)
    inputs = SliceDict(tab=X, img=rng.normal(size=(N, 2, 3)).astype(np.float32))
    model = MultiTaskNet(tasks=TASKS, trunk=MultiInput({"tab": None, "img": None}, (8,)),
                         **FAST).fit(inputs, y)
    _compare(monkeypatch, model, inputs, y)


def test_chunked_equals_whole_for_tabm_members(monkeypatch):
    X, y = _data()
    model = MultiTaskNet(tasks=TASKS, **dict(FAST, architecture=TabM(k=3),
                                             numeric_embedding=None)).fit(X, y)
    whole = _compare(monkeypatch, model, X, y)
    assert [o.shape for o in whole["outputs"]] == [(N, 1), (N, 2), (N, 3), (N, 2)]


def test_chunked_equals_whole_with_thresholds_and_temperatures(monkeypatch):
    X, y = _data(n=120)
    model = MultiTaskNet(tasks=TASKS, **dict(FAST, threshold="f1",
                                             temperature_scaling=True)).fit(X, y)
    assert model.thresholds_ and model.temperatures_
    _compare(monkeypatch, model, X, y)


def _count_forwards(model):
    calls = []
    handle = model.net_.module_.register_forward_hook(
        lambda module, args, out: calls.append(len(out)))
    return calls, handle


def test_scores_run_the_network_once_per_chunk_for_all_tasks(monkeypatch, array_model):
    X, y = _data()
    monkeypatch.setattr(chunks, "CHUNK_ROWS", CHUNK)
    calls, handle = _count_forwards(array_model)
    try:
        array_model.score_tasks(X, y)
        assert len(calls) == -(-N // CHUNK) and set(calls) == {4}  # all 4 tasks each time
        calls.clear()
        array_model.score(X, y)
        assert len(calls) == -(-N // CHUNK)
        for metric in ("accuracy", "roc_auc"):
            calls.clear()
            score = mean_task_scorer(["bin", "tri"], metric)(array_model, X, y)
            assert len(calls) == -(-N // CHUNK)  # one prediction for both tasks
            each = [task_scorer(name, metric)(array_model, X, y) for name in ("bin", "tri")]
            assert score == pytest.approx(np.mean(each))
    finally:
        handle.remove()


def test_cpu_chunks_run_in_slices_of_forward_rows(monkeypatch, array_model):
    X, _ = _data()
    monkeypatch.setattr(chunks, "CHUNK_ROWS", CHUNK)
    monkeypatch.setattr(chunks, "FORWARD_ROWS", 3)
    monkeypatch.setattr(chunks, "FUSED_FORWARD_ROWS", 3)
    sizes = []
    handle = array_model.net_.module_.register_forward_hook(
        lambda module, args, out: sizes.append(len(args[0])))
    try:
        array_model._outputs(X)
    finally:
        handle.remove()
    # 8 chunks of 7 rows (3 + 3 + 1), then one of 4 rows (3 + 1)
    assert sizes == [3, 3, 1] * 8 + [3, 1]


def test_task_scorers_predict_once_for_all_entries(monkeypatch, array_model):
    X, y = _data()
    monkeypatch.setattr(chunks, "CHUNK_ROWS", CHUNK)
    spec = {"bin_acc": ("bin", "accuracy"), "tri_acc": ("tri", "accuracy"),
            "r_r2": ("r", "r2"), "bin_auc": ("bin", "roc_auc"),
            "mean_auc": (["bin", "tri"], "roc_auc")}
    calls, handle = _count_forwards(array_model)
    try:
        scores = task_scorers(spec)(array_model, X, y)
        # one predict and one predict_proba for the five scores
        assert len(calls) == 2 * -(-N // CHUNK)
    finally:
        handle.remove()
    assert list(scores) == list(spec)
    assert scores["bin_acc"] == task_scorer("bin", "accuracy")(array_model, X, y)
    assert scores["r_r2"] == task_scorer("r", "r2")(array_model, X, y)
    assert scores["mean_auc"] == mean_task_scorer(["bin", "tri"], "roc_auc")(array_model, X, y)
    assert scores["bin_auc"] == task_scorer("bin", "roc_auc")(array_model, X, y)


def test_task_scorers_as_multi_metric_scoring_of_cross_validate():
    from sklearn.model_selection import cross_validate

    X, y = _data(n=80)
    scoring = task_scorers({"bin_acc": ("bin", "accuracy"), "r_r2": ("r", "r2")})
    result = cross_validate(MultiTaskNet(tasks=TASKS, **FAST), X, y, cv=2, scoring=scoring)
    assert result["test_bin_acc"].shape == (2,) and result["test_r_r2"].shape == (2,)
    assert np.isfinite(result["test_bin_acc"]).all()


def test_task_scorers_refuse_a_bad_entry(array_model):
    with pytest.raises(ValueError, match=r"scores\['x'\] is 'bin'; give a \(task, metric\)"):
        task_scorers({"x": "bin"})
    with pytest.raises(ValueError, match="Unknown metric 'auc'"):
        task_scorers({"x": ("bin", "auc")})
    X, y = _data()
    with pytest.raises(ValueError, match="No task named 'nope'"):
        task_scorers({"x": ("nope", "accuracy")})(array_model, X, y)


def test_mean_task_scorer_rejects_a_regression_task_before_predicting(array_model):
    X, y = _data()
    calls, handle = _count_forwards(array_model)
    try:
        with pytest.raises(ValueError, match="needs probabilities, but task 'r'"):
            mean_task_scorer(["bin", "r"], "roc_auc")(array_model, X, y)
    finally:
        handle.remove()
    assert calls == []


def _record_as_tensor(monkeypatch):
    """Record the rows of every array torch.as_tensor converts during prediction."""
    rows = []
    original = torch.as_tensor

    def recording(data, *args, **kwargs):
        rows.append(len(data))
        return original(data, *args, **kwargs)

    monkeypatch.setattr(chunks.torch, "as_tensor", recording)
    return rows


def test_no_more_than_a_chunk_is_converted_or_encoded_at_once(monkeypatch, array_model):
    X, y = _data()
    encoded = []
    transform = TabularEncoder.transform

    def recording(self, frame):
        encoded.append(len(frame))
        return transform(self, frame)

    monkeypatch.setattr(TabularEncoder, "transform", recording)
    monkeypatch.setattr(chunks, "CHUNK_ROWS", CHUNK)
    converted = _record_as_tensor(monkeypatch)
    array_model.predict(X.astype(np.float64))
    array_model.predict_proba(X)
    assert encoded and max(encoded) == CHUNK and sum(encoded) == 2 * N
    assert converted and max(converted) == CHUNK and sum(converted) == 2 * N


def test_no_more_than_a_chunk_is_checked_at_once_without_the_encoder(monkeypatch):
    # a user trunk reads X as given: the float32 conversion and checks go chunk by chunk
    X, y = _data()
    model = MultiTaskNet(tasks=TASKS, trunk=torch.nn.Identity(), **FAST).fit(X, y)
    assert getattr(model, "preprocessor_", None) is None
    monkeypatch.setattr(chunks, "CHUNK_ROWS", CHUNK)
    converted = _record_as_tensor(monkeypatch)
    chunked = model._outputs(X.astype(np.float64))
    assert max(converted) == CHUNK and sum(converted) == N
    monkeypatch.setattr(chunks, "CHUNK_ROWS", 10 * N)
    for c, w in zip(chunked, model._outputs(X.astype(np.float64))):
        np.testing.assert_allclose(c, w, rtol=1e-5, atol=1e-6)


def test_bad_values_in_a_later_chunk_are_reported(monkeypatch):
    X, y = _data()
    model = MultiTaskNet(tasks=TASKS, trunk=torch.nn.Identity(), **FAST).fit(X, y)
    monkeypatch.setattr(chunks, "CHUNK_ROWS", CHUNK)
    bad = X.copy()
    bad[N - 2, 3] = np.nan
    with pytest.raises(ValueError, match=r"NaN .*column\(s\) \[3\]"):
        model.predict(bad)


def test_feature_name_warning_is_given_once_not_per_chunk(monkeypatch):
    X, y = _data()
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    model = MultiTaskNet(tasks=TASKS, **FAST).fit(frame, y)
    monkeypatch.setattr(chunks, "CHUNK_ROWS", CHUNK)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.predict(X)
    names = [w for w in caught if "feature names" in str(w.message)]
    assert len(names) == 1


def test_empty_input_is_refused_as_before(array_model):
    X, _ = _data()
    with pytest.raises(ValueError, match="0 sample"):
        array_model.predict(X[:0])


def test_wide_rows_get_fewer_rows_per_chunk(monkeypatch):
    assert chunks.chunk_rows(64) == chunks.CHUNK_ROWS
    assert chunks.chunk_rows(64 * 48) == chunks.CHUNK_VALUES // 3072
    assert chunks.chunk_rows(10 ** 9) == 1
    assert chunks.chunk_rows(8, limit=16) == 16
    monkeypatch.setattr(chunks, "CHUNK_ROWS", CHUNK)
    assert chunks.chunk_rows(4) == CHUNK


def test_chunks_are_sized_by_the_widest_activation_of_the_network(monkeypatch):
    # default tabular settings: piecewise-linear encoding of each feature, 48 bins by
    # default -> (rows, 5, 48) inside the stem, the widest tensor
    X, y = _data(n=400)
    model = MultiTaskNet(tasks=TASKS, **dict(FAST, hidden_layer_sizes=(8,))).fit(X, y)
    widths = []
    handle = model.net_.module_.register_forward_hook(lambda m, a, out: widths.append(len(a[0])))
    monkeypatch.setattr(chunks, "CHUNK_VALUES", 100 * 5 * 48)
    try:
        model.predict(X)
        assert widths == [2, 100, 100, 100, 100]  # the 2-row probe, then 4 chunks
        assert model._chunk_rows(len(X)) == 100
        widths.clear()
        assert model._chunk_rows(chunks.SMALL_ROWS) > chunks.SMALL_ROWS and widths == []
    finally:
        handle.remove()


def test_prediction_leaves_the_module_in_eval_mode_without_gradients(array_model):
    X, _ = _data()
    array_model.net_.module_.train()
    outputs = array_model._outputs(X)
    assert not array_model.net_.module_.training
    assert all(isinstance(o, np.ndarray) and o.dtype == np.float32 for o in outputs)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_weights_on_cuda_predict_as_on_the_cpu(monkeypatch):
    X, y = _data()
    model = MultiTaskNet(tasks=TASKS, **dict(FAST, device="cuda")).fit(X, y)
    monkeypatch.setattr(chunks, "CHUNK_ROWS", CHUNK)
    on_gpu = model._outputs(X)
    model.net_.module_.to("cpu")
    on_cpu = model._outputs(X)
    for g, c in zip(on_gpu, on_cpu):
        np.testing.assert_allclose(g, c, rtol=1e-4, atol=1e-4)


def test_forward_in_chunks_enters_the_context_per_call_and_returns_float32():
    class TwoTasks(torch.nn.Module):
        def forward(self, x):
            return [x[:, :1].to(torch.bfloat16), x[:, None, :].expand(-1, 3, -1) * 2]

    entered = []

    class Recording:
        def __enter__(self):
            entered.append(True)

        def __exit__(self, *exc):
            return False

    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    out = chunks.forward_in_chunks(TwoTasks(), 10, lambda a, b: X[a:b],
                                   ["regression", "regression"], torch.device("cpu"), rows=4,
                                   context=Recording)
    assert len(entered) == 3  # chunks of 4, 4 and 2 rows
    assert [o.dtype for o in out] == [np.float32, np.float32]
    np.testing.assert_array_equal(out[0], X[:, :1])  # small integers: exact in bfloat16
    np.testing.assert_array_equal(out[1], 2 * X)  # the members' mean (TabM-shaped output)


@pytest.mark.parametrize("numeric_transform", ["none", "quantile"])
def test_arrays_given_to_fit_and_predict_are_left_as_they_were(numeric_transform):
    # the checked array is wrapped in a DataFrame without a copy (the encoder only reads
    # it), also when its NaNs are replaced and in prediction chunks
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    X[::7, 1] = np.nan
    y = pd.DataFrame({"r": X[:, 0] * 2, "c": np.where(X[:, 2] > 0, "a", "b")})
    before = X.copy()
    model = MultiTaskNet(hidden_layer_sizes=(8,), max_epochs=2, numeric_transform=numeric_transform,
                         numeric_embedding=None, random_state=0).fit(X, y)
    np.testing.assert_array_equal(X, before)
    first = model.predict(X)
    np.testing.assert_array_equal(X, before)
    X_chunked = X.copy()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chunks, "CHUNK_ROWS", 64)
        patch.setattr(chunks, "SMALL_ROWS", 16)
        pd.testing.assert_frame_equal(model.predict(X_chunked), first)
    np.testing.assert_array_equal(X_chunked, before)


@pytest.mark.parametrize("bias", [True, False])
def test_stacked_heads_give_each_heads_own_output_without_gradients(bias):
    """Without gradients, shared_bottom's one-layer heads run as one matrix product of
    their stacked weights: the same outputs as head by head, in training mode too."""
    from skmtl.architectures._shared_bottom import SharedBottomModule

    torch.manual_seed(0)
    heads = [torch.nn.Sequential(torch.nn.Linear(8, n, bias=bias)) for n in (1, 2, 5)]
    module = SharedBottomModule(torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU()),
                                heads).eval()
    X = torch.randn(33, 4)
    features = module.represent(X)
    expected = [h(features) for h in module.heads]
    with torch.no_grad():
        stacked = module(X)
    assert [tuple(out.shape) for out in stacked] == [(33, 1), (33, 2), (33, 5)]
    for out, ref in zip(stacked, expected):
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-6, atol=1e-6)
    # with gradients (training), each head is called: its hooks and autograd see it
    calls = []
    module.heads[1].register_forward_hook(lambda *args: calls.append("grad"))
    module(X)
    assert calls == ["grad"]
    with torch.no_grad():  # a hook on a head also keeps the per-head calls
        module(X)
    assert calls == ["grad", "grad"]


def test_heads_with_and_without_bias_are_called_one_by_one(monkeypatch):
    from skmtl.architectures import _shared_bottom

    monkeypatch.setattr(_shared_bottom, "_stacked_linear",
                        lambda *args: pytest.fail("stacked with mixed biases"))
    torch.manual_seed(0)
    heads = [torch.nn.Linear(8, 2), torch.nn.Linear(8, 3, bias=False)]
    module = _shared_bottom.SharedBottomModule(torch.nn.Linear(4, 8), heads).eval()
    X = torch.randn(5, 4)
    with torch.no_grad():
        out = module(X)
    for o, h in zip(out, heads):
        torch.testing.assert_close(o, h(module.represent(X)))


@pytest.mark.parametrize(("head_layer_sizes", "stacked"), [((), True), ((4,), False)])
def test_only_one_layer_heads_are_stacked_in_predict(monkeypatch, head_layer_sizes, stacked):
    from skmtl.architectures import _shared_bottom

    calls = []
    real = _shared_bottom._stacked_weights  # the heads' weights stacked (plan or forward)
    monkeypatch.setattr(_shared_bottom, "_stacked_weights",
                        lambda *args: calls.append(1) or real(*args))
    X = np.random.RandomState(0).normal(size=(40, 3)).astype(np.float32)
    y = pd.DataFrame({"a": X[:, 0], "b": X[:, 1] > 0})
    est = MultiTaskNet(head_layer_sizes=head_layer_sizes, **FAST).fit(X, y)
    calls.clear()  # validation passes run without gradients too
    pred = est.predict(X)
    assert pred.shape == (40, 2) and list(pred.columns) == ["a", "b"]
    assert bool(calls) is stacked


def test_settle_heap_runs_before_a_cpu_prediction_of_several_slices(monkeypatch, array_model):
    X, _ = _data()
    calls = []
    monkeypatch.setattr(chunks, "settle_heap", lambda: calls.append(1))
    array_model._outputs(X[:10])  # one slice: nothing to settle
    assert calls == []
    monkeypatch.setattr(chunks, "FORWARD_ROWS", 3)
    monkeypatch.setattr(chunks, "FUSED_FORWARD_ROWS", 3)
    array_model._outputs(X[:10])
    assert calls == [1]


_FAULTS_SCRIPT = """
import resource, sys, warnings
import numpy as np
import torch
from skmtl import MultiTaskNet, _chunks
warnings.simplefilter("ignore")
torch.set_num_threads(1)
if sys.argv[1] == "off":
    _chunks.settle_heap = lambda: None
rng = np.random.default_rng(0)
X = rng.standard_normal((200_000, 16), dtype=np.float32)  # no large temporary freed
est = MultiTaskNet(hidden_layer_sizes=(256, 256), max_epochs=1, numeric_transform="none",
                   numeric_embedding=None, random_state=0).fit(X[:500], X[:500, :2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
est.predict(X)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc thresholds")
def test_a_first_large_prediction_does_not_fault_in_every_slice_again():
    """In a fresh process (glibc's thresholds at their start values), the slices'
    activations stay on the heap: far fewer page faults than without settle_heap."""
    # glibc's start values: a MALLOC_* variable (Dask's nanny sets MALLOC_TRIM_THRESHOLD_)
    # fixes the thresholds, and then no freed block moves them
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    faults = {}
    for mode in ("on", "off"):
        done = subprocess.run([sys.executable, "-c", _FAULTS_SCRIPT, mode], capture_output=True,
                              text=True, check=True, timeout=300, env=env)
        faults[mode] = int(done.stdout.split()[-1])
    if faults["off"] < 20_000:
        pytest.skip(f"this C library did not map the slices afresh ({faults})")
    assert faults["on"] < faults["off"] / 4, faults
