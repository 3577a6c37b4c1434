"""DataFrames as they come: categorical columns, missing values, nullable and boolean dtypes."""

import pickle
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.preprocessing import StandardScaler

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._inputs import MAX_ONE_HOT_CATEGORIES, embedding_dim

from ._data import PLAIN_INPUTS

pd = pytest.importorskip("pandas")

ESTIMATORS = [DeepClassifier, DeepRegressor]
FAST = dict(max_epochs=5, random_state=0, hidden_layer_sizes=(16,))
MANY = [f"k{i}" for i in range(MAX_ONE_HOT_CATEGORIES + 9)]  # embedded


def frame(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "num": rng.normal(size=n),
            "answer": rng.choice(["yes", "no"], n),
            "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
            "flag": rng.random(n) > 0.5,
            "count": pd.array(rng.integers(0, 5, n), dtype="Int64"),
            "gappy": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
            "many": rng.permutation(np.resize(MANY, n)),  # every category, if n allows
        }
    )
    X.loc[3, "count"] = pd.NA
    X.loc[5, "answer"] = None
    signal = X["num"] + (X["answer"] == "yes") + (X["colour"] == "red")
    return X, signal.to_numpy()


def target(Estimator, signal):
    return (signal > np.median(signal)).astype(int) if Estimator is DeepClassifier else signal


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_pandas_frame_fits_and_predicts_in_one_line(Estimator):
    X, signal = frame()
    y = target(Estimator, signal)
    est = Estimator(**FAST).fit(X, y)
    assert est.predict(X).shape == (len(X),)
    assert list(est.feature_names_in_) == list(X.columns)
    assert est.n_features_in_ == X.shape[1]
    inputs = est._inputs_
    names = [inputs.names[j] for j in inputs.categorical]
    assert names == ["answer", "colour", "many"]  # bool and Int64 are numeric
    assert [inputs.names[inputs.numeric[i]] for i in inputs.missing] == ["count", "gappy"]
    # numeric 4 (each continuous one with the 4 values of its piecewise embedding)
    # + 2 indicators + one-hot 2 + 3 + the embedding of "many"
    width = 4 + 4 * len(inputs.continuous) + 2 + 2 + 3 + embedding_dim(len(MANY))
    assert len(inputs.continuous) >= 2
    assert est.module_.hidden[0].linear.in_features == width


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_polars_frame_fits_and_predicts_in_one_line(Estimator):
    pl = pytest.importorskip("polars")
    X, signal = frame()
    Xp = pl.DataFrame(
        {
            "num": X["num"].to_numpy(),
            "answer": [v if isinstance(v, str) else None for v in X["answer"]],
            "colour": pl.Series(X["colour"].astype(str).tolist(), dtype=pl.Categorical),
            "size": pl.Series(["s", "m"] * (len(X) // 2), dtype=pl.Enum(["s", "m", "l"])),
            "flag": X["flag"].to_numpy(),
            "count": pl.Series([None if v is pd.NA else int(v) for v in X["count"]]),
            "gappy": pl.Series([None if np.isnan(v) else v for v in X["gappy"]]),
        }
    )
    y = target(Estimator, signal)
    est = Estimator(**FAST).fit(Xp, y)
    assert np.isfinite(est.predict(Xp).astype(float)).all()
    inputs = est._inputs_
    assert [inputs.names[j] for j in inputs.categorical] == ["answer", "colour", "size"]
    assert [inputs.names[inputs.numeric[i]] for i in inputs.missing] == ["count", "gappy"]


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_unknown_and_missing_categories_share_the_unknown_slot(Estimator):
    X, signal = frame()
    est = Estimator(**FAST).fit(X, target(Estimator, signal))
    rows = pd.concat([X.iloc[:1]] * 3, ignore_index=True)
    rows["answer"] = ["never seen", None, "yes"]
    rows["many"] = ["never seen", None, MANY[0]]
    out = est.predict_proba(rows) if Estimator is DeepClassifier else est.predict(rows)
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)
    assert not np.allclose(out[0], out[2])
    assert np.isfinite(out).all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_nan_at_predict_in_a_column_without_nan_in_training_gets_its_median(Estimator):
    X, signal = frame()
    est = Estimator(**FAST).fit(X, target(Estimator, signal))
    rows = X.iloc[:4].copy()
    filled = rows.copy()
    rows["num"] = np.nan
    filled["num"] = np.nanmedian(X["num"])
    np.testing.assert_allclose(est._forward(rows), est._forward(filled), rtol=1e-6)


def test_missing_values_of_an_array_are_imputed_with_an_indicator():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = X[:, 0] + 2 * np.isnan(np.where(rng.random(80) < 0.3, np.nan, 1.0))
    X[np.isnan(y - X[:, 0] - 2) | (y - X[:, 0] > 1), 1] = np.nan  # NaN carries signal
    reg = DeepRegressor(**FAST, **PLAIN_INPUTS).fit(X, y)
    assert reg._inputs_.missing == (1,)
    assert reg._inputs_.mean is None  # arrays are not scaled under "auto"
    assert reg.module_.hidden[0].linear.in_features == 4
    assert np.isfinite(reg.predict(X)).all()


def test_an_ensemble_has_each_members_embeddings_and_trains_with_bootstrap():
    X, signal = frame()
    est = DeepRegressor(ensemble_size=3, bootstrap=True, dropout=0.1, **FAST).fit(X, signal)
    (weight,) = est.module_.inputs.embeddings
    assert weight.shape == (3, len(MANY) + 1, embedding_dim(len(MANY)))
    assert not torch_equal(weight[0], weight[1])
    uncertainty = est.predict_uncertainty(X.iloc[:5])
    assert (uncertainty.std > 0).all()
    mc = est.predict_uncertainty(X.iloc[:5], n_samples=4, method="dropout", return_samples=True)
    assert 5 in mc.samples.shape and np.isfinite(mc.samples).all()


def torch_equal(a, b):
    return bool((a == b).all())


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_pickled_model_predicts_the_same(Estimator):
    X, signal = frame()
    est = Estimator(ensemble_size=2, **FAST).fit(X, target(Estimator, signal))
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(again._forward(X), est._forward(X), rtol=1e-10)


def test_the_frame_path_of_float_columns_without_scaling_is_the_array_path():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ [1.0, -1.0, 0.5]
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    from_array = DeepRegressor(numeric_scaling=None, **FAST).fit(X, y).predict(X)
    from_frame = DeepRegressor(numeric_scaling=None, **FAST).fit(df, y).predict(df)
    np.testing.assert_allclose(from_frame, from_array, rtol=1e-6, atol=1e-8)


def test_standard_scaling_inside_the_network_is_a_standard_scaler_before_it():
    rng = np.random.default_rng(0)
    X = rng.normal(3.0, 5.0, size=(60, 3))
    y = X @ [1.0, -1.0, 0.5]
    scaled = StandardScaler().fit_transform(X)
    plain = dict(FAST, numeric_embedding=None, feature_scaling=False)
    before = DeepRegressor(numeric_scaling=None, **plain).fit(scaled, y).predict(scaled)
    inside = DeepRegressor(numeric_scaling="standard", **plain).fit(X, y).predict(X)
    np.testing.assert_allclose(inside, before, rtol=1e-5, atol=1e-6)
    df = pd.DataFrame(X, columns=["a", "b", "c"])  # "auto" scales a DataFrame
    auto = DeepRegressor(numeric_scaling="auto", **plain).fit(df, y).predict(df)
    np.testing.assert_allclose(auto, before, rtol=1e-5)


def test_arrays_keep_their_dtype_and_float32_trains_in_float32():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype(np.float32)
    X[2, 1] = np.nan
    reg = DeepRegressor(**FAST).fit(X, X[:, 0].astype(np.float64))
    assert reg.module_.output.weight.dtype.is_floating_point
    assert reg._numpy_dtype() == np.float32
    assert np.isfinite(reg.predict(X)).all()


@pytest.mark.parametrize(
    "given", [["answer", "colour"], [1, 2], [False, True, True, False, False, False]]
)
def test_categorical_features_by_names_indices_or_mask(given):
    X, signal = frame()
    X = X.drop(columns="many")
    est = DeepRegressor(categorical_features=given, **FAST).fit(X, signal)
    assert est._inputs_.categorical == (1, 2)


def test_categorical_features_can_make_a_numeric_column_categorical_or_none():
    X, signal = frame()
    X = X.drop(columns=["answer", "colour", "many"])
    X["code"] = np.arange(len(X)) % 4
    est = DeepRegressor(categorical_features=["code"], **FAST).fit(X, signal)
    assert est._inputs_.categories == ((0, 1, 2, 3),)
    est = DeepRegressor(categorical_features=None, **FAST).fit(X, signal)
    assert est._inputs_.categorical == ()


def test_categorical_features_by_index_on_an_array():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=80), rng.integers(0, 3, 80)]).astype(float)
    reg = DeepRegressor(categorical_features=[1], **FAST).fit(X, X[:, 0] + X[:, 1])
    assert reg._inputs_.categories == ((0.0, 1.0, 2.0),)
    X_new = X[:3].copy()
    X_new[:, 1] = [7.0, np.nan, 1.0]  # unknown, missing, known
    assert np.isfinite(reg.predict(X_new)).all()


