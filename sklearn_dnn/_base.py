"""BaseDeepEstimator: hyperparameters, and ``fit`` in three phases.

``fit`` = *prepare* (:meth:`BaseDeepEstimator._prepare`: validate, encode,
split, every check; nothing on the estimator changes), *train*
(:func:`sklearn_dnn._training.train`, on a net nobody else sees) and
*commit* (:meth:`BaseDeepEstimator._commit`, the only place fitted
attributes are assigned). An exception in the first two phases, a
``KeyboardInterrupt`` included, leaves the estimator exactly as it was,
and propagates.
"""

import copy
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data
from torch import nn

from ._activations import ACTIVATIONS
from ._checks import check_param_details, did_you_mean, warn, warn_if_unstable
from ._diagnostics import check_gradient_health, dead_unit_fractions, gradient_norm_table
from ._groups import ParameterGroups
from ._inference import predict_outputs
from ._initializers import INITIALIZERS
from ._inspection import InspectionMixin
from ._module import parameter_count
from ._net import TensorData, as_tensor, input_rows
from ._optimizers import OPTIMIZERS
from ._params import Interval, Options, validate_params, with_python_values
from ._plan import FitPlan, check_network_memory, check_sample_weight, resolve_device, split_rows
from ._pretrained import PretrainedLayers, TransferMixin
from ._schedules import SCHEDULES
from ._seeding import draw_seed, make_generator
from ._tasks import CLASSIFIER_SCORINGS, REGRESSOR_SCORINGS
from ._threads import torch_threads
from ._training import check_warm_start, copy_user_callbacks, fitted_architecture, train
from ._uncertainty import UncertaintyMixin
from .exceptions import InvalidParameterError

# The network computes in X's floating type when it is float32 (faster)
# and in float64 otherwise, as scikit-learn's MLP does.
FLOAT_DTYPES = (np.float64, np.float32)

# Sparse inputs stay sparse (CSR, for fast row slicing) and are densified
# one mini-batch, or one prediction chunk, at a time.
SPARSE_FORMATS = ("csr", "csc")


