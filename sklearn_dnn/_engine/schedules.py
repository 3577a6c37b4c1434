"""Learning-rate schedules: the name -> schedule table, and the run's progress factors.

A schedule is either stepped by torch (a skorch ``LRScheduler`` around a
``torch.optim.lr_scheduler``: the factories of :data:`TORCH_SCHEDULES`),
or a factor of the run's progress ``t`` in [0, 1] (:data:`PROGRESS_SCHEDULES`,
``t`` = training steps done / steps of the run, stepped every mini-batch by
:class:`~sklearn_dnn._engine.callbacks.RunSchedules`, which also applies
``warmup``, ``dropout_schedule`` and ``weight_decay_schedule``). Below, ``t``
counts epochs for the schedules stepped by torch and is the progress in [0, 1]
for the others; ``E`` is ``max_epochs``, ``lr0`` ``learning_rate``, ``r``
``decay_rate``, ``s`` ``decay_steps`` and ``c`` ``power_t``. ``decay_steps=None``
makes ``s`` relative to the run (see each row):

===============  ==========================================================
``exponential``  ``lr0 * r ** (t / s)``, stepped every epoch;
                 ``s=None``: ``s = E`` (the rate reaches ``lr0 * r`` at
                 the end of the run)
``step``         ``lr0 * r ** k`` after the k-th boundary; ``s`` is an
                 interval (every ``s`` epochs) or a tuple of epochs;
                 ``s=None``: one drop, at epoch ``ceil(E / 2)``
``power``        ``lr0 / (1 + t / s) ** c``; ``s=None``: ``s = E / 10``
``plateau``      multiply by ``r`` after ``s`` epochs without improvement
                 of the monitored loss (performance scheduling);
                 ``s=None``: ``s = max(1, E // 20)``
``onecycle``     1cycle policy, stepped every batch, peaking at ``lr0``
``cosine``       cosine annealing from ``lr0`` to 0 over ``max_epochs``
``coslog``       ``lr0 * (1 - cos(2 pi log2(1 + 15 t))) / 2``, stepped
                 every batch: RealMLP's multi-cycle schedule (Holzmueller
                 et al., 2024), four cosine cycles of lengths 1, 2, 4
                 and 8 fifteenths of the run, each from 0 up to ``lr0``
                 and back to 0 (minima at t = 1/15, 3/15, 7/15 and 1,
                 peaks at t = 0.03, 0.12, 0.31, 0.69)
``flat_cos``     ``lr0`` for the first half of the run, then
                 ``lr0 * (1 + cos(pi (2 t - 1))) / 2`` down to 0,
                 stepped every batch
===============  ==========================================================

Each schedule scales every parameter group's rate alike, from the
group's own initial rate (``lr0`` times the group's factor: see
``groups.py``): the 1cycle policy peaks at each group's rate.

``warmup=w`` multiplies any of them (or a constant rate) by ``min(1, t / w)``:
a linear warm-up from 0 over the fraction ``w`` of the run.
"""

import math
from functools import partial
from numbers import Integral

from skorch.callbacks import LRScheduler as SkorchLRScheduler
from torch.optim import lr_scheduler

# A schedule whose rate ends the run at or below this fraction of
# learning_rate has annealed: the run converged by construction.
ANNEALED = 1e-2

# torch's OneCycleLR defaults: the first rate is max_lr / 25, the last
# that over 1e4.
ONECYCLE_FINAL_FACTOR = 1.0 / (25.0 * 1e4)


def coslog(t):
    """RealMLP's multi-cycle log-cosine factor of progress ``t`` (Holzmueller et al., 2024)."""
    return 0.5 * (1.0 - math.cos(2.0 * math.pi * math.log2(1.0 + 15.0 * t)))


def flat_cos(t):
    """1 for the first half of the run, then a cosine from 1 down to 0 at ``t = 1``."""
    if t <= 0.5:
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * (2.0 * t - 1.0)))


def warmup_factor(t, fraction):
    """A linear ramp from 0 at ``t = 0`` to 1 at ``t = fraction``, then 1."""
    return min(1.0, t / fraction)


def _product(factors, t):
    return math.prod(factor(t) for factor in factors)


def _power_factor(epoch, steps, power):
    return (1.0 + epoch / steps) ** -power