@pytest.mark.parametrize("Estimator", ESTIMATORS)
def test_a_string_column_that_is_not_categorical_is_refused_by_name(Estimator):
    X, signal = frame()
    with pytest.raises(ValueError, match="Column 'answer' holds values that are not numbers"):
        Estimator(categorical_features=None, **FAST).fit(X, target(Estimator, signal))


@pytest.mark.parametrize(
    "given, message",
    [
        (["answer", "nope"], r"columns that X does not have: \['nope'\]"),
        ([0, 7], "column index 7, but X has 7 columns"),
        ([True, False], "boolean mask of 2 values, but X has 7 columns"),
    ],
)
def test_bad_categorical_features_are_refused_with_what_is_wrong(given, message):
    X, signal = frame()
    with pytest.raises(ValueError, match=message):
        DeepRegressor(categorical_features=given, **FAST).fit(X, signal)


def test_column_names_need_a_dataframe():
    X = np.zeros((10, 2))
    with pytest.raises(ValueError, match="X has no column names"):
        DeepRegressor(categorical_features=["a"], **FAST).fit(X, np.zeros(10))


def test_a_column_without_values_in_training_is_refused_by_name():
    X, signal = frame()
    X["empty"] = np.nan
    with pytest.raises(ValueError, match="Column 'empty' has no values in the training rows"):
        DeepRegressor(**FAST).fit(X, signal)


