"""The skorch training engine: tensor data, slicing batches, weighted loss.

The estimators build a :class:`TrainingNet` in ``fit``. Data is moved to
tensors once (:class:`TensorData`) and cut into mini-batches by slicing
(:class:`SliceLoader`), with no per-row collation.
"""

import warnings

import torch
from skorch import NeuralNet
from torch.utils.data import Dataset


def as_tensor(array, device):
    """A tensor on ``device`` sharing ``array``'s memory where it can.

    The tensor is only ever read (batches are slices or shuffled copies),
    so torch's warning about read-only arrays (a read-only memmap, say)
    does not apply and is silenced.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.as_tensor(array, device=device)


class TensorData(Dataset):
    """Inputs, targets and sample weights held as tensors on one device.

    ``sample_weight`` is None when every row weighs the same: the loss is
    then a plain mean, one operation cheaper per batch.
    """

    def __init__(self, X, y, sample_weight):
        self.X = X
        self.y = y
        self.sample_weight = sample_weight

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        weight = None if self.sample_weight is None else self.sample_weight[i]
        return self.X[i], (self.y[i], weight)


class SliceLoader:
    """Iterate over mini-batches of a :class:`TensorData` by slicing.

    Parameters
    ----------
    dataset : TensorData
    batch_size : int
    shuffle : bool, default=False
        Draw a new permutation (from torch's RNG) at every pass.
    merge_singleton : bool, default=False
        Fold a last batch of one row into the previous batch (batch
        normalization cannot train on a single row).
    """

    def __init__(self, dataset, batch_size, shuffle=False, merge_singleton=False):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.merge_singleton = merge_singleton

    def _bounds(self):
        n = len(self.dataset)
        starts = list(range(0, n, self.batch_size))
        if self.merge_singleton and len(starts) > 1 and n - starts[-1] == 1:
            starts.pop()
        ends = starts[1:] + [n]
        return zip(starts, ends, strict=True)

    def __len__(self):
        return len(list(self._bounds()))

    def __iter__(self):
        data = self.dataset
        X, y, w = data.X, data.y, data.sample_weight
        if self.shuffle:
            order = torch.randperm(len(data), device=X.device)
            X, y = X[order], y[order]
            w = None if w is None else w[order]
        for start, end in self._bounds():
            yield X[start:end], (y[start:end], None if w is None else w[start:end])


class TrainingNet(NeuralNet):
    """A skorch ``NeuralNet`` with a sample-weighted, penalized loss.

    The criterion must be built with ``reduction="none"``. ``y_true`` is a
    ``(target, sample_weight)`` pair, as :class:`SliceLoader` yields it;
    a weight of None means equal weights.
    While training, ``l1 * sum(|W|) + l2 * sum(W ** 2)`` over every weight
    matrix (not the biases, not batch normalization) is added to the
    weighted mean loss, as Keras' kernel regularizers do.
    """

    def __init__(self, *args, l1=0.0, l2=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.l1 = l1
        self.l2 = l2

    def initialize_module(self):
        super().initialize_module()
        self.penalized_weights_ = [layer.weight for layer in self.module_.linear_layers()]
        return self

    def _set_training(self, training=True):
        # skorch sets the mode before every batch; walking the module tree
        # each time is a measurable part of a small network's step.
        if self.module_.training != training:
            super()._set_training(training)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        target, weight = y_true
        per_sample = self.criterion_(y_pred, target)
        if per_sample.ndim > 1:
            per_sample = per_sample.mean(dim=1)
        if weight is None:
            loss = per_sample.mean()
        else:
            loss = (per_sample * weight).sum() / weight.sum()
        if training and self.l1:
            loss = loss + self.l1 * sum(w.abs().sum() for w in self.penalized_weights_)
        if training and self.l2:
            loss = loss + self.l2 * sum(w.square().sum() for w in self.penalized_weights_)
        return loss
