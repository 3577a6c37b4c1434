"""The task of a regressor that models the noise: a mean and a variance per target column.

:class:`GaussianRegressionTask` is :class:`~sklearn_dnn._regression_task.RegressionTask`
(the same standardized targets, the same scores and predictions of the
mean) for a network with a variance head (``_nn/heads.py``): its raw
outputs are, per row, the means of the standardized target columns, then
their variances; members combine into the mean of the means and the total
variance, and the loss is the Gaussian negative log-likelihood.
``DeepRegressor(loss="gaussian_nll")`` or ``loss="beta_nll"`` picks it.

On the target's own scale a variance is the standardized one times
``scale ** 2`` (a standard deviation, times ``scale``).
"""

import numpy as np

from ._nn.heads import GaussianNLLLoss, combine_mean_variance, split_mean_variance
from ._regression_task import RegressionTask


class GaussianRegressionTask(RegressionTask):
    """Regression with a Gaussian per row: the network predicts a mean and a variance.

    Parameters are :class:`RegressionTask`'s. The output layer is twice
    as wide as ``y`` (``n_outputs``); everything read from the mean alone
    (``predict``, the validation scores) is the plain task's
    (:meth:`point_task`) on the means.
    """

    criterion = GaussianNLLLoss
    combine_members = staticmethod(combine_mean_variance)

    @property
    def n_outputs(self):
        return 2 * len(self.mean)

    def point_task(self):
        """The plain :class:`RegressionTask` in the same units: what reads the means."""
        return RegressionTask(self.mean, self.scale, self.spread, self.y_ndim, self.y_range)

    @staticmethod
    def valid_score(y_true, outputs, sample_weight):
        return RegressionTask.valid_score(y_true, split_mean_variance(outputs)[0], sample_weight)

    def scores(self):
        """The plain task's scores, of the predicted means."""

        def of_means(score):
            return lambda y, out, w: score(y, split_mean_variance(out)[0], w)

        return {name: of_means(score) for name, score in self.point_task().scores().items()}

    def predict(self, outputs):
        return self.point_task().predict(split_mean_variance(outputs)[0])

    def std(self, variances):
        """Standardized variances (..., k) -> standard deviations on the target's scale."""
        std = np.sqrt(variances) * self.scale
        return std[..., 0] if self.y_ndim == 1 else std

    def mean_and_std(self, outputs):
        """Combined outputs (rows, 2 * k) -> the mean and the total std, stacked on axis 1.

        Each shaped like ``predict``'s rows: the result is (rows, 2) for a
        1-D ``y``, (rows, 2, k) otherwise.
        """
        means, variances = split_mean_variance(outputs)
        return np.stack([self.predict(outputs), self.std(variances)], axis=1)

    def summarize(self, outputs, return_samples):
        """Fields of :class:`RegressionUncertainty` from outputs of shape (S, rows, 2 * k).

        ``mean``, ``std`` and ``samples`` are the plain task's, of the
        sampled means (``std`` is how much they disagree); the noise
        (``aleatoric_std``) is the root of the samples' mean variance,
        ``epistemic_std`` is ``std``, and ``total_std`` the root of the
        sum of both variances (the variance of the samples' mixture).
        """
        means, variances = split_mean_variance(outputs)
        fields = self.point_task().summarize(means, return_samples)
        aleatoric = self.std(variances.mean(axis=0))
        epistemic = fields["std"]
        total = np.sqrt(aleatoric**2 + epistemic**2)
        return {
            **fields,
            "aleatoric_std": aleatoric,
            "epistemic_std": epistemic,
            "total_std": total,
        }
