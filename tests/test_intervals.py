"""Calibration on held-out rows: conformal intervals and sets, temperature scaling, CV+."""

import math
import pickle
import threading
import warnings

import numpy as np
import pytest
from scipy import sparse
from scipy.special import softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss

from sklearn_dnn import (
    CalibrationWarning,
    CrossConformalRegressor,
    DeepClassifier,
    DeepRegressor,
)

from ._data import classification

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(hidden_layer_sizes=(32,), max_epochs=40, random_state=0, n_threads=1)
# No validation split: half of the 1,000 training rows calibrate.
CALIBRATED = dict(SMALL, calibration_fraction=0.5, early_stopping=False)


def noisy_linear(n, random_state=0):
    """Exchangeable rows: a linear signal plus Gaussian noise of std 1."""
    rng = np.random.default_rng(random_state)
    X = rng.normal(size=(n, 4))
    return X, X @ np.array([2.0, -1.0, 0.5, 0.0]) + rng.normal(size=n)


def covered(bounds, y):
    return np.mean((bounds[:, 0] <= y) & (y <= bounds[:, 1]))


@pytest.fixture(scope="module")
def calibrated():
    X, y = noisy_linear(2000)
    reg = DeepRegressor(**CALIBRATED).fit(X[:1000], y[:1000])
    return reg, X[1000:], y[1000:]


# ----------------------------------------------------------------------
# regression: split conformal
def test_intervals_cover_the_asked_share_of_new_targets(calibrated):
    reg, X_test, y_test = calibrated
    # 500 calibration and 1,000 test rows: the coverage's std is about 0.016.
    assert 0.86 <= covered(reg.predict_interval(X_test, coverage=0.9), y_test) <= 0.94
    assert 0.45 <= covered(reg.predict_interval(X_test, coverage=0.5), y_test) <= 0.55


def test_interval_shape_and_constant_width_around_predict(calibrated):
    reg, X_test, _ = calibrated
    bounds = reg.predict_interval(X_test)
    assert bounds.shape == (len(X_test), 2)
    assert (bounds[:, 0] <= bounds[:, 1]).all()
    np.testing.assert_allclose(bounds.mean(axis=1), reg.predict(X_test), rtol=1e-6, atol=1e-6)
    width = bounds[:, 1] - bounds[:, 0]
    np.testing.assert_allclose(width, width[0], rtol=1e-6)  # no variance head: one width
    # The half-width is the ceil(0.9 * 501)-th smallest of the 500 absolute residuals.
    scores = reg._conformity_scores[:, 0]
    assert len(scores) == 500
    np.testing.assert_allclose(width[0] / 2, scores[math.ceil(0.9 * 501) - 1], rtol=1e-6)


def test_intervals_grow_and_nest_with_the_coverage(calibrated):
    reg, X_test, _ = calibrated
    previous = None
    for coverage in (0.3, 0.6, 0.8, 0.9, 0.95):
        bounds = reg.predict_interval(X_test, coverage=coverage)
        if previous is not None:
            assert (bounds[:, 0] <= previous[:, 0]).all() and (bounds[:, 1] >= previous[:, 1]).all()
            assert (bounds[:, 1] - bounds[:, 0]).mean() > (previous[:, 1] - previous[:, 0]).mean()
        previous = bounds


@pytest.mark.parametrize("coverage", [0.0, 1.0, 1.5, -0.1, "0.9", True])
def test_coverage_outside_the_open_unit_interval_is_refused(calibrated, coverage):
    reg, X_test, _ = calibrated
    with pytest.raises(ValueError, match="coverage must be a float in the range"):
        reg.predict_interval(X_test, coverage=coverage)


def test_too_few_calibration_rows_give_infinite_intervals_with_a_warning():
    X, y = noisy_linear(40)
    reg = DeepRegressor(calibration_fraction=0.2, **SMALL).fit(X, y)  # 8 rows
    with pytest.warns(CalibrationWarning, match="too few for coverage=0.9"):
        bounds = reg.predict_interval(X, coverage=0.9)
    assert np.isneginf(bounds[:, 0]).all() and np.isposinf(bounds[:, 1]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalibrationWarning)
        assert np.isfinite(reg.predict_interval(X, coverage=0.8)).all()  # ceil(9 * 0.8) = 8


