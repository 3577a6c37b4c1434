"""The classifiers' losses, with label smoothing while the network trains.

:class:`SmoothedCrossEntropyLoss` (one label per row) and
:class:`SmoothedBCEWithLogitsLoss` (multilabel) are torch's losses with
``label_smoothing`` (Szegedy et al., 2016; Mueller et al., 2019) applied
in training mode only: in evaluation mode (the validation loss that early
stopping watches, and any later evaluation) they are the plain log-loss,
so ``valid_loss`` measures the same thing with or without smoothing. The
training net sets the criterion's mode with every loss it computes (see
``TrainingNet.get_loss``). With ``label_smoothing=0`` they are torch's
losses, number for number.
"""

import torch.nn.functional as F
from torch import nn


class SmoothedCrossEntropyLoss(nn.CrossEntropyLoss):
    """``torch.nn.CrossEntropyLoss`` whose ``label_smoothing`` applies while training only.

    The target mixes the one-hot label with the uniform distribution over
    the classes: ``(1 - label_smoothing) * onehot + label_smoothing / n_classes``.
    """

    def forward(self, input, target):
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing if self.training else 0.0,
        )


class SmoothedBCEWithLogitsLoss(nn.BCEWithLogitsLoss):
    """``torch.nn.BCEWithLogitsLoss`` with label smoothing of each label, while training.

    Each 0/1 target becomes ``y * (1 - label_smoothing) + 0.5 * label_smoothing``:
    every label's own two-class distribution mixed with the uniform one,
    as the cross-entropy's smoothing does with two classes.

    Parameters
    ----------
    label_smoothing : float, default=0.0
        In [0, 1).
    **kwargs
        Those of ``torch.nn.BCEWithLogitsLoss`` (``reduction``...).
    """

    def __init__(self, label_smoothing=0.0, **kwargs):
        super().__init__(**kwargs)
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        if self.training and self.label_smoothing:
            target = target * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        return super().forward(input, target)
