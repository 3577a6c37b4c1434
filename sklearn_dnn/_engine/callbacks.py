"""skorch callbacks that the estimators add to the training net, one concern each."""

import copy
import math
import sys
import time
from numbers import Number

import torch
from skorch.callbacks import Callback, PrintLog

from .._nn.layers import member_rows
from ..exceptions import TrainingDivergedError
from .divergence import divergence


class ClipGradNorm(Callback):
    """Rescale each member's gradient to an L2 norm of at most ``max_norm``.

    As ``torch.nn.utils.clip_grad_norm_`` over all parameters that have a
    gradient, but member by member: in an ensemble one member's large
    gradient never shrinks another's step.

    Parameters
    ----------
    max_norm : float
    n_members : int
    """

    reads_batch = False  # (see SkorchConventions.notify)

    def __init__(self, max_norm, n_members):
        self.max_norm = max_norm
        self.n_members = n_members

    def on_grad_computed(self, net, named_parameters, training=False, **kwargs):
        grads = [p.grad for _, p in named_parameters if p.grad is not None]
        if not grads:
            return
        with torch.no_grad():
            rows = [member_rows(g, self.n_members) for g in grads]
            norms = torch.stack([r.square().sum(dim=1) for r in rows]).sum(dim=0).sqrt()
            factor = (self.max_norm / (norms + 1e-6)).clamp_(max=1.0).unsqueeze(1)
            for r in rows:
                r.mul_(factor)


class MaxNorm(Callback):
    """After every optimizer step, rescale each hidden unit's incoming weights.

    Parameters
    ----------
    max_norm : float
        The largest L2 norm allowed for the incoming weight vector of a
        hidden unit (a row of a hidden Linear layer's weight matrix), as
        the layer applies it: in the NTK parametrization the stored rows
        may be ``sqrt(fan_in)`` times longer.
    """

    reads_batch = False  # (see SkorchConventions.notify)

    def __init__(self, max_norm, groups):
        self.max_norm = max_norm
        self.groups = groups

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        with torch.no_grad():
            for layer in self.groups.trained_hidden_layers(net.module_):  # frozen: untouched
                weight = layer.weight
                scale = getattr(layer, "scale", None)  # NTK: applied = stored * scale
                limit = self.max_norm if scale is None else self.max_norm / scale
                # (members, units, inputs): one row per member and unit.
                weight.view(-1, weight.shape[-1]).renorm_(p=2, dim=0, maxnorm=limit)


class DivergenceGuard(Callback):
    """Stop training with a clear error once an epoch's loss has diverged.

    Diverged means not finite, or above ``DIVERGED_FACTOR`` (1e4) times
    the network's first epoch's loss, or times 1 (``MIN_REFERENCE``, an
    untrained network's loss scale) when that loss is smaller (see
    ``_engine/divergence.py``).
    The epoch's loss is the mean of its batch losses, so one ``nan`` or
    ``inf`` batch makes it non-finite; checking once an epoch keeps the
    per-batch path free of it.

    Parameters
    ----------
    learning_rate : float
        Named in the message.
    reference : float or None
        The first epoch's training loss of the network that training
        continues (a warm start, ``partial_fit``); None for a new network,
        whose first epoch of this fit is the reference.
    """

    def __init__(self, learning_rate, reference=None):
        self.learning_rate = learning_rate
        self.reference = reference

    def on_train_begin(self, net, **kwargs):
        self.reference_ = self.reference

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if self.reference_ is None:
            self.reference_ = loss
        what = divergence(loss, self.reference_)
        if what is None:
            return
        raise TrainingDivergedError(
            f"Training diverged in epoch {len(net.history)}: the training loss "
            f"{what}. Lower learning_rate "
            f"(it is {self.learning_rate}), set clip_grad_norm, or scale the "
            "inputs (for example with sklearn.preprocessing.StandardScaler)."
        )


