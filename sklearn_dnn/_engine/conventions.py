"""What skorch's callbacks and scikit-learn's scorers expect of a net, for ``TrainingNet``.

The training net's batches, predictions and way of stopping differ from a
plain skorch ``NeuralNet``'s: a batch's targets come with their sample
weights, a training batch holds every ensemble member's rows, the module
returns raw outputs, and the estimator's stopper raises
:class:`~sklearn_dnn._engine.callbacks.StopTraining`. :class:`SkorchConventions`
gives callbacks and scorers the net they expect, so skorch's own
callbacks (``EpochScoring`` with a scorer's name, ``EarlyStopping``)
work as they do on a skorch net.
"""

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping
from skorch.utils import to_numpy
from torch import nn

from .callbacks import StopTraining


def _member_major(tensor):
    """A training tensor of shape (rows, members, ...) as (members * rows, ...), member by member.

    The loaders gather a training batch member by member and view it as
    (rows, members, ...), so this is a view of what they gathered. A wide
    sparse X's batch stays a sparse COO tensor (see ``SparseRows.member_rows``),
    which torch cannot reshape: its indices are renumbered instead.
    """
    if tensor.is_sparse:
        rows, members = tensor.shape[:2]
        tensor = tensor.coalesce()
        row, member, *rest = tensor.indices()
        indices = torch.stack([member * rows + row, *rest])
        return torch.sparse_coo_tensor(
            indices, tensor.values(), (members * rows, *tensor.shape[2:]), check_invariants=False
        )
    return tensor.transpose(0, 1).flatten(0, 1)


# The notifications of every batch: their callbacks are looked up once per
# fit (see SkorchConventions._listeners), not at every call.
BATCH_EVENTS = ("on_batch_begin", "on_batch_end", "on_grad_computed")


def _listens(callback, method_name):
    """Whether ``callback`` does something on ``method_name`` (skorch's ``Callback`` does not)."""
    return getattr(type(callback), method_name, None) is not getattr(Callback, method_name)


def _as_skorch_batch(cb_kwargs):
    """A callback's ``batch`` (and ``y_pred``) as skorch passes them (see TrainingNet.notify)."""
    X, (y, _) = cb_kwargs["batch"]
    if not cb_kwargs.get("training", True):  # (on_grad_computed trains, and has no flag)
        return {**cb_kwargs, "batch": (X, y)}
    cb_kwargs = {**cb_kwargs, "batch": (_member_major(X), _member_major(y))}
    if "y_pred" in cb_kwargs:
        cb_kwargs["y_pred"] = _member_major(cb_kwargs["y_pred"])
    return cb_kwargs


class SkorchConventions:
    """Mixin of :class:`~sklearn_dnn._engine.net.TrainingNet`: skorch's batches, stop and labels.

    It reads the net's ``module__n_outputs`` and ``criterion`` (a loss class).
    """

    def notify(self, method_name, **cb_kwargs):
        """Call the callbacks as skorch does, with skorch's batches and way of stopping.

        A batch reaches the callbacks as skorch passes one, ``(X, y)`` with
        one row per sample: ``y`` holds the targets alone (the loaders'
        batches carry ``(targets, sample_weight)``), and a training batch,
        which holds every member's rows as (rows, members, ...), gives them
        member after member, (members * rows, ...), with ``y_pred`` in the
        same order.

        skorch's ``EarlyStopping`` ends training by raising
        ``KeyboardInterrupt``; that one becomes :class:`StopTraining`, the
        way the estimator's own stopper ends a fit. It is told from a
        user's Ctrl-C by where it comes from and by the callback's state:
        it has missed ``patience`` epochs, which it only does as it raises.

        A notification of every batch goes only to the callbacks that
        override it, and a callback whose class sets ``reads_batch =
        False`` (sklearn-dnn's own) gets the loaders' batch as it is: when
        no callback reads a batch, none is rebuilt (a step costs what a
        plain network's does).
        """
        if method_name in BATCH_EVENTS:
            callbacks, reads_batch = self._listeners(method_name)
            if reads_batch:
                cb_kwargs = _as_skorch_batch(cb_kwargs)
        else:
            if method_name == "on_train_begin":
                self.__dict__.pop("_batch_listeners", None)
            callbacks = [cb for _, cb in self.callbacks_]
            if "batch" in cb_kwargs:
                cb_kwargs = _as_skorch_batch(cb_kwargs)
        getattr(self, method_name)(self, **cb_kwargs)
        for cb in callbacks:
            try:
                getattr(cb, method_name)(self, **cb_kwargs)
            except KeyboardInterrupt:
                if isinstance(cb, EarlyStopping) and cb.misses_ >= cb.patience:
                    raise StopTraining from None
                raise

    def _listeners(self, method_name):
        """The callbacks that act on ``method_name``, and whether one reads its batch.

        Cached for the net's list of callbacks and as it is when a training
        begins: a new list (``initialize_callbacks`` makes one) or a new fit
        looks them up anew.
        """
        cache = self.__dict__.get("_batch_listeners")
        if cache is None or cache[0] is not self.callbacks_:
            cache = (self.callbacks_, {})
            self._batch_listeners = cache
        if method_name not in cache[1]:
            callbacks = [cb for _, cb in self.callbacks_ if _listens(cb, method_name)]
            reads_batch = any(getattr(cb, "reads_batch", True) for cb in callbacks)
            cache[1][method_name] = (callbacks, reads_batch)
        return cache[1][method_name]

    def __sklearn_tags__(self):
        """A classifier of the classes :attr:`classes_` when it trains on softmax outputs.

        scikit-learn's scorers of probabilities (``"roc_auc"``,
        ``"neg_log_loss"``...) then read ``predict_proba`` as a
        classifier's: in a binary task, the second class's column.
        """
        tags = super().__sklearn_tags__()
        if self._softmax():
            tags.estimator_type = "classifier"
        return tags

    @property
    def classes_(self):
        """The encoded classes, ``0 .. n_outputs - 1``, as :meth:`predict` returns them."""
        return np.arange(self.module__n_outputs)

    def _softmax(self):
        return isinstance(self.criterion, type) and issubclass(self.criterion, nn.CrossEntropyLoss)

    def predict(self, X):
        """What the net predicts for ``X``, encoded as the targets it trains on.

        Class indices for a softmax classifier, 0/1 indicators for a
        multilabel one, the standardized targets for a regressor (the
        means of a variance head's). (skorch's
        ``NeuralNet.predict`` returns ``predict_proba``, which a scorer of
        labels cannot read.) Served from skorch's cached outputs when an
        ``EpochScoring`` caches them.
        """
        outputs = self.forward(X)
        if self._softmax():
            return to_numpy(outputs.argmax(dim=1))
        if issubclass(self.criterion, nn.BCEWithLogitsLoss):
            return to_numpy((outputs > 0).long())
        if hasattr(self.criterion, "point_prediction"):  # (mean, variance): the means
            outputs = self.criterion.point_prediction(outputs)
        return to_numpy(outputs)
