"""Seeing inside training: the estimators' learning-rate finder and plots."""

from ._lr_finder import find_learning_rate
from ._plotting import plot_gradients, plot_history


class InspectionMixin:
    """``find_learning_rate``, ``plot_history`` and ``plot_gradients``."""

    def find_learning_rate(
        self, X, y, start_lr=1e-6, end_lr=1.0, n_steps=100, stop_factor=4.0, sample_weight=None
    ):
        """Run the learning-rate range test: train a copy at exponentially growing rates.

        A throwaway copy (``sklearn.base.clone``, so the same
        hyperparameters and ``random_state``) trains for at most
        ``n_steps`` mini-batches while the learning rate grows from
        ``start_lr`` to ``end_lr``; the test stops early once the smoothed
        loss exceeds ``stop_factor`` times its best. This estimator is left
        exactly as it was: not fitted by the call, and unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        start_lr : float, default=1e-6
            Learning rate of the first mini-batch.
        end_lr : float, default=1.0
            Learning rate of mini-batch ``n_steps``.
        n_steps : int, default=100
            Largest number of mini-batches (the data is cycled through as
            many epochs as needed).
        stop_factor : float, default=4.0
            Stop once the smoothed loss exceeds this multiple of its best.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        result : RangeTestResult
            ``lrs`` and ``losses`` per mini-batch, ``suggestion`` (a tenth
            of the rate at the lowest smoothed loss) and ``plot()``.

        Examples
        --------
        >>> from sklearn.datasets import load_iris
        >>> from sklearn.preprocessing import scale
        >>> from sklearn_dnn import DeepClassifier
        >>> X, y = load_iris(return_X_y=True)
        >>> clf = DeepClassifier(batch_size=16, random_state=0)
        >>> result = clf.find_learning_rate(scale(X), y, n_steps=60)
        >>> 1e-5 < result.suggestion < 1.0
        True
        >>> hasattr(clf, "net_")
        False
        """
        return find_learning_rate(
            self, X, y, start_lr, end_lr, n_steps, stop_factor, sample_weight=sample_weight
        )

    def plot_history(self, ax=None):
        """Plot the training (and validation) loss and the learning rate per epoch.

        Needs matplotlib (``pip install sklearn-dnn[plot]``).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.

        Returns
        -------
        ax : matplotlib Axes
        """
        return plot_history(self, ax)

    def plot_gradients(self, ax=None):
        """Plot the mean gradient norm of each Linear layer per epoch, log scale.

        Needs a model fitted with ``diagnostics=True``, and matplotlib
        (``pip install sklearn-dnn[plot]``).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.

        Returns
        -------
        ax : matplotlib Axes
        """
        return plot_gradients(self, ax)
