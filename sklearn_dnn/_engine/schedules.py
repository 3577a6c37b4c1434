"""Learning-rate schedules: the name -> skorch ``LRScheduler`` factory table.

Every factory receives the estimator's schedule settings and returns a
callback. ``t`` below counts epochs, ``lr0`` is ``learning_rate``, ``r``
``decay_rate``, ``s`` ``decay_steps`` and ``c`` ``power_t``:

===============  ==========================================================
``exponential``  ``lr0 * r ** (t / s)``
``step``         ``lr0 * r ** k`` after the k-th boundary; ``s`` is an
                 interval (every ``s`` epochs) or a tuple of epochs
``power``        ``lr0 / (1 + t / s) ** c``
``plateau``      multiply by ``r`` after ``s`` epochs without improvement
                 of the monitored loss (performance scheduling)
``onecycle``     1cycle policy, stepped every batch, peaking at ``lr0``
``cosine``       cosine annealing from ``lr0`` to 0 over ``max_epochs``
===============  ==========================================================

Each schedule scales every parameter group's rate alike, from the
group's own initial rate (``lr0`` times the group's factor: see
``groups.py``): the 1cycle policy peaks at each group's rate.
"""

from functools import partial
from numbers import Integral

from skorch.callbacks import LRScheduler
from torch.optim import lr_scheduler


def _power_factor(epoch, steps, power):
    return (1.0 + epoch / steps) ** -power


def _exponential(settings):
    gamma = settings["decay_rate"] ** (1.0 / settings["decay_steps"])
    return LRScheduler(lr_scheduler.ExponentialLR, gamma=gamma)


def _step(settings):
    steps = settings["decay_steps"]
    if isinstance(steps, Integral):
        return LRScheduler(lr_scheduler.StepLR, step_size=steps, gamma=settings["decay_rate"])
    return LRScheduler(
        lr_scheduler.MultiStepLR,
        milestones=sorted(steps),
        gamma=settings["decay_rate"],
    )


def _power(settings):
    factor = partial(_power_factor, steps=settings["decay_steps"], power=settings["power_t"])
    return LRScheduler(lr_scheduler.LambdaLR, lr_lambda=factor)


def _plateau(settings):
    return LRScheduler(
        lr_scheduler.ReduceLROnPlateau,
        monitor=settings["monitor"],
        factor=settings["decay_rate"],
        patience=settings["decay_steps"],
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


SCHEDULES = {
    "exponential": _exponential,
    "step": _step,
    "power": _power,
    "plateau": _plateau,
    "onecycle": _onecycle,
    "cosine": _cosine,
}


def make_schedule(schedule, settings):
    """Return the ``LRScheduler`` callback for ``schedule``, or None."""
    if schedule is None:
        return None
    return SCHEDULES[schedule](settings)
