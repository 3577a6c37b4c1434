"""The train phase of ``fit``: build a training net for a plan and run its epochs.

``fit`` has three phases (see ``BaseDeepEstimator.fit``): *prepare* checks
and encodes everything, :func:`train` trains a net that nobody else can
see, and *commit* assigns the fitted attributes. A warm start trains a
copy of the fitted network (its weights, and the optimizer's state when
the optimizer is the same kind), so a failed or interrupted continued fit
leaves the fitted model as it was.

Warm start policy
-----------------
A continued fit builds a new training net from the current
hyperparameters, so every setting that is not the architecture applies to
it: :data:`WARM_START_HONOURED` lists them with what each rebuilds. The
schedule restarts with the fit (over its ``max_epochs``); freezing restarts
with ``n_frozen`` blocks frozen. The architecture cannot change under
trained weights: a change of any of :data:`WARM_START_FIXED` is refused
by name.
"""

import copy
import importlib.util
import sys
from functools import partial

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping, LRScheduler, ProgressBar
from skorch.helper import predefined_split
from torch import nn

from ._activations import make_activation
from ._callbacks import (
    ClipGradNorm,
    DivergenceGuard,
    EpochRecorder,
    MaxNorm,
    Stopper,
    StopTraining,
    Unfreeze,
)
from ._diagnostics import RECORDER_NAME, GradientNormRecorder
from ._module import MLP
from ._net import SliceLoader, TrainingNet
from ._optimizers import make_optimizer
from ._schedules import make_schedule
from ._threads import torch_threads

# What each hyperparameter that a warm start honours rebuilds.
WARM_START_HONOURED = {
    "optimizer": "the optimizer (its state is kept when the kind is the same)",
    "learning_rate": "the optimizer's rates (and the schedule)",
    "momentum": "the optimizer",
    "nesterov": "the optimizer",
    "schedule": "the schedule, which restarts over this fit's max_epochs",
    "decay_rate": "the schedule",
    "decay_steps": "the schedule",
    "power_t": "the schedule",
    "l1": "the penalty",
    "l2": "the penalty",
    "max_norm": "the max-norm constraint",
    "clip_grad_norm": "gradient clipping",
    "dropout": "the dropout layers (they hold no weights)",
    "bootstrap": "the members' samples of the rows, drawn anew for this fit",
    "batch_size": "the mini-batches",
    "max_epochs": "the number of epochs of this fit",
    "early_stopping": "the validation split and the stopper",
    "validation_fraction": "the validation split",
    "patience": "the stopper",
    "tol": "the stopper",
    "scoring": "the validation score, and what the stopper watches",
    "random_state": "the data order and dropout masks of this fit",
    "device": "where the copy of the network trains",
    "n_threads": "torch's thread count during the fit",
    "verbose": "the epoch log",
    "diagnostics": "the gradient recorder",
    "n_frozen": "the frozen blocks at the start of this fit",
    "unfreeze_after": "when this fit releases them",
    "unfrozen_lr_factor": "the released blocks' rate",
    "class_weight": "the rows' weights in the loss (a classifier's)",
    "callbacks": "the user's callbacks (fresh copies, as in every fit)",
}

# The names of the callbacks sklearn-dnn adds (and skorch's defaults): a
# user's callback may not take one of them.
OWN_CALLBACKS = frozenset(
    {
        RECORDER_NAME,
        "divergence",
        "recorder",
        "clip",
        "max_norm",
        "unfreeze",
        "schedule",
        "stopper",
        "epoch_timer",
        "train_loss",
        "valid_loss",
        "print_log",
        "progress_bar",
    }
)

# The architecture: a change under trained weights is refused.
WARM_START_FIXED = (
    "hidden_layer_sizes",
    "activation",
    "initializer",
    "batchnorm",
    "ensemble_size",
    "pretrained",
)


def fitted_architecture(estimator):
    """The architecture settings a fit remembers, for :func:`check_warm_start` to compare.

    Hidden sizes as a tuple of ints; an activation module is copied, so
    that a later change of the user's object (or list) in place is seen.
    """
    architecture = {name: getattr(estimator, name) for name in WARM_START_FIXED}
    architecture["hidden_layer_sizes"] = _hidden_sizes(estimator.hidden_layer_sizes)
    if isinstance(estimator.activation, nn.Module):
        architecture["activation"] = copy.deepcopy(estimator.activation)
    return architecture


