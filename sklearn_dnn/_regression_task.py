"""The task of a regressor: a standardized target, one output per column.

:class:`RegressionTask` implements the interface
:class:`~sklearn_dnn._tasks.Task` (see ``_tasks.py``); the measure of the
target's scale is ``_target_scaling.py``'s.
"""

import numpy as np
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from torch import nn

from ._nn.mlp import combine_values
from ._target_scaling import standardization
from ._tasks import Task
from ._uncertainty import RegressionUncertainty


class RegressionTask(Task):
    """Regression on a standardized target: one output per target column, MSE loss.

    Parameters
    ----------
    mean, scale : ndarray of shape (n_outputs,)
        The weighted mean and standard deviation of each target column in
        the first fit; the network learns ``(y - mean) / scale``.
    spread : ndarray of bool, shape (n_outputs,)
        Whether each column's scale was measured on rows with spread (if
        not, it is the column's magnitude until a continued fit brings
        some: see ``_target_scaling.py``).
    y_ndim : {1, 2}
        Whether ``y`` was 1-D (``predict`` then returns 1-D).
    y_range : ndarray of shape (2, n_outputs) or None, default=None
        The smallest and largest target of each column over the rows of
        every fit so far (those of positive weight), on the target's own
        scale: the bounds of ``clip_predictions``. None in a task pickled
        before it existed.
    """

    target_validation = {"multi_output": True, "y_numeric": True}
    criterion = nn.MSELoss
    out_activation = "identity"
    uncertainty_result = RegressionUncertainty
    min_validation_rows = 2  # R^2 needs two rows
    combine_members = staticmethod(combine_values)

    def __init__(self, mean, scale, spread, y_ndim, y_range=None):
        self.mean = mean
        self.scale = scale
        self.spread = spread
        self.y_ndim = y_ndim
        self.y_range = y_range

    def __setstate__(self, state):
        # A task pickled by 0.1.0 has no ``spread``: its scales were all measured.
        state.setdefault("spread", np.ones(np.size(state["mean"]), dtype=bool))
        state.setdefault("y_range", None)  # pickled before clip_predictions
        vars(self).update(state)

    @classmethod
    def from_targets(cls, y, sample_weight, estimator_name, classes=None):
        y2d = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        return cls(*standardization(y2d, sample_weight), np.ndim(y), _range(y2d, sample_weight))

    def continued_with(self, y, sample_weight):
        n_outputs = 1 if np.ndim(y) == 1 else np.shape(y)[1]
        if n_outputs != len(self.mean):
            raise ValueError(
                f"y has {n_outputs} outputs, but warm_start continues a model "
                f"with {len(self.mean)}."
            )
        mean, scale, spread = self.mean, self.scale, self.spread
        if not spread.all():  # the first rows with spread set an undetermined scale
            y2d = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
            new_mean, new_scale, new_spread = standardization(y2d, sample_weight)
            now = new_spread & ~spread
            mean, scale = np.where(now, new_mean, mean), np.where(now, new_scale, scale)
            spread = spread | now
        y_range = _range(np.asarray(y, dtype=np.float64).reshape(len(y), -1), sample_weight)
        if self.y_range is not None and y_range is not None:
            low, high = self.y_range
            y_range = np.stack([np.minimum(low, y_range[0]), np.maximum(high, y_range[1])])
        elif y_range is None:
            y_range = self.y_range
        return type(self)(mean, scale, spread, np.ndim(y), y_range)

    def check_validation_targets(self, y_val):
        n_outputs = 1 if np.ndim(y_val) == 1 else np.shape(y_val)[1]
        if n_outputs != self.n_outputs:
            raise ValueError(f"y_val has {n_outputs} outputs, but y has {self.n_outputs}.")

    def units_changed_from(self, previous):
        """Whether ``previous`` encoded the targets with another mean or scale."""
        return not (
            np.array_equal(self.mean, previous.mean) and np.array_equal(self.scale, previous.scale)
        )

    def encode(self, y, dtype):
        y2d = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        return ((y2d - self.mean) / self.scale).astype(dtype)

    @staticmethod
    def weigh(y, sample_weight, class_weight):
        return sample_weight  # no classes

    @property
    def n_outputs(self):
        return len(self.mean)

    def stratify(self, target):
        return None

    @staticmethod
    def valid_score(y_true, outputs, sample_weight):
        return r2_score(y_true, outputs, sample_weight=sample_weight)

    def scores(self):
        """The named validation scores (``scoring``); errors on the target's own scale."""

        def on_target_scale(metric):
            return lambda y, out, w: (
                -metric(self.to_target_scale(y), self.to_target_scale(out), sample_weight=w)
            )

        return {
            "r2": self.valid_score,
            "neg_mean_squared_error": on_target_scale(mean_squared_error),
            "neg_mean_absolute_error": on_target_scale(mean_absolute_error),
        }

    def to_target_scale(self, outputs):
        """Map standardized outputs of shape (..., n_outputs) to the target's scale."""
        y = outputs * self.scale + self.mean
        return y[..., 0] if self.y_ndim == 1 else y

    def predict(self, outputs):
        return self.to_target_scale(outputs)

    def clip(self, predictions):
        """``predict``'s answer clipped, column by column, to the targets' range.

        Unchanged when the range is unknown (a task pickled before it existed).
        """
        if self.y_range is None:
            return predictions
        low, high = self.y_range
        if self.y_ndim == 1:
            low, high = low[0], high[0]
        return np.clip(predictions, low, high)

    def summarize(self, outputs, return_samples):
        """Fields of :class:`RegressionUncertainty` from outputs of shape (S, rows, k)."""
        predictions = self.to_target_scale(outputs)
        return {
            "mean": predictions.mean(axis=0),
            "std": predictions.std(axis=0),
            "samples": predictions if return_samples else None,
        }


def _range(y2d, sample_weight):
    """The (2, n_outputs) smallest and largest values of the rows of positive weight."""
    rows = y2d if sample_weight is None else y2d[np.asarray(sample_weight) > 0]
    if not len(rows):
        return None
    return np.stack([rows.min(axis=0), rows.max(axis=0)])
