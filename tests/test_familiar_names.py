"""scikit-learn's MLP attributes, skorch's history indexing, other libraries' names."""

import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.special import softmax
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from skorch.history import History

from sklearn_dnn import DeepClassifier, DeepRegressor
from sklearn_dnn._hyperparameters.foreign import EQUIVALENTS, LIBRARIES, markdown_table
from sklearn_dnn.exceptions import InvalidParameterError

from ._data import PLAIN_INPUTS, classification, regression

DOCS = Path(__file__).parent.parent / "docs"


@pytest.fixture(scope="module")
def fitted():
    X, y = classification(150)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = DeepClassifier(
            hidden_layer_sizes=(7, 5),
            max_epochs=6,
            early_stopping=False,
            random_state=0,
            **PLAIN_INPUTS,  # the first layer reads X's 10 columns, as scikit-learn's
        ).fit(X, y)
        theirs = MLPClassifier(hidden_layer_sizes=(7, 5), max_iter=6, random_state=0).fit(X, y)
    return ours, theirs, X


def test_attributes_have_the_shapes_of_scikit_learns(fitted):
    ours, theirs, _ = fitted
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    assert ours.n_layers_ == theirs.n_layers_ == 4
    assert ours.out_activation_ == theirs.out_activation_ == "softmax"  # 3 classes
    assert len(ours.loss_curve_) == ours.n_iter_ and len(theirs.loss_curve_) == theirs.n_iter_
    assert isinstance(ours.loss_curve_, list)
    assert ours.validation_scores_ is theirs.validation_scores_ is None  # no validation set
    assert ours.best_validation_score_ is None
    assert ours.best_loss_ == pytest.approx(min(ours.loss_curve_))


def test_the_loss_curve_is_the_objective(fitted):
    ours = fitted[0]
    expected = [e["train_loss"] + e["train_penalty"] for e in ours.history_]
    np.testing.assert_allclose(ours.loss_curve_, expected)


def test_predictions_recomputed_from_coefs_match(fitted):
    ours, _, X = fitted
    h = X
    for W, b in zip(ours.coefs_[:-1], ours.intercepts_[:-1], strict=True):
        h = np.maximum(h @ W + b, 0.0)  # relu
    proba = softmax(h @ ours.coefs_[-1] + ours.intercepts_[-1], axis=1)
    np.testing.assert_allclose(proba, ours.predict_proba(X), atol=1e-6)


def test_the_attributes_are_copies_read_from_the_module(fitted):
    ours = fitted[0]
    coefs = ours.coefs_
    coefs[0][:] = 0.0
    assert np.abs(ours.coefs_[0]).sum() > 0  # the model is untouched
    weight = ours.module_.hidden[0].linear.weight.detach().numpy()[0]
    np.testing.assert_array_equal(ours.coefs_[0], weight.T)
    with pytest.raises(AttributeError):
        ours.coefs_ = []  # read-only