class BaseDeepEstimator(UncertaintyMixin, TransferMixin, InspectionMixin, BaseEstimator):
    """Base class of :class:`DeepClassifier` and :class:`DeepRegressor`.

    Subclasses name their task (``_task_class``, see ``_tasks.py``): how
    targets are encoded, the loss, the validation score and how raw
    outputs become predictions.
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [Options(set(ACTIVATIONS)), nn.Module, type],
        "initializer": [Options({"auto", *INITIALIZERS}), callable],
        "batchnorm": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "ensemble_size": [Interval(Integral, 1, None, closed="left")],
        "bootstrap": ["boolean"],
        "optimizer": [Options(set(OPTIMIZERS)), type],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterov": ["boolean"],
        "schedule": [Options(set(SCHEDULES)), None],
        "decay_rate": [Interval(Real, 0, None, closed="neither")],
        "decay_steps": [Interval(Integral, 1, None, closed="left"), tuple],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "max_norm": [Interval(Real, 0, None, closed="neither"), None],
        "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [Options({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean", Options({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "scoring": [Options(CLASSIFIER_SCORINGS | REGRESSOR_SCORINGS), None],
        "random_state": ["random_state"],
        "device": [Options({"cpu", "cuda", "auto"})],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "diagnostics": ["boolean"],
        "pretrained": [PretrainedLayers, None],
        "n_frozen": [Interval(Integral, 0, None, closed="left"), None],
        "unfreeze_after": [Interval(Integral, 1, None, closed="left"), None],
        "unfrozen_lr_factor": [Interval(Real, 0, None, closed="neither")],
        "callbacks": [list, tuple, None],
    }

    # The task class (see ``_tasks.py``): set by each estimator; its
    # ``target_validation`` and ``clean_targets`` read y before the task
    # of the fit is picked by ``_task_class_for``.
    _task_class = None

    def _task_class_for(self, y):
        """The task class for the validated targets ``y`` of a new fit."""
        return self._task_class

    def __init__(
        self,
        *,
        hidden_layer_sizes,
        activation,
        initializer,
        batchnorm,
        dropout,
        ensemble_size,
        bootstrap,
        optimizer,
        learning_rate,
        momentum,
        nesterov,
        schedule,
        decay_rate,
        decay_steps,
        power_t,
        l1,
        l2,
        max_norm,
        clip_grad_norm,
        batch_size,
        max_epochs,
        early_stopping,
        validation_fraction,
        patience,
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
        self.batchnorm = batchnorm
        self.dropout = dropout
        self.ensemble_size = ensemble_size
        self.bootstrap = bootstrap
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.schedule = schedule
        self.decay_rate = decay_rate
        self.decay_steps = decay_steps
        self.power_t = power_t
        self.l1 = l1
        self.l2 = l2
        self.max_norm = max_norm
        self.clip_grad_norm = clip_grad_norm
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
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

    # ------------------------------------------------------------------
    # hyperparameters
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

    def _hidden_layer_sizes(self):
        return tuple(int(s) for s in np.atleast_1d(self.hidden_layer_sizes))

    def _class_weight(self):
        """The class weights the task multiplies into the rows' weights (a classifier's)."""
        return None

    def _n_frozen(self):
        if self.pretrained is None:
            return 0
        return self.pretrained.n_layers if self.n_frozen is None else self.n_frozen

    # ------------------------------------------------------------------
    # fit
    def fit(self, X, y, sample_weight=None):
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

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, sample_weight)

    def _fit(self, X, y, sample_weight, extra_callbacks=(), incremental=False, classes=None):
        settings = with_python_values(self)  # np.True_ from a search: torch wants True
        plan = settings._prepare(X, y, sample_weight, incremental, classes)
        net, still_improving = train(settings, plan, extra_callbacks)
        n_before = len(self.net_.history) if plan.continuing else 0
        self._commit(plan, net)
        self._warn_after_fit(plan, still_improving, n_before)
        return self

    def _validate_training_data(self, X, y, continuing):
        """Validated X and y, and the feature count and names they bring (self unchanged)."""
        kwargs = dict(
            dtype=FLOAT_DTYPES, accept_sparse=SPARSE_FORMATS, **self._task_class.target_validation
        )
        if continuing:
            X, y = validate_data(self, X, y, reset=False, **kwargs)
            y = self._task_class.clean_targets(y)
            return X, y, self.n_features_in_, getattr(self, "feature_names_in_", None)
        probe = copy.copy(self)  # validate_data records the features on the estimator
        X, y = validate_data(probe, X, y, reset=True, **kwargs)
        y = self._task_class.clean_targets(y)
        return X, y, probe.n_features_in_, getattr(probe, "feature_names_in_", None)

    def _partial_fit(self, X, y, sample_weight, classes=None):
        """One pass over the rows of ``X``, continuing the fitted network if there is one."""
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _prepare(self, X, y, sample_weight, incremental=False, classes=None):
        """Check and prepare everything a fit needs; change nothing on ``self``.

        ``incremental`` (``partial_fit``): continue the fitted network, if
        any, whatever ``warm_start`` says, for one pass over the rows,
        without a validation split or a schedule; ``classes`` are the
        classifier's labels on a first call.
        """
        self._check_params()
        callbacks = copy_user_callbacks(self.callbacks, self.schedule)
        continuing = (self.warm_start or incremental) and hasattr(self, "net_")
        if continuing:
            check_warm_start(self, self._fitted_architecture)
        X, y, n_features_in, feature_names_in = self._validate_training_data(X, y, continuing)
        sample_weight = check_sample_weight(sample_weight, X.shape[0])
        if continuing:
            X = X.astype(self._numpy_dtype(), copy=False)
        if self.pretrained is not None:
            self.pretrained.check_input(X.shape[1], feature_names_in)
        if continuing:
            task = self._task.continued_with(y, sample_weight)
        else:
            task = self._task_class_for(y).from_targets(
                y, sample_weight, type(self).__name__, classes=classes
            )
        valid_score = task.scorer(self.scoring)
        target = task.encode(y, X.dtype)
        sample_weight = task.weigh(y, sample_weight, self._class_weight())
        keep = sample_weight > 0
        if not keep.all():  # rows of weight zero are left out, as if removed
            X, target, sample_weight = X[keep], target[keep], sample_weight[keep]
        # The loss is a weighted mean: scaling every weight changes nothing but
        # float range, so weights are brought to mean 1 before any cast.
        sample_weight = sample_weight / sample_weight.mean()

        rng = check_random_state(self.random_state)
        init_seed, train_seed = draw_seed(rng), draw_seed(rng)
        device = resolve_device(self.device)
        train_rows, valid_rows = self._split_rows(target, task, rng, incremental)
        n_train = len(target) if train_rows is None else len(train_rows)
        batch_size = self._batch_size(n_train)
        batchnorm = self.pretrained.has_batchnorm if self.pretrained else self.batchnorm
        if batchnorm and min(batch_size, n_train) < 2:
            raise ValueError(
                "batchnorm=True needs at least 2 rows per mini-batch (batch statistics "
                f"of one row are undefined); got batch_size={self.batch_size!r} with "
                f"{n_train} training rows. Use a larger batch_size or "
                "batchnorm=False."
            )
        sizes = self._hidden_layer_sizes()
        n_parameters = parameter_count(
            X.shape[1],
            sizes,
            task.n_outputs,
            self.activation,
            batchnorm,
            self.pretrained,
            self.ensemble_size,
        )
        check_network_memory(n_parameters, X.dtype.itemsize, device, self.ensemble_size, sizes)
        tensors = (
            input_rows(X, device),
            as_tensor(target, device),
            as_tensor(sample_weight.astype(X.dtype), device),
        )
        n_frozen = self._n_frozen()
        return FitPlan(
            X=X,
            task=task,
            continuing=continuing,
            n_features_in=n_features_in,
            feature_names_in=feature_names_in,
            train=self._subset(tensors, sample_weight, train_rows, device),
            valid=None
            if valid_rows is None
            else self._subset(tensors, sample_weight, valid_rows, device),
            callbacks=callbacks,
            valid_score=valid_score,
            batch_size=batch_size,
            batchnorm=batchnorm,
            hidden_layer_sizes=sizes,
            ensemble_size=self.ensemble_size,
            n_frozen=n_frozen,
            groups=ParameterGroups(n_frozen, self.learning_rate, self.unfrozen_lr_factor),
            init_seed=init_seed,
            generator=make_generator(train_seed, device),
            device=device,
            torch_dtype=torch.float32 if X.dtype == np.float32 else torch.float64,
            max_epochs=1 if incremental else self.max_epochs,
            incremental=incremental,
        )

    @staticmethod
    def _subset(tensors, sample_weight, rows, device):
        """The rows ``rows`` of the data (all rows when ``rows`` is None), without a copy."""
        X, target, weight = tensors
        own = sample_weight if rows is None else sample_weight[rows]
        equal = np.all(own == own[0])
        index = None if rows is None else as_tensor(rows, device)
        return TensorData(X, target, None if equal else weight, index)

    def _split_rows(self, target, task, rng, incremental=False):
        """Training and validation row indices: see :func:`~sklearn_dnn._plan.split_rows`."""
        if incremental:  # partial_fit holds nothing out
            return None, None
        return split_rows(target, task, self.early_stopping, self.validation_fraction, rng)

    def _batch_size(self, n_train):
        if self.batch_size == "auto":
            return min(200, n_train)
        return min(self.batch_size, n_train)

    def _commit(self, plan, net):
        """Assign every fitted attribute of a successful fit; the only place that does.

        Whatever can fail is computed first; then the attributes are assigned.
        """
        new = [{k: v for k, v in epoch.items() if k != "batches"} for epoch in net.history]
        history = self.history_ if plan.continuing else []
        diagnosed = {}
        if self.diagnostics:
            n_linear = len(net.module_.linear_layers())
            table = getattr(self, "gradient_norms_", None) if plan.continuing else None
            if table is None:  # a first fit, or diagnostics were off: from the history
                table = gradient_norm_table(history, n_linear)
            table = np.concatenate([table, gradient_norm_table(new, n_linear)])
            diagnosed["gradient_norms_"] = table
            with torch_threads(self.n_threads):
                diagnosed["dead_units_"] = dead_unit_fractions(net.module_, plan.train.all_X)
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
            "_fitted_architecture": fitted_architecture(self),
            "history_": history,
            "n_iter_": len(history),
            "gradient_norms_": None,
            "dead_units_": None,
            **diagnosed,
        }
        for name, value in fitted.items():
            if value is None:
                vars(self).pop(name, None)  # e.g. diagnostics of an earlier fit
            else:
                setattr(self, name, value)

    def _warn_after_fit(self, plan, still_improving, n_before):
        """The warnings about a fit that succeeded (after the commit)."""
        warn_if_unstable(self.history_, n_before, self.learning_rate)
        if self.diagnostics:
            check_gradient_health(
                self.gradient_norms_[n_before:], self.dead_units_, self.learning_rate
            )
        if still_improving:
            if plan.valid is None:
                monitored = "training loss was still falling"
            elif self.scoring is None:
                monitored = "validation loss was still falling"
            else:
                monitored = f"validation score ({self.scoring}) was still rising"
            warn(
                f"{type(self).__name__} reached max_epochs={self.max_epochs} while the "
                f"{monitored} by more than tol={self.tol} per "
                "epoch. Increase max_epochs, or learning_rate if the loss falls slowly.",
                ConvergenceWarning,
            )

    # ------------------------------------------------------------------
    # prediction
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # densified batch by batch, never as a whole
        return tags

    def _numpy_dtype(self):
        return np.float32 if self.module_.output.weight.dtype == torch.float32 else np.float64

    def _input_tensor(self, X):
        """Validate ``X`` for prediction and move it to the module's device and type."""
        check_is_fitted(self, "net_")
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES, accept_sparse=SPARSE_FORMATS)
        weight = self.module_.output.weight
        return input_rows(X.astype(self._numpy_dtype(), copy=False), weight.device)

    def _forward(self, X, finish=None):
        """Network outputs for ``X``: see :func:`~sklearn_dnn._inference.predict_outputs`."""
        X = self._input_tensor(X)  # first: it checks that the estimator is fitted
        return predict_outputs(self.module_, X, finish, self.n_threads)
