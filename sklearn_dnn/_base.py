"""BaseDeepEstimator: hyperparameters, validation and the fit template."""

import difflib
import warnings
from contextlib import contextmanager
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
from ._initializers import INITIALIZERS
from ._module import MLP
from ._net import SliceLoader, TensorData, TrainingNet
from ._optimizers import OPTIMIZERS, make_optimizer
from ._pretrained import PretrainedLayers
from ._schedules import SCHEDULES, make_schedule
from ._uncertainty import DROPOUT_LAYERS, sample_outputs
from .exceptions import DivergenceWarning

# Rows per forward pass at prediction time: large enough to amortize
# torch's per-call overhead, small enough to bound memory.
PREDICT_CHUNK_ROWS = 16384

# A training loss this many times its first epoch's counts as an explosion.
EXPLOSION_FACTOR = 100.0

# The network computes in X's floating type when it is float32 (faster)
# and in float64 otherwise, as scikit-learn's MLP does.
FLOAT_DTYPES = (np.float64, np.float32)

_OPTION_TABLES = {
    "activation": ACTIVATIONS,
    "initializer": {"auto": None, **INITIALIZERS},
    "optimizer": OPTIMIZERS,
    "schedule": SCHEDULES,
    "device": {"cpu": None, "cuda": None, "auto": None},
}


@contextmanager
def seeded_torch(seed, device):
    """Seed torch's global generators for the block, then restore their state."""
    gpu = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=gpu):
        torch.manual_seed(seed)
        yield


def draw_seed(random_state):
    """An int32 seed drawn from ``random_state`` (sklearn's conventions)."""
    return check_random_state(random_state).randint(np.iinfo(np.int32).max)


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


