"""Named parameter sets: the previous defaults, and a faster recipe.

The defaults of 0.2 follow the 2024 tabular-MLP recipe (see the guide's
"Defaults, and why"). Two other parameter sets are one call away, for
either estimator:

- :func:`classic_playbook`: the defaults of 0.1, the classic recipe of
  Geron's chapter 11 (ReLU or tanh, ``l2``, Adam at a constant rate,
  early stopping on a patience), for reproducing earlier results or as
  a baseline;
- :func:`fast_recipe`: the new recipe on a smaller budget (one hidden
  layer, fewer epochs), for when fit time matters more than the last
  points of score.

Each returns a dict of hyperparameters, to be passed as keywords::

    DeepClassifier(**classic_playbook(DeepClassifier), random_state=0)

Only the hyperparameters that the set decides are in the dict: the rest
keep their defaults, and a keyword given after the dict overrides it.
"""

from ._classifier import DeepClassifier
from ._regressor import DeepRegressor

# Settings the classic playbook shares between both estimators: the
# defaults of 0.1 of every recipe setting added in 0.2 (their "off").
_CLASSIC_COMMON = {
    "hidden_layer_sizes": (100, 100),
    "parametric_activation": False,
    "parametrization": "standard",
    "dropout": 0.0,
    "dropout_schedule": None,
    "numeric_scaling": "auto",
    "numeric_embedding": None,
    "feature_scaling": False,
    "lr_factors": None,
    "betas": (0.9, 0.999),
    "schedule": None,
    "decay_steps": 10,
    "warmup": 0.0,
    "l1": 0.0,
    "weight_decay": 0.0,
    "weight_decay_schedule": None,
    "batch_size": "auto",
    "max_epochs": 200,
    "patience": 10,
    "best_epoch": "first",
}

_CLASSIC = {
    "DeepClassifier": {
        **_CLASSIC_COMMON,
        "activation": "relu",
        "learning_rate": 1e-3,
        "l2": 1e-3,
        "early_stopping": "auto",
        "tol": 1e-4,
        "label_smoothing": 0.0,
    },
    "DeepRegressor": {
        **_CLASSIC_COMMON,
        "activation": "tanh",
        "learning_rate": 3e-3,
        "l2": 1e-2,
        "early_stopping": False,
        "tol": 1e-3,
        "clip_predictions": False,
    },
}

# The new recipe on a smaller budget: one hidden layer of 256 and 20 epochs.
_FAST = {
    "hidden_layer_sizes": (256,),
    "max_epochs": 20,
}


def _kind(estimator):
    """``"DeepClassifier"`` or ``"DeepRegressor"`` for a class, an instance or a name."""
    if isinstance(estimator, str):
        name = {"classifier": "DeepClassifier", "regressor": "DeepRegressor"}.get(
            estimator, estimator
        )
    else:
        cls = estimator if isinstance(estimator, type) else type(estimator)
        if issubclass(cls, DeepClassifier):
            name = "DeepClassifier"
        elif issubclass(cls, DeepRegressor):
            name = "DeepRegressor"
        else:
            name = cls.__name__
    if name not in _CLASSIC:
        raise ValueError(
            f"A parameter set is for DeepClassifier or DeepRegressor (the class, an "
            f"instance, or 'classifier' / 'regressor'); got {estimator!r}."
        )
    return name


def classic_playbook(estimator):
    """The hyperparameters that give ``estimator`` the defaults of sklearn-dnn 0.1.

    The classic recipe: ``hidden_layer_sizes=(100, 100)``, ReLU (the
    classifier) or tanh (the regressor), an ``l2`` penalty, Adam at a
    constant rate, inputs taken as they are (a Pipeline's scaler scales
    them), early stopping on a patience of 10 epochs (the classifier) or on
    the training loss (the regressor).

    Parameters
    ----------
    estimator : DeepClassifier or DeepRegressor, the class or an instance, or "classifier" or "regressor"

    Returns
    -------
    params : dict
        Keywords for the estimator's constructor.

    Examples
    --------
    >>> from sklearn_dnn import DeepRegressor, classic_playbook
    >>> reg = DeepRegressor(**classic_playbook(DeepRegressor), random_state=0)
    >>> reg.activation, reg.l2, reg.schedule
    ('tanh', 0.01, None)
    """
    return dict(_CLASSIC[_kind(estimator)])


def fast_recipe(estimator):
    """The default recipe on a smaller budget, for when fit time matters most.

    One hidden layer of 256 units and ``max_epochs=20`` (the cosine
    schedule spans those 20); every other part of the recipe is the
    default's. See the guide's "Defaults, and why" for what it costs and
    gives.

    Parameters
    ----------
    estimator : DeepClassifier or DeepRegressor, the class or an instance, or "classifier" or "regressor"

    Returns
    -------
    params : dict
        Keywords for the estimator's constructor.

    Examples
    --------
    >>> from sklearn_dnn import DeepClassifier, fast_recipe
    >>> DeepClassifier(**fast_recipe(DeepClassifier)).max_epochs
    20
    """
    _kind(estimator)
    return dict(_FAST)
