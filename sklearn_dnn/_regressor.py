"""DeepRegressor."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.preprocessing import StandardScaler
from torch import nn

from ._base import BaseDeepEstimator
from ._docs import fill_doc


@fill_doc
class DeepRegressor(RegressorMixin, BaseDeepEstimator):
    """A deep multi-layer perceptron regressor trained with PyTorch.

    The target is standardized internally (weighted mean 0, variance 1 per
    output) and the network is trained with the (sample-weighted) mean
    squared error; predictions come back on the original scale. ``y`` may
    have several columns (multi-output regression).

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    {attributes}

    See Also
    --------
    DeepClassifier : The same network for classification.
    sklearn.neural_network.MLPRegressor : scikit-learn's own MLP.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_dnn import DeepRegressor
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = make_pipeline(StandardScaler(), DeepRegressor(random_state=0))
    >>> reg.fit(X, y).predict(X[:3]).shape
    (3,)
    """

    _criterion = nn.MSELoss
    _target_validation = {"multi_output": True, "y_numeric": True}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _encode_target(self, y, sample_weight, continuing, dtype):
        y = np.asarray(y, dtype=np.float64)
        self._y_ndim = y.ndim
        y2d = y.reshape(len(y), -1)
        if not continuing:
            self._target_scaler = StandardScaler().fit(y2d, sample_weight=sample_weight)
        elif y2d.shape[1] != self._target_scaler.n_features_in_:
            raise ValueError(
                f"y has {y2d.shape[1]} outputs, but warm_start continues a model "
                f"with {self._target_scaler.n_features_in_}."
            )
        return self._target_scaler.transform(y2d).astype(dtype)

    def _n_outputs(self, target):
        return target.shape[1]

    @staticmethod
    def _valid_score(y_true, outputs, sample_weight):
        return r2_score(y_true, outputs, sample_weight=sample_weight)

    def predict(self, X):
        """Predicted target of every row of ``X``, on the original scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            1-D when ``y`` was 1-D in ``fit``.
        """
        outputs = self._forward(X)
        y = self._target_scaler.inverse_transform(outputs)
        return y.ravel() if self._y_ndim == 1 else y
