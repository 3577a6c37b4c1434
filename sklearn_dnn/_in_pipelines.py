"""Functions that reach a model through a scikit-learn Pipeline.

A model is usually the last step of a Pipeline (after a scaler, say), but
its own methods (``predict_uncertainty``, ``find_learning_rate``) take
the inputs it sees, not the Pipeline's. These functions take an estimator
or a Pipeline that ends in one, and transform ``X`` with the steps before
it first.
"""

from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted


def split_pipeline(estimator):
    """``(preprocessing, model)``: the steps before the last and the last step.

    ``preprocessing`` is None when ``estimator`` is not a Pipeline.
    """
    if isinstance(estimator, Pipeline):
        return estimator[:-1], estimator.steps[-1][1]
    return None, estimator


def _final_model(estimator, method):
    preprocessing, model = split_pipeline(estimator)
    if not hasattr(model, method):
        where = "the last step of the Pipeline" if preprocessing is not None else "the estimator"
        raise TypeError(
            f"{method} needs a DeepClassifier or DeepRegressor; {where} is {type(model).__name__}."
        )
    return preprocessing, model


def predict_uncertainty(estimator, X, **kwargs):
    """The uncertainty of a model (ensemble or Monte-Carlo dropout), or of a Pipeline's last step.

    With a fitted Pipeline, ``X`` goes through every step but the last
    (``transform``), then the last step's ``predict_uncertainty``.

    Parameters
    ----------
    estimator : fitted DeepClassifier, DeepRegressor or Pipeline ending in one
    X : array-like of shape (n_rows, n_features)
        Inputs as the Pipeline (or the model) takes them.
    **kwargs
        ``n_samples``, ``random_state``, ``return_samples``, ``method``: see
        :meth:`DeepClassifier.predict_uncertainty`.

    Returns
    -------
    result : ClassificationUncertainty or RegressionUncertainty

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_dnn import DeepClassifier, predict_uncertainty
    >>> X, y = load_iris(return_X_y=True)
    >>> pipe = make_pipeline(StandardScaler(), DeepClassifier(dropout=0.2, random_state=0))
    >>> predict_uncertainty(pipe.fit(X, y), X[:5], random_state=0).mean.shape
    (5, 3)
    """
    preprocessing, model = _final_model(estimator, "predict_uncertainty")
    if preprocessing is not None:
        check_is_fitted(estimator)
        X = preprocessing.transform(X)
    return model.predict_uncertainty(X, **kwargs)


def find_learning_rate(estimator, X, y, **kwargs):
    """The learning-rate range test of a model, or of a Pipeline's last step.

    With a Pipeline, a clone of the steps before the last is fitted on
    ``X`` and ``y`` (``fit_transform``), and the range test runs on a copy
    of the last step with the transformed ``X``; neither the Pipeline nor
    its steps are fitted or changed.

    Parameters
    ----------
    estimator : DeepClassifier, DeepRegressor or Pipeline ending in one
        Fitted or not.
    X : array-like of shape (n_samples, n_features)
        Inputs as the Pipeline (or the model) takes them.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    **kwargs
        ``start_lr``, ``end_lr``, ``n_steps``, ``stop_factor``,
        ``sample_weight`` (for the model only): see
        :meth:`DeepClassifier.find_learning_rate`.

    Returns
    -------
    result : RangeTestResult
    """
    preprocessing, model = _final_model(estimator, "find_learning_rate")
    if preprocessing is not None:
        X = clone(preprocessing).fit_transform(X, y)
    return model.find_learning_rate(X, y, **kwargs)
