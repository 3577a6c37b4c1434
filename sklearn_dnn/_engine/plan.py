"""The prepare phase of ``fit``: everything training needs, decided once.

:func:`prepare` checks the hyperparameters and the data of a fit and
returns a :class:`FitPlan`: the data parts (tensors, the training and
validation rows, the task), the :class:`~sklearn_dnn._nn.architecture.Architecture`,
the optimizer's :class:`Recipe`, the :class:`Stopping` rule and the run's
settings, all as plain Python values. Training
(:func:`sklearn_dnn._engine.training.train`) reads the plan and nothing else:
never the estimator, whose hyperparameters may change meanwhile.
Nothing on the estimator changes here.
"""

import math
import os
from dataclasses import dataclass, fields

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

from .._calibration import hold_out_for_calibration
from .._hyperparameters.constraints import with_python_values
from .._input_summary import summarize_inputs
from .._inputs import check_sample_weight, weigh_inputs
from .._nn.architecture import Architecture, check_warm_start
from .._nn.inputs import stage_parameter_count
from .._nn.mlp import parameter_count
from . import schedules
from .groups import ParameterGroups
from .net import TensorData, as_tensor, input_rows
from .seeding import draw_seed, make_generator
from .user_callbacks import check_user_stoppers, copy_user_callbacks
from .validation_set import MIN_VALIDATION_ROWS, check_validation_arguments, validation_set

# The memory a fit assumes when neither psutil nor the operating system
# tells how much there is (Windows without psutil, say).
FALLBACK_MEMORY_BYTES = 64 * 2**30

# early_stopping="auto" holds out a validation set from this many rows on;
# below it every row is kept for training.
AUTO_EARLY_STOPPING_ROWS = 100


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