class EpochRecorder(Callback):
    """Record the learning rate, the penalty and the validation score of every epoch.

    ``train_penalty`` is the mean over the epoch's batches (weighted by
    their rows, as skorch averages ``train_loss``) of the l1/l2 penalty
    each training step added to its data loss.

    Parameters
    ----------
    score : callable
        ``score(y_true, y_pred, sample_weight)`` on numpy arrays, where
        ``y_pred`` holds the module's raw outputs for the validation set.
        The result goes to ``history[-1]["valid_score"]``.
    """

    reads_batch = False  # (see SkorchConventions.notify)

    def __init__(self, score, groups):
        self.score = score
        self.groups = groups

    def on_epoch_begin(self, net, **kwargs):
        self._outputs = []

    def on_batch_end(self, net, training=False, y_pred=None, batch=None, **kwargs):
        if not training:  # the ensemble's outputs (the module is in eval mode)
            self._outputs.append(y_pred.detach())

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        net.history.record("lr", self.groups.head_lr(net.optimizer_))
        batches = [b for b in net.history[-1]["batches"] if "train_penalty" in b]
        if batches:
            rows = sum(b["train_batch_size"] for b in batches)
            total = sum(b["train_penalty"] * b["train_batch_size"] for b in batches)
            net.history.record("train_penalty", total / rows)
        if dataset_valid is None:
            return
        outputs = torch.cat(self._outputs).cpu().numpy()
        y_true = dataset_valid.targets().cpu().numpy()
        weight = dataset_valid.weights()
        weight = None if weight is None else weight.cpu().numpy()
        net.history.record("valid_score", float(self.score(y_true, outputs, weight)))
        self._outputs = []


class Unfreeze(Callback):
    """Release the frozen hidden layers after ``after`` epochs of a fit.

    The released parameters sit in their own optimizer parameter group,
    whose learning rate the estimator set lower (``unfrozen_lr_factor``).
    The epoch that ends the freeze gets ``unfrozen=True`` in the history.
    """

    def __init__(self, after, groups):
        self.after = after
        self.groups = groups

    def on_epoch_end(self, net, **kwargs):
        # The history holds this fit's epochs only (a warm start's earlier
        # epochs are put back after training), so it counts from this fit's start.
        if len(net.history) == self.after and net.module_.n_frozen:
            self.groups.release(net.module_)
            net.history.record("unfrozen", True)


class RunSchedules(Callback):
    """Set the learning rate, the dropout rates and the weight-decay factor from the run's progress.

    Before every training step, with ``t`` = the steps done over the
    ``n_steps`` of the run (in [0, 1)): the optimizer's rates are multiplied
    by ``lr(t)`` for that step only (restored after it, before a schedule
    torch steps reads them, so both combine by multiplication), every
    dropout layer's rate is its rate at the start of the fit times
    ``dropout(t)``, and ``net.weight_decay_factor`` is ``weight_decay(t)``.
    Each of the three is a function of ``t`` or None (left alone). The
    history's ``lr`` of an epoch is the rate of its last step. When
    training ends the dropout layers get their own rates back (the ones
    prediction and Monte-Carlo dropout use) and ``weight_decay_factor``
    is 1 again.

    Parameters
    ----------
    n_steps : int
        Training steps of the run: ``max_epochs`` times the batches per epoch.
    lr, dropout, weight_decay : callable or None
    """

    reads_batch = False  # (see SkorchConventions.notify)

    def __init__(self, n_steps, lr=None, dropout=None, weight_decay=None):
        self.n_steps = n_steps
        self.lr = lr
        self.dropout = dropout
        self.weight_decay = weight_decay

    @staticmethod
    def _dropout_layers(net):
        return [block.dropout for block in net.module_.hidden if block.dropout is not None]

    def on_train_begin(self, net, **kwargs):
        self.step_ = 0
        self.rates_ = [layer.p for layer in self._dropout_layers(net)]
        self.lr_factor_ = 1.0
        self.saved_lrs_ = None

    def progress(self):
        """The share of the run's steps done before the next step, in [0, 1]."""
        return min(self.step_ / self.n_steps, 1.0)

    def on_batch_begin(self, net, training=False, **kwargs):
        if not training:
            return
        t = self.progress()
        if self.dropout is not None:
            factor = self.dropout(t)
            for layer, rate in zip(self._dropout_layers(net), self.rates_, strict=True):
                layer.p = rate * factor
        if self.weight_decay is not None:
            object.__setattr__(net, "weight_decay_factor", float(self.weight_decay(t)))
        if self.lr is not None:
            self.lr_factor_ = self.lr(t)
            groups = net.optimizer_.param_groups
            self.saved_lrs_ = [group["lr"] for group in groups]
            for group in groups:
                group["lr"] = group["lr"] * self.lr_factor_

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        if self.saved_lrs_ is not None:
            for group, lr in zip(net.optimizer_.param_groups, self.saved_lrs_, strict=True):
                group["lr"] = lr
            self.saved_lrs_ = None
        self.step_ += 1

    def on_epoch_end(self, net, **kwargs):
        if self.lr is not None and "lr" in net.history[-1]:  # EpochRecorder's, unscaled
            net.history.record("lr", net.history[-1, "lr"] * self.lr_factor_)

    def on_train_end(self, net, **kwargs):
        for layer, rate in zip(self._dropout_layers(net), self.rates_, strict=True):
            layer.p = rate
        object.__setattr__(net, "weight_decay_factor", 1.0)