def _hidden_sizes(value):
    return tuple(int(s) for s in np.atleast_1d(value))


def _activation(value):
    """What makes two activations the same function: the module's class, settings and weights.

    ``"relu"``, ``torch.nn.ReLU`` and ``torch.nn.ReLU()`` are one activation;
    ``LeakyReLU(0.2)`` and a new ``LeakyReLU(0.2)`` too.
    """
    module = make_activation(value)
    settings = {k: v for k, v in vars(module).items() if not k.startswith("_") and k != "training"}
    weights = {k: v.tolist() for k, v in module.state_dict().items()}
    return type(module), settings, weights


# How each architecture setting is compared: equal values of other types
# ([8], 8 and np.array([8]) for (8,)) are the same architecture.
_COMPARED_AS = {
    "hidden_layer_sizes": _hidden_sizes,
    "activation": _activation,
    "batchnorm": bool,
    "ensemble_size": int,
}


def _same(name, a, b):
    if a is b:
        return True
    compared_as = _COMPARED_AS.get(name, lambda value: value)
    try:
        return bool(compared_as(a) == compared_as(b))
    except (TypeError, ValueError, RuntimeError):  # modules without __eq__, tensors
        return False


def check_warm_start(estimator, fitted_architecture):
    """Raise a ValueError naming every architecture setting changed since the fit."""
    changed = [
        f"{name} (fitted with {fitted_architecture[name]!r}, now {getattr(estimator, name)!r})"
        for name in WARM_START_FIXED
        if not _same(name, getattr(estimator, name), fitted_architecture[name])
    ]
    if changed:
        raise ValueError(
            "warm_start=True continues training the fitted network, whose architecture "
            f"cannot change; changed: {', '.join(changed)}. Set them back, or set "
            "warm_start=False to train a new network."
        )


def copy_user_callbacks(callbacks, schedule=None):
    """Fresh deep copies of the ``callbacks`` hyperparameter, as skorch takes them.

    Each item is a skorch callback or a ``(name, callback)`` pair; a fit
    trains with copies, so the estimator's own objects (shared by
    ``clone``, and by every candidate of a search) are never changed. A
    skorch ``LRScheduler`` is refused with a ``schedule``: both would set
    the learning rate, and their factors would compound.
    """
    if callbacks is None:
        return []
    copies = []
    for item in callbacks:
        if isinstance(item, Callback):
            name, callback = None, item
        elif (
            isinstance(item, tuple)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], Callback)
        ):
            name, callback = item
        else:
            raise ValueError(
                "callbacks must be a list of skorch callbacks (skorch.callbacks.Callback "
                f"instances) or (name, callback) pairs; got {item!r}."
            )
        if name in OWN_CALLBACKS:
            raise ValueError(
                f"The callback name {name!r} is taken by sklearn-dnn's own callbacks "
                f"({', '.join(sorted(OWN_CALLBACKS))}); choose another."
            )
        label = repr(name or type(callback).__name__)
        if schedule is not None and isinstance(callback, LRScheduler):
            raise ValueError(
                f"schedule={schedule!r} and the skorch LRScheduler {label} in callbacks "
                "would both set the learning rate, and their factors would compound. "
                "Use one: schedule=None to keep your LRScheduler, or remove it from callbacks."
            )
        copied = _deep_copy(callback, label)
        copies.append(copied if name is None else (name, copied))
    return copies


def _deep_copy(callback, label):
    try:
        return copy.deepcopy(callback)
    except Exception as exc:  # a lock, an open file, a socket: whatever pickle refuses
        raise TypeError(
            f"The callback {label} ({type(callback).__name__}) in callbacks cannot be "
            f"deep-copied ({type(exc).__name__}: {exc}). Each fit trains with deep copies "
            "of the callbacks, so that the objects given here, shared by clone and by "
            "every candidate of a search, are never changed. Create what cannot be "
            "copied (a lock, an open file, a TensorBoard SummaryWriter) when training "
            "starts, in the callback's initialize() or on_train_begin(), not in its "
            "__init__."
        ) from exc


