"""skorch callbacks that the estimators add to the training net, one concern each."""

import copy
import math

import torch
from skorch.callbacks import Callback

from .exceptions import TrainingDivergedError


class MaxNorm(Callback):
    """After every optimizer step, rescale each hidden unit's incoming weights.

    Parameters
    ----------
    max_norm : float
        The largest L2 norm allowed for the incoming weight vector of a
        hidden unit (a row of a hidden Linear layer's weight matrix).
    """

    def __init__(self, max_norm, groups):
        self.max_norm = max_norm
        self.groups = groups

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        with torch.no_grad():
            for weight in self.groups.trained_hidden_weights(net.module_):  # frozen: untouched
                weight.renorm_(p=2, dim=0, maxnorm=self.max_norm)


class DivergenceGuard(Callback):
    """Stop training with a clear error once an epoch's loss is not finite.

    The epoch's loss is the mean of its batch losses, so one ``nan`` or
    ``inf`` batch makes it non-finite; checking once an epoch keeps the
    per-batch path free of it.
    """

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if math.isfinite(loss):
            return
        raise TrainingDivergedError(
            f"Training diverged in epoch {len(net.history)}: the training loss "
            f"became {loss}. Lower learning_rate "
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

    def __init__(self, score, groups):
        self.score = score
        self.groups = groups

    def on_epoch_begin(self, net, **kwargs):
        self._outputs = []

    def on_batch_end(self, net, training=False, y_pred=None, batch=None, **kwargs):
        if not training:
            self._outputs.append(y_pred.detach())

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        net.history.record("lr", self.groups.head_lr(net.optimizer_))
        batches = [b for b in net.history[-1]["batches"] if "train_penalty" in b]
        if batches:
            rows = sum(b["train_batch_size"] for b in batches)
            total = sum(b["train_penalty"] * b["train_batch_size"] for b in batches)
            net.history.record("train_penalty", total / rows)
        if dataset_valid is None or not self._outputs:
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

    def on_train_begin(self, net, **kwargs):
        self.start_epoch_ = len(net.history)

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) - self.start_epoch_ == self.after and net.module_.n_frozen:
            self.groups.release(net.module_)
            net.history.record("unfrozen", True)


class StopTraining(Exception):
    """Raised by :class:`Stopper` to end the epochs of a fit (not a user's interrupt)."""


class Stopper(Callback):
    """Stop when the monitored loss has not improved for ``patience`` epochs.

    The rule is scikit-learn's MLP's: an epoch improves when its loss is
    below the best so far by more than ``tol``. With ``restore_best`` the
    weights of the epoch with the lowest loss are put back when training
    ends, and that epoch is marked ``best=True`` in the history.

    Unlike skorch's ``EarlyStopping``, which ends training by raising
    ``KeyboardInterrupt``, this raises :class:`StopTraining`, so a user's
    Ctrl-C is never mistaken for convergence.

    Parameters
    ----------
    monitor : str
        The history key to watch: ``"valid_loss"``, or ``"train_loss"``,
        which stands for the training objective (``train_loss`` plus
        ``train_penalty``, the loss the optimizer minimizes, as
        scikit-learn's MLP watches it).
    patience : int
    tol : float
    restore_best : bool
    """

    def __init__(self, monitor, patience, tol, restore_best):
        self.monitor = monitor
        self.patience = patience
        self.tol = tol
        self.restore_best = restore_best

    def on_train_begin(self, net, **kwargs):
        self.best_loss_ = math.inf
        self.best_epoch_ = None
        self.best_state_ = None
        self.n_stale_ = 0
        self.losses_ = []
        self.stopped_ = False

    def monitored(self, epoch):
        """The monitored loss of a history entry."""
        if self.monitor == "train_loss":
            return epoch["train_loss"] + epoch.get("train_penalty", 0.0)
        return epoch[self.monitor]

    def on_epoch_end(self, net, **kwargs):
        loss = self.monitored(net.history[-1])
        self.losses_.append(loss)
        self.n_stale_ = self.n_stale_ + 1 if loss > self.best_loss_ - self.tol else 0
        if loss < self.best_loss_:
            self.best_loss_ = loss
            self.best_epoch_ = len(net.history)
            if self.restore_best:
                self.best_state_ = copy.deepcopy(net.module_.state_dict())
        if self.n_stale_ >= self.patience:
            self.stopped_ = True
            raise StopTraining

    def on_train_end(self, net, **kwargs):
        if self.restore_best and self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)
            net.history[self.best_epoch_ - 1]["best"] = True

    def still_improving(self):
        """Whether the loss was still falling by more than ``tol`` an epoch at the end.

        Measured over the last ``patience`` epochs (at least two): more
        epochs would have helped. Used for the ConvergenceWarning.
        """
        window = self.losses_[-max(2, self.patience) :]
        if self.stopped_ or len(window) < 2:
            return False
        return (window[0] - window[-1]) / (len(window) - 1) > self.tol
