"""The train phase of ``fit``: build a training net for a plan and run its epochs.

``fit`` has three phases (see ``BaseDeepEstimator.fit``): *prepare* checks
and encodes everything, :func:`train` trains a net that nobody else can
see, and *commit* assigns the fitted attributes. A warm start trains a
copy of the fitted network (its weights, and the optimizer's state when
the optimizer is the same kind), so a failed or interrupted continued fit
leaves the fitted model as it was.

Training reads the plan (``_engine/plan.py``) and nothing else: never the
estimator. A continued fit builds a new training net from the plan, so
every setting that is not the architecture applies to it (the table
``WARM_START_HONOURED`` in ``_hyperparameters/`` says what each
rebuilds): the schedule restarts with the fit (over its ``max_epochs``);
freezing restarts with ``n_frozen`` blocks frozen.
"""

import importlib.util
import sys
from functools import partial

import torch
from skorch.callbacks import ProgressBar
from skorch.helper import predefined_split

from .._diagnostics import RECORDER_NAME, GradientNormRecorder
from .._nn.mlp import MLP
from .callbacks import (
    ClipGradNorm,
    DivergenceGuard,
    EpochRecorder,
    MaxNorm,
    RunSchedules,
    Stopper,
    StopTraining,
    Unfreeze,
)
from .groups import ParameterGroups
from .net import SliceLoader, TrainingNet
from .optimizers import make_optimizer
from .schedules import make_schedule, progress_factor, rate_factor
from .threads import torch_threads


def build_net(plan):
    """A :class:`TrainingNet` for ``plan``, and its :class:`Stopper`."""
    recipe, stopping, architecture = plan.recipe, plan.stopping, plan.architecture
    groups = recipe.groups
    batchnorm, ensemble_size = architecture.batchnorm, architecture.ensemble_size
    n_batches = len(SliceLoader(plan.train, plan.batch_size, merge_singleton=batchnorm))
    callbacks = []
    if plan.diagnostics:  # first: before clipping and before the stopper ends an epoch
        callbacks.append((RECORDER_NAME, GradientNormRecorder()))
    callbacks += [
        ("divergence", DivergenceGuard(recipe.learning_rate, plan.first_loss)),
        ("recorder", EpochRecorder(plan.valid_score, groups)),
    ]
    if recipe.clip_grad_norm is not None:
        callbacks.append(("clip", ClipGradNorm(recipe.clip_grad_norm, ensemble_size)))
    if recipe.max_norm is not None:
        callbacks.append(("max_norm", MaxNorm(recipe.max_norm, groups)))
    if groups.n_frozen and recipe.unfreeze_after is not None:
        callbacks.append(("unfreeze", Unfreeze(recipe.unfreeze_after, groups)))
    schedule = make_schedule(
        recipe.schedule,
        {
            "learning_rate": recipe.learning_rate,
            "decay_rate": recipe.decay_rate,
            "decay_steps": recipe.decay_steps,
            "power_t": recipe.power_t,
            "max_epochs": plan.max_epochs,
            "n_batches": n_batches,
            "monitor": stopping.monitor,
        },
    )
    if not plan.incremental:  # partial_fit: a constant rate, constant regularization
        run_schedules = _run_schedules(recipe, plan.max_epochs * n_batches)
        if run_schedules is not None:  # before the schedule, which reads the unscaled rates
            callbacks.append(("run_schedules", run_schedules))
        if schedule is not None:
            callbacks.append(("schedule", schedule))
    # The bar writes to stderr: none without it (pythonw, some services).
    if plan.verbose >= 2 and sys.stderr is not None and importlib.util.find_spec("tqdm"):
        n_valid = 0
        if plan.valid is not None:
            n_valid = len(SliceLoader(plan.valid, plan.batch_size))
        callbacks.append(("progress_bar", ProgressBar(batches_per_epoch=n_batches + n_valid)))
    callbacks.extend(plan.extra_callbacks)
    # The user's callbacks come after ours and before the stopper, which
    # ends the fit by raising: every callback sees the end of every epoch.
    callbacks.extend(plan.callbacks)
    stopper = Stopper(
        stopping.stop_on,
        stopping.patience,
        stopping.tol,
        restore_best=stopping.restore_best,
        best_epoch=stopping.best_epoch,
    )
    callbacks.append(("stopper", stopper))
    net = TrainingNet(
        module=MLP,
        **{f"module__{name}": value for name, value in architecture.module_kwargs().items()},
        module__dropout=recipe.dropout,
        module__dtype=plan.torch_dtype,
        module__n_frozen=groups.n_frozen,
        module__seed=plan.init_seed,
        module__combine=plan.task.combine_members,
        module__inputs=plan.inputs,
        criterion=plan.task.criterion,
        criterion__reduction="none",
        **{f"criterion__{name}": value for name, value in recipe.criterion_options.items()},
        optimizer=partial(
            make_optimizer,
            optimizer=recipe.optimizer,
            momentum=recipe.momentum,
            nesterov=recipe.nesterov,
            betas=recipe.betas,
        ),
        lr=recipe.learning_rate,
        max_epochs=plan.max_epochs,
        batch_size=plan.batch_size,
        iterator_train=SliceLoader,
        iterator_train__shuffle=True,
        iterator_train__merge_singleton=batchnorm,
        iterator_train__generator=plan.generator,
        iterator_train__n_members=ensemble_size,
        iterator_train__resample=_bootstrap(plan),
        iterator_valid=SliceLoader,
        train_split=None if plan.valid is None else predefined_split(plan.valid),
        callbacks=callbacks,
        callbacks__print_log__keys_ignored=[RECORDER_NAME],
        device=plan.device,
        verbose=plan.verbose,
        l1=recipe.l1,
        l2=recipe.l2,
        groups=groups,
        weight_decay=recipe.weight_decay,
    )
    return net, stopper