def check_user_stoppers(callbacks, has_validation):
    """Refuse a skorch ``EarlyStopping`` that watches a validation score a fit does not compute.

    skorch's would fail after the first epoch, with a ``KeyError`` from
    the history that does not say why. (It may stop a fit otherwise: see
    :meth:`TrainingNet.notify`.)
    """
    for item in callbacks:
        name, callback = item if isinstance(item, tuple) else (None, item)
        monitor = (
            getattr(callback, "monitor", None) if isinstance(callback, EarlyStopping) else None
        )
        if has_validation or not isinstance(monitor, str) or not monitor.startswith("valid_"):
            continue
        raise ValueError(
            f"The EarlyStopping {name or type(callback).__name__!r} in callbacks monitors "
            f"{monitor!r}, but this fit holds out no validation set (early_stopping=False, "
            "or 'auto' on fewer than 100 rows, or partial_fit). Set early_stopping=True "
            "to hold out validation_fraction of the rows, or monitor 'train_loss'; "
            "sklearn-dnn's own stopping is set by "
            "early_stopping, patience and tol."
        )


def build_net(estimator, plan, extra_callbacks=()):
    """A :class:`TrainingNet` for ``plan`` with the estimator's current hyperparameters.

    Returns the net and its :class:`Stopper`.
    """
    est = estimator
    groups = plan.groups
    monitor = "valid_loss" if plan.valid is not None else "train_loss"
    n_batches = len(SliceLoader(plan.train, plan.batch_size, merge_singleton=plan.batchnorm))
    callbacks = []
    if est.diagnostics:  # first: before clipping and before the stopper ends an epoch
        callbacks.append((RECORDER_NAME, GradientNormRecorder()))
    callbacks += [
        ("divergence", DivergenceGuard(est.learning_rate, _first_loss(est, plan))),
        ("recorder", EpochRecorder(plan.valid_score, groups)),
    ]
    if est.clip_grad_norm is not None:
        callbacks.append(("clip", ClipGradNorm(est.clip_grad_norm, plan.ensemble_size)))
    if est.max_norm is not None:
        callbacks.append(("max_norm", MaxNorm(est.max_norm, groups)))
    if plan.n_frozen and est.unfreeze_after is not None:
        callbacks.append(("unfreeze", Unfreeze(est.unfreeze_after, groups)))
    schedule = make_schedule(
        est.schedule,
        {
            "learning_rate": est.learning_rate,
            "decay_rate": est.decay_rate,
            "decay_steps": est.decay_steps,
            "power_t": est.power_t,
            "max_epochs": plan.max_epochs,
            "n_batches": n_batches,
            "monitor": monitor,
        },
    )
    if schedule is not None and not plan.incremental:  # partial_fit: a constant rate
        callbacks.append(("schedule", schedule))
    # The bar writes to stderr: none without it (pythonw, some services).
    if est.verbose >= 2 and sys.stderr is not None and importlib.util.find_spec("tqdm"):
        n_valid = 0
        if plan.valid is not None:
            n_valid = len(SliceLoader(plan.valid, plan.batch_size))
        callbacks.append(("progress_bar", ProgressBar(batches_per_epoch=n_batches + n_valid)))
    callbacks.extend(extra_callbacks)
    check_user_stoppers(plan.callbacks, plan.valid is not None)
    # The user's callbacks come after ours and before the stopper, which
    # ends the fit by raising: every callback sees the end of every epoch.
    callbacks.extend(plan.callbacks)
    # With a scoring, early stopping watches the validation score, not the loss.
    stop_on = "valid_score" if plan.valid is not None and est.scoring is not None else monitor
    stopper = Stopper(stop_on, est.patience, est.tol, restore_best=plan.valid is not None)
    callbacks.append(("stopper", stopper))
    net = TrainingNet(
        module=MLP,
        module__n_features=plan.X.shape[1],
        module__hidden_layer_sizes=plan.hidden_layer_sizes,
        module__n_outputs=plan.task.n_outputs,
        module__activation=est.activation,
        module__initializer=est.initializer,
        module__batchnorm=est.batchnorm,
        module__dropout=est.dropout,
        module__dtype=plan.torch_dtype,
        module__pretrained=est.pretrained,
        module__n_frozen=plan.n_frozen,
        module__seed=plan.init_seed,
        module__ensemble_size=plan.ensemble_size,
        module__combine=plan.task.combine_members,
        criterion=plan.task.criterion,
        criterion__reduction="none",
        optimizer=partial(
            make_optimizer, optimizer=est.optimizer, momentum=est.momentum, nesterov=est.nesterov
        ),
        lr=est.learning_rate,
        max_epochs=plan.max_epochs,
        batch_size=plan.batch_size,
        iterator_train=SliceLoader,
        iterator_train__shuffle=True,
        iterator_train__merge_singleton=plan.batchnorm,
        iterator_train__generator=plan.generator,
        iterator_train__n_members=plan.ensemble_size,
        iterator_train__resample=_bootstrap(est, plan),
        iterator_valid=SliceLoader,
        train_split=None if plan.valid is None else predefined_split(plan.valid),
        callbacks=callbacks,
        callbacks__print_log__keys_ignored=[RECORDER_NAME],
        device=plan.device,
        verbose=est.verbose,
        l1=est.l1,
        l2=est.l2,
        groups=groups,
    )
    return net, stopper


