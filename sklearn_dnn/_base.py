"""BaseDeepEstimator: hyperparameters, and ``fit`` in three phases.

``fit`` = *prepare* (:func:`sklearn_dnn._engine.plan.prepare`: validate, encode,
split, every check; nothing on the estimator changes; the plan it returns
holds every setting training reads), *train*
(:func:`sklearn_dnn._engine.training.train`, on a net nobody else sees) and
*commit* (:meth:`BaseDeepEstimator._commit`, the only place fitted
attributes are assigned). An exception in the first two phases, a
``KeyboardInterrupt`` included, leaves the estimator exactly as it was,
and propagates.
"""

import copy
import inspect

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from ._calibration import calibrate
from ._diagnostics import check_gradient_health, dead_unit_fractions, gradient_norm_table
from ._engine.divergence import warn_if_unstable
from ._engine.inference import predict_outputs
from ._engine.net import input_rows
from ._engine.plan import prepare
from ._engine.threads import torch_threads
from ._engine.training import train
from ._familiar import MLPAttributesMixin, as_history
from ._hyperparameters import declared
from ._hyperparameters.checks import check_param_details, did_you_mean
from ._hyperparameters.constraints import validate_params
from ._hyperparameters.foreign import (
    unknown_fit_argument_message,
    unknown_name_hint,
    unknown_name_message,
)
from ._inputs import prediction_codes, validate_inputs
from ._inspection import InspectionMixin
from ._nn.architecture import Architecture
from ._persistence import PersistenceMixin
from ._presets import classic_playbook
from ._pretrained import TransferMixin
from ._uncertainty import UncertaintyMixin
from ._warnings import warn
from .exceptions import InvalidParameterError

# The network computes in X's floating type when it is float32 (faster)
# and in float64 otherwise, as scikit-learn's MLP does.
FLOAT_DTYPES = (np.float64, np.float32)

# Sparse inputs stay sparse (CSR, for fast row slicing) and are densified
# one mini-batch, or one prediction chunk, at a time.
SPARSE_FORMATS = ("csr", "csc")


