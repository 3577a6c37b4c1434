"""Numeric inputs: robust scaling with a smooth clip, numeric embeddings, feature scaling."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._engine.groups import ParameterGroups
from sklearn_dnn._inputs import describe
from sklearn_dnn._nn.inputs import InputStage

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

FAST = dict(max_epochs=3, random_state=0, hidden_layer_sizes=(8,))


def clip(x):
    return x / np.sqrt(1 + (x / 3) ** 2)


def table(n=200, seed=0):
    """A heavy-tailed column, a binary one, a mostly-zero one (IQR 0) and a one-hot pair."""
    rng = np.random.default_rng(seed)
    X = np.column_stack(
        [
            rng.standard_t(2, size=n) * 50 + 7,
            rng.integers(0, 2, n),
            np.where(rng.random(n) < 0.9, 0.0, rng.uniform(1, 9, n)),
            np.eye(2)[rng.integers(0, 2, n)],
        ]
    )
    return X, X[:, 0] / 50 + X[:, 1]


def robust_expected(X):
    """What robust scaling should give each column of a dense X without missing values."""
    out = X.astype(float).copy()
    for j in range(X.shape[1]):
        col = X[:, j]
        if len(np.unique(col)) <= 2:
            continue
        q25, q50, q75 = np.quantile(col, [0.25, 0.5, 0.75])
        scale = q75 - q25 if q75 > q25 else (col.max() - col.min()) / 2
        out[:, j] = clip((col - q50) / scale)
    return out


# Robust scaling alone: the stage's output is the scaled columns.
ROBUST_ONLY = dict(numeric_scaling="robust", numeric_embedding=None, feature_scaling=False)


def stage_output(est, codes):
    with torch.no_grad():
        return est.module_.inputs(torch.as_tensor(codes, dtype=torch.float32)).numpy()


def test_robust_scaling_of_an_array_is_median_iqr_then_smooth_clip():
    X, y = table()
    est = DeepRegressor(**ROBUST_ONLY, **FAST).fit(X, y)
    inputs = est._inputs_
    assert inputs.continuous == (0, 2) and inputs.clipped == (0, 2)
    # The mostly-zero column has IQR 0: half its range instead.
    assert inputs.scale[2] == pytest.approx((X[:, 2].max() - X[:, 2].min()) / 2)
    assert inputs.mean[1] == 0 and inputs.scale[1] == 1  # binary: unchanged
    out = stage_output(est, X)
    np.testing.assert_allclose(out, robust_expected(X), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out[:, [1, 3, 4]], X[:, [1, 3, 4]])  # binary, one-hot
    assert np.abs(out).max() < 3  # clipped, though the t(2) column has outliers
    # "auto" leaves an array as it is; robust scaling does not.
    assert DeepRegressor(numeric_scaling="auto", **FAST).fit(X, y)._inputs_.mean is None


def test_robust_scaling_of_a_frame_imputes_with_the_median_first():
    pd = pytest.importorskip("pandas")
    X, y = table()
    gappy = X[:, 0].copy()
    gappy[::7] = np.nan
    df = pd.DataFrame({"a": gappy, "flag": X[:, 1] > 0, "colour": np.where(X[:, 3] > 0, "r", "g")})
    est = DeepRegressor(**ROBUST_ONLY, **FAST).fit(df, y)
    inputs = est._inputs_
    filled = np.where(np.isnan(gappy), np.nanmedian(gappy), gappy)
    q25, q50, q75 = np.quantile(filled, [0.25, 0.5, 0.75])
    assert inputs.mean[0] == pytest.approx(q50) and inputs.scale[0] == pytest.approx(q75 - q25)
    codes = inputs.encode(df)
    out = stage_output(est, codes)
    np.testing.assert_allclose(out[:, 0], clip((filled - q50) / (q75 - q25)), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out[:, 1], X[:, 1])  # the boolean: unchanged
    assert out.shape[1] == 2 + 1 + 2  # values, the missing indicator, one-hot colour


def test_robust_scaling_after_a_standard_scaler_gives_the_same_inputs():
    X, y = table()
    scaled = StandardScaler().fit_transform(X)
    a = DeepRegressor(**ROBUST_ONLY, **FAST).fit(X, y)
    b = DeepRegressor(**ROBUST_ONLY, **FAST).fit(scaled, y)
    continuous = list(a._inputs_.continuous)
    np.testing.assert_allclose(
        stage_output(a, X)[:, continuous], stage_output(b, scaled)[:, continuous], atol=1e-5
    )


def test_robust_scaling_of_sparse_x_divides_without_centring_and_stays_sparse():
    X = sparse.random(300, 5, density=0.3, random_state=0, format="csr")
    X = X.multiply(100).tocsr()
    X[:, 0] = (X[:, 0] > 0).astype(float)  # binary
    y = np.asarray(X.sum(axis=1)).ravel()
    est = DeepRegressor(**ROBUST_ONLY, **FAST).fit(X, y)
    inputs = est._inputs_
    dense = X.toarray()
    assert inputs.continuous == (1, 2, 3, 4)
    np.testing.assert_array_equal(inputs.mean, 0)  # not centred
    for j in inputs.continuous:
        q25, q75 = np.quantile(dense[:, j], [0.25, 0.75])
        expected = q75 - q25 if q75 > q25 else (dense[:, j].max() - dense[:, j].min()) / 2
        assert inputs.scale[j] == pytest.approx(expected)
    expected = dense.copy()
    expected[:, 1:] = clip(dense[:, 1:] / inputs.scale[1:])
    np.testing.assert_allclose(stage_output(est, dense), expected, rtol=1e-5, atol=1e-6)
    # A sparse batch stays sparse, its zeros zeros.
    coo = torch.as_tensor(dense, dtype=torch.float32).to_sparse()
    with torch.no_grad():
        out = est.module_.inputs(coo)
    assert out.is_sparse and out._nnz() == X.nnz
    np.testing.assert_allclose(out.to_dense().numpy(), expected, rtol=1e-5, atol=1e-6)
    assert np.isfinite(est.predict(X)).all()
    with pytest.raises(ValueError, match="needs dense X"):
        DeepRegressor(numeric_scaling="standard", **FAST).fit(X, y)


@pytest.mark.parametrize("embedding, per_column", [("periodic", 3), ("piecewise", 4)])
def test_embeddings_have_a_member_axis_and_widen_the_first_layer(embedding, per_column):
    X, y = table()
    est = DeepRegressor(
        numeric_scaling="robust", numeric_embedding=embedding, embedding_size=6, ensemble_size=3,
        feature_scaling=True, **FAST,
    ).fit(X, y)  # fmt: skip
    stage = est.module_.inputs
    width = X.shape[1] + 2 * per_column  # two continuous columns
    assert est.module_.hidden[0].linear.in_features == width
    module = getattr(stage, embedding)
    assert module.weight.shape[:2] == (3, 2) and module.weight.shape[-1] == per_column
    if embedding == "periodic":
        assert module.frequencies.shape == module.phases.shape == (3, 2, 6)
    else:  # at most 6 bins; the mostly-zero column has fewer distinct quantiles
        assert module.weight.shape[2] == 6
        assert [len(edges) - 1 for edges in est._inputs_.bins][1] < 6
    assert stage.feature_scale.shape == (3, width)
    out = stage(torch.as_tensor(X, dtype=torch.float32))
    assert out.shape == (3, len(X), width)
    members = out[:, :, X.shape[1] :]
    assert not torch.allclose(members[0], members[1])  # each member its own embedding
    names = {name for name, _ in est.module_.named_parameters()}
    assert f"inputs.{embedding}.weight" in names and "inputs.feature_scale" in names
    # Not penalized by l1/l2.
    penalized = {id(w) for w in ParameterGroups.trained_weights(est.module_)}
    assert all(id(p) not in penalized for p in stage.parameters())


def test_piecewise_encoding_follows_the_bins():
    from sklearn_dnn._nn.inputs import PiecewiseEmbedding

    module = PiecewiseEmbedding([np.array([0.0, 1.0, 3.0]), np.array([0.0, 2.0])], 1, None)
    x = torch.tensor([[-1.0, -1.0], [0.5, 1.0], [2.0, 3.0], [5.0, 4.0]], dtype=torch.float64)
    encoded = module.encode(x)
    expected_first = [[-1.0, 0.0], [0.5, 0.0], [1.0, 0.5], [1.0, 2.0]]  # unclipped outer sides
    expected_second = [[-0.5, 0.0], [0.5, 0.0], [1.5, 0.0], [2.0, 0.0]]  # one bin; padding 0
    np.testing.assert_allclose(encoded[:, 0].numpy(), expected_first)
    np.testing.assert_allclose(encoded[:, 1].numpy(), expected_second)


@pytest.mark.parametrize("Estimator", [DeepClassifier, DeepRegressor])
@pytest.mark.parametrize("embedding", ["periodic", "piecewise"])
def test_a_pickled_model_predicts_the_same(Estimator, embedding):
    X, y = table()
    y = (y > np.median(y)).astype(int) if Estimator is DeepClassifier else y
    est = Estimator(
        numeric_scaling="robust", numeric_embedding=embedding, feature_scaling=True,
        ensemble_size=2, **FAST,
    ).fit(X, y)  # fmt: skip
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_sparse_x_with_an_embedding_fits():
    X = sparse.random(200, 4, density=0.5, random_state=0, format="csr")
    y = np.asarray(X.sum(axis=1)).ravel()
    est = DeepRegressor(numeric_scaling="robust", numeric_embedding="piecewise", **FAST)
    assert np.isfinite(est.fit(X, y).predict(X)).all()


def test_warm_start_refuses_a_change_of_numeric_embedding():
    X, y = table()
    settings = dict(numeric_embedding="periodic", feature_scaling=False, warm_start=True)
    est = DeepRegressor(**settings, **FAST).fit(X, y)
    est.set_params(numeric_embedding="piecewise")
    with pytest.raises(ValueError, match="numeric_embedding"):
        est.fit(X, y)
    est.set_params(numeric_embedding="periodic", feature_scaling=True)
    with pytest.raises(ValueError, match="feature_scaling"):
        est.fit(X, y)


def test_a_continued_fit_keeps_the_first_fits_statistics_and_bins():
    X, y = table()
    est = DeepRegressor(numeric_scaling="robust", numeric_embedding="piecewise", **FAST)
    est.partial_fit(X, y)
    first = est._inputs_
    est.partial_fit(X * 10 + 3, y)
    assert est._inputs_ is first
    est.set_params(warm_start=True).fit(X[:50] * 5, y[:50])
    assert est._inputs_ is first


def test_a_source_fitted_with_an_embedding_starts_a_new_estimator():
    X, y = table()
    source = DeepRegressor(numeric_scaling="robust", numeric_embedding="periodic", **FAST)
    source.fit(X, y)
    target = DeepRegressor.from_pretrained(source, numeric_embedding="periodic", max_epochs=2)
    assert np.isfinite(target.fit(X, y).predict(X)).all()
    inherited = DeepRegressor.from_pretrained(source, max_epochs=2)  # the source's settings
    assert inherited.numeric_embedding == "periodic" and inherited.numeric_scaling == "robust"
    assert np.isfinite(inherited.fit(X, y).predict(X)).all()
    without = DeepRegressor.from_pretrained(source, numeric_embedding=None, max_epochs=2)
    with pytest.raises(ValueError, match="features"):
        without.fit(X, y)


def test_bad_values_are_refused_by_name():
    X, y = table()
    with pytest.raises(ValueError, match="numeric_embedding"):
        DeepRegressor(numeric_embedding="fourier").fit(X, y)
    with pytest.raises(ValueError, match="embedding_size"):
        DeepRegressor(numeric_embedding="periodic", embedding_size=0).fit(X, y)
    with pytest.raises(ValueError, match="numeric_scaling"):
        DeepRegressor(numeric_scaling="quantile").fit(X, y)


def test_a_stage_without_options_is_unchanged():
    X, _ = table()
    inputs, codes = describe(X, None, None)
    stage = InputStage(inputs, 1, torch.Generator().manual_seed(0))
    assert list(stage.parameters()) == []
    out = stage(torch.as_tensor(codes))
    np.testing.assert_array_equal(out.numpy(), X)


@pytest.mark.parametrize("embedding, epochs", [("piecewise", 20), ("periodic", 60)])
def test_an_embedding_fits_a_wiggly_target_better(embedding, epochs):
    rng = np.random.default_rng(0)
    x = rng.uniform(-2, 2, size=(1000, 1))
    y = np.sin(3 * x[:, 0])
    settings = dict(
        numeric_scaling="robust",
        hidden_layer_sizes=(32,),
        learning_rate=1e-2,
        max_epochs=epochs,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = DeepRegressor(numeric_embedding=None, **settings).fit(x, y)
        embedded = DeepRegressor(numeric_embedding=embedding, **settings).fit(x, y)
    plain_error = np.mean((plain.predict(x) - y) ** 2)
    embedded_error = np.mean((embedded.predict(x) - y) ** 2)
    # Measured: plain 0.19 and 0.075, piecewise 0.005 (20 epochs), periodic 0.0002 (60 epochs).
    assert embedded_error < 0.3 * plain_error


# ----------------------------------------------------------------------
# weighted rows: the statistics count a row as often as its weight says


def statistics(description):
    return [description.medians, description.mean, description.scale, *description.bins]


@pytest.mark.parametrize("sparse_x", [False, True])
def test_integer_weights_give_the_statistics_of_repeated_rows(sparse_x):
    X, y = table(n=60)
    X[:, 2] = np.abs(X[:, 2])  # non-negative: a sparse matrix of it keeps its zeros implicit
    weight = np.random.default_rng(1).integers(0, 4, size=60).astype(float)
    weight[0] = 1.0
    repeated = np.repeat(np.arange(60), weight.astype(int))
    make = sparse.csr_matrix if sparse_x else np.asarray
    settings = dict(numeric_scaling="robust", numeric_embedding="piecewise", **FAST)
    weighted = DeepRegressor(**settings).fit(make(X), y, sample_weight=weight)
    copies = DeepRegressor(**settings).fit(make(X[repeated]), y[repeated])
    for mine, theirs in zip(
        statistics(weighted._inputs_), statistics(copies._inputs_), strict=True
    ):
        np.testing.assert_array_equal(mine, theirs)
    plain = DeepRegressor(**settings).fit(make(X), y)
    assert not np.array_equal(weighted._inputs_.bins[0], plain._inputs_.bins[0])


def test_scaling_every_weight_changes_no_statistic():
    X, y = table(n=80)
    weight = np.random.default_rng(2).uniform(0.5, 3.0, size=80)
    settings = dict(numeric_scaling="robust", numeric_embedding="piecewise", **FAST)
    one = DeepRegressor(**settings).fit(X, y, sample_weight=weight)._inputs_
    for factor in (1e-30, 7.0, 1e30):
        other = DeepRegressor(**settings).fit(X, y, sample_weight=weight * factor)._inputs_
        for mine, theirs in zip(statistics(one), statistics(other), strict=True):
            np.testing.assert_allclose(mine, theirs, rtol=1e-12)