class StopTraining(Exception):
    """Raised by :class:`Stopper` to end the epochs of a fit (not a user's interrupt).

    The training net raises it, too, for skorch's ``EarlyStopping`` (see
    :class:`~sklearn_dnn._engine.conventions.SkorchConventions`).
    """


class Stopper(Callback):
    """Stop when the monitored loss has not improved for ``patience`` epochs.

    The rule is scikit-learn's MLP's: an epoch improves when its loss is
    below the best so far by more than ``tol``. With ``restore_best`` the
    weights of the best epoch are put back when training ends, and that
    epoch is marked ``best=True`` in the history. The best epoch is the
    first that reached the lowest loss (``best_epoch="first"``), or the
    last whose loss is at least as good as the lowest (``"last"``: of
    epochs tied with the best, as equal accuracies often are, the later,
    as RealMLP selects). ``patience=None`` never stops: every epoch of
    the run trains, and the best is still restored.

    Unlike skorch's ``EarlyStopping``, which ends training by raising
    ``KeyboardInterrupt``, this raises :class:`StopTraining`, so a user's
    Ctrl-C is never mistaken for convergence.

    Parameters
    ----------
    monitor : str
        The history key to watch: ``"valid_loss"``, ``"valid_score"``
        (higher is better: its negative is watched), or ``"train_loss"``,
        which stands for the training objective (``train_loss`` plus
        ``train_penalty``, the loss the optimizer minimizes, as
        scikit-learn's MLP watches it).
    patience : int or None
    tol : float
    restore_best : bool
    best_epoch : {"first", "last"}, default="first"
    """

    # The epochs still_improving measures over when patience is None.
    WINDOW = 10

    def __init__(self, monitor, patience, tol, restore_best, best_epoch="first"):
        self.monitor = monitor
        self.patience = patience
        self.tol = tol
        self.restore_best = restore_best
        self.best_epoch = best_epoch

    def on_train_begin(self, net, **kwargs):
        self.best_loss_ = math.inf
        self.best_epoch_ = None
        self.best_state_ = None
        self.n_stale_ = 0
        self.losses_ = []
        self.improved_epochs_ = []  # the epochs (history lengths) that set a new best
        self.stopped_ = False

    def monitored(self, epoch):
        """The monitored loss of a history entry."""
        if self.monitor == "train_loss":
            return epoch["train_loss"] + epoch.get("train_penalty", 0.0)
        if self.monitor == "valid_score":
            return -epoch["valid_score"]
        return epoch[self.monitor]

    def best_value(self):
        """The best value of the watched quantity, as the history holds it."""
        return -self.best_loss_ if self.monitor == "valid_score" else self.best_loss_

    def on_epoch_end(self, net, **kwargs):
        loss = self.monitored(net.history[-1])
        self.losses_.append(loss)
        self.n_stale_ = self.n_stale_ + 1 if loss > self.best_loss_ - self.tol else 0
        tied = self.best_epoch == "last" and loss == self.best_loss_
        if loss < self.best_loss_ or tied:
            self.best_loss_ = loss
            self.best_epoch_ = len(net.history)
            self.improved_epochs_.append(self.best_epoch_)
            if self.restore_best:
                self.best_state_ = copy.deepcopy(net.module_.state_dict())
        if self.patience is not None and self.n_stale_ >= self.patience:
            self.stopped_ = True
            raise StopTraining

    def on_train_end(self, net, **kwargs):
        if self.restore_best and self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)
            net.history[self.best_epoch_ - 1]["best"] = True
        self.best_state_ = None  # a spare copy of the weights, pickled with the net

    def still_improving(self):
        """Whether the loss was still falling by more than ``tol`` an epoch at the end.

        Measured over the last ``patience`` epochs (at least two; ``WINDOW``
        without patience): more epochs would have helped. Used for the
        ConvergenceWarning.
        """
        window = self.losses_[-max(2, self.patience or self.WINDOW) :]
        if self.stopped_ or len(window) < 2:
            return False
        return (window[0] - window[-1]) / (len(window) - 1) > self.tol