def _first_loss(estimator, plan):
    """The first epoch's training loss of the network a fit continues (None for a new one)."""
    return estimator.history_[0]["train_loss"] if plan.continuing else None


def _bootstrap(estimator, plan):
    """Each member's bootstrap sample of the training rows, or None without ``bootstrap``."""
    if not estimator.bootstrap:
        return None
    n = len(plan.train)
    generator = plan.generator
    return torch.randint(n, (plan.ensemble_size, n), generator=generator, device=generator.device)


def _continue_from(net, previous, units_changed=False):
    """Start ``net`` (initialized) from a copy of ``previous``'s weights and optimizer state.

    ``net`` was built from the current hyperparameters, so its dropout
    layers already have the current rate (dropout layers hold no state:
    adding or removing them leaves the weights' names unchanged).
    ``units_changed`` (the task's ``units_changed_from``): the targets'
    units changed (see ``_target_scaling.py``), so the optimizer, whose
    state measured the loss in the old ones, starts afresh.
    """
    net.module_.load_state_dict(previous.module_.state_dict())
    if units_changed:
        return
    fresh = [{k: v for k, v in g.items() if k != "params"} for g in net.optimizer_.param_groups]
    if type(previous.optimizer_) is type(net.optimizer_) and len(fresh) == len(
        previous.optimizer_.param_groups
    ):
        net.optimizer_.load_state_dict(previous.optimizer_.state_dict())
        for group, settings in zip(net.optimizer_.param_groups, fresh, strict=True):
            group.update(settings)  # this fit's rates and settings, the old moments


def _number_after(net, previous):
    """Number ``net``'s epochs on from ``previous``'s, to which the commit appends them.

    Done after training, so that during the fit every callback (schedule,
    stopper, unfreezing) counts this fit's epochs from the start. The
    earlier epochs are neither copied nor changed here: only the commit,
    after everything that can fail, extends the fitted history.
    """
    for i, epoch in enumerate(net.history, start=len(previous.history) + 1):
        epoch["epoch"] = i


def train(estimator, plan, extra_callbacks=()):
    """Train a new net for ``plan``, or a copy of the fitted one.

    Returns the net and whether its loss was still falling by more than
    ``tol`` an epoch at the end (see :meth:`Stopper.still_improving`;
    never when a callback stopped the fit).
    Raises whatever training raises (``TrainingDivergedError``,
    ``KeyboardInterrupt``...) without touching ``estimator``; the
    returned net's module is in evaluation mode and draws no more masks.
    """
    net, stopper = build_net(estimator, plan, extra_callbacks)
    with torch_threads(estimator.n_threads):
        net.initialize()
        if plan.continuing:
            _continue_from(net, estimator.net_, plan.task.units_changed_from(estimator._task))
        module = net.module_
        module.generator = plan.generator
        try:
            net.notify("on_train_begin", X=plan.train, y=None)
            stopped = False
            try:
                net.fit_loop(plan.train, epochs=plan.max_epochs)
            except StopTraining:  # the stopper's, or a skorch EarlyStopping's (see TrainingNet)
                stopped = True
            net.notify("on_train_end", X=plan.train, y=None)
        finally:
            module.generator = None
        module.eval()
    if plan.continuing:
        _number_after(net, estimator.net_)
    # Drop the references to this fit's data and generator, so that pickling
    # the fitted net stores the network, not the training set, and the
    # references to copies of the weights outside the module, so that it
    # stores the weights once: skorch saves module_, optimizer_ and every
    # module__ argument with torch.save, apart from the callbacks.
    net.train_split = None
    net.iterator_train__generator = None
    net.iterator_train__resample = None
    net._step_losses = None
    net.module__pretrained = None  # the module holds its own copy of the reused layers
    schedule = dict(net.callbacks_).get("schedule")
    if schedule is not None:  # its torch scheduler holds the optimizer
        schedule.lr_scheduler_ = None
    return net, not stopped and stopper.still_improving()
