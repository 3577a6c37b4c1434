"""scikit-learn's MLP attributes, and skorch's history indexing, on the estimators.

The attributes of ``MLPClassifier`` and ``MLPRegressor`` that a user of
theirs reaches for (``loss_curve_``, ``coefs_``...) are read-only
properties derived from ``history_`` and ``module_``: nothing is stored
twice, so they cannot disagree with the model. The network's layers are
read by name (``MLP.linear_layers()``: each hidden block's ``.linear``,
then ``.output``), never by position in a list of modules.

``history_`` is a :class:`skorch.history.History`, the list of dicts it
always was, which also takes skorch's indexing
(``history_[:, "train_loss"]``, ``history_[-1, "valid_loss"]``). A model
pickled by 0.1, whose history is a plain list, gets one on loading.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted
from skorch.history import History


def as_history(epochs):
    """``epochs`` (a list of dicts) as a :class:`skorch.history.History`, itself if it is one."""
    return epochs if isinstance(epochs, History) else History(epochs)


class MLPAttributesMixin:
    """``loss_curve_``, ``best_loss_``, ``validation_scores_``, ``best_validation_score_``,
    ``coefs_``, ``intercepts_``, ``n_layers_`` and ``out_activation_``, as scikit-learn's MLP.
    """

    def __setstate__(self, state):
        if isinstance(state.get("history_"), list):  # pickled by 0.1: a plain list
            state = {**state, "history_": as_history(state["history_"])}
        super().__setstate__(state)

    @property
    def loss_curve_(self):
        """The training objective of each epoch (``train_loss + train_penalty``), a list."""
        check_is_fitted(self, "history_")
        return [float(e["train_loss"] + e.get("train_penalty", 0.0)) for e in self.history_]

    @property
    def best_loss_(self):
        """The lowest ``loss_curve_`` value; None when a validation set chose the weights."""
        check_is_fitted(self, "history_")
        if any(e.get("best") for e in self.history_):
            return None
        return min(self.loss_curve_)

    @property
    def validation_scores_(self):
        """Each epoch's ``valid_score`` (None for an epoch without one); None without any."""
        check_is_fitted(self, "history_")
        scores = [e.get("valid_score") for e in self.history_]
        if all(score is None for score in scores):
            return None
        return [None if score is None else float(score) for score in scores]

    @property
    def best_validation_score_(self):
        """The validation score of the weights kept; None without a validation set."""
        scores = self.validation_scores_
        if scores is None:
            return None
        best = [e["valid_score"] for e in self.history_ if e.get("best") and "valid_score" in e]
        if best:
            return float(best[-1])
        return max(score for score in scores if score is not None)

    def _linear_parameters(self, name):
        """``name`` ("weight" or "bias") of each Linear layer, members first, as numpy arrays."""
        check_is_fitted(self, "net_")
        arrays = []
        for layer in self.module_.linear_layers():
            if name == "weight":  # as the layer applies it (NTK: scaled from the stored one)
                value = getattr(layer, "effective_weight", layer.weight)
            else:
                value = layer.bias
            value = np.zeros(value_shape(layer)) if value is None else value.detach().cpu().numpy()
            if name == "weight":  # (members, out, in) -> (members, in, out), as sklearn's
                value = np.swapaxes(value, -1, -2)
            arrays.append(value[0].copy() if value.shape[0] == 1 else value.copy())
        return arrays

    @property
    def coefs_(self):
        """Each layer's weight matrix, of shape (n_in, n_out); (ensemble_size, n_in, n_out)
        for an ensemble. With ``parametrization="ntk"``, the weights the layers apply."""
        return self._linear_parameters("weight")

    @property
    def intercepts_(self):
        """Each layer's bias vector, of shape (n_out,); (ensemble_size, n_out) for an ensemble."""
        return self._linear_parameters("bias")

    @property
    def n_layers_(self):
        """Number of layers, the input and output layers included (as scikit-learn counts)."""
        check_is_fitted(self, "net_")
        return len(self.module_.linear_layers()) + 1

    @property
    def out_activation_(self):
        """The output function: ``"softmax"``, ``"logistic"`` (multilabel) or ``"identity"``."""
        check_is_fitted(self, "net_")
        return self._task.out_activation


def value_shape(layer):
    """The shape of the bias a Linear layer without one would have: zeros."""
    return (layer.ensemble_size, layer.out_features)
