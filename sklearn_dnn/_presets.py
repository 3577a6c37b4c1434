"""Named parameter sets: the 2024 tabular-MLP recipe (the defaults), and the classic playbook.

:func:`tabular_recipe` returns the hyperparameters the defaults take from the
2024 tabular-MLP recipe, measured in the guide's "Defaults, and why"
(``benchmarks/results/defaults_v3_summary.md``): robust scaling with a
smooth clip and piecewise-linear embeddings of the numeric columns inside
the network, a learned scale per input feature, two hidden layers of 100
ReLU units, Adam with ``betas=(0.9, 0.95)`` and a cosine schedule over a
fixed budget of 60 epochs, no l2, and the best epoch on a validation set
(plus, for the regressor, predictions clipped to the range of the training
targets). Spelled out, they stay the same if a later release moves the
defaults.

:func:`classic_playbook` returns the defaults of 0.1, the book's playbook
without the recipe: standard scaling of DataFrames only, no embeddings, a
constant learning rate for up to 200 epochs, l2, and (for the regressor)
tanh and no stopping early::

    DeepRegressor(**classic_playbook(DeepRegressor, random_state=0))

Only the hyperparameters a set decides are in its dict, then the keywords
given to the function, which override the set's.
"""

# Shared by both estimators (RealMLP, Holzmueller et al., 2024; numeric
# embeddings, Gorishniy et al., 2022).
_RECIPE = {
    "hidden_layer_sizes": (100, 100),
    "activation": "relu",
    "numeric_scaling": "robust",
    "numeric_embedding": "piecewise",
    "embedding_size": 16,
    "feature_scaling": True,
    "learning_rate": 2e-3,
    "betas": (0.9, 0.95),
    "schedule": "cosine",
    "decay_steps": None,
    "max_epochs": 60,
    "l2": 0.0,
    "early_stopping": "auto",
}

_RECIPE_OWN = {
    "DeepClassifier": {},
    "DeepRegressor": {"clip_predictions": True},
}

# The defaults of 0.1 (guide: "Defaults, and why").
_CLASSIC = {
    "hidden_layer_sizes": (100, 100),
    "numeric_scaling": "auto",
    "numeric_embedding": None,
    "feature_scaling": False,
    "betas": (0.9, 0.999),
    "schedule": None,
    "decay_steps": 10,
    "max_epochs": 200,
}

_CLASSIC_OWN = {
    "DeepClassifier": {
        "activation": "relu",
        "learning_rate": 1e-3,
        "l2": 1e-3,
        "early_stopping": "auto",
        "tol": 1e-4,
    },
    "DeepRegressor": {
        "activation": "tanh",
        "learning_rate": 3e-3,
        "l2": 1e-2,
        "early_stopping": False,
        "tol": 1e-3,
        "clip_predictions": False,
    },
}


def _kind(estimator):
    """``"DeepClassifier"`` or ``"DeepRegressor"`` for a class, an instance or a name."""
    from ._classifier import DeepClassifier
    from ._regressor import DeepRegressor

    if isinstance(estimator, str):
        name = {"classifier": "DeepClassifier", "regressor": "DeepRegressor"}.get(
            estimator, estimator
        )
    else:
        cls = estimator if isinstance(estimator, type) else type(estimator)
        name = None
        if issubclass(cls, DeepClassifier):
            name = "DeepClassifier"
        elif issubclass(cls, DeepRegressor):
            name = "DeepRegressor"
    if name not in _RECIPE_OWN:
        raise ValueError(
            "A parameter set is for DeepClassifier or DeepRegressor (the class, an "
            f"instance, or 'classifier' / 'regressor'); got {estimator!r}."
        )
    return name


def _parameter_set(shared, own, estimator, params):
    """The set's shared settings, then ``estimator``'s own, then the keywords given."""
    return {**shared, **own[_kind(estimator)], **params}


# The sections both parameter sets' docstrings share.
_SECTIONS = """\
    Parameters
    ----------
    estimator : DeepClassifier or DeepRegressor, the class or an instance, \
or "classifier" or "regressor"
    **params
        Other hyperparameters, or ones of the set to override.

    Returns
    -------
    params : dict
        Keywords for the estimator's constructor: the set's, then ``params``.
"""


def _shares_sections(function):
    """Fill ``{sections}`` in ``function``'s docstring with :data:`_SECTIONS`."""
    function.__doc__ = function.__doc__.replace("    {sections}\n", _SECTIONS)
    return function


@_shares_sections
def tabular_recipe(estimator, **params):
    """The hyperparameters of the 2024 tabular-MLP recipe, the defaults' (and ``params``).

    {sections}

    Examples
    --------
    >>> from sklearn_dnn import DeepRegressor, tabular_recipe
    >>> reg = DeepRegressor(**tabular_recipe(DeepRegressor), random_state=0)
    >>> reg.numeric_embedding, reg.schedule, reg.clip_predictions
    ('piecewise', 'cosine', True)
    """
    return _parameter_set(_RECIPE, _RECIPE_OWN, estimator, params)


@_shares_sections
def classic_playbook(estimator, **params):
    """The defaults of sklearn-dnn 0.1: the book's playbook, without the 2024 recipe.

    {sections}

    Examples
    --------
    >>> from sklearn_dnn import DeepRegressor, classic_playbook
    >>> reg = DeepRegressor(**classic_playbook(DeepRegressor, max_epochs=50))
    >>> reg.activation, reg.numeric_embedding, reg.schedule, reg.max_epochs
    ('tanh', None, None, 50)
    """
    return _parameter_set(_CLASSIC, _CLASSIC_OWN, estimator, params)
