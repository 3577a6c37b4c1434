"""BaseDeepEstimator: hyperparameters, validation and the fit template."""

import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping, GradientNormClipping
from skorch.helper import predefined_split
from torch import nn

from ._activations import ACTIVATIONS
from ._callbacks import DivergenceGuard, EpochRecorder, MaxNorm, Unfreeze
from ._checks import check_param_details, did_you_mean, warn_if_unstable
from ._diagnostics import (
    attach_gradient_recorder,
    check_gradient_health,
    dead_unit_fractions,
    gradient_norm_table,
)
from ._initializers import INITIALIZERS
from ._inspection import InspectionMixin
from ._module import MLP
from ._net import SliceLoader, TensorData, TrainingNet, as_tensor
from ._optimizers import OPTIMIZERS, make_optimizer
from ._pretrained import PretrainedLayers, TransferMixin
from ._schedules import SCHEDULES, make_schedule
from ._seeding import draw_seed, seeded_torch
from ._threads import torch_threads
from ._uncertainty import UncertaintyMixin

# Rows per forward pass at prediction time: large enough to amortize
# torch's per-call overhead, small enough to bound memory.
PREDICT_CHUNK_ROWS = 16384

# The network computes in X's floating type when it is float32 (faster)
# and in float64 otherwise, as scikit-learn's MLP does.
FLOAT_DTYPES = (np.float64, np.float32)


