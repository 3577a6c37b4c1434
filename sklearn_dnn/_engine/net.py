"""The skorch training engine: tensor data, slicing batches, weighted loss.

The estimators build a :class:`TrainingNet` in ``fit``. Data is moved to
tensors once (:class:`TensorData`) and cut into mini-batches by slicing
(:class:`SliceLoader`), with no per-row collation.
"""

import warnings

import numpy as np
import torch
from scipy import sparse
from skorch import NeuralNet
from skorch.dataset import Dataset

from .callbacks import EpochLog
from .conventions import SkorchConventions
from .groups import decay_weights
from .inference import fits_dense


def as_tensor(array, device):
    """A tensor on ``device`` sharing ``array``'s memory where it can.

    The tensor is only ever read (batches are slices or shuffled copies),
    so torch's warning about read-only arrays (a read-only memmap, say)
    does not apply and is silenced.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.as_tensor(array, device=device)


class SparseRows:
    """A scipy CSR matrix that hands out dense tensors of its rows, on demand.

    Sparse inputs are never densified as a whole: :class:`TensorData` and
    prediction take rows from it a mini-batch (or a chunk) at a time, the
    way they slice a tensor (``X[a:b]``, ``X[index]``,
    ``X.index_select(0, index)``), and get a dense tensor of those rows
    on ``device``; a wide training batch of every member's rows stays
    sparse (:meth:`member_rows`).
    """

    def __init__(self, matrix, device):
        self.matrix = matrix.tocsr()
        self.device = torch.device(device)

    def __len__(self):
        return self.matrix.shape[0]

    @property
    def shape(self):
        return self.matrix.shape

    @property
    def dtype(self):
        return self.matrix.dtype

    def __getitem__(self, index):
        if torch.is_tensor(index):
            index = index.cpu().numpy()
        return as_tensor(self.matrix[index].toarray(), self.device)

    def index_select(self, dim, index):
        if dim != 0:
            raise ValueError("SparseRows selects rows (dim=0) only.")
        return self[index]

    def member_rows(self, index):
        """Each member's rows at ``index`` (members, rows), of shape (rows, members, features).

        A training batch holds every member's rows: dense, it takes
        ``members`` times a network's batch. Up to
        :data:`~sklearn_dnn._engine.inference.DENSE_CHUNK_BYTES` it is made dense
        (the fastest path);
        beyond, it stays a torch sparse COO tensor on ``device``, and the
        first layer densifies one member's rows at a time
        (:class:`~sklearn_dnn._nn.layers.EnsembleLinear`).
        """
        members, n = index.shape
        if fits_dense(self, members * n):
            return _by_member(self[index.reshape(-1)], members)
        coo = self.matrix[index.reshape(-1).cpu().numpy()].tocoo()
        member, row = np.divmod(coo.row.astype(np.int64), n)
        indices = np.stack([row, member, coo.col.astype(np.int64)])
        shape = (n, members, self.shape[1])
        # Built from a valid scipy matrix: torch's invariant checks (and the
        # warning it gives when they are left implicit) are not needed.
        return torch.sparse_coo_tensor(
            indices, coo.data, shape, device=self.device, check_invariants=False
        )


def input_rows(X, device):
    """``X`` on ``device``: a tensor, or :class:`SparseRows` for a scipy sparse matrix."""
    if sparse.issparse(X):
        return SparseRows(X, device)
    return as_tensor(X, device)


class TensorData(Dataset):
    """Inputs, targets and sample weights held as tensors on one device.

    Sparse inputs are a :class:`SparseRows`, densified batch by batch.

    ``rows`` (an index tensor) selects the rows that belong to this set,
    so a training and a validation set share one copy of the data
    (``all_X``, ``all_y``, ``sample_weight``): the split costs two index
    vectors, not a copy of X. ``sample_weight`` is None when every row
    weighs the same: the loss is then a plain mean, one operation cheaper
    per batch.

    It is a ``skorch.dataset.Dataset`` whose ``X`` and ``y`` are what
    skorch reads from a dataset (``skorch.utils.data_from_dataset``, as
    ``EpochScoring(use_caching=False)`` does): ``X`` is the set itself,
    which the net's ``predict`` and ``forward`` take, and ``y`` its
    targets.
    """

    def __init__(self, X, y, sample_weight, rows=None):
        self.all_X = X
        self.all_y = y
        self.sample_weight = sample_weight
        self.rows = rows

    @property
    def X(self):
        """This set, as the net's ``predict`` and ``forward`` take its inputs."""
        return self

    @property
    def y(self):
        """The targets of this set's rows (see :meth:`targets`)."""
        return self.targets()

    def __len__(self):
        return len(self.all_X) if self.rows is None else len(self.rows)

    def __getitem__(self, i):
        """Row ``i``, for torch's ``Dataset`` protocol (the loaders use :meth:`batch`)."""
        X, (y, weight) = self.batch(slice(i, i + 1))
        return X[0], (y[0], None if weight is None else weight[0])

    def _take(self, tensor, index):
        """The rows of one of this set's tensors at ``index`` (a slice or an index tensor)."""
        if self.rows is not None:
            index = self.rows[index]
        if isinstance(index, slice):
            return tensor[index]
        return tensor.index_select(0, index)

    def batch(self, index):
        """The rows at ``index`` (a slice or an index tensor into this set)."""
        w = None if self.sample_weight is None else self._take(self.sample_weight, index)
        return self._take(self.all_X, index), (self._take(self.all_y, index), w)

    def member_batch(self, index):
        """Every member's rows at ``index``, a (members, rows) index tensor into this set.

        Inputs of shape (rows, members, features), targets and weights of
        shape (rows, members, ...). A wide sparse X's inputs stay sparse
        (see :meth:`SparseRows.member_rows`).
        """
        members, flat = len(index), index.reshape(-1)
        if isinstance(self.all_X, SparseRows):
            rows = flat if self.rows is None else self.rows[flat]
            X = self.all_X.member_rows(rows.view(index.shape))
        else:
            X = _by_member(self._take(self.all_X, flat), members)
        y = _by_member(self._take(self.all_y, flat), members)
        if self.sample_weight is None:
            return X, (y, None)
        return X, (y, _by_member(self._take(self.sample_weight, flat), members))

    def inputs(self):
        """The inputs of this set's rows, as a tensor."""
        return self._take(self.all_X, slice(None))

    def prediction_rows(self):
        """The inputs of this set's rows as prediction takes them: sparse ones stay sparse."""
        if self.rows is None:
            return self.all_X
        if isinstance(self.all_X, SparseRows):
            return SparseRows(self.all_X.matrix[self.rows.cpu().numpy()], self.all_X.device)
        return self.all_X.index_select(0, self.rows)

    def targets(self):
        """The targets of this set's rows, as a tensor (the inputs are not gathered)."""
        return self._take(self.all_y, slice(None))

    def weights(self):
        """The sample weights of this set's rows, or None for equal weights."""
        return None if self.sample_weight is None else self._take(self.sample_weight, slice(None))