def run_steps(schedule, decay_steps, max_epochs):
    """``decay_steps`` as ``schedule`` uses it: None is relative to the run.

    ``"exponential"``: ``max_epochs``; ``"step"``: one drop, at epoch
    ``ceil(max_epochs / 2)``; ``"power"``: ``max_epochs / 10``;
    ``"plateau"``: ``max(1, max_epochs // 20)`` epochs.
    """
    if decay_steps is not None:
        return decay_steps
    return {
        "exponential": max_epochs,
        "step": (math.ceil(max_epochs / 2),),
        "power": max_epochs / 10,
        "plateau": max(1, max_epochs // 20),
    }.get(schedule)


class LRScheduler(SkorchLRScheduler):
    """skorch's ``LRScheduler``, which reads no batch: a step rebuilds none for it."""

    reads_batch = False  # (see SkorchConventions.notify)


def _steps(schedule, settings):
    return run_steps(schedule, settings["decay_steps"], settings["max_epochs"])


def _exponential(settings):
    steps = _steps("exponential", settings)
    gamma = settings["decay_rate"] ** (1.0 / steps)
    return LRScheduler(lr_scheduler.ExponentialLR, gamma=gamma)


def _step(settings):
    steps = _steps("step", settings)
    if isinstance(steps, Integral):
        return LRScheduler(lr_scheduler.StepLR, step_size=steps, gamma=settings["decay_rate"])
    return LRScheduler(
        lr_scheduler.MultiStepLR,
        milestones=sorted(steps),
        gamma=settings["decay_rate"],
    )


def _power(settings):
    steps = _steps("power", settings)
    factor = partial(_power_factor, steps=steps, power=settings["power_t"])
    return LRScheduler(lr_scheduler.LambdaLR, lr_lambda=factor)


def _plateau(settings):
    steps = _steps("plateau", settings)
    return LRScheduler(
        lr_scheduler.ReduceLROnPlateau,
        monitor=settings["monitor"],
        factor=settings["decay_rate"],
        patience=steps,
    )


def one_cycle(optimizer, **kwargs):
    """torch's ``OneCycleLR`` peaking at every parameter group's own rate.

    (torch's takes one peak for all groups, or a list: the list of the
    groups' rates when the schedule starts.)
    """
    peaks = [group["lr"] for group in optimizer.param_groups]
    return lr_scheduler.OneCycleLR(optimizer, max_lr=peaks, **kwargs)


def _onecycle(settings):
    return LRScheduler(
        one_cycle,
        total_steps=settings["max_epochs"] * settings["n_batches"],
        step_every="batch",
    )


def _cosine(settings):
    return LRScheduler(lr_scheduler.CosineAnnealingLR, T_max=settings["max_epochs"])


# The schedules torch steps: name -> factory of a skorch LRScheduler.
TORCH_SCHEDULES = {
    "exponential": _exponential,
    "step": _step,
    "power": _power,
    "plateau": _plateau,
    "onecycle": _onecycle,
    "cosine": _cosine,
}

# The schedules that are a factor of the run's progress t in [0, 1].
PROGRESS_SCHEDULES = {"coslog": coslog, "flat_cos": flat_cos}

SCHEDULES = {**TORCH_SCHEDULES, **PROGRESS_SCHEDULES}

# The schedules of dropout_schedule and weight_decay_schedule.
RATE_SCHEDULES = {"flat_cos": flat_cos}

# The schedules planned over the whole run, whatever decay_steps says.
_SPANNING = frozenset({"onecycle", "cosine", "coslog", "flat_cos"})
# Those planned over the whole run when decay_steps is None.
_SPANNING_WITHOUT_STEPS = frozenset({"exponential", "step", "power"})


def make_schedule(schedule, settings):
    """Return the ``LRScheduler`` callback of a schedule torch steps, or None.

    None for no schedule and for the schedules of progress, which
    :func:`progress_factor` gives.
    """
    if schedule not in TORCH_SCHEDULES:
        return None
    return TORCH_SCHEDULES[schedule](settings)


def progress_factor(schedule=None, warmup=0.0):
    """The learning-rate factor of progress ``t``: the schedule's times the warm-up's.

    None when neither is on (a schedule torch steps is not one of progress).
    The result pickles (a ``functools.partial`` of module functions).
    """
    factors = []
    if schedule in PROGRESS_SCHEDULES:
        factors.append(PROGRESS_SCHEDULES[schedule])
    if warmup > 0:
        factors.append(partial(warmup_factor, fraction=warmup))
    if not factors:
        return None
    return factors[0] if len(factors) == 1 else partial(_product, tuple(factors))


def rate_factor(schedule):
    """The factor of progress of ``dropout_schedule`` or ``weight_decay_schedule``, or None."""
    return None if schedule is None else RATE_SCHEDULES[schedule]


def spans_run(schedule, decay_steps):
    """Whether the learning-rate schedule is planned over the whole run.

    ``"onecycle"``, ``"cosine"``, ``"coslog"``, ``"flat_cos"``, and
    ``"exponential"``, ``"step"`` and ``"power"`` with ``decay_steps=None``.
    """
    if schedule in _SPANNING:
        return True
    return schedule in _SPANNING_WITHOUT_STEPS and decay_steps is None


def final_factor(schedule, decay_rate, decay_steps, power_t, max_epochs):
    """The learning rate at the end of ``max_epochs`` epochs, over ``learning_rate``.

    None when no formula gives it (``"plateau"`` reacts to the loss).
    A ``warmup`` has ended by then and changes nothing.
    """
    if schedule is None:
        return 1.0
    if schedule in ("cosine", "coslog", "flat_cos"):
        return 0.0
    if schedule == "onecycle":
        return ONECYCLE_FINAL_FACTOR
    steps = run_steps(schedule, decay_steps, max_epochs)
    if schedule == "exponential":
        return decay_rate ** (max_epochs / steps)
    if schedule == "step":
        if isinstance(steps, Integral):
            return decay_rate ** (max_epochs // steps)
        return decay_rate ** sum(1 for epoch in steps if epoch <= max_epochs)
    if schedule == "power":
        return _power_factor(max_epochs, steps, power_t)
    return None


def anneals(schedule, decay_rate, decay_steps, power_t, max_epochs):
    """Whether the schedule ends the run at a rate of at most ``ANNEALED * learning_rate``."""
    factor = final_factor(schedule, decay_rate, decay_steps, power_t, max_epochs)
    return factor is not None and factor <= ANNEALED