class BaseDeepEstimator(BaseEstimator):
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
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "diagnostics": ["boolean"],
        "pretrained": [PretrainedLayers, None],
        "n_frozen": [Interval(Integral, 0, None, closed="left"), None],
        "unfreeze_after": [Interval(Integral, 1, None, closed="left"), None],
        "unfrozen_lr_factor": [Interval(Real, 0, None, closed="neither")],
    }

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
            hint = self._did_you_mean()
            if hint is None:
                raise
            raise InvalidParameterError(f"{exc} {hint}") from None
        self._check_param_details()

    def _did_you_mean(self):
        for name, table in _OPTION_TABLES.items():
            value = getattr(self, name)
            if isinstance(value, str) and value not in table:
                close = difflib.get_close_matches(value.lower(), list(table), n=1)
                if close:
                    return f"Did you mean {name}={close[0]!r}?"
        return None

    def _check_param_details(self):
        sizes = np.atleast_1d(self.hidden_layer_sizes)
        if sizes.ndim != 1 or (sizes.size and not np.issubdtype(sizes.dtype, np.integer)):
            raise ValueError(
                "hidden_layer_sizes must be a tuple of positive integers; got "
                f"{self.hidden_layer_sizes!r}."
            )
        if np.any(sizes < 1):
            raise ValueError(
                f"hidden_layer_sizes must hold positive widths; got {self.hidden_layer_sizes!r}."
            )
        if isinstance(self.activation, type) and not issubclass(self.activation, nn.Module):
            raise ValueError(
                f"activation must be a name, a torch.nn.Module instance or a "
                f"torch.nn.Module subclass; got the class {self.activation!r}."
            )
        if isinstance(self.optimizer, type) and not issubclass(
            self.optimizer, torch.optim.Optimizer
        ):
            raise ValueError(
                f"optimizer must be a name or a torch.optim.Optimizer subclass; "
                f"got the class {self.optimizer!r}."
            )
        if self.pretrained is None and (
            self.n_frozen is not None or self.unfreeze_after is not None
        ):
            raise ValueError(
                "n_frozen and unfreeze_after apply to reused layers: build the "
                "estimator with from_pretrained(source, ...)."
            )
        if self.pretrained is not None and (self.n_frozen or 0) > self.pretrained.n_layers:
            raise ValueError(
                f"n_frozen={self.n_frozen}, but the source has only "
                f"{self.pretrained.n_layers} hidden layers to freeze."
            )
        if isinstance(self.decay_steps, tuple):

            if self.schedule != "step":
                raise ValueError(
                    "decay_steps may be a tuple of epochs only with schedule='step'; "
                    f"got decay_steps={self.decay_steps!r} with schedule={self.schedule!r}."
                )
            if not all(isinstance(s, Integral) and s >= 1 for s in self.decay_steps):
                raise ValueError(
                    f"decay_steps must hold positive epoch numbers; got {self.decay_steps!r}."
                )

    def _n_frozen(self):
        if self.pretrained is None:
            return 0
        return self.pretrained.n_layers if self.n_frozen is None else self.n_frozen

    @classmethod
    def from_pretrained(cls, source, n_frozen=None, unfreeze_after=None, **params):
        """Make an unfitted estimator whose hidden layers start as ``source``'s.

        The hidden layers (architecture and weights) are copied from the
        source, never shared: fitting the new estimator leaves the source
        unchanged, and ``sklearn.base.clone`` (so every GridSearchCV
        candidate) starts again from the source's weights. A new output
        layer is made for the new target, so a classifier's layers can
        serve a regressor and back.

        Parameters
        ----------
        source : fitted DeepClassifier or DeepRegressor, path or torch.nn.Sequential
            The network to reuse: a fitted estimator, a path to one saved
            with joblib or pickle, or a ``torch.nn.Sequential`` of Linear
            layers and activations (its last Linear layer, if it ends the
            sequence, is taken as its output layer and dropped).
        n_frozen : int or None, default=None
            How many reused hidden layers (input side first) stay frozen;
            None freezes them all.
        unfreeze_after : int or None, default=None
            Release the frozen layers after this many epochs, to train at
            ``learning_rate * unfrozen_lr_factor`` (0.1 by default).
        **params
            Any other hyperparameter of the estimator (``learning_rate``,
            ``max_epochs``, ...). The architecture parameters
            (``hidden_layer_sizes``, ``activation``, ``initializer``,
            ``batchnorm``, ``dropout``) are the source's.

        Returns
        -------
        estimator : unfitted estimator of this class

        Examples
        --------
        >>> from sklearn.datasets import load_digits
        >>> from sklearn_dnn import DeepClassifier
        >>> X, y = load_digits(return_X_y=True)
        >>> X = X / 16
        >>> source = DeepClassifier(max_epochs=20, random_state=0).fit(X[y < 8], y[y < 8])
        >>> model = DeepClassifier.from_pretrained(
        ...     source, learning_rate=1e-2, max_epochs=50, random_state=0
        ... )
        >>> model.fit(X[y >= 8], y[y >= 8]).score(X[y >= 8], y[y >= 8]) > 0.9
        True
        """
        pretrained = PretrainedLayers.from_source(source)
        return cls(
            pretrained=pretrained, n_frozen=n_frozen, unfreeze_after=unfreeze_after, **params
        )

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
        X, target, sample_weight = X[keep], target[keep], sample_weight[keep]

        rng = check_random_state(self.random_state)
        seed = draw_seed(rng)
        device = resolve_device(self.device)
        train, valid = self._split(X, target, sample_weight, rng, device)

        with seeded_torch(seed, device):
            if not continuing:
                self.net_ = self._build_net(X.shape[1], X.dtype, target, len(train), device)
                self.net_.initialize()
            self.net_.train_split = predefined_split(valid) if valid is not None else None
            n_before = len(self.net_.history)
            self.net_.partial_fit(train)
            self.net_.train_split = None
        self.module_ = self.net_.module_
        self.module_.eval()
        self.history_ = [
            {k: v for k, v in epoch.items() if k != "batches"} for epoch in self.net_.history
        ]
        self.n_iter_ = len(self.history_)
        self._warn_if_unstable(self.history_[n_before:])
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

    def _warn_if_unstable(self, epochs):
        """Warn when the loss of this fit exploded or ended above its start."""
        losses = np.array([epoch["train_loss"] for epoch in epochs])
        worst = int(losses.argmax())
        if losses[worst] > EXPLOSION_FACTOR * losses[0]:
            what = (
                f"exploded to {losses[worst]:.3g} in epoch {worst + 1} (epoch 1: {losses[0]:.3g})"
            )
        elif len(losses) > 1 and losses[-1] > losses[0]:
            what = f"ended at {losses[-1]:.3g}, above its first epoch's {losses[0]:.3g}"
        else:
            return
        warnings.warn(
            f"The training loss {what}: training was unstable. Lower "
            f"learning_rate (it is {self.learning_rate}), set clip_grad_norm, or "
            "scale the inputs (for example with sklearn.preprocessing.StandardScaler).",
            DivergenceWarning,
            stacklevel=4,
        )

    def _split(self, X, target, sample_weight, rng, device):
        """Move the data to ``device`` and hold out the validation set."""

        def tensors(X, target, weight):
            return TensorData(
                torch.as_tensor(X, device=device),
                torch.as_tensor(target, device=device),
                torch.as_tensor(weight.astype(X.dtype), device=device),
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
        return torch.as_tensor(X.astype(self._numpy_dtype(), copy=False), device=weight.device)

    def _forward(self, X):
        """Raw network outputs for ``X`` as a float64 array, in eval mode."""
        X = self._input_tensor(X)
        module = self.module_
        module.eval()
        with torch.inference_mode():
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

    def predict_uncertainty(self, X, n_samples=100, random_state=None, return_samples=False):
        """Estimate how sure the model is, by Monte-Carlo dropout.

        Dropout stays on at prediction time and ``n_samples`` stochastic
        passes are averaged (Gal and Ghahramani, 2016). Only the dropout
        layers are sampled: batch normalization keeps its running
        statistics, so a row's answer does not depend on the other rows,
        and the model is left unchanged. The passes are vectorized: each
        forward pass carries many copies of a chunk of rows.

        In a Pipeline, transform ``X`` with the steps before the model:
        ``pipe[-1].predict_uncertainty(pipe[:-1].transform(X))``.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
        n_samples : int, default=100
            Number of stochastic passes.
        random_state : int, RandomState instance or None, default=None
            Seeds the dropout masks; the same value gives the same numbers,
            and torch's global random state is left untouched.
        return_samples : bool, default=False
            Also return the sampled predictions (``samples``).

        Returns
        -------
        result : RegressionUncertainty or ClassificationUncertainty
            For a regressor ``mean`` and ``std`` shaped like
            ``predict(X)``, on the original target scale. For a classifier
            ``mean`` (averaged class probabilities), ``std`` (per class),
            ``entropy`` and ``mutual_info`` (per row).

        Raises
        ------
        ValueError
            If the network has no dropout (``dropout=0``).
        """
        check_is_fitted(self, "module_")
        if not any(isinstance(m, DROPOUT_LAYERS) and m.p > 0 for m in self.module_.modules()):
            raise ValueError(
                "predict_uncertainty uses Monte-Carlo dropout, which needs dropout: "
                f"this {type(self).__name__} has no dropout layer (dropout="
                f"{self.dropout}). Refit with dropout > 0, for example dropout=0.2."
            )
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(f"n_samples must be a positive integer; got {n_samples!r}.")
        X = self._input_tensor(X)
        device = str(self.module_.output.weight.device)
        with seeded_torch(draw_seed(random_state), device):
            outputs = sample_outputs(self.module_, X, n_samples)
        return self._summarize_samples(outputs, return_samples)