class SliceLoader:
    """Iterate over mini-batches of a :class:`TensorData`.

    Parameters
    ----------
    dataset : TensorData
    batch_size : int
    shuffle : bool, default=False
        Draw a new order of the rows at every pass, from ``generator``.
    merge_singleton : bool, default=False
        Fold a last batch of one row into the previous batch (batch
        normalization cannot train on a single row).
    generator : torch.Generator or None, default=None
        The source of the shuffling; one generator serves every pass, so
        each epoch gets its own order.
    n_members : int, default=1
        With ``shuffle``, every member of an ensemble gets its own order of
        the rows, and each batch holds every member's rows: inputs of
        shape (rows, members, features) (a torch sparse tensor for a
        wide sparse X: see :meth:`SparseRows.member_rows`), targets and
        weights of shape (rows, members, ...).
        Without ``shuffle``, batches hold rows for all members alike
        (inputs of shape (rows, features)).
    resample : torch.Tensor of shape (n_members, n_rows) or None, default=None
        With ``shuffle``, the rows each member trains on (a bootstrap
        sample: indices into the dataset, with repeats); every epoch
        shuffles them anew. None: every member trains on every row.
    """

    def __init__(
        self,
        dataset,
        batch_size,
        shuffle=False,
        merge_singleton=False,
        generator=None,
        n_members=1,
        resample=None,
    ):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.merge_singleton = merge_singleton
        self.generator = generator
        self.n_members = n_members
        self.resample = resample

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
        if not self.shuffle:
            for start, end in self._bounds():
                yield data.batch(slice(start, end))
            return
        members = self.n_members
        # Drawn where the generator lives (a CUDA generator draws on the GPU).
        where = None if self.generator is None else self.generator.device
        orders = torch.stack(
            [
                torch.randperm(len(data), generator=self.generator, device=where)
                for _ in range(members)
            ]
        )
        if self.resample is not None:  # each member's bootstrap sample, shuffled
            orders = self.resample.gather(1, orders)
        orders = orders.to(data.all_X.device)
        for start, end in self._bounds():
            yield data.member_batch(orders[:, start:end])


