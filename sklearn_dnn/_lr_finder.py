"""The learning-rate range test (Smith, 2017): train briefly at growing rates.

:func:`find_learning_rate` trains a throwaway copy of an estimator for at
most ``n_steps`` mini-batches while the learning rate grows exponentially
from ``start_lr`` to ``end_lr`` (a ``LambdaLR`` stepped every batch), and
records the training loss of every batch. The estimator itself is never
fitted or changed.
"""

import math
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from skorch.callbacks import Callback, EarlyStopping, LRScheduler
from torch.optim.lr_scheduler import LambdaLR

from ._engine.groups import ParameterGroups
from .exceptions import TrainingDivergedError

# Weight of the previous value in the exponential moving average of the
# loss (with bias correction); 0.9 averages over about ten batches.
SMOOTHING = 0.9


# The range-test plot shows losses up to this many times the lowest
# smoothed loss (or the first smoothed loss, if higher): past it the loss
# has exploded, and drawing it would squash the useful part of the curve.
PLOT_TOP_FACTOR = 3.0


@dataclass(frozen=True)
class RangeTestResult:
    """What :meth:`DeepClassifier.find_learning_rate` returns: the range test's curve.

    (Called ``LearningRateFinder`` before; that name remains an alias.)

    Attributes
    ----------
    lrs : ndarray of shape (n_run,)
        The learning rate of each mini-batch, strictly increasing;
        ``n_run <= n_steps`` (the test stops once the loss explodes).
    losses : ndarray of shape (n_run,)
        The training loss of each mini-batch (the data loss, without the
        l1/l2 penalty, as in ``history_``).
    suggestion : float
        A learning rate to train with: a tenth of the rate at which the
        smoothed loss was lowest, the largest rate that is still safely
        below where the loss starts to climb.
    """

    lrs: np.ndarray
    losses: np.ndarray
    suggestion: float

    @property
    def smoothed_losses(self):
        """The losses after bias-corrected exponential smoothing (``SMOOTHING``)."""
        return smooth(self.losses)

    def __repr__(self):
        return (
            f"{type(self).__name__}(suggestion={self.suggestion:.3g}, "
            f"n_steps={len(self.lrs)}, lrs=[{self.lrs[0]:.3g} .. {self.lrs[-1]:.3g}])"
        )

    def plot_limits(self):
        """The (bottom, top) of the plot's y-axis: the useful range of the losses.

        The top is ``PLOT_TOP_FACTOR`` times the lowest smoothed loss, or the
        first smoothed loss if that is higher, and never above the highest
        loss; the bottom is the lowest loss. Both have a 5% margin.
        """
        smoothed = self.smoothed_losses
        top = min(self.losses.max(), max(smoothed[0], PLOT_TOP_FACTOR * smoothed.min()))
        bottom = self.losses.min()
        margin = 0.05 * (top - bottom) if top > bottom else 0.05 * abs(top) or 1.0
        return float(bottom - margin), float(top + margin)

    def plot(self, ax=None):
        """Plot the loss against the learning rate (log scale), with the suggestion.

        The y-axis is clipped to :meth:`plot_limits`, so the loss's
        explosion at the end does not flatten the part of the curve that
        matters.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.

        Returns
        -------
        ax : matplotlib Axes
        """
        from ._plotting import new_axes

        ax = new_axes(ax)
        ax.plot(self.lrs, self.losses, color="0.7", linewidth=1, label="loss")
        ax.plot(self.lrs, self.smoothed_losses, label="smoothed loss")
        ax.axvline(self.suggestion, linestyle="--", color="C3", label="suggestion")
        ax.set_xscale("log")
        ax.set_ylim(*self.plot_limits())
        ax.set_xlabel("learning rate")
        ax.set_ylabel("training loss")
        ax.set_title(f"Learning-rate range test (suggestion {self.suggestion:.2g})")
        ax.legend()
        return ax


# The name of the result class before 0.2; kept so that old code works.
LearningRateFinder = RangeTestResult


def smooth(losses, beta=SMOOTHING):
    """Bias-corrected exponential moving average of ``losses``."""
    average, out = 0.0, []
    for i, loss in enumerate(losses):
        average = beta * average + (1 - beta) * loss
        out.append(average / (1 - beta ** (i + 1)))
    return np.array(out, dtype=np.float64)


class _RangeTestDone(Exception):
    """Raised from inside training to end the range test."""