def resolve_device(device):
    """Map ``"auto"`` to ``"cuda"`` when a GPU is available, else ``"cpu"``."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            "device='cuda' was requested but torch finds no CUDA device; "
            "use device='cpu' or device='auto'."
        )
    return device


class BaseDeepEstimator(UncertaintyMixin, TransferMixin, InspectionMixin, BaseEstimator):
    """Base class of :class:`DeepClassifier` and :class:`DeepRegressor`.

    Subclasses define how targets are encoded (``_encode_target``), the
    criterion (``_criterion``), the validation score (``_valid_score``) and
    how raw outputs become predictions.
    """

    _parameter_constraints = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS)), nn.Module, type],
        "initializer": [StrOptions({"auto", *INITIALIZERS}), callable],
        "batchnorm": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [StrOptions(set(OPTIMIZERS)), type],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterov": ["boolean"],
        "schedule": [StrOptions(set(SCHEDULES)), None],
        "decay_rate": [Interval(Real, 0, None, closed="neither")],
        "decay_steps": [Interval(Integral, 1, None, closed="left"), tuple],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "max_norm": [Interval(Real, 0, None, closed="neither"), None],
        "clip_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "device": [StrOptions({"cpu", "cuda", "auto"})],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "diagnostics": ["boolean"],
        "pretrained": [PretrainedLayers, None],
        "n_frozen": [Interval(Integral, 0, None, closed="left"), None],
        "unfreeze_after": [Interval(Integral, 1, None, closed="left"), None],
        "unfrozen_lr_factor": [Interval(Real, 0, None, closed="neither")],
    }

    # Callbacks the training net gets after the estimator's own; only the
    # learning-rate range test sets them, on its throwaway copy.
    _extra_callbacks = ()

    def __init__(
        self,
        *,
        hidden_layer_sizes,
        activation,
        initializer,
        batchnorm,
        dropout,
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
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.initializer = initializer
        self.batchnorm = batchnorm
        self.dropout = dropout
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

    # ------------------------------------------------------------------
    # validation
    def _validate_params(self):
        try:
            super()._validate_params()
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

    # ------------------------------------------------------------------
    # fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
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
        continuing = self.warm_start and hasattr(self, "net_")
        X, y = validate_data(
            self,
            X,
            y,
            reset=not continuing,
            dtype=FLOAT_DTYPES,
            **self._target_validation,
        )
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        if continuing:
            X = X.astype(self._numpy_dtype(), copy=False)
        if self.pretrained is not None:
            self.pretrained.check_input(X.shape[1], getattr(self, "feature_names_in_", None))
        target = self._encode_target(y, sample_weight, continuing, X.dtype)
        keep = sample_weight > 0
        if not keep.all():  # rows of weight zero are left out, as if removed
            X, target, sample_weight = X[keep], target[keep], sample_weight[keep]

        rng = check_random_state(self.random_state)
        seed = draw_seed(rng)
        device = resolve_device(self.device)
        train, valid = self._split(X, target, sample_weight, rng, device)

        if not continuing and hasattr(self, "net_"):
            del self.net_  # a failed fit must not leave the previous model in place
        with seeded_torch(seed, device), torch_threads(self.n_threads):
            if continuing:
                net = self.net_
            else:
                net = self._build_net(X.shape[1], X.dtype, target, len(train), device)
                net.initialize()
            attach_gradient_recorder(net, self.diagnostics)
            net.train_split = predefined_split(valid) if valid is not None else None
            n_before = len(net.history)
            net.partial_fit(train, epochs=self.max_epochs)
            net.train_split = None
        self.net_ = net
        self.module_.eval()
        self.history_ = [
            {k: v for k, v in epoch.items() if k != "batches"} for epoch in self.net_.history
        ]
        self.n_iter_ = len(self.history_)
        warn_if_unstable(self.history_[n_before:], self.learning_rate, stacklevel=4)
        for name in ("gradient_norms_", "dead_units_"):
            vars(self).pop(name, None)  # from an earlier fit with diagnostics on
        if self.diagnostics:
            n_linear = len(self.module_.linear_layers())
            self.gradient_norms_ = gradient_norm_table(self.history_, n_linear)
            self.dead_units_ = dead_unit_fractions(self.module_, train.X)
            check_gradient_health(
                self.gradient_norms_[n_before:], self.dead_units_, self.learning_rate, stacklevel=3
            )
        if self.n_iter_ - n_before >= self.max_epochs:
            monitored = "validation" if self.early_stopping else "training"
            warnings.warn(
                f"{type(self).__name__} reached max_epochs={self.max_epochs} before "
                f"the {monitored} loss stopped improving (by tol={self.tol} within "
                f"patience={self.patience} epochs). Increase max_epochs, or "
                "learning_rate if the loss falls slowly.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _split(self, X, target, sample_weight, rng, device):
        """Move the data to ``device`` and hold out the validation set."""

        def tensors(X, target, weight):
            return TensorData(
                as_tensor(X, device),
                as_tensor(target, device),
                None if np.all(weight == weight[0]) else as_tensor(weight.astype(X.dtype), device),
            )

        if not self.early_stopping:
            return tensors(X, target, sample_weight), None
        parts = self._holdout(X, target, sample_weight, rng)
        return tensors(*parts[0::2]), tensors(*parts[1::2])

    def _holdout(self, X, target, sample_weight, rng):
        return train_test_split(
            X, target, sample_weight, test_size=self.validation_fraction, random_state=rng
        )

    def _batch_size(self, n_train):
        if self.batch_size == "auto":
            return min(200, n_train)
        return self.batch_size

    def _build_net(self, n_features, dtype, target, n_train, device):
        batch_size = self._batch_size(n_train)
        n_frozen = self._n_frozen()
        batchnorm = self.pretrained.has_batchnorm if self.pretrained else self.batchnorm
        n_batches = len(SliceLoader(range(n_train), batch_size, merge_singleton=batchnorm))
        monitor = "valid_loss" if self.early_stopping else "train_loss"
        callbacks = [
            ("divergence", DivergenceGuard(self.learning_rate)),
            ("recorder", EpochRecorder(self._valid_score)),
        ]
        if self.clip_grad_norm is not None:
            callbacks.append(("clip", GradientNormClipping(self.clip_grad_norm)))
        if self.max_norm is not None:
            callbacks.append(("max_norm", MaxNorm(self.max_norm)))
        if n_frozen and self.unfreeze_after is not None:
            callbacks.append(("unfreeze", Unfreeze(self.unfreeze_after)))
        schedule = make_schedule(
            self.schedule,
            {
                "learning_rate": self.learning_rate,
                "decay_rate": self.decay_rate,
                "decay_steps": self.decay_steps,
                "power_t": self.power_t,
                "max_epochs": self.max_epochs,
                "n_batches": n_batches,
                "monitor": monitor,
            },
        )
        if schedule is not None:
            callbacks.append(("schedule", schedule))
        callbacks.extend(self._extra_callbacks)
        callbacks.append(
            (
                "stopper",
                EarlyStopping(
                    monitor=monitor,
                    patience=self.patience,
                    threshold=self.tol,
                    threshold_mode="abs",
                    load_best=self.early_stopping,
                ),
            )
        )
        return TrainingNet(
            module=MLP,
            module__n_features=n_features,
            module__hidden_layer_sizes=self._hidden_layer_sizes(),
            module__n_outputs=self._n_outputs(target),
            module__activation=self.activation,
            module__initializer=self.initializer,
            module__batchnorm=self.batchnorm,
            module__dropout=self.dropout,
            module__dtype=torch.float32 if dtype == np.float32 else torch.float64,
            module__pretrained=self.pretrained,
            module__n_frozen=n_frozen,
            criterion=self._criterion,
            criterion__reduction="none",
            optimizer=partial(
                make_optimizer,
                optimizer=self.optimizer,
                momentum=self.momentum,
                nesterov=self.nesterov,
            ),
            optimizer__param_groups=[
                (f"hidden.{i}.*", {"lr": self.learning_rate * self.unfrozen_lr_factor})
                for i in range(n_frozen)
            ],
            lr=self.learning_rate,
            max_epochs=self.max_epochs,
            batch_size=batch_size,
            iterator_train=SliceLoader,
            iterator_train__shuffle=True,
            iterator_train__merge_singleton=batchnorm,
            iterator_valid=SliceLoader,
            train_split=None,
            callbacks=callbacks,
            device=device,
            verbose=self.verbose,
            l1=self.l1,
            l2=self.l2,
        )

    # ------------------------------------------------------------------
    # prediction
    def _numpy_dtype(self):
        return np.float32 if self.module_.output.weight.dtype == torch.float32 else np.float64

    def _input_tensor(self, X):
        """Validate ``X`` for prediction and move it to the module's device and type."""
        check_is_fitted(self, "module_")
        X = validate_data(self, X, reset=False, dtype=FLOAT_DTYPES)
        weight = self.module_.output.weight
        return as_tensor(X.astype(self._numpy_dtype(), copy=False), weight.device)

    def _forward(self, X):
        """Raw network outputs for ``X`` as a float64 array, in eval mode."""
        X = self._input_tensor(X)
        module = self.module_
        module.eval()
        with torch.inference_mode(), torch_threads(self.n_threads):
            out = [
                module(X[i : i + PREDICT_CHUNK_ROWS]).cpu()
                for i in range(0, len(X), PREDICT_CHUNK_ROWS)
            ]
        out = torch.cat(out).numpy().astype(np.float64)
        if not np.isfinite(out).all():
            raise ValueError(
                "The network produced non-finite outputs for some rows of X. "
                "Their values are probably far outside the range seen in training; "
                "scale X as it was scaled for fit."
            )
        return out
