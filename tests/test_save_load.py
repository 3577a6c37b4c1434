"""save and load: one file holds everything a prediction needs, and wrong files are refused."""

import io
import json
import pickle
import struct
import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from sklearn_dnn import DeepClassifier, DeepRegressor, ModelFileError
from sklearn_dnn._persistence import FORMAT_VERSION, MAGIC, read_header

from ._data import FAST, classification, regression

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def round_trip(model, tmp_path):
    path = tmp_path / "model.pt"
    assert model.save(path) is model
    return type(model).load(path)


def outputs(model, X):
    return model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)


@pytest.mark.parametrize(
    "make",
    [
        lambda: (DeepClassifier(**FAST), *classification()),
        lambda: (DeepRegressor(**FAST), *regression()),
        lambda: (DeepRegressor(**FAST), *regression(n_targets=2)),
        lambda: (DeepRegressor(ensemble_size=3, dropout=0.1, **FAST), *regression()),
        lambda: (DeepClassifier(ensemble_size=2, batchnorm=True, **FAST), *classification()),
    ],
    ids=["classifier", "regressor", "two-targets", "ensemble", "batchnorm-ensemble"],
)
def test_a_loaded_model_predicts_exactly_as_the_saved_one(tmp_path, make):
    model, X, y = make()
    model.fit(X, y)
    loaded = round_trip(model, tmp_path)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(outputs(loaded, X), outputs(model, X))
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert loaded.get_params().keys() == model.get_params().keys()
    assert loaded.n_iter_ == model.n_iter_


def test_float32_round_trip(tmp_path):
    X, y = regression()
    X = X.astype(np.float32)
    model = DeepRegressor(**FAST).fit(X, y)
    loaded = round_trip(model, tmp_path)
    assert loaded._numpy_dtype() is np.float32
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_the_target_scaling_and_classes_travel_with_the_weights(tmp_path):
    # The bug this replaces: net_.load_params into a regressor fitted on other
    # targets silently predicted in that regressor's units.
    X, y = regression()
    model = DeepRegressor(**FAST).fit(X, 50 * y + 1000)
    other = DeepRegressor(**FAST).fit(X, y)
    loaded = round_trip(model, tmp_path)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert abs(loaded.predict(X).mean() - other.predict(X).mean()) > 500
    Xc, yc = classification()
    labels = np.array(["ant", "bee", "cat"])[yc]
    clf = DeepClassifier(**FAST).fit(Xc, labels)
    assert list(round_trip(clf, tmp_path).classes_) == ["ant", "bee", "cat"]


def test_every_fitted_attribute_is_saved(tmp_path):
    # Any fitted attribute, a private one another feature adds included.
    X, y = regression()
    model = DeepRegressor(**FAST).fit(X, y)
    model._input_description_ = {"columns": ["a", "b"]}
    loaded = round_trip(model, tmp_path)
    assert loaded._input_description_ == {"columns": ["a", "b"]}
    np.testing.assert_array_equal(
        loaded.history_[-1]["train_loss"], model.history_[-1]["train_loss"]
    )


def test_feature_names_are_kept_and_in_the_header(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = regression(n_features=3)
    frame = pd.DataFrame(X, columns=["x", "y", "z"])
    model = DeepRegressor(**FAST).fit(frame, y)
    model.save(tmp_path / "m.pt")
    header, _ = read_header(tmp_path / "m.pt")
    assert header["feature_names_in_"] == ["x", "y", "z"]
    assert header["n_features_in_"] == 3
    assert header["estimator"].endswith("DeepRegressor")
    assert header["format_version"] == FORMAT_VERSION
    assert header["library_version"]
    loaded = DeepRegressor.load(tmp_path / "m.pt")
    assert list(loaded.feature_names_in_) == ["x", "y", "z"]
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))