def test_an_ensemble_has_a_leading_member_axis():
    X, y = regression(60)
    model = DeepRegressor(
        hidden_layer_sizes=(4,), ensemble_size=3, max_epochs=2, random_state=0, **PLAIN_INPUTS
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert [c.shape for c in model.coefs_] == [(3, 10, 4), (3, 4, 1)]
    assert [b.shape for b in model.intercepts_] == [(3, 4), (3, 1)]
    assert model.out_activation_ == "identity"


def test_validation_attributes_follow_the_restored_epoch():
    X, y = classification(200)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = DeepClassifier(hidden_layer_sizes=(8,), max_epochs=8, random_state=0).fit(X, y)
    assert model.best_loss_ is None  # a validation set chose the weights, as sklearn's
    scores = model.validation_scores_
    assert len(scores) == model.n_iter_
    assert scores == [e["valid_score"] for e in model.history_]
    best = [e["valid_score"] for e in model.history_ if e.get("best")][-1]
    assert model.best_validation_score_ == best


def test_multilabel_output_is_logistic():
    X, _ = classification(60)
    Y = (X[:, :2] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = DeepClassifier(hidden_layer_sizes=(4,), max_epochs=2, random_state=0).fit(X, Y)
    assert model.out_activation_ == "logistic"


def test_unfitted_attributes_raise_not_fitted():
    from sklearn.exceptions import NotFittedError

    for name in ("loss_curve_", "coefs_", "n_layers_", "out_activation_", "validation_scores_"):
        with pytest.raises(NotFittedError):
            getattr(DeepClassifier(), name)
        assert not hasattr(DeepClassifier(), name)


def test_history_takes_skorchs_indexing_and_stays_a_list(fitted):
    ours = fitted[0]
    history = ours.history_
    assert isinstance(history, History) and isinstance(history, list)
    assert history[:, "train_loss"] == [e["train_loss"] for e in history]
    assert history[-1, "epoch"] == ours.n_iter_
    assert history[-1]["epoch"] == ours.n_iter_  # list-of-dicts use is unchanged
    again = pickle.loads(pickle.dumps(ours))
    assert isinstance(again.history_, History)
    assert again.history_[:, "train_loss"] == history[:, "train_loss"]


def test_partial_fit_appends_to_the_same_history():
    X, y = classification(60)
    model = DeepClassifier(hidden_layer_sizes=(4,), random_state=0)
    model.partial_fit(X, y, classes=np.unique(y))
    history = model.history_
    model.partial_fit(X, y)
    assert model.history_ is history and len(history) == 2
    assert len(model.history_[:, "train_loss"]) == 2


def test_a_plain_list_history_becomes_a_history_on_loading(fitted):
    model = clone(fitted[0])
    state = {**fitted[0].__getstate__(), "history_": list(fitted[0].history_)}
    model.__setstate__(state)
    assert isinstance(model.history_, History)
    assert model.history_[:, "epoch"] == list(range(1, fitted[0].n_iter_ + 1))


# ---------------------------------------------------------------------------
# Other libraries' names
@pytest.mark.parametrize(
    "name, ours",
    [
        ("alpha", "l2 = alpha / (2 * batch_size)"),
        ("learning_rate_init", "learning_rate"),
        ("max_iter", "max_epochs"),
        ("n_iter_no_change", "patience"),
        ("solver", "optimizer"),
        ("nesterovs_momentum", "nesterov"),
        ("beta_1", "betas=(beta_1, beta_2)"),
        ("epsilon", "no equivalent"),
        ("shuffle", "always shuffled"),
        ("lr", "learning_rate"),
        ("module__hidden_units", "hidden_layer_sizes"),
        ("optimizer__weight_decay", "l2 = w / 2"),
        ("iterator_train__batch_size", "batch_size"),
        ("train_split", "X_val"),
        ("epochs", "max_epochs"),
        ("hidden_layers", "hidden_layer_sizes"),
        ("units", "hidden_layer_sizes"),
        ("validation_split", "validation_fraction"),
        ("kernel_initializer", "initializer"),
        ("kernel_regularizer", "l1, l2"),
        ("hiden_layer_sizes", "Did you mean hidden_layer_sizes?"),
    ],
)
@pytest.mark.parametrize("estimator", [DeepClassifier, DeepRegressor])
def test_another_librarys_name_is_answered_with_ours(estimator, name, ours):
    with pytest.raises(TypeError, match="unexpected keyword argument") as info:
        estimator(**{name: 1})
    assert ours in str(info.value)
    with pytest.raises(ValueError, match=f"Invalid parameter '{name}'") as info:
        estimator().set_params(**{name: 1})
    assert ours in str(info.value)


def test_an_unknown_name_without_a_hint_keeps_pythons_message():
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'zzz'\.$"):
        DeepClassifier(zzz=1)
    with pytest.raises(ValueError, match="Invalid parameter 'zzz'"):
        DeepClassifier().set_params(zzz=1)


@pytest.mark.parametrize(
    "params, ours",
    [
        (dict(activation="logistic"), 'activation="sigmoid"'),
        (dict(learning_rate="adaptive"), 'schedule="plateau"'),
        (dict(learning_rate="invscaling"), 'schedule="power"'),
        (dict(learning_rate="constant"), "schedule=None"),
        (dict(activation="identity"), "torch.nn.Identity"),
    ],
)
def test_another_librarys_value_is_answered_with_ours(params, ours):
    X, y = classification(30)
    with pytest.raises(ValueError, match=re.escape(ours)):
        DeepClassifier(**params).fit(X, y)


def test_a_keras_callback_is_explained():
    keras_like = type("EarlyStopping", (), {"__module__": "keras.src.callbacks"})()
    with pytest.raises(ValueError, match="Keras' EarlyStopping is early_stopping, patience"):
        DeepClassifier(callbacks=[keras_like]).fit(*classification(30))


def test_clone_pickle_and_subclasses_are_unaffected():
    model = DeepClassifier(max_epochs=3, hidden_layer_sizes=(4,))
    assert clone(model).get_params() == model.get_params()
    assert pickle.loads(pickle.dumps(model)).get_params() == model.get_params()

    class Mine(DeepClassifier):
        def __init__(self, *, extra=1, **kwargs):
            super().__init__(**kwargs)
            self.extra = extra

    assert Mine(extra=2, max_epochs=3).extra == 2  # a subclass's own keywords pass


# ---------------------------------------------------------------------------
# The migration page
@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_the_migration_page_shows_each_librarys_table(library):
    page = (DOCS / "migration.md").read_text()
    assert f"<!-- components: MIGRATION_{library.upper()} -->" in page
    table = markdown_table(library)
    entries = [e for e in EQUIVALENTS if e.library == library]
    assert len(table.splitlines()) == 2 + len(entries)
    for entry in entries:
        assert f"`{entry.their()}`" in table


def test_every_equivalent_names_our_parameters():
    params = set(DeepClassifier().get_params()) | set(DeepRegressor().get_params())
    known = params | {"fit", "x_val", "y_val", "torch", "nn", "history_"}
    for entry in EQUIVALENTS:
        for word in re.findall(r"[a-z_0-9]+", entry.ours.split("(")[0].split("=")[0]):
            assert word in known, (entry, word)
    # Their names are not ours (a name that is ours needs no hint); Keras'
    # loss is the regressor's own, and a hint for the classifier.
    shared = set(DeepClassifier().get_params()) & set(DeepRegressor().get_params())
    assert not {e.name for e in EQUIVALENTS if e.value is None} & shared
    assert "loss" in DeepRegressor().get_params()
    with pytest.raises(TypeError, match="DeepRegressor's loss is"):
        DeepClassifier(loss="categorical_crossentropy")
    with pytest.raises(InvalidParameterError, match='loss="squared_error"'):
        DeepRegressor(loss="mse").fit(np.zeros((4, 1)), np.arange(4.0))


def test_the_docs_hook_builds_the_tables():
    import importlib.util

    spec = importlib.util.spec_from_file_location("hooks", DOCS / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(hooks)
    except ImportError:
        pytest.skip("mkdocs is not installed")
    for library in LIBRARIES:
        assert hooks.TABLES[f"MIGRATION_{library.upper()}"]() == markdown_table(library)


@pytest.mark.parametrize(
    ("given", "hint"),
    [
        ({"validation_data": None}, "X_val=..., y_val=..."),
        ({"eval_set": None}, "X_val=..., y_val=..."),
        ({"epochs": 3}, "max_epochs"),
        ({"validation_split": 0.2}, "validation_fraction"),
        ({"not_a_thing": 1}, "unexpected keyword argument 'not_a_thing'"),
    ],
)
def test_other_libraries_fit_arguments_name_ours(given, hint):
    X, y = classification(n_samples=30)
    est = DeepClassifier(max_epochs=1)
    with pytest.raises(TypeError, match=re.escape(hint)):
        est.fit(X, y, **given)
    assert not hasattr(est, "net_")
