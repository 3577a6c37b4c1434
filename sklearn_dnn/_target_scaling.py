"""A regressor's target standardization: measured on the first rows with spread.

The network of a :class:`DeepRegressor` learns ``(y - mean) / scale`` for
each target column (:class:`~sklearn_dnn._regression_task.RegressionTask`). The
mean and scale are measured relative to the column's magnitude, so that
targets of any size (1e-16 or 1e160) are standardized in float64 without
their squares under- or overflowing.

A column whose rows have no spread (one row, or a constant column: a first
``partial_fit`` chunk, say) has no scale to measure: its scale is its
magnitude (its largest ``|y|``, 1 for zeros), and stays *undetermined*
until a later fit of the same network (``partial_fit`` or a warm start)
brings rows with spread. Those set the column's mean and scale once; the
network's output for that column is kept as it is, now read in the new
units, and the optimizer's state, which measured the loss in the old
units, starts afresh (``_engine/training._continue_from``). Rows without spread
teach the network one level and nothing about the column's variation:
trained towards 0 in the old units, the output now predicts about the new
mean, as after a first call on rows with spread. (Re-expressing the output
layer so that the predictions did not change kept that one level instead,
a bias of the first row's distance from the mean, which the following
calls then had to unlearn. Scikit-learn's ``MLPRegressor`` does not
standardize ``y``.)

Measured: ``partial_fit`` over 300 rows of ``make_regression`` (standard
deviation 128) in chunks of 50, 5 passes, (16,) hidden units: R^2 0.65
after a first chunk with spread, 0.67 after a first call on one row or on
a constant chunk; 0.24 and 0.38 when the predictions were kept at the
moment the scale is set. (With a scale of 1 kept for good, the probe that
found this reached -2.08.)
"""

import numpy as np

# A column is constant when its standard deviation is at most this many
# parts of its largest |y|: rounding error, not spread.
CONSTANT_SPREAD = 10 * np.finfo(np.float64).eps


def standardization(y2d, sample_weight):
    """The weighted mean and scale of each column of ``y2d``, and whether it has spread.

    Computed in units of the column's largest ``|y|`` among the rows of
    positive weight (1 for a column of zeros). A column without spread
    (its standard deviation at most :data:`CONSTANT_SPREAD` in those
    units) gets that unit as its scale, so that its rounding errors stay
    small numbers in the network's float32 or float64.

    Returns
    -------
    mean, scale : ndarray of shape (n_columns,)
    spread : ndarray of bool, shape (n_columns,)
    """
    size = np.abs(y2d[sample_weight > 0]).max(axis=0)
    size[size < np.finfo(np.float64).tiny] = 1.0  # zeros, or subnormal: no magnitude
    units = y2d / size
    mean = np.average(units, axis=0, weights=sample_weight)
    std = np.sqrt(np.average((units - mean) ** 2, axis=0, weights=sample_weight))
    spread = std > CONSTANT_SPREAD
    return mean * size, np.where(spread, std, 1.0) * size, spread
