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
brings rows with spread. Those set the column's mean and scale once, and
the output layer is re-expressed in the new units
(:func:`rescale_outputs`), so that the predictions do not change at that
moment, and the optimizer's state, which measured the loss in the old
units, starts afresh (``_training._continue_from``). (Scikit-learn's
``MLPRegressor`` does not standardize ``y``.)

Measured: ``partial_fit`` over 400 rows of ``make_regression`` (standard
deviation 167) in chunks of 50, 5 passes, reached R^2 0.95 after a first
call on one row and 0.98 after one on a constant y, where a scale of 1
kept from that call gave -0.04 and 0.01 (a first chunk with spread: 0.97).
"""

import numpy as np
import torch

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


def rescale_outputs(layer, factor, shift):
    """Map ``layer``'s outputs ``z`` to ``factor * z + shift``, per output, in place.

    ``layer`` is the output :class:`~sklearn_dnn._layers.EnsembleLinear`
    (weight (members, outputs, inputs), bias (members, outputs)); every
    member's outputs are mapped, so their mean is too.
    """
    weight = layer.weight
    factor = torch.as_tensor(factor, dtype=weight.dtype, device=weight.device)
    shift = torch.as_tensor(shift, dtype=weight.dtype, device=weight.device)
    with torch.no_grad():
        weight.mul_(factor[:, None])
        layer.bias.mul_(factor).add_(shift)