def test_a_file_object_works_too():
    X, y = classification()
    model = DeepClassifier(**FAST).fit(X, y)
    buffer = io.BytesIO()
    model.save(buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(
        DeepClassifier.load(buffer).predict_proba(X), model.predict_proba(X)
    )


def test_a_loaded_model_trains_on(tmp_path):
    X, y = classification()
    model = DeepClassifier(warm_start=True, **FAST).fit(X, y)
    loaded = round_trip(model, tmp_path)
    loaded.fit(X, y)
    assert loaded.n_iter_ == 2 * model.n_iter_


def test_an_unfitted_model_is_not_saved(tmp_path):
    with pytest.raises(NotFittedError):
        DeepRegressor().save(tmp_path / "m.pt")
    assert not (tmp_path / "m.pt").exists()


@pytest.fixture(scope="module")
def saved():
    X, y = classification()
    buffer = io.BytesIO()
    DeepClassifier(**FAST).fit(X, y).save(buffer)
    return buffer.getvalue()


def with_header(data, **changes):
    start = len(MAGIC) + 8
    (length,) = struct.unpack("<Q", data[len(MAGIC) : start])
    header = json.loads(data[start : start + length])
    header.update(changes)
    head = json.dumps(header).encode()
    return MAGIC + struct.pack("<Q", len(head)) + head + data[start + length :]


def test_another_class_is_refused(saved):
    with pytest.raises(ModelFileError, match="holds a DeepClassifier, not a DeepRegressor"):
        DeepRegressor.load(io.BytesIO(saved))


def test_a_newer_format_is_refused(saved):
    newer = with_header(saved, format_version=FORMAT_VERSION + 1)
    with pytest.raises(ModelFileError, match="format version 2.*Upgrade"):
        DeepClassifier.load(io.BytesIO(newer))


@pytest.mark.parametrize("cut", [10, 30, -1, -1000])
def test_a_truncated_file_is_refused(saved, cut):
    with pytest.raises(ModelFileError, match="truncated"):
        DeepClassifier.load(io.BytesIO(saved[:cut]))


def test_a_corrupted_file_is_refused(saved):
    damaged = bytearray(saved)
    damaged[-100] ^= 0xFF
    with pytest.raises(ModelFileError, match="corrupted: the SHA-256"):
        DeepClassifier.load(io.BytesIO(bytes(damaged)))
    with pytest.raises(ModelFileError, match="corrupted header"):
        DeepClassifier.load(io.BytesIO(saved.replace(b'"format_version"', b'"format_vers!on"')))


def test_files_that_are_not_ours_are_refused(tmp_path):
    X, y = classification()
    model = DeepClassifier(**FAST).fit(X, y)
    model.net_.save_params(f_params=tmp_path / "weights.pt")
    with pytest.raises(ModelFileError, match="not a sklearn-dnn model.*save_params"):
        DeepClassifier.load(tmp_path / "weights.pt")
    with pytest.raises(ModelFileError, match="not a sklearn-dnn model.*joblib.load"):
        DeepClassifier.load(io.BytesIO(pickle.dumps(model)))
    with pytest.raises(ModelFileError, match="not a sklearn-dnn model"):
        DeepClassifier.load(io.BytesIO(b"hello"))


def test_another_library_version_loads_with_a_warning(saved):
    older = with_header(saved, library_version="0.0.1")
    with pytest.warns(UserWarning, match="saved by sklearn-dnn 0.0.1"):
        DeepClassifier.load(io.BytesIO(older))


def test_net_load_params_warns_that_it_loads_weights_only(tmp_path):
    X, y = regression()
    model = DeepRegressor(**FAST).fit(X, y)
    model.net_.save_params(f_params=tmp_path / "w.pt")
    other = DeepRegressor(**FAST).fit(X, 100 * y)
    with pytest.warns(UserWarning, match="weights only.*target scaling.*save\\(\\) and load\\(\\)"):
        other.net_.load_params(f_params=tmp_path / "w.pt")
    # the weights did move, and are read in the other regressor's units
    assert not np.allclose(other.predict(X), model.predict(X), rtol=0.1)


def test_skorch_checkpoints_reloading_their_own_fit_do_not_warn(tmp_path):
    from skorch.callbacks import Checkpoint, TrainEndCheckpoint

    X, y = regression(n_samples=60)
    callbacks = [
        Checkpoint(dirname=str(tmp_path / "best"), load_best=True),
        TrainEndCheckpoint(dirname=str(tmp_path / "end")),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        DeepRegressor(max_epochs=3, early_stopping=True, callbacks=callbacks, random_state=0).fit(
            X, y
        )
    assert not [w for w in caught if "load_params" in str(w.message)]
    assert (tmp_path / "best").exists()  # the checkpoints did save, and reload
