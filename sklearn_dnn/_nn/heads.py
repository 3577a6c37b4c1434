"""The mean-and-variance head of a regressor, how members combine, and its loss.

A regressor trained with ``loss="gaussian_nll"`` or ``"beta_nll"``
predicts, for every target column, a Gaussian: its output layer has two
units per column, the mean and a raw variance, which :func:`mean_variance`
maps through ``softplus`` and a floor (:data:`VARIANCE_FLOOR`, in the
standardized target's units) to a positive variance. Every member of an
ensemble, and every Monte-Carlo dropout pass, gives its own mean and
variance; :func:`combine_mean_variance` merges the members into one
Gaussian with the same first two moments as their mixture
(Lakshminarayanan et al., 2017): the mean of the means, and the mean of
the variances plus the variance of the means.

The loss, :class:`GaussianNLLLoss`, is the Gaussian negative
log-likelihood, optionally weighted by the predicted variance to the
power ``beta`` with the gradient stopped through the weight (beta-NLL,
Seitzer et al., 2022: the mean's gradient is then that of a squared error
scaled by ``variance ** (beta - 1)``, so rows with a large predicted
variance are not left unfitted, which plain NLL does). Written here
rather than ``torch.nn.GaussianNLLLoss``: torch's has no such weighting,
clamps the variance it is given instead of taking the head's, and wants
the mean and the variance as two tensors where the network returns one.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn

# The ``loss`` options whose network predicts a variance.
VARIANCE_LOSSES = frozenset({"gaussian_nll", "beta_nll"})

# The smallest variance the head predicts, in units of the standardized
# target (its variance is 1): a standard deviation of 1e-3 target
# standard deviations, which keeps log(variance) and 1 / variance finite
# in float32 and stops the NLL from rewarding a collapse onto a few rows.
VARIANCE_FLOOR = 1e-6

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def split_mean_variance(outputs):
    """The mean and variance halves of outputs (..., 2 * k): two tensors (..., k)."""
    k = outputs.shape[-1] // 2
    return outputs[..., :k], outputs[..., k:]


def mean_variance(raw):
    """Raw head outputs (..., 2 * k) -> (..., 2 * k): the means, then positive variances."""
    mean, raw_variance = split_mean_variance(raw)
    return torch.cat([mean, F.softplus(raw_variance) + VARIANCE_FLOOR], dim=-1)


def combine_mean_variance(outputs):
    """Members' (mean, variance) outputs (rows, members, 2 * k) -> the ensemble's (rows, 2 * k).

    The mean of the means, and the total variance: the mean of the
    variances (the noise each member sees, aleatoric) plus the variance
    of the means (how much the members disagree, epistemic).
    """
    if outputs.shape[1] == 1:
        return outputs[:, 0]
    mean, variance = split_mean_variance(outputs)
    total = variance.mean(dim=1) + mean.var(dim=1, unbiased=False)
    return torch.cat([mean.mean(dim=1), total], dim=-1)


class GaussianNLLLoss(nn.Module):
    """Gaussian negative log-likelihood of targets under predicted (mean, variance) outputs.

    Parameters
    ----------
    reduction : {"none", "mean"}, default="none"
        ``"none"``: one loss per row and target column (the training net
        weighs the rows by their ``sample_weight``).
    beta : float, default=0.0
        Weight every element's NLL by ``variance ** beta``, treated as a
        constant (no gradient flows through it): 0 is the plain NLL, 1
        gives the mean the gradient of a squared error (Seitzer et al.,
        2022).
    """

    def __init__(self, reduction="none", beta=0.0):
        super().__init__()
        self.reduction = reduction
        self.beta = beta

    def forward(self, outputs, target):
        mean, variance = split_mean_variance(outputs)
        nll = 0.5 * (torch.log(variance) + (target - mean).square() / variance) + _HALF_LOG_2PI
        if self.beta:
            nll = nll * variance.detach() ** self.beta
        return nll.mean() if self.reduction == "mean" else nll

    @staticmethod
    def point_prediction(outputs):
        """The means of (mean, variance) outputs: what the net's ``predict`` returns."""
        return split_mean_variance(outputs)[0]