def memory_limit(device):
    """Bytes of memory that the network's weights may take on ``device``.

    A CUDA device's free memory; on the CPU, the available memory as
    psutil (if installed) reports it, else the machine's physical memory,
    else :data:`FALLBACK_MEMORY_BYTES`.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        import psutil
    except ImportError:
        pass
    else:
        return psutil.virtual_memory().available
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf, or not these names
        return FALLBACK_MEMORY_BYTES


def check_network_memory(n_parameters, itemsize, device, ensemble_size, hidden_layer_sizes):
    """Raise a ValueError when training a network of ``n_parameters`` cannot fit in memory.

    Training holds the weights and their gradients, at least twice the
    weights' size (an optimizer's state adds more); the check runs before
    anything is allocated, so that a too-large ``ensemble_size`` or
    ``hidden_layer_sizes`` is refused with the sizes, not with an
    allocator's error.
    """
    needed = 2 * n_parameters * itemsize
    limit = memory_limit(device)
    if needed > limit:
        raise ValueError(
            f"The network is too large for the memory: ensemble_size={ensemble_size} "
            f"members with hidden_layer_sizes={hidden_layer_sizes} hold {n_parameters:,} "
            f"parameters, {n_parameters * itemsize / 2**30:.1f} GiB of weights, and "
            f"training needs at least {needed / 2**30:.1f} GiB (the weights and their "
            f"gradients), more than the {limit / 2**30:.1f} GiB of memory available on "
            f"{device}. Use a smaller ensemble_size or smaller hidden_layer_sizes (float32 "
            "input halves the size)."
        )


@dataclass(frozen=True)
class Recipe:
    """How the network is optimized: the optimizer, its rates and schedule, the penalties."""

    optimizer: object  # a name of OPTIMIZERS or an optimizer class
    learning_rate: float
    momentum: float
    nesterov: bool
    betas: tuple  # (beta1, beta2) of the Adam family
    schedule: str | None
    decay_rate: float
    decay_steps: object  # int, a tuple of epochs for "step", or None: relative to the run
    power_t: float
    warmup: float  # the fraction of the run the rate warms up over
    dropout_schedule: str | None
    weight_decay_schedule: str | None
    l1: float
    l2: float
    weight_decay: float  # decoupled: after each step (see TrainingNet)
    max_norm: float | None
    clip_grad_norm: float | None
    dropout: float
    groups: ParameterGroups  # which parameters train, at which rate
    unfreeze_after: int | None
    criterion_options: dict  # the loss's own settings (a beta-NLL's beta), by the estimator


@dataclass(frozen=True)
class Stopping:
    """When training stops, the epoch it keeps, what the ConvergenceWarning says it watched."""

    monitor: str  # the loss: "valid_loss" with a validation set, else "train_loss"
    stop_on: str  # what the stopper watches: the monitored loss, or "valid_score"
    patience: int | None  # None: never stops early (the run's epochs are the budget)
    tol: float
    restore_best: bool  # restore the best epoch's weights (with a validation set)
    monitored: str  # "validation loss was still falling", for the ConvergenceWarning
    best_epoch: str = "first"  # of epochs tied with the best: the first, or the last
    # The schedule brings the rate to ~0 by the last epoch: a run that trained
    # every epoch converged by construction (no ConvergenceWarning).
    annealed: bool = False

    @classmethod
    def for_fit(
        cls,
        has_validation,
        scoring,
        patience,
        tol,
        best_epoch="first",
        spans_run=False,
        annealed=False,
    ):
        """The rule of a fit with or without a validation set, and with ``scoring`` or None.

        A schedule that spans the run (``spans_run``: see :func:`spans_run`)
        fixes the epoch budget: the stopper does not stop early (as with
        ``patience=None``), every epoch trains, and with a validation set
        the best epoch is selected and restored.
        """
        monitor = "valid_loss" if has_validation else "train_loss"
        if not has_validation:
            monitored = "training loss was still falling"
        elif scoring is None:
            monitored = "validation loss was still falling"
        else:
            monitored = f"validation score ({scoring}) was still rising"
        return cls(
            monitor=monitor,
            stop_on="valid_score" if has_validation and scoring is not None else monitor,
            patience=None if spans_run else patience,
            tol=tol,
            restore_best=has_validation,
            monitored=monitored,
            best_epoch=best_epoch,
            annealed=annealed,
        )


def spans_run(recipe):
    """Whether ``recipe`` schedules something over the whole run, which fixes its epoch budget.

    A learning-rate schedule planned over the run (``"onecycle"``,
    ``"cosine"``, ``"coslog"``, ``"flat_cos"``, or ``"exponential"``,
    ``"step"``, ``"power"`` with ``decay_steps=None``), a ``warmup``, or
    a dropout or weight-decay schedule: stopping early would cut it short.
    """
    return (
        schedules.spans_run(recipe.schedule, recipe.decay_steps)
        or recipe.warmup > 0
        or recipe.dropout_schedule is not None
        or recipe.weight_decay_schedule is not None
    )


@dataclass(frozen=True)
class FitPlan:
    """Everything a fit needs, checked and prepared before anything changes."""

    X: np.ndarray
    task: object
    continuing: bool
    n_features_in: int
    feature_names_in: object
    inputs: object  # the fitted InputDescription of X's columns (_inputs.py)
    train: TensorData
    valid: TensorData | None
    valid_score: object  # score(y_true, outputs, sample_weight), higher is better
    architecture: Architecture
    recipe: Recipe
    stopping: Stopping
    batch_size: int
    max_epochs: int
    incremental: bool  # partial_fit: one pass, no schedule, no validation split
    init_seed: int
    generator: torch.Generator
    device: str
    torch_dtype: torch.dtype
    bootstrap: bool
    verbose: int
    diagnostics: bool
    n_threads: int | None
    callbacks: list  # fresh copies of the user's callbacks
    extra_callbacks: tuple = ()  # a caller's own (the learning-rate range test's)
    first_loss: float | None = None  # a continued network's first training loss
    units_changed: bool = False  # the continued task encoded the targets in other units
    # The rows that calibrate (see _calibration.py): calibration_fraction's, else valid.
    calibration: TensorData | None = None
    input_summary: object = None  # InputSummary of X (_input_summary.py), for later transfers


def split_rows(target, task, early_stopping, validation_fraction, rng):
    """Indices of the training and the validation rows; (None, None) without early stopping.

    ``early_stopping="auto"`` holds out from ``AUTO_EARLY_STOPPING_ROWS`` rows on.

    The validation set is stratified by class when the task has
    classes and every class has the rows that needs; otherwise it is a
    plain random split.
    """
    n = len(target)
    if early_stopping == "auto":
        if n < AUTO_EARLY_STOPPING_ROWS:
            return None, None
    elif not early_stopping:
        return None, None
    n_valid = math.ceil(validation_fraction * n)
    if n_valid < MIN_VALIDATION_ROWS or n - n_valid < 1:
        raise ValueError(
            f"The validation set is too small: early_stopping holds out "
            f"validation_fraction={validation_fraction} of {n} rows, {n_valid} "
            f"rows, and needs at least {MIN_VALIDATION_ROWS} (and 1 row left to "
            "train on). Increase validation_fraction or the number of rows, or set "
            "early_stopping=False."
        )
    stratify = task.stratify(target)
    if stratify is not None:
        counts = np.unique(stratify, return_counts=True)[1]
        if counts.min() < 2 or n_valid < len(counts) or n - n_valid < len(counts):
            stratify = None  # some class is too rare to be in both sets
    train_rows, valid_rows = train_test_split(
        np.arange(n), test_size=n_valid, random_state=rng, stratify=stratify
    )
    return np.sort(train_rows), np.sort(valid_rows)


def prepare(
    estimator,
    X,
    y,
    sample_weight,
    incremental=False,
    classes=None,
    extra_callbacks=(),
    validation=(None, None, None),
):
    """Check and prepare everything a fit of ``estimator`` needs; change nothing on it.

    ``incremental`` (``partial_fit``): continue the fitted network, if
    any, whatever ``warm_start`` says, for one pass over the rows,
    without a validation split or a schedule; ``classes`` are the
    classifier's labels on a first call; ``extra_callbacks`` are added
    to the training net after sklearn-dnn's own (the range test's);
    ``validation`` is ``fit``'s ``(X_val, y_val, sample_weight_val)``, the
    rows that replace the validation split (see ``validation_set.py``).
    """
    # The settings hold Python values (np.True_ from a search: torch wants True).
    settings = with_python_values(estimator)
    settings._check_params()
    own_valid = check_validation_arguments(*validation, incremental)
    callbacks = copy_user_callbacks(settings.callbacks, settings.schedule)
    continuing = (settings.warm_start or incremental) and hasattr(estimator, "net_")
    architecture = Architecture.from_settings(settings)
    if continuing:
        given = settings.get_params(deep=False)
        check_warm_start(estimator._trained_architecture(), architecture, given)
    # A source fitted on a table passes its description on (its columns' codes).
    source_inputs = None if settings.pretrained is None else settings.pretrained.inputs
    if source_inputs is not None and source_inputs.is_identity:
        source_inputs = None
    X, y, n_features_in, feature_names_in, inputs = settings._validate_training_data(
        X, y, continuing, source_inputs
    )
    sample_weight = check_sample_weight(sample_weight, X.shape[0])
    if continuing:
        X = X.astype(estimator._numpy_dtype(), copy=False)
    input_summary = summarize_inputs(X)  # before any row is left out, as a scaler saw X
    input_settings = architecture.input_settings()
    width = inputs.encoded_width(**input_settings)  # what the first hidden layer sees
    if settings.pretrained is not None:
        if source_inputs is not None:  # the source's columns, before their encoding
            settings.pretrained.check_columns(n_features_in, source_inputs.n_columns)
        settings.pretrained.check_input(width, feature_names_in)
        settings.pretrained.check_input_summary(input_summary, feature_names_in)
    if continuing:
        task = estimator._task.continued_with(y, sample_weight)
    else:
        task = settings._task_class_for(y).from_targets(
            y, sample_weight, type(estimator).__name__, classes=classes
        )
    valid_score = task.scorer(settings.scoring)
    device = resolve_device(settings.device)
    target = task.encode(y, X.dtype)
    weights = task.weigh(y, sample_weight, settings._class_weight())
    if not continuing and source_inputs is None:  # the statistics count rows as the loss does
        inputs = weigh_inputs(inputs, X, settings, weights)
    valid = None
    if own_valid:  # the user's rows replace the split
        features = (n_features_in, feature_names_in, inputs)
        valid = validation_set(settings, task, validation, X, y, sample_weight, features, device)
    sample_weight = weights
    keep = sample_weight > 0
    if not keep.all():  # rows of weight zero are left out, as if removed
        X, target, sample_weight = X[keep], target[keep], sample_weight[keep]
    # The loss is a weighted mean: scaling every weight changes nothing but
    # float range, so weights are brought to mean 1 before any cast.
    sample_weight = sample_weight / sample_weight.mean()

    rng = check_random_state(settings.random_state)
    init_seed, train_seed = draw_seed(rng), draw_seed(rng)
    if incremental or valid is not None:  # partial_fit holds nothing out
        train_rows, valid_rows = None, None
    else:
        train_rows, valid_rows = split_rows(
            target, task, settings.early_stopping, settings.validation_fraction, rng
        )
    train_rows, calibration_rows = hold_out_for_calibration(
        len(target), train_rows, None if incremental else settings.calibration_fraction, rng
    )
    n_train = len(target) if train_rows is None else len(train_rows)
    batch_size = min(200 if settings.batch_size == "auto" else settings.batch_size, n_train)
    if architecture.batchnorm and min(batch_size, n_train) < 2:
        raise ValueError(
            "batchnorm=True needs at least 2 rows per mini-batch (batch statistics "
            f"of one row are undefined); got batch_size={settings.batch_size!r} with "
            f"{n_train} training rows. Use a larger batch_size or "
            "batchnorm=False."
        )
    architecture = architecture.sized(width, task.n_outputs)
    n_parameters = parameter_count(
        architecture.n_features,
        architecture.hidden_layer_sizes,
        architecture.n_outputs,
        architecture.activation.value,
        architecture.batchnorm,
        architecture.pretrained,
        architecture.ensemble_size,
        architecture.parametric_activation,
    ) + stage_parameter_count(inputs, architecture.ensemble_size, **input_settings)
    check_network_memory(
        n_parameters,
        X.dtype.itemsize,
        device,
        architecture.ensemble_size,
        architecture.hidden_layer_sizes,
    )
    tensors = (
        input_rows(X, device),
        as_tensor(target, device),
        as_tensor(sample_weight.astype(X.dtype), device),
    )
    if valid_rows is not None:
        valid = _subset(tensors, sample_weight, valid_rows, device)
    check_user_stoppers(callbacks, valid is not None)
    # early_stopping=False with the user's rows: scored every epoch, not watched.
    watched = valid is not None and settings.early_stopping is not False
    recipe = _recipe(settings)
    max_epochs = 1 if incremental else settings.max_epochs
    annealed = not incremental and schedules.anneals(
        recipe.schedule, recipe.decay_rate, recipe.decay_steps, recipe.power_t, max_epochs
    )
    stopping = Stopping.for_fit(
        watched,
        settings.scoring,
        settings.patience,
        settings.tol,
        best_epoch=settings.best_epoch,
        spans_run=not incremental and spans_run(recipe),
        annealed=annealed,
    )
    return FitPlan(
        X=X,
        task=task,
        continuing=continuing,
        n_features_in=n_features_in,
        feature_names_in=feature_names_in,
        inputs=inputs,
        train=_subset(tensors, sample_weight, train_rows, device),
        valid=valid,
        valid_score=valid_score,
        architecture=architecture,
        recipe=recipe,
        stopping=stopping,
        batch_size=batch_size,
        max_epochs=max_epochs,
        incremental=incremental,
        init_seed=init_seed,
        generator=make_generator(train_seed, device),
        device=device,
        torch_dtype=torch.float32 if X.dtype == np.float32 else torch.float64,
        bootstrap=settings.bootstrap,
        verbose=settings.verbose,
        diagnostics=settings.diagnostics,
        n_threads=settings.n_threads,
        callbacks=callbacks,
        extra_callbacks=tuple(extra_callbacks),
        first_loss=estimator.history_[0]["train_loss"] if continuing else None,
        units_changed=continuing and task.units_changed_from(estimator._task),
        calibration=valid
        if calibration_rows is None
        else _subset(tensors, sample_weight, calibration_rows, device),
        input_summary=input_summary,
    )


def _recipe(settings):
    """The optimizer's :class:`Recipe`: its fields are hyperparameters of the same names."""
    n_frozen = 0
    if settings.pretrained is not None:
        n_frozen = settings.pretrained.n_layers if settings.n_frozen is None else settings.n_frozen
    lr_factors = None
    if settings.lr_factors:
        lr_factors = {name: float(factor) for name, factor in settings.lr_factors.items()}
    groups = ParameterGroups(
        n_frozen, settings.learning_rate, settings.unfrozen_lr_factor, lr_factors
    )
    own = ("groups", "criterion_options", "betas", "weight_decay")
    named = {f.name: getattr(settings, f.name) for f in fields(Recipe) if f.name not in own}
    return Recipe(
        **named,
        betas=tuple(float(beta) for beta in settings.betas),
        weight_decay=float(settings.weight_decay),
        groups=groups,
        criterion_options=settings._criterion_options(),
    )


def _subset(tensors, sample_weight, rows, device):
    """The rows ``rows`` of the data (all rows when ``rows`` is None), without a copy."""
    X, target, weight = tensors
    own = sample_weight if rows is None else sample_weight[rows]
    equal = np.all(own == own[0])
    index = None if rows is None else as_tensor(rows, device)
    return TensorData(X, target, None if equal else weight, index)