def test_a_categorical_column_given_numbers_at_predict_is_refused_by_name():
    X, signal = frame()
    est = DeepRegressor(**FAST).fit(X, signal)
    X_new = X.copy()
    X_new["colour"] = 1.0
    with pytest.raises(ValueError, match="Column 'colour' was categorical"):
        est.predict(X_new)
    X_new = X.copy()
    X_new["num"] = "many"
    with pytest.raises(ValueError, match="Column 'num' was numeric in training"):
        est.predict(X_new)


def test_a_missing_column_at_predict_is_refused_by_name():
    X, signal = frame()
    est = DeepRegressor(**FAST).fit(X, signal)
    with pytest.raises(ValueError, match="gappy"):
        est.predict(X.drop(columns="gappy"))


def test_nan_in_sparse_x_is_refused():
    X = sparse.random(20, 4, density=0.5, format="csr", random_state=0)
    X.data[0] = np.nan
    with pytest.raises(ValueError, match="Missing values are supported in dense X only"):
        DeepRegressor(**FAST).fit(X, np.zeros(20))


def test_a_failed_fit_changes_nothing():
    X, signal = frame()
    est = DeepRegressor(**FAST).fit(X, signal)
    before = est._inputs_
    bad = X.assign(empty=np.nan)
    with pytest.raises(ValueError):
        est.fit(bad, signal)
    assert est._inputs_ is before