def _run_schedules(recipe, n_steps):
    """The :class:`RunSchedules` of ``recipe``'s factors of progress, or None when it has none."""
    factors = {
        "lr": progress_factor(recipe.schedule, recipe.warmup),
        "dropout": rate_factor(recipe.dropout_schedule),
        "weight_decay": rate_factor(recipe.weight_decay_schedule),
    }
    if all(factor is None for factor in factors.values()):
        return None
    return RunSchedules(n_steps, **factors)


def _bootstrap(plan):
    """Each member's bootstrap sample of the training rows, or None without ``bootstrap``."""
    if not plan.bootstrap:
        return None
    n = len(plan.train)
    generator = plan.generator
    members = plan.architecture.ensemble_size
    return torch.randint(n, (members, n), generator=generator, device=generator.device)


def _continue_from(net, previous, units_changed=False):
    """Start ``net`` (initialized) from a copy of ``previous``'s weights and optimizer state.

    ``net`` was built from the current hyperparameters, so its dropout
    layers already have the current rate (dropout layers hold no state:
    adding or removing them leaves the weights' names unchanged).
    ``units_changed`` (the task's ``units_changed_from``): the targets'
    units changed (see ``_target_scaling.py``), so the optimizer, whose
    state measured the loss in the old ones, starts afresh. So does it when
    the parameter groups differ (another ``lr_factors``, say: see
    ``ParameterGroups.same_groups``).
    The groups keep this fit's settings alone: what a schedule of the
    previous fit wrote into them (``initial_lr``...) is dropped, so this
    fit's schedule starts from this fit's rates.
    """
    net.module_.load_state_dict(previous.module_.state_dict())
    if units_changed:
        return
    fresh = [{k: v for k, v in g.items() if k != "params"} for g in net.optimizer_.param_groups]
    if type(previous.optimizer_) is type(net.optimizer_) and ParameterGroups.same_groups(
        previous.optimizer_, net.optimizer_
    ):
        net.optimizer_.load_state_dict(previous.optimizer_.state_dict())
        for group, settings in zip(net.optimizer_.param_groups, fresh, strict=True):
            params = group["params"]
            group.clear()  # this fit's rates and settings, the old moments
            group.update(settings, params=params)


def _number_after(net, previous):
    """Number ``net``'s epochs on from ``previous``'s, to which the commit appends them.

    Done after training, so that during the fit every callback (schedule,
    stopper, unfreezing) counts this fit's epochs from the start. The
    earlier epochs are neither copied nor changed here: only the commit,
    after everything that can fail, extends the fitted history.
    """
    for i, epoch in enumerate(net.history, start=len(previous.history) + 1):
        epoch["epoch"] = i


def train(plan, previous=None):
    """Train a new net for ``plan``, or a copy of ``previous``, the fitted net it continues.

    Returns the net and whether its loss was still falling by more than
    ``tol`` an epoch at the end (see :meth:`Stopper.still_improving`;
    never when a callback stopped the fit, nor when the schedule annealed
    the rate to ~0 by the last epoch: such a run converged by construction).
    Raises whatever training raises (``TrainingDivergedError``,
    ``KeyboardInterrupt``...) without touching ``previous``; the
    returned net's module is in evaluation mode and draws no more masks.
    """
    if plan.continuing and previous is None:
        raise ValueError("A plan that continues a fitted network needs its net (previous).")
    net, stopper = build_net(plan)
    with torch_threads(plan.n_threads):
        net.initialize()
        if plan.continuing:
            _continue_from(net, previous, plan.units_changed)
        module = net.module_
        module.generator = plan.generator
        net.fitting_ = True  # its callbacks may reload its own checkpoints (load_params)
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
            net.fitting_ = False
        module.eval()
    if plan.continuing:
        _number_after(net, previous)
    # Drop the references to this fit's data and generator, so that pickling
    # the fitted net stores the network, not the training set, and the
    # references to copies of the weights outside the module, so that it
    # stores the weights once: skorch saves module_, optimizer_ and every
    # module__ argument with torch.save, apart from the callbacks.
    net.train_split = None
    net.iterator_train__generator = None
    net.iterator_train__resample = None
    net._step_losses = None
    net._decayed = None  # references to the weights, for the decay
    net.module__pretrained = None  # the module holds its own copy of the reused layers
    schedule = dict(net.callbacks_).get("schedule")
    if schedule is not None:  # its torch scheduler holds the optimizer
        schedule.lr_scheduler_ = None
    annealed = plan.stopping.annealed
    return net, not stopped and not annealed and stopper.still_improving()
