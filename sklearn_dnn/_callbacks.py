"""skorch callbacks that the estimators add to the training net, one concern each."""

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

    def __init__(self, max_norm):
        self.max_norm = max_norm

    def on_batch_end(self, net, training=False, **kwargs):
        if not training:
            return
        with torch.no_grad():
            for layer in net.module_.linear_layers()[:-1]:
                layer.weight.renorm_(p=2, dim=0, maxnorm=self.max_norm)


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
    """Record the learning rate and the validation score of every epoch.

    Parameters
    ----------
    score : callable
        ``score(y_true, y_pred, sample_weight)`` on numpy arrays, where
        ``y_pred`` holds the module's raw outputs for the validation set.
        The result goes to ``history[-1]["valid_score"]``.
    """

    def __init__(self, score):
        self.score = score

    def on_epoch_begin(self, net, **kwargs):
        self._outputs = []

    def on_batch_end(self, net, training=False, y_pred=None, batch=None, **kwargs):
        if not training:
            self._outputs.append(y_pred.detach())

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        net.history.record("lr", net.optimizer_.param_groups[0]["lr"])
        if dataset_valid is None or not self._outputs:
            return
        outputs = torch.cat(self._outputs).cpu().numpy()
        y_true = dataset_valid.y.cpu().numpy()
        weight = dataset_valid.sample_weight
        weight = None if weight is None else weight.cpu().numpy()
        net.history.record("valid_score", float(self.score(y_true, outputs, weight)))
        self._outputs = []


class Unfreeze(Callback):
    """Release the frozen hidden layers after ``after`` epochs of a fit.

    The released parameters sit in their own optimizer parameter group,
    whose learning rate the estimator set lower (``unfrozen_lr_factor``).
    The epoch that ends the freeze gets ``unfrozen=True`` in the history.
    """

    def __init__(self, after):
        self.after = after

    def on_train_begin(self, net, **kwargs):
        self.start_epoch_ = len(net.history)

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) - self.start_epoch_ == self.after and net.module_.n_frozen:
            net.module_.set_frozen(0)
            net.history.record("unfrozen", True)