def test_a_model_without_calibration_rows_says_how_to_get_them():
    X, y = noisy_linear(60)
    reg = DeepRegressor(**SMALL).fit(X, y)  # early_stopping=False, no fraction
    assert not hasattr(reg, "_conformity_scores")
    with pytest.raises(ValueError, match="calibration_fraction=0.2") as error:
        reg.predict_interval(X)
    for remedy in ("early_stopping=True", "CrossConformalRegressor"):
        assert remedy in str(error.value)


def test_the_validation_rows_calibrate_and_the_fraction_holds_out_its_own():
    X, y = noisy_linear(200)
    reg = DeepRegressor(early_stopping=True, validation_fraction=0.1, **SMALL).fit(X, y)
    assert reg._conformity_scores.shape == (20, 1)
    # calibration_fraction takes its share of the rows left after the validation split.
    both = DeepRegressor(
        early_stopping=True, validation_fraction=0.1, calibration_fraction=0.25, **SMALL
    ).fit(X, y)
    assert both._conformity_scores.shape == (45, 1)  # ceil(0.25 * 180)
    assert np.isfinite(both.predict_interval(X)).all()


def test_calibration_rows_do_not_train():
    # Rows that only calibrate are not in the training loss: with every row
    # but one held out there is one row to fit, which it fits closely.
    X, y = noisy_linear(40)
    reg = DeepRegressor(calibration_fraction=0.5, **{**SMALL, "max_epochs": 5}).fit(X, y)
    kept = DeepRegressor(**{**SMALL, "max_epochs": 5}).fit(X, y)
    assert reg.history_[0]["train_loss"] != kept.history_[0]["train_loss"]
    with pytest.raises(ValueError, match="leaves none to train on"):
        DeepRegressor(calibration_fraction=0.99, **SMALL).fit(X[:10], y[:10])


def test_partial_fit_removes_the_calibration_of_an_earlier_fit():
    X, y = noisy_linear(100)
    reg = DeepRegressor(calibration_fraction=0.3, **SMALL).fit(X, y)
    assert hasattr(reg, "_conformity_scores")
    reg.partial_fit(X, y)
    with pytest.raises(ValueError, match="partial_fit holds none out"):
        reg.predict_interval(X)


def test_multi_output_intervals_are_calibrated_per_output():
    X, y = noisy_linear(1200)
    Y = np.column_stack([y, 10 * y + np.random.default_rng(1).normal(size=len(y))])
    reg = DeepRegressor(calibration_fraction=0.4, **SMALL).fit(X[:600], Y[:600])
    bounds = reg.predict_interval(X[600:])
    assert bounds.shape == (600, 2, 2)
    widths = (bounds[:, 1] - bounds[:, 0]).mean(axis=0)
    assert widths[1] > 5 * widths[0]  # each output on its own scale
    for j in range(2):
        assert 0.84 <= covered(bounds[..., j], Y[600:, j]) <= 0.96


def test_sparse_float32_and_ensembles_get_intervals():
    X, y = noisy_linear(200)
    reg = DeepRegressor(calibration_fraction=0.3, ensemble_size=3, **SMALL)
    dense = reg.fit(X.astype(np.float32), y).predict_interval(X.astype(np.float32))
    assert dense.dtype == np.float64 or dense.dtype == np.float32
    assert np.isfinite(dense).all()
    on_sparse = reg.fit(sparse.csr_matrix(X), y).predict_interval(sparse.csr_matrix(X))
    assert on_sparse.shape == (200, 2) and np.isfinite(on_sparse).all()


def test_intervals_are_seeded_thread_safe_and_survive_pickling(calibrated):
    reg, X_test, _ = calibrated
    expected = reg.predict_interval(X_test)
    X, y = noisy_linear(2000)
    again = DeepRegressor(**CALIBRATED).fit(X[:1000], y[:1000])
    np.testing.assert_allclose(again.predict_interval(X_test), expected, rtol=1e-6)
    results = [None, None]

    def run(i):
        results[i] = [reg.predict_interval(X_test) for _ in range(5)]

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for result in results:
        for bounds in result:
            np.testing.assert_array_equal(bounds, expected)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(reg)).predict_interval(X_test), expected
    )


