"""DeepRegressor."""

from dataclasses import replace

import numpy as np
from sklearn.base import RegressorMixin

from ._base import BaseDeepEstimator
from ._calibration import (
    calibrate_regressor,
    check_coverage,
    interval,
    no_calibration_rows,
)
from ._docs import fill_doc
from ._engine.inference import predict_outputs
from ._hyperparameters import declared
from ._hyperparameters.constraints import Options
from ._nn.heads import VARIANCE_LOSSES
from ._regression_task import RegressionTask
from ._tasks import REGRESSOR_SCORINGS
from ._variance_task import GaussianRegressionTask


@fill_doc
@declared(scoring=[Options(REGRESSOR_SCORINGS), None])
class DeepRegressor(RegressorMixin, BaseDeepEstimator):
    """A deep multi-layer perceptron regressor trained with PyTorch.

    The target is standardized internally (weighted mean 0, variance 1 per
    output) and the network is trained with the (sample-weighted) mean
    squared error, or, with ``loss="gaussian_nll"`` or ``"beta_nll"``,
    predicts a mean and a variance per output and is trained with their
    Gaussian likelihood; predictions come back on the original scale. ``y``
    may have several columns (multi-output regression).

    Parameters
    ----------
    {parameters}

    Attributes
    ----------
    y_range_ : ndarray of shape (2, n_outputs)
        The smallest (``[0]``) and largest (``[1]``) training target of each
        column, over every fit of the model (``clip_predictions``' bounds).
    {attributes}

    Notes
    -----
    The defaults are the 2024 tabular-MLP recipe (``tabular_recipe``),
    chosen on the project's benchmark of 29 real data sets
    (``benchmarks/bench_quality.py``; the guide's "Defaults, and why"): on
    its 14 regression sets, mean R^2 0.704 against scikit-learn's MLP's
    0.694 and gradient boosting's 0.708, far better where the target is
    non-linear, and weaker on small, noisy, nearly linear sets, where
    ``classic_playbook(DeepRegressor)`` (the settings of 0.1) or a linear
    model is the better start.

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

    _task_class = RegressionTask
    # What a fit without calibration rows commits (None: removed).
    _uncalibrated = {"_conformity_scores": None}

    def __init__(
        self,
        *,
        hidden_layer_sizes=(100, 100),
        activation="relu",
        initializer="auto",
        parametric_activation=False,
        parametrization="standard",
        batchnorm=False,
        dropout=0.0,
        dropout_schedule=None,
        categorical_features="from_dtype",
        numeric_scaling="robust",
        numeric_embedding="piecewise",
        embedding_size=16,
        feature_scaling=True,
        ensemble_size=1,
        bootstrap=False,
        optimizer="adam",
        learning_rate=2e-3,
        lr_factors=None,
        momentum=0.9,
        nesterov=False,
        betas=(0.9, 0.95),
        schedule="cosine",
        decay_rate=0.1,
        decay_steps=None,
        power_t=1.0,
        warmup=0.0,
        l1=0.0,
        l2=0.0,
        weight_decay=0.0,
        max_norm=None,
        clip_grad_norm=None,
        weight_decay_schedule=None,
        batch_size="auto",
        max_epochs=60,
        early_stopping="auto",
        validation_fraction=0.1,
        calibration_fraction=None,
        patience=10,
        best_epoch="first",
        tol=1e-3,
        scoring=None,
        random_state=None,
        device="cpu",
        n_threads=None,
        verbose=0,
        warm_start=False,
        diagnostics=False,
        pretrained=None,
        n_frozen=None,
        unfreeze_after=None,
        unfrozen_lr_factor=0.1,
        callbacks=None,
        loss="squared_error",
        nll_beta=0.5,
        clip_predictions=True,
    ):
        self.loss = loss
        self.nll_beta = nll_beta
        self.clip_predictions = clip_predictions
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            initializer=initializer,
            parametric_activation=parametric_activation,
            parametrization=parametrization,
            batchnorm=batchnorm,
            dropout=dropout,
            dropout_schedule=dropout_schedule,
            categorical_features=categorical_features,
            numeric_scaling=numeric_scaling,
            numeric_embedding=numeric_embedding,
            embedding_size=embedding_size,
            feature_scaling=feature_scaling,
            ensemble_size=ensemble_size,
            bootstrap=bootstrap,
            optimizer=optimizer,
            learning_rate=learning_rate,
            lr_factors=lr_factors,
            momentum=momentum,
            nesterov=nesterov,
            betas=betas,
            schedule=schedule,
            decay_rate=decay_rate,
            decay_steps=decay_steps,
            power_t=power_t,
            warmup=warmup,
            l1=l1,
            l2=l2,
            weight_decay=weight_decay,
            max_norm=max_norm,
            clip_grad_norm=clip_grad_norm,
            weight_decay_schedule=weight_decay_schedule,
            batch_size=batch_size,
            max_epochs=max_epochs,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            calibration_fraction=calibration_fraction,
            patience=patience,
            best_epoch=best_epoch,
            tol=tol,
            scoring=scoring,
            random_state=random_state,
            device=device,
            n_threads=n_threads,
            verbose=verbose,
            warm_start=warm_start,
            diagnostics=diagnostics,
            pretrained=pretrained,
            n_frozen=n_frozen,
            unfreeze_after=unfreeze_after,
            unfrozen_lr_factor=unfrozen_lr_factor,
            callbacks=callbacks,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _task_class_for(self, y):
        return GaussianRegressionTask if self.loss in VARIANCE_LOSSES else RegressionTask

    def _criterion_options(self):
        if self.loss not in VARIANCE_LOSSES:
            return {}
        return {"beta": float(self.nll_beta) if self.loss == "beta_nll" else 0.0}

    def _trained_architecture(self):
        # A model fitted before ``loss`` existed trained with the squared error.
        architecture = super()._trained_architecture()
        if architecture.loss is None:
            architecture = replace(architecture, loss="squared_error")
        return architecture

    def partial_fit(self, X, y, sample_weight=None):
        """Train on ``X`` and ``y`` for one pass, continuing from the current weights.

        Each call is one epoch over the given rows (in mini-batches of
        ``batch_size``, shuffled), from the weights and the optimizer state
        the previous call (or ``fit``) left, whatever ``warm_start`` says:
        the way to train on data that does not fit in memory, chunk by
        chunk. There is no early stopping and no schedule inside
        ``partial_fit`` (the rate stays ``learning_rate``); every other
        hyperparameter applies to each call, as for a warm start, and
        ``history_`` gets one entry per call. The target's standardization
        (mean and scale) is that of the first call's rows; a column without
        spread there (one row, or a constant) takes it from the first later
        call whose rows have some, as if that call were the first: the
        network's output for that column is read in the new units (it then
        predicts about the new mean), and the optimizer's state starts
        afresh. Like ``fit``, a call is all-or-nothing.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        return self._partial_fit(X, y, sample_weight)

    def predict(self, X):
        """Predicted target of every row of ``X``, on the original scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            1-D when ``y`` was 1-D in ``fit``; within ``y_range_`` with
            ``clip_predictions``.
        """
        return self._forward(X, finish=self._predictions)

    @property
    def y_range_(self):
        """The smallest and largest training target of each column: ``clip_predictions``' bounds.

        Kept by the fitted task (``_regression_task.py``), which widens it
        with every continued fit's targets.
        """
        y_range = getattr(vars(self).get("_task"), "y_range", None)
        if y_range is None:  # unfitted, or pickled before it existed
            raise AttributeError(f"This {type(self).__name__} has no y_range_ (not fitted).")
        return y_range

    def _predictions(self, outputs):
        """Raw outputs -> ``predict``'s answer: the one place ``clip_predictions`` applies."""
        predictions = self._task.predict(outputs)
        return self._task.clip(predictions) if self.clip_predictions else predictions

    # ------------------------------------------------------------------
    # calibrated intervals (see _calibration.py)
    def _mean_and_std(self, X):
        """The predicted mean of every row of ``X``, and its standard deviation, or None.

        For a model that predicts the noise (``loss="gaussian_nll"`` or
        ``"beta_nll"``): the members' combined Gaussian on the target's
        scale, deterministic (no dropout sampling), ``std`` the root of the
        members' mean variance plus the variance of their means. None for
        ``loss="squared_error"``, which has no variance. Both shaped like
        ``predict(X)``.
        """
        mean, std = self._moments(self._input_tensor(X))  # first: it checks that it is fitted
        if self._task.y_ndim == 1:
            return mean[:, 0], None if std is None else std[:, 0]
        return mean, std

    def _moments(self, rows):
        """:meth:`_mean_and_std` of input ``rows``, each (n_rows, n_outputs).

        ``rows`` are input rows as :meth:`_input_tensor` returns them (the
        calibration rows of a fit are such rows already). ``std`` is None
        without a variance head: conformal intervals then have one width.
        """
        if isinstance(self._task, GaussianRegressionTask):
            both = predict_outputs(self.module_, rows, self._task.mean_and_std, self.n_threads)
            n_rows = len(both)
            return both[:, 0].reshape(n_rows, -1), both[:, 1].reshape(n_rows, -1)
        mean = predict_outputs(
            self.module_,
            rows,
            lambda outputs: np.reshape(self._task.to_target_scale(outputs), (len(outputs), -1)),
            self.n_threads,
        )
        return mean, None

    def _calibrate(self, probe, X, target):
        return calibrate_regressor(probe, X, target)

    def predict_interval(self, X, coverage=0.9):
        """Intervals that hold ``coverage`` of new targets, by split conformal prediction.

        Calibrated in ``fit`` on held-out rows (those of
        ``calibration_fraction``, else the validation rows of early
        stopping): the interval of a row is ``mean +- q * std``, where
        ``q`` is the ``ceil((n + 1) * coverage)``-th smallest of the ``n``
        calibration rows' scores ``|y - mean| / std``. A model without a
        variance head has ``std = 1``: intervals of one width, the
        quantile of the absolute residuals. If the new rows are
        exchangeable with the calibration rows (drawn from the same
        distribution), the interval holds the target with probability at
        least ``coverage``, on average over rows (not for each row), in
        finite samples (Lei et al., 2018). Each output of a multi-output
        model is calibrated on its own.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        coverage : float, default=0.9
            The share of targets the intervals should hold, in (0, 1).

        Returns
        -------
        intervals : ndarray of shape (n_samples, 2) or (n_samples, 2, n_outputs)
            Lower (``[:, 0]``) and upper (``[:, 1]``) bounds; the 3-D shape
            when ``y`` was 2-D in ``fit`` (as MAPIE's ``(n_samples, 2,
            n_levels)``). Infinite, with a ``CalibrationWarning``, when
            the calibration rows are too few for ``coverage`` (fewer than
            ``coverage / (1 - coverage)``: 9 for 0.9).

        Raises
        ------
        ValueError
            If the model has no calibration rows (see ``calibration_fraction``).
        """
        coverage = check_coverage(coverage)
        rows = self._input_tensor(X)  # first: it checks that the estimator is fitted
        scores = getattr(self, "_conformity_scores", None)
        if scores is None:
            raise no_calibration_rows(self, "predict_interval")
        mean, std = self._moments(rows)
        return interval(mean, std, scores, coverage, self._task.y_ndim == 1)
