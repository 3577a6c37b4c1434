"""Named parameter sets: the 2024 tabular-MLP recipe, one call away.

:func:`tabular_recipe` returns the hyperparameters of the recipe measured
in the guide's "Defaults, and why" (``benchmarks/results/quality_recipe_v3.md``):
robust scaling with a smooth clip and piecewise-linear embeddings of the
numeric columns inside the network, a learned scale per input feature, two
hidden layers of 256 ReLU units, Adam with ``betas=(0.9, 0.95)`` and a
cosine schedule over a fixed budget of 60 epochs, and the best epoch on a
validation set (plus, for the regressor, predictions clipped to the range
of the training targets)::

    DeepRegressor(**tabular_recipe(DeepRegressor), random_state=0)

The estimators' defaults are still those of 0.1 (the classic playbook):
making the recipe the default is open work (see the guide). Only the
hyperparameters the recipe decides are in the dict; a keyword given after
it overrides it.
"""

# Shared by both estimators (RealMLP, Holzmueller et al., 2024; numeric
# embeddings, Gorishniy et al., 2022).
_RECIPE = {
    "hidden_layer_sizes": (256, 256),
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

_OWN = {
    "DeepClassifier": {},
    "DeepRegressor": {"clip_predictions": True},
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
    if name not in _OWN:
        raise ValueError(
            "A parameter set is for DeepClassifier or DeepRegressor (the class, an "
            f"instance, or 'classifier' / 'regressor'); got {estimator!r}."
        )
    return name


def tabular_recipe(estimator):
    """The hyperparameters of the 2024 tabular-MLP recipe, for ``estimator``.

    Parameters
    ----------
    estimator : DeepClassifier or DeepRegressor, the class or an instance, \
or "classifier" or "regressor"

    Returns
    -------
    params : dict
        Keywords for the estimator's constructor.

    Examples
    --------
    >>> from sklearn_dnn import DeepRegressor, tabular_recipe
    >>> reg = DeepRegressor(**tabular_recipe(DeepRegressor), random_state=0)
    >>> reg.numeric_embedding, reg.schedule, reg.clip_predictions
    ('piecewise', 'cosine', True)
    """
    return {**_RECIPE, **_OWN[_kind(estimator)]}