def _duration(seconds):
    """``"4.2s"``, ``"42s"``, ``"3m07s"`` or ``"1h05m"``."""
    if seconds < 9.95:
        return f"{seconds:.1f}s"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class EpochLog(PrintLog):
    """The epoch table of ``verbose=1``: every epoch, in fixed columns, and a closing line.

    One row per epoch of this fit, the epoch that ends it included: the
    epoch as ``k/N``, the history's numbers (``train_loss``, ``valid_loss``,
    the learning rate ``lr`` of the output layer once, ...), ``dur`` and
    ``left``, the time the remaining epochs would take at the mean duration
    so far (an upper bound: early stopping may end the fit sooner; ``0.0s``
    on the last row). The columns are those of the first row, padded to a
    fixed width, so every row lines up; a column a later epoch adds is left
    out. Then two text columns: ``best`` holds ``*`` when the stopper's
    monitored quantity reached a new best in that epoch, and ``note`` the
    events of the epoch (``unfrozen``, a callback's ``event_*`` flag). A
    closing line says how many epochs ran, why the fit stopped (patience
    exhausted on the monitored quantity, ``max_epochs`` reached, or a
    callback stopped it), which epoch's weights were restored, and the
    total time.

    On a terminal the new best values are also coloured; off a terminal
    (a file, a pipe, a notebook's log) nothing but text is written.
    Without a standard output (``sys.stdout`` is None, as under
    ``pythonw`` or in some services) it prints nothing, as ``print`` does.

    The epoch that stops a fit ends in the stopper, which runs before this
    log (skorch calls its ``print_log`` last), by raising; that row is
    written when training ends.

    Parameters
    ----------
    keys_ignored : str or list of str, default=None
        History keys left out of the table (as skorch's ``PrintLog``).
    sink : callable, default=print
    colour : bool or None, default=None
        None colours when ``sys.stdout`` is a terminal.
    """

    # History keys that are not columns: skorch's markers and the bookkeeping
    # of other callbacks (a schedule's ``event_lr`` repeats ``lr``).
    NOT_COLUMNS = frozenset({"epoch", "dur", "batches", "best", "unfrozen", "event_lr"})
    FLOAT_WIDTH = 10
    GREEN, END = "\x1b[32m", "\x1b[0m"

    def __init__(self, keys_ignored=None, sink=print, colour=None):
        super().__init__(keys_ignored=keys_ignored, sink=sink)
        self.colour = colour

    def on_train_begin(self, net, **kwargs):
        self.start_ = len(net.history)  # epochs loaded or continued from are not this fit's
        self.columns_ = None
        self.n_printed_ = 0
        self.began_ = time.monotonic()

    def _use_colour(self):
        if self.colour is not None:
            return self.colour
        return self.sink is print and hasattr(sys.stdout, "isatty") and sys.stdout.isatty()

    def _quiet(self, net):
        return (not net.verbose and self.sink is print) or (
            self.sink is print and sys.stdout is None
        )

    def _write(self, line):
        self.sink(line)
        if self.sink is print and sys.stdout is not None:
            sys.stdout.flush()

    def _columns(self, row):
        keys = [k for k in self._sorted_keys(row.keys()) if k not in self.NOT_COLUMNS]
        keys = [k for k in keys if not k.startswith("event_") and isinstance(row[k], Number)]
        return ["epoch", *keys, "dur", "left"]

    @staticmethod
    def _stopper(net):
        stopper = dict(getattr(net, "callbacks_", ())).get("stopper")
        return stopper if isinstance(stopper, Stopper) else None

    def _width(self, key, max_epochs):
        if key == "epoch":
            return max(len(key), 2 * len(str(max_epochs)) + 1)
        if key in ("dur", "left"):
            return 6
        return max(len(key), self.FLOAT_WIDTH)

    def _format(self, key, value, width):
        if value is None:
            return " " * width
        if isinstance(value, str):
            return value.rjust(width)
        if isinstance(value, bool) or float(value).is_integer():
            return f"{value:>{width}}"
        return f"{value:>{width}.4f}"

    def _print_row(self, net, index, last=False):
        """Write the history's epoch ``index`` (of this fit: 1, 2, ...)."""
        history = net.history[self.start_ :]
        row = dict(history[index - 1])
        if self.columns_ is None:
            self.columns_ = self._columns(row)
            self.widths_ = [self._width(key, net.max_epochs) for key in self.columns_]
            header = "  ".join(k.rjust(w) for k, w in zip(self.columns_, self.widths_, strict=True))
            self._write(header + "  best  note")
            self._write("  ".join("-" * w for w in self.widths_) + "  ----  ----")
        mean = sum(epoch.get("dur", 0.0) for epoch in history[:index]) / index
        row["epoch"] = f"{index}/{net.max_epochs}"
        row["dur"] = _duration(row.get("dur", 0.0))
        row["left"] = _duration(0.0 if last else mean * max(net.max_epochs - index, 0))
        stopper = self._stopper(net)
        improved = stopper is not None and index + self.start_ in stopper.improved_epochs_
        cells = []
        for key, width in zip(self.columns_, self.widths_, strict=True):
            cell = self._format(key, row.get(key), width)
            if improved and key == stopper.monitor and self._use_colour():
                cell = f"{self.GREEN}{cell}{self.END}"
            cells.append(cell)
        notes = ["unfrozen"] * bool(row.get("unfrozen")) + [
            k[len("event_") :]
            for k, v in row.items()
            if k.startswith("event_") and k != "event_lr" and v is True
        ]
        line = "  ".join(cells) + "  " + ("*" if improved else " ").rjust(4)
        self._write((line + "  " + " ".join(notes)).rstrip())
        self.n_printed_ = index

    def on_epoch_end(self, net, **kwargs):
        if self._quiet(net):
            return
        done = len(net.history) - self.start_
        self._print_row(net, done, last=done >= net.max_epochs)

    def on_train_end(self, net, **kwargs):
        if self._quiet(net):
            return
        done = len(net.history) - self.start_
        if done == 0:
            return
        if self.n_printed_ < done:  # the epoch whose end a callback stopped the fit in
            self._print_row(net, done, last=True)
        self._write(self.closing_line(net, done))

    def closing_line(self, net, done):
        """How many epochs ran, why the fit stopped, the weights kept and the total time."""
        stopper = self._stopper(net)
        if stopper is not None and stopper.stopped_:
            what = {"train_loss": "the training loss"}.get(stopper.monitor, stopper.monitor)
            verb = "rise" if stopper.monitor == "valid_score" else "fall"
            why = (
                f"patience exhausted: {what} did not {verb} by more than "
                f"tol={stopper.tol:g} for {stopper.patience} epochs"
            )
            if stopper.monitor == "train_loss":
                why = f"converged on the training loss ({why})"
        elif done >= net.max_epochs:
            why = f"max_epochs={net.max_epochs} reached"
        else:
            why = "a callback stopped it"
        if stopper is not None and stopper.restore_best and stopper.best_epoch_ is not None:
            best = stopper.best_epoch_ - self.start_
            kept = f"restored epoch {best} (best {stopper.monitor} {stopper.best_value():.4f})"
        else:
            kept = f"kept the weights of epoch {done}, the last"
        total = _duration(time.monotonic() - self.began_)
        epochs = "1 epoch" if done == 1 else f"{done} epochs"
        return f"Stopped after {epochs}: {why}; {kept}; total {total}."