@declared()
class BaseDeepEstimator(
    UncertaintyMixin,
    TransferMixin,
    InspectionMixin,
    MLPAttributesMixin,
    PersistenceMixin,
    BaseEstimator,
):
    """Base class of :class:`DeepClassifier` and :class:`DeepRegressor`.

    Subclasses name their task (``_task_class``, see ``_tasks.py``): how
    targets are encoded, the loss, the validation score and how raw
    outputs become predictions.
    """

    # The task class (see ``_tasks.py``): set by each estimator; its
    # ``target_validation`` and ``clean_targets`` read y before the task
    # of the fit is picked by ``_task_class_for``.
    _task_class = None

    def _task_class_for(self, y):
        """The task class for the validated targets ``y`` of a new fit."""
        return self._task_class

    def __new__(cls, *args, **kwargs):
        # An unknown keyword (another library's name, a typo) is refused here,
        # before __init__, with our name for it: DeepClassifier(epochs=10).
        params = inspect.signature(cls.__init__).parameters
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            for name in kwargs:
                if name not in params or name == "self":
                    raise TypeError(unknown_name_message(cls.__name__, name, params))
        return super().__new__(cls)

    def __init__(
        self,
        *,
        hidden_layer_sizes,
        activation,
        initializer,
        parametric_activation,
        parametrization,
        batchnorm,
        dropout,
        dropout_schedule,
        categorical_features,
        numeric_scaling,
        numeric_embedding,
        embedding_size,
        feature_scaling,
        ensemble_size,
        bootstrap,
        optimizer,
        learning_rate,
        lr_factors,
        momentum,
        nesterov,
        betas,
        schedule,
        decay_rate,
        decay_steps,
        power_t,
        warmup,
        l1,
        l2,
        weight_decay,
        max_norm,
        clip_grad_norm,
        weight_decay_schedule,
        batch_size,
        max_epochs,
        early_stopping,
        validation_fraction,
        calibration_fraction,
        patience,
        best_epoch,
        tol,
        scoring,
        random_state,
        device,
        n_threads,
        verbose,
        warm_start,
        diagnostics,
        pretrained,
        n_frozen,
        unfreeze_after,
        unfrozen_lr_factor,
        callbacks,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.initializer = initializer
        self.parametric_activation = parametric_activation
        self.parametrization = parametrization
        self.batchnorm = batchnorm
        self.dropout = dropout
        self.dropout_schedule = dropout_schedule
        self.categorical_features = categorical_features
        self.numeric_scaling = numeric_scaling
        self.numeric_embedding = numeric_embedding
        self.embedding_size = embedding_size
        self.feature_scaling = feature_scaling
        self.ensemble_size = ensemble_size
        self.bootstrap = bootstrap
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.lr_factors = lr_factors
        self.momentum = momentum
        self.nesterov = nesterov
        self.betas = betas
        self.schedule = schedule
        self.decay_rate = decay_rate
        self.decay_steps = decay_steps
        self.power_t = power_t
        self.warmup = warmup
        self.l1 = l1
        self.l2 = l2
        self.weight_decay = weight_decay
        self.max_norm = max_norm
        self.clip_grad_norm = clip_grad_norm
        self.weight_decay_schedule = weight_decay_schedule
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.calibration_fraction = calibration_fraction
        self.patience = patience
        self.best_epoch = best_epoch
        self.tol = tol
        self.scoring = scoring
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads
        self.verbose = verbose
        self.warm_start = warm_start
        self.diagnostics = diagnostics
        self.pretrained = pretrained
        self.n_frozen = n_frozen
        self.unfreeze_after = unfreeze_after
        self.unfrozen_lr_factor = unfrozen_lr_factor
        self.callbacks = callbacks

    def __setstate__(self, state):
        # A model pickled before a hyperparameter existed (0.1.0's) takes the
        # value it was trained with: the classic playbook's (0.1's defaults)
        # where that names one, the default otherwise (a feature then absent).
        trained_with = classic_playbook(type(self))
        for name, param in inspect.signature(type(self).__init__).parameters.items():
            if param.kind is inspect.Parameter.KEYWORD_ONLY:
                state.setdefault(name, trained_with.get(name, param.default))
        super().__setstate__(state)

    # ------------------------------------------------------------------
    # hyperparameters
    def set_params(self, **params):
        """Set the estimator's parameters (scikit-learn's ``set_params``).

        An unknown name is a ValueError, as scikit-learn's, that also names
        our equivalent of another library's parameter (``max_iter``,
        ``lr``, ``epochs``...).
        """
        valid = self.get_params(deep=True)
        for name in params:
            hint = None if name in valid else unknown_name_hint(name, valid)
            if hint is not None:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {self}. Valid parameters "
                    f"are: {sorted(valid)!r}. {hint}"
                )
        return super().set_params(**params)

    def _check_params(self):
        try:
            validate_params(self)
        except InvalidParameterError as exc:
            hint = did_you_mean(self)
            if hint is None:
                raise
            raise InvalidParameterError(f"{exc} {hint}") from None
        check_param_details(self)

    @property
    def module_(self):
        """The trained torch module: the skorch net's, one object, pickled once."""
        return self.net_.module_

    def _class_weight(self):
        """The class weights the task multiplies into the rows' weights (a classifier's)."""
        return None

    def _criterion_options(self):
        """Keyword arguments of the task's criterion besides ``reduction`` (none)."""
        return {}

    def _trained_architecture(self):
        """The fitted network's :class:`~sklearn_dnn._nn.architecture.Architecture`.

        A model pickled by 0.1 has the raw hyperparameters instead
        (``_fitted_architecture``), from which it is derived.
        """
        if hasattr(self, "_architecture_"):
            return self._architecture_
        return Architecture.from_fitted_settings(self._fitted_architecture, self.n_features_in_)

    # ------------------------------------------------------------------
    # fit
    def fit(
        self, X, y, sample_weight=None, X_val=None, y_val=None, sample_weight_val=None, **unknown
    ):
        """Train the network on ``X`` and ``y``.

        The fit is all-or-nothing: when it fails (bad input, divergence,
        ``KeyboardInterrupt``), the estimator is left exactly as it was
        (fitted with the previous model, or unfitted) and the exception
        propagates.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. A scipy sparse matrix stays sparse and is
            densified one mini-batch at a time.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row in the loss. Rows with weight zero are left
            out of training, as if they were removed.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), default=None
            Validation rows of your own, checked as ``predict``'s ``X``
            (same features, same names). With ``y_val``, they replace the
            ``validation_fraction`` split (every row of ``X`` trains) for
            early stopping, the restored best epoch and the ``valid_loss``
            and ``valid_score`` of ``history_``. As in scikit-learn's
            ``HistGradientBoosting*.fit``, ``early_stopping="auto"`` turns
            early stopping on when they are given (whatever the number of
            rows). With ``early_stopping=False`` they are scored every epoch
            but neither stop training nor choose the weights (as Keras'
            ``validation_data`` without an ``EarlyStopping`` callback;
            HistGradientBoosting refuses the combination). In a
            ``Pipeline``, ``Pipeline(..., transform_input=["X_val"])``
            transforms them as ``X`` (scikit-learn >= 1.6 with metadata
            routing).
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Targets of ``X_val``, encoded as ``y`` (the classes of ``y``, a
            regressor's target scale from ``y``): a class not in ``y`` is an
            error.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation rows in the validation loss and score;
            ``class_weight`` multiplies in the class weights of the training
            rows (``"balanced"`` is computed on ``y``, not on ``y_val``).
        **unknown
            None is accepted: another library's argument of ``fit``
            (``epochs``, ``validation_data``, ``eval_set``...) is a TypeError
            that names our equivalent.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if unknown:
            raise TypeError(unknown_fit_argument_message(type(self).__name__, sorted(unknown)))
        return self._fit(X, y, sample_weight, validation=(X_val, y_val, sample_weight_val))

    def _fit(
        self,
        X,
        y,
        sample_weight,
        extra_callbacks=(),
        incremental=False,
        classes=None,
        validation=(None, None, None),
    ):
        plan = prepare(self, X, y, sample_weight, incremental, classes, extra_callbacks, validation)
        previous = self.net_ if plan.continuing else None
        net, still_improving = train(plan, previous)
        n_before = len(previous.history) if plan.continuing else 0
        self._commit(plan, net)
        self._warn_after_fit(plan, still_improving, n_before)
        return self

    def _validate_training_data(self, X, y, continuing, inputs=None):
        """Validated X (as codes) and y, the features they bring, and X's input description.

        ``inputs`` is the input description to encode X with (a source's,
        through ``pretrained``); a continued fit keeps its own; otherwise X
        is described anew (see ``_inputs.py``). ``self`` is unchanged.
        """
        kwargs = dict(
            dtype=FLOAT_DTYPES, accept_sparse=SPARSE_FORMATS, **self._task_class.target_validation
        )
        if continuing:
            inputs = getattr(self, "_inputs_", None)  # None in a model pickled by 0.1
            X, y, inputs = validate_inputs(self, self, X, y, False, inputs, kwargs)
            y = self._task_class.clean_targets(y)
            return X, y, self.n_features_in_, getattr(self, "feature_names_in_", None), inputs
        probe = copy.copy(self)  # validate_data records the features on the estimator
        X, y, inputs = validate_inputs(self, probe, X, y, True, inputs, kwargs)
        y = self._task_class.clean_targets(y)
        return X, y, probe.n_features_in_, getattr(probe, "feature_names_in_", None), inputs

    def _features_probe(self, n_features_in, feature_names_in, inputs=None):
        """A copy of these settings that validates data against the given features.

        ``inputs`` is the input description (``_inputs.py``) of this fit,
        which encodes the data as it encodes the training rows.
        """
        probe = copy.copy(self)
        probe.n_features_in_ = n_features_in
        probe._inputs_ = inputs
        if feature_names_in is None:
            vars(probe).pop("feature_names_in_", None)
        else:
            probe.feature_names_in_ = feature_names_in
        return probe

    def _partial_fit(self, X, y, sample_weight, classes=None):
        """One pass over the rows of ``X``, continuing the fitted network if there is one."""
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _commit(self, plan, net):
        """Assign every fitted attribute of a successful fit; the only place that does.

        Whatever can fail is computed first; then the attributes are assigned.
        """
        new = [{k: v for k, v in epoch.items() if k != "batches"} for epoch in net.history]
        history = as_history(self.history_ if plan.continuing else [])
        diagnosed = {}
        if plan.diagnostics:
            n_linear = len(net.module_.linear_layers())
            table = getattr(self, "gradient_norms_", None) if plan.continuing else None
            if table is None:  # a first fit, or diagnostics were off: from the history
                table = gradient_norm_table(history, n_linear)
            table = np.concatenate([table, gradient_norm_table(new, n_linear)])
            diagnosed["gradient_norms_"] = table
            with torch_threads(plan.n_threads):
                diagnosed["dead_units_"] = dead_unit_fractions(net.module_, plan.train.all_X)
        calibrated = calibrate(self, plan, net)  # conformal scores, temperature
        # A continued fit's epochs are appended to the histories, never copied:
        # a partial_fit call costs the same however many epochs came before.
        if plan.continuing:
            self.net_.history.extend(net.history)
            net.history = self.net_.history
        history.extend(new)
        fitted = {
            **plan.task.fitted_attributes(),
            "net_": net,
            "_task": plan.task,
            "n_features_in_": plan.n_features_in,
            "feature_names_in_": plan.feature_names_in,
            "_input_summary_": plan.input_summary,  # what a transfer from this model compares
            "_architecture_": plan.architecture,
            "_inputs_": plan.inputs,
            "_fitted_architecture": None,  # 0.1's form of it, in a model it pickled
            "history_": history,
            "n_iter_": len(history),
            "gradient_norms_": None,
            "dead_units_": None,
            **diagnosed,
            **calibrated,
        }
        for name, value in fitted.items():
            if value is None:
                vars(self).pop(name, None)  # e.g. diagnostics of an earlier fit
            else:
                setattr(self, name, value)

    def _warn_after_fit(self, plan, still_improving, n_before):
        """The warnings about a fit that succeeded (after the commit)."""
        learning_rate = plan.recipe.learning_rate
        warn_if_unstable(self.history_, n_before, learning_rate)
        if plan.diagnostics:
            check_gradient_health(self.gradient_norms_[n_before:], self.dead_units_, learning_rate)
        if still_improving:
            warn(
                f"{type(self).__name__} reached max_epochs={plan.max_epochs} while the "
                f"{plan.stopping.monitored} by more than tol={plan.stopping.tol} per "
                "epoch. Increase max_epochs, or learning_rate if the loss falls slowly.",
                ConvergenceWarning,
            )

    # ------------------------------------------------------------------
    # prediction
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # densified batch by batch, never as a whole
        tags.input_tags.allow_nan = True  # imputed inside the network (see _nn/inputs.py)
        return tags

    def _numpy_dtype(self):
        return np.float32 if self.module_.output.weight.dtype == torch.float32 else np.float64

    def _input_tensor(self, X):
        """Validate ``X`` for prediction and move it to the module's device and type."""
        check_is_fitted(self, "net_")
        inputs = getattr(self, "_inputs_", None)  # None in a model pickled by 0.1
        if inputs is None:
            X = validate_data(
                self, X, reset=False, dtype=FLOAT_DTYPES, accept_sparse=SPARSE_FORMATS
            )
        else:
            X = prediction_codes(
                self, inputs, X, dict(dtype=FLOAT_DTYPES, accept_sparse=SPARSE_FORMATS)
            )
        weight = self.module_.output.weight
        return input_rows(X.astype(self._numpy_dtype(), copy=False), weight.device)

    def _forward(self, X, finish=None):
        """Network outputs for ``X``: see :func:`~sklearn_dnn._engine.inference.predict_outputs`."""
        X = self._input_tensor(X)  # first: it checks that the estimator is fitted
        return predict_outputs(self.module_, X, finish, self.n_threads)