class _RangeTestRecorder(Callback):
    """Record the rate and loss of each batch; stop after ``n_steps`` or on explosion."""

    def __init__(self, n_steps, stop_factor):
        self.n_steps = n_steps
        self.stop_factor = stop_factor

    def initialize(self):
        self.lrs_, self.losses_ = [], []
        self._best = math.inf
        return self

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            self._lr = ParameterGroups.head_lr(net.optimizer_)  # learning_rate's, as ramped

    def on_batch_end(self, net, training=False, loss=None, **kwargs):
        if not training:
            return
        loss = loss.item()
        if not math.isfinite(loss):
            raise _RangeTestDone
        self.lrs_.append(self._lr)
        self.losses_.append(loss)
        smoothed = smooth(self.losses_)[-1]  # at most n_steps losses: cheap
        self._best = min(self._best, smoothed)
        # stop_factor times the best, measured from 0 up by the best's size: the
        # same for a positive loss, and defined for a likelihood's negative one.
        exploded = smoothed > self._best + (self.stop_factor - 1) * abs(self._best)
        if len(self.losses_) >= self.n_steps or exploded:
            raise _RangeTestDone


def _range_test_callbacks(callbacks):
    """The user's ``callbacks`` less those that set the rate or stop training.

    A user's ``LRScheduler`` would bend the ramp, and an ``EarlyStopping``
    would end it (or fail, watching a validation loss the test does not
    compute); the test has its own ramp and stopping rule.
    """
    if not isinstance(callbacks, (list, tuple)):
        return callbacks  # None, or a value that fit's validation refuses by name
    skipped = (LRScheduler, EarlyStopping)
    return [
        item
        for item in callbacks
        if not isinstance(item[1] if isinstance(item, tuple) and len(item) == 2 else item, skipped)
    ]


def _check_arguments(start_lr, end_lr, n_steps, stop_factor):
    if not (isinstance(start_lr, Real) and isinstance(end_lr, Real) and 0 < start_lr < end_lr):
        raise ValueError(
            f"find_learning_rate needs 0 < start_lr < end_lr; got start_lr={start_lr!r} "
            f"and end_lr={end_lr!r}."
        )
    if not isinstance(n_steps, Integral) or isinstance(n_steps, bool) or n_steps < 2:
        raise ValueError(f"n_steps must be an integer >= 2; got {n_steps!r}.")
    if not isinstance(stop_factor, Real) or stop_factor <= 1:
        raise ValueError(f"stop_factor must be a number > 1; got {stop_factor!r}.")


def find_learning_rate(
    estimator, X, y, start_lr=1e-6, end_lr=1.0, n_steps=100, stop_factor=4.0, sample_weight=None
):
    """Run the exponential learning-rate range test on a copy of ``estimator``.

    The copy (``sklearn.base.clone``: same hyperparameters, same
    ``random_state``, so the same initial weights as ``fit`` would draw)
    trains on mini-batches of ``X`` with every regularizer of the
    estimator (at its starting strength), but with no schedule, warm-up,
    early stopping or diagnostics (nor
    the skorch ``LRScheduler`` and ``EarlyStopping`` among its
    ``callbacks``: the ramp is exact, and only the test stops it). Batch
    ``k`` runs at ``start_lr * (end_lr / start_lr) ** (k / (n_steps - 1))``;
    the test ends after ``n_steps`` batches, or as soon as the smoothed
    loss exceeds ``stop_factor`` times the best seen so far, or at the
    first batch whose loss is not finite (left out of the result). See
    :class:`RangeTestResult` for the result.
    """
    _check_arguments(start_lr, end_lr, n_steps, stop_factor)
    growth = (end_lr / start_lr) ** (1.0 / (n_steps - 1))
    recorder = _RangeTestRecorder(n_steps, stop_factor)
    probe = clone(estimator).set_params(
        learning_rate=start_lr,
        schedule=None,
        warmup=0.0,
        dropout_schedule=None,
        weight_decay_schedule=None,
        early_stopping=False,
        max_epochs=n_steps,
        patience=n_steps,
        warm_start=False,
        diagnostics=False,
        verbose=0,
        callbacks=_range_test_callbacks(estimator.callbacks),
    )
    callbacks = [
        (
            "range_test_lr",
            LRScheduler(LambdaLR, lr_lambda=lambda step: growth**step, step_every="batch"),
        ),
        ("range_test", recorder),
    ]
    try:
        probe._fit(X, y, sample_weight, extra_callbacks=callbacks)
    except (_RangeTestDone, TrainingDivergedError):
        pass
    lrs = np.array(recorder.lrs_, dtype=np.float64)
    losses = np.array(recorder.losses_, dtype=np.float64)
    if len(losses) < 2:
        raise ValueError(
            f"The range test stopped after {len(losses)} mini-batch: the loss was not "
            f"finite already at start_lr={start_lr}. Lower start_lr or scale the inputs."
        )
    best = int(np.nanargmin(smooth(losses)))
    return RangeTestResult(lrs=lrs, losses=losses, suggestion=float(lrs[best] / 10))