def _by_member(tensor, members):
    """Rows gathered member by member, (members * rows, ...), as (rows, members, ...) (a view)."""
    if members == 1:  # the same view, in one step
        return tensor.unsqueeze(1)
    return tensor.view(members, -1, *tensor.shape[1:]).transpose(0, 1)


class TrainingNet(SkorchConventions, NeuralNet):
    """A skorch ``NeuralNet`` with a sample-weighted, penalized loss.

    The criterion must be built with ``reduction="none"``. ``y_true`` is a
    ``(target, sample_weight)`` pair, as :class:`SliceLoader` yields it;
    a weight of None means equal weights.
    While training, ``l1 * sum(|W|) + l2 * sum(W ** 2)`` over the weight
    matrices that train (not the biases, not batch normalization, not
    frozen layers: see :class:`~sklearn_dnn._engine.groups.ParameterGroups`) is
    added to the weighted mean loss, as Keras' kernel regularizers do.
    The optimizer gets the groups' parameter groups.

    The gradient is that of the sum, but what a training step reports as
    its loss (the batch's ``train_loss``) is the data loss alone, and the
    penalty goes to the batch's ``train_penalty``: training and validation
    losses measure the same thing, and are comparable. A classifier's
    label smoothing (``criterion__label_smoothing``) is part of the
    training loss only: :meth:`get_loss` puts the criterion in training
    mode for a training step and in evaluation mode otherwise, where the
    classifiers' losses (``_nn/losses.py``) are the plain log-loss, so the
    validation loss is unsmoothed.

    ``weight_decay`` is decoupled weight decay (Loshchilov and Hutter,
    2019), unlike ``l2``, which is a penalty in the loss and so goes
    through the optimizer's gradient scaling (Adam divides it by the
    gradient's running size): after every optimizer step, each weight
    matrix that trains (see ``ParameterGroups.decayed_weights``) is
    multiplied by ``1 - lr * weight_decay * weight_decay_factor``, where
    ``lr`` is its parameter group's current rate (lr factors and schedule
    included) and ``weight_decay_factor`` is 1.0, except while
    ``weight_decay_schedule`` sets it (see
    :class:`~sklearn_dnn._engine.callbacks.RunSchedules`).

    An ensemble's members train together: each member's loss is the
    weighted mean over its own rows, and the step minimizes the sum of the
    members' losses and penalties, so every member gets the gradient it
    would get alone. A training step reports the members' mean loss and
    penalty; the validation loss is that of the ensemble's prediction
    (in evaluation mode the module combines its members' outputs).

    Callbacks and scorers see the net as skorch's own and scikit-learn's
    would (see :class:`~sklearn_dnn._engine.conventions.SkorchConventions`), so
    skorch's ``EpochScoring("accuracy")``, say, scores the right thing.
    """

    # The class's value is the default of a net pickled before it existed.
    weight_decay_factor = 1.0

    def __init__(self, *args, l1=0.0, l2=0.0, groups=None, weight_decay=0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.l1 = l1
        self.l2 = l2
        self.groups = groups
        self.weight_decay = weight_decay
        self.weight_decay_factor = 1.0

    def get_default_callbacks(self):
        """skorch's defaults, with its epoch table replaced by :class:`EpochLog`."""
        return [
            (name, EpochLog() if name == "print_log" else callback)
            for name, callback in super().get_default_callbacks()
        ]

    def save_params(self, *args, **kwargs):
        """skorch's ``save_params``: the network's weights (optimizer, history), nothing else.

        It leaves out what the estimator around the net adds, which a
        prediction needs: a regressor's target scaling (the network
        predicts standardized targets), a classifier's classes (it
        predicts their indices), the features the model was fitted on
        and their handling. Save a model with the estimator's ``save``.
        """
        return super().save_params(*args, **kwargs)

    def load_params(self, *args, **kwargs):
        """skorch's ``load_params``, with a warning: the weights come without their estimator.

        Weights saved by ``save_params`` are read, once loaded, with the
        target scaling, classes and input handling of the estimator that
        holds this net, not those of the estimator that trained them: a
        regressor fitted on other targets predicts in other units, with no
        error. The estimators' ``save`` and ``load`` keep them together. No
        warning while the net trains: skorch's checkpoint callbacks
        (``load_best``, ``TrainEndCheckpoint``) reload this fit's own weights.
        """
        if getattr(self, "fitting_", False):
            return super().load_params(*args, **kwargs)
        warnings.warn(
            "net_.load_params loads the network's weights only: they are read with this "
            "estimator's target scaling, classes and input handling, which may not be those "
            "they were trained with (a regressor fitted on other targets predicts in other "
            "units). Save and load whole models with the estimator's save() and load().",
            UserWarning,
            stacklevel=2,
        )
        return super().load_params(*args, **kwargs)

    def initialize_optimizer(self, *args, **kwargs):
        self.optimizer_ = self.optimizer(self.groups.optimizer_groups(self.module_), lr=self.lr)
        self._decayed = None
        if getattr(self, "weight_decay", 0.0):
            self._decayed = self.groups.decayed_weights(self.optimizer_, self.module_)
        return self

    def decay(self):
        """Decoupled weight decay, after an optimizer step (nothing without ``weight_decay``)."""
        decayed = getattr(self, "_decayed", None)
        if not decayed:
            return
        rate = self.weight_decay * getattr(self, "weight_decay_factor", 1.0)
        if rate:
            decay_weights(self.optimizer_, decayed, rate)

    def penalty(self):
        """The l1/l2 penalty of the weights that train now (0.0 without penalties)."""
        if not (self.l1 or self.l2):
            return 0.0
        weights = self.groups.trained_weights(self.module_)
        penalty = 0.0
        if self.l1:
            penalty = penalty + self.l1 * sum(w.abs().sum() for w in weights)
        if self.l2:
            penalty = penalty + self.l2 * sum(w.square().sum() for w in weights)
        return penalty

    def _per_sample(self, y_pred, target):
        per_sample = self.criterion_(y_pred, target)
        return per_sample.mean(dim=1) if per_sample.ndim > 1 else per_sample

    def get_loss(self, y_pred, y_true, X=None, training=False):
        target, weight = y_true
        if self.criterion_.training != training:  # label smoothing: the training loss only
            self.criterion_.train(training)
        if not training:  # y_pred: the ensemble's outputs (the module is in eval mode)
            per_sample = self._per_sample(y_pred, target)
            if weight is None:
                return per_sample.mean()
            return (per_sample * weight).sum() / weight.sum()
        # Training: every member on its own rows; y_pred (rows, members, outputs).
        rows, members = y_pred.shape[:2]
        per_sample = self._per_sample(y_pred.flatten(0, 1), target.flatten(0, 1))
        if members > 1:
            per_sample = per_sample.view(rows, members)
        elif weight is not None:
            weight = weight.flatten()
        if weight is None:
            losses = per_sample.mean(dim=0)
        else:
            losses = (per_sample * weight).sum(dim=0) / weight.sum(dim=0)
        # The sum: each member's gradient is the one it would get alone. One
        # member's loss is a plain network's, in as few steps (the same numbers).
        loss, data_loss = (losses, losses.detach())
        if members > 1:
            loss, data_loss = losses.sum(), data_loss.mean()
        penalty = self.penalty()
        reported = penalty.detach() if torch.is_tensor(penalty) else penalty
        self._set_step_losses((data_loss, float(reported) / members))
        return loss + penalty if torch.is_tensor(penalty) else loss

    def _set_step_losses(self, losses):
        # Past skorch's __setattr__, which sorts modules and optimizers from
        # plain attributes: set twice a step, it cost more than the loss.
        object.__setattr__(self, "_step_losses", losses)

    def train_step_single(self, batch, **fit_params):
        """skorch's training step, on the loaders' batches as they are: tensors on the device.

        (skorch's would pass them through ``to_tensor`` at every step.)
        """
        self.module_.train(True)  # what skorch's step does, without its private helper
        self.criterion_.train(True)
        X, y_true = batch
        y_pred = self.module_(X, **fit_params)
        loss = self.get_loss(y_pred, y_true, X=X, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        self._set_step_losses(None)
        step = super().train_step(batch, **fit_params)
        self.decay()
        data_loss, penalty = self._step_losses
        self.history.record_batch("train_penalty", penalty)
        return {**step, "loss": data_loss}