def test_warm_start_and_partial_fit_keep_the_first_description():
    X, signal = frame()
    est = DeepRegressor(warm_start=True, **FAST).fit(X, signal)
    first = est._inputs_
    later = X.copy()
    later["answer"] = "a new answer"  # goes to the unknown slot
    est.fit(later, signal)
    assert est._inputs_ is first
    est.partial_fit(later, signal)
    assert est._inputs_ is first and est.n_iter_ == 11


def test_from_pretrained_passes_the_sources_description_on():
    X, signal = frame()
    source = DeepRegressor(**FAST).fit(X, signal)
    target = DeepClassifier.from_pretrained(source, max_epochs=3, random_state=0)
    target.fit(X, (signal > 0).astype(int))
    assert target._inputs_.categories == source._inputs_.categories
    with pytest.raises(ValueError, match="feature names"):
        target.fit(X.rename(columns={"num": "other"}), (signal > 0).astype(int))


def test_diagnostics_walk_the_blocks_behind_the_input_stage():
    X, signal = frame()
    est = DeepRegressor(diagnostics=True, **FAST).fit(X, signal)
    assert est.dead_units_.shape == (1,)
    assert est.gradient_norms_.shape == (5, 2)


def test_max_norm_leaves_embeddings_alone_and_l2_shrinks_them():
    X, signal = frame()
    est = DeepRegressor(max_norm=0.5, **FAST).fit(X, signal)
    norms = est.module_.hidden[0].linear.weight.norm(dim=-1)
    assert float(norms.max()) <= 0.5 + 1e-6
    (weight,) = est.module_.inputs.embeddings
    assert float(weight[:, 1:].norm(dim=-1).max()) > 0.5
    # An embedding table stands for one-hot columns' first-layer weights:
    # the l2 penalty reaches it as it reaches them.
    fast = {
        **FAST,
        "max_epochs": 20,
        "learning_rate": 0.05,
        "schedule": None,
        "early_stopping": False,
    }
    free = DeepRegressor(l2=0.0, **fast).fit(X, signal).module_.inputs.embeddings[0]
    held = DeepRegressor(l2=1.0, **fast).fit(X, signal).module_.inputs.embeddings[0]
    assert float(held.norm()) < 0.5 * float(free.norm())


def test_the_input_stage_encodes_codes_as_documented():
    import torch

    from sklearn_dnn._inputs import describe
    from sklearn_dnn._nn.inputs import InputStage

    X = pd.DataFrame({"x": [1.0, np.nan, 3.0, 5.0], "c": ["b", "a", None, "b"]})
    inputs, codes = describe(X, "from_dtype", "standard")
    np.testing.assert_array_equal(codes[:, 1], [2, 1, 0, 2])  # 0: missing; a=1, b=2
    assert inputs.medians.tolist() == [3.0]
    stage = InputStage(inputs, 1, torch.Generator().manual_seed(0))
    out = stage(torch.as_tensor(codes)).numpy()
    filled = np.array([1.0, 3.0, 3.0, 5.0])
    np.testing.assert_allclose(out[:, 0], (filled - filled.mean()) / filled.std())
    np.testing.assert_array_equal(out[:, 1], [0, 1, 0, 0])  # the missing indicator
    np.testing.assert_array_equal(out[:, 2:], [[0, 1], [1, 0], [0, 0], [0, 1]])  # one-hot


def test_arrays_of_objects_are_encoded_by_position():
    # A DataFrame's values (an object array), at predict time or to fit on.
    X, signal = frame()
    X = X[["num", "answer", "colour"]]
    y = target(DeepClassifier, signal)
    est = DeepClassifier(**FAST).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # X has no feature names
        np.testing.assert_array_equal(est.predict_proba(X.to_numpy()), est.predict_proba(X))
    values = X.to_numpy()
    on_values = DeepClassifier(**FAST).fit(values, y)
    assert on_values._inputs_.categorical == (1, 2)  # the columns of strings
    assert on_values.predict([[0.5, "never seen", "red"]]).shape == (1,)
    with pytest.raises(ValueError, match="infinity"):
        est.predict(np.array([[np.inf, "yes", "red"]], dtype=object))