# ----------------------------------------------------------------------
# CV+
def test_cross_conformal_intervals_cover_without_holding_rows_out():
    X, y = noisy_linear(1300)
    model = CrossConformalRegressor(DeepRegressor(**SMALL), cv=3, random_state=0)
    model.fit(X[:300], y[:300])
    assert len(model.estimators_) == 3 and model.residuals_.shape == (300, 1)
    assert sorted(np.bincount(model.fold_of_)) == [100, 100, 100]
    bounds = model.predict_interval(X[300:], coverage=0.9)
    assert bounds.shape == (1000, 2) and (bounds[:, 0] <= bounds[:, 1]).all()
    assert 0.85 <= covered(bounds, y[300:]) <= 0.96
    narrower = model.predict_interval(X[300:], coverage=0.5)
    assert (narrower[:, 1] - narrower[:, 0]).mean() < (bounds[:, 1] - bounds[:, 0]).mean()
    assert model.predict(X[300:]).shape == (1000,)
    assert model.score(X[300:], y[300:]) > 0.5


def test_cross_conformal_checks_cv_and_warns_on_too_few_rows():
    X, y = noisy_linear(12)
    with pytest.raises(ValueError, match="cv must be an int of at least 2"):
        CrossConformalRegressor(cv=1).fit(X, y)
    model = CrossConformalRegressor(DeepRegressor(**{**SMALL, "max_epochs": 2}), cv=3).fit(X, y)
    with pytest.warns(CalibrationWarning):
        bounds = model.predict_interval(X, coverage=0.95)
    assert np.isinf(bounds).all()


# ----------------------------------------------------------------------
# classification: temperature scaling and conformal sets
@pytest.fixture(scope="module")
def overconfident():
    """A wide network trained long on noisy labels, without penalty: overconfident."""
    X, y = classification(n_samples=1600, random_state=1)
    y = np.where(np.random.default_rng(0).random(len(y)) < 0.25, (y + 1) % 3, y)
    params = dict(
        hidden_layer_sizes=(128, 128),
        l2=0.0,
        early_stopping=False,
        max_epochs=60,
        calibration_fraction=0.5,
        random_state=0,
        n_threads=1,
    )
    scaled = DeepClassifier(temperature_scaling=True, **params).fit(X[:800], y[:800])
    plain = DeepClassifier(**params).fit(X[:800], y[:800])
    return scaled, plain, X[800:], y[800:]


