"""The user's callbacks (the ``callbacks`` hyperparameter): copied per fit, checked by name.

Each fit trains with fresh deep copies of the user's skorch callbacks, so
the objects the estimator holds (shared by ``clone`` and by every
candidate of a search) never change; a callback that would clash with
sklearn-dnn's own (by name, or by setting the learning rate alongside
``schedule``) or that watches a validation score the fit does not compute
is refused with a message that names it.
"""

import copy

from skorch.callbacks import Callback, EarlyStopping, LRScheduler

from .._diagnostics import RECORDER_NAME
from .._hyperparameters.foreign import callback_hint

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
                f"instances) or (name, callback) pairs; got {item!r}.{callback_hint(item)}"
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