def test_temperature_scaling_lowers_the_log_loss_of_an_overconfident_model(overconfident):
    scaled, plain, X_test, y_test = overconfident
    assert plain.temperature_ == 1.0
    assert scaled.temperature_ > 1.5  # overconfident: its logits are divided down
    assert log_loss(y_test, scaled.predict_proba(X_test)) < 0.95 * log_loss(
        y_test, plain.predict_proba(X_test)
    )
    np.testing.assert_allclose(scaled.predict_proba(X_test).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(
        scaled.predict_proba(X_test), softmax(plain._forward(X_test) / scaled.temperature_, 1)
    )
    np.testing.assert_allclose(
        np.exp(scaled.predict_log_proba(X_test)), scaled.predict_proba(X_test), rtol=1e-9
    )
    np.testing.assert_array_equal(scaled.predict(X_test), plain.predict(X_test))


def test_the_temperature_minimizes_the_calibration_rows_log_loss(overconfident):
    from sklearn_dnn._calibration import fit_temperature

    scaled, _, X_test, y_test = overconfident
    logits = scaled._forward(X_test)
    best = fit_temperature(logits, y_test, multilabel=False)
    loss = lambda t: log_loss(y_test, softmax(logits / t, axis=1), labels=[0, 1, 2])  # noqa: E731
    assert loss(best) <= min(loss(best * 0.9), loss(best * 1.1), loss(1.0))


def test_conformal_sets_hold_the_true_class_at_the_coverage_rate(overconfident):
    scaled, _, X_test, y_test = overconfident
    sets = scaled.predict_set(X_test, coverage=0.9)
    assert sets.shape == (800, 3) and sets.dtype == bool
    # 400 calibration and 800 test rows.
    assert 0.85 <= sets[np.arange(800), y_test].mean() <= 0.95
    smaller = scaled.predict_set(X_test, coverage=0.5)
    assert (smaller <= sets).all() and smaller.sum() < sets.sum()


def test_without_enough_calibration_rows_the_temperature_is_one():
    X, y = classification(n_samples=300)
    few = DeepClassifier(early_stopping=True, temperature_scaling=True, **SMALL).fit(X, y)
    assert few.temperature_ == 1.0  # 30 validation rows, fewer than 50
    X, y = classification(n_samples=60)
    clf = DeepClassifier(temperature_scaling=True, **SMALL).fit(X, y)  # no validation rows
    assert clf.temperature_ == 1.0
    with pytest.raises(ValueError, match="predict_set needs calibration rows"):
        clf.predict_set(X)


def test_the_validation_rows_fit_the_temperature_of_multilabel_and_ensembles():
    X, y = classification(n_samples=600)
    Y = np.column_stack([y == 0, y == 1, X[:, 0] > 0]).astype(int)
    scaled = dict(early_stopping=True, temperature_scaling=True, **SMALL)
    multilabel = DeepClassifier(**scaled).fit(X, Y)  # 60 validation rows
    assert multilabel.temperature_ != 1.0
    proba = multilabel.predict_proba(X)
    assert proba.shape == (600, 3) and ((proba > 0) & (proba < 1)).all()
    with pytest.raises(ValueError, match="multilabel"):
        multilabel.predict_set(X)
    ensemble = DeepClassifier(ensemble_size=3, **scaled).fit(X, y)
    plain = DeepClassifier(ensemble_size=3, **{**scaled, "temperature_scaling": False}).fit(X, y)
    assert ensemble.temperature_ != 1.0
    logits = np.log(plain.predict_proba(X))  # the members' mean probabilities
    np.testing.assert_allclose(
        ensemble.predict_proba(X), softmax(logits / ensemble.temperature_, 1), rtol=1e-6
    )


def test_a_model_pickled_without_a_temperature_predicts_as_before():
    X, y = classification(n_samples=120)
    clf = DeepClassifier(**SMALL).fit(X, y)
    expected = clf.predict_proba(X) if clf.temperature_ == 1.0 else None
    del clf.temperature_  # as a model pickled by 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, softmax(clf._forward(X), axis=1))
    if expected is not None:
        np.testing.assert_array_equal(proba, expected)


def test_the_order_statistic_is_exact_for_round_products():
    from sklearn_dnn._calibration import conformal_quantile

    # (9 + 1) * 0.9 is 9.000000000000002 in floats: 9 rows are enough for 0.9.
    scores = np.arange(1.0, 10.0).reshape(-1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert conformal_quantile(scores, 0.9)[0] == 9.0
    # (99 + 1) * 0.9: the 90th of 99, not the 91st.
    assert conformal_quantile(np.arange(1.0, 100.0).reshape(-1, 1), 0.9)[0] == 90.0


def test_temperature_scaling_without_calibration_rows_warns():
    from sklearn_dnn._calibration import CalibrationWarning

    X, y = classification(n_samples=80)
    with pytest.warns(CalibrationWarning, match="temperature_ stays 1.0"):
        est = DeepClassifier(
            temperature_scaling=True, early_stopping=False, max_epochs=2, random_state=0
        ).fit(X, y)
    assert est.temperature_ == 1.0


def test_a_default_regressor_gives_intervals_from_its_validation_rows():
    # From 100 rows on the defaults hold out a validation set, which calibrates.
    X, y = noisy_linear(400)
    reg = DeepRegressor(max_epochs=10, random_state=0).fit(X[:300], y[:300])
    bounds = reg.predict_interval(X[300:], coverage=0.8)
    assert bounds.shape == (100, 2) and np.isfinite(bounds).all()
    assert 0.6 <= covered(bounds, y[300:]) <= 0.95
