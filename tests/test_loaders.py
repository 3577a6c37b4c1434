"""Mini-batches: ``SliceLoader`` (``_engine/net.py``) alone, then the batches a fit trains on."""

import numpy as np
import pytest
import torch
from torch import nn

from sklearn_dnn import DeepClassifier
from sklearn_dnn._engine.net import SliceLoader, TensorData

from ._data import FAST, classification


def data(n=10, weights=True, rows=None):
    """Row ``i`` has input ``[i, -i]``, target ``i`` and weight ``i / 10``."""
    X = torch.arange(n, dtype=torch.float64)
    X = torch.stack([X, -X], dim=1)
    w = torch.arange(n, dtype=torch.float64) / 10 if weights else None
    return TensorData(X, torch.arange(n), w, rows=rows)


def generator(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("n, batch_size, sizes", [(10, 4, [4, 4, 2]), (8, 4, [4, 4]), (3, 8, [3])])
def test_batches_in_order_without_shuffle(n, batch_size, sizes):
    loader = SliceLoader(data(n), batch_size)
    batches = list(loader)
    assert [len(X) for X, _ in batches] == sizes == [len(y) for _, (y, _) in batches]
    assert len(loader) == len(sizes)
    X = torch.cat([X for X, _ in batches])
    torch.testing.assert_close(X[:, 0], torch.arange(n, dtype=torch.float64), rtol=0, atol=0)


def test_each_row_keeps_its_target_and_weight():
    for X, (y, w) in SliceLoader(data(), 3, shuffle=True, generator=generator(), n_members=2):
        assert X.shape[1:] == (2, 2) and y.shape[1:] == (2,) and w.shape[1:] == (2,)
        torch.testing.assert_close(X[..., 0], y.double(), rtol=0, atol=0)
        torch.testing.assert_close(X[..., 1], -y.double(), rtol=0, atol=0)
        torch.testing.assert_close(w, y.double() / 10, rtol=0, atol=0)


def test_equal_weights_stay_none():
    (_, (_, w)), *_ = SliceLoader(data(weights=False), 4)
    assert w is None
    for _, (_, w) in SliceLoader(data(weights=False), 4, shuffle=True, generator=generator()):
        assert w is None


def member_orders(loader):
    """Each epoch's rows, per member: a list of (members, rows) arrays."""
    return np.concatenate([y.numpy() for _, (y, _) in loader], axis=0).T


@pytest.mark.parametrize("members", [1, 3])
def test_every_row_once_per_epoch_per_member(members):
    loader = SliceLoader(data(11), 4, shuffle=True, generator=generator(), n_members=members)
    first, second = member_orders(loader), member_orders(loader)
    for epoch in (first, second):
        assert epoch.shape == (members, 11)
        for order in epoch:
            np.testing.assert_array_equal(np.sort(order), np.arange(11))
    assert not np.array_equal(first, second)  # every epoch a new order


def test_each_member_has_its_own_order():
    loader = SliceLoader(data(20), 5, shuffle=True, generator=generator(), n_members=3)
    orders = member_orders(loader)
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])


def test_the_order_is_the_generator_s():
    def orders(seed):
        loader = SliceLoader(data(), 4, shuffle=True, generator=generator(seed), n_members=2)
        return member_orders(loader)

    np.testing.assert_array_equal(orders(3), orders(3))
    assert not np.array_equal(orders(3), orders(4))


def test_a_set_of_rows_is_shuffled_within_its_rows():
    rows = torch.tensor([1, 4, 5, 8])
    loader = SliceLoader(data(rows=rows), 3, shuffle=True, generator=generator(), n_members=2)
    for order in member_orders(loader):
        np.testing.assert_array_equal(np.sort(order), rows.numpy())


@pytest.mark.parametrize("shuffle", [False, True])
def test_a_last_singleton_batch_merges_into_the_previous_one(shuffle):
    loader = SliceLoader(data(9), 4, shuffle=shuffle, merge_singleton=True, generator=generator())
    assert [len(y) for _, (y, _) in loader] == [4, 5]
    assert len(loader) == 2
    unmerged = SliceLoader(data(9), 4, shuffle=shuffle, generator=generator())
    assert [len(y) for _, (y, _) in unmerged] == [4, 4, 1]


def test_only_a_singleton_merges():
    loader = SliceLoader(data(10), 4, merge_singleton=True)
    assert [len(y) for _, (y, _) in loader] == [4, 4, 2]
    lone = SliceLoader(data(1), 4, merge_singleton=True)  # nothing to merge into
    assert [len(y) for _, (y, _) in lone] == [1]


def test_a_bootstrap_resample_is_what_each_member_trains_on():
    resample = torch.tensor([[0, 0, 1, 1, 2, 2], [5, 5, 5, 4, 4, 3]])
    loader = SliceLoader(
        data(6), 4, shuffle=True, generator=generator(), n_members=2, resample=resample
    )
    for _ in range(2):
        orders = member_orders(loader)
        for order, sample in zip(orders, resample.numpy(), strict=True):
            np.testing.assert_array_equal(np.sort(order), np.sort(sample))


# Through a fit.


def test_batches_come_in_a_new_order_every_epoch():
    # A network that barely learns (rate 1e-12) gives every row the same
    # hidden pre-activation in every epoch: the spy reads the batch order off it.
    first_batches = []

    class Spy(nn.Identity):
        def forward(self, x):
            if x.requires_grad:
                first_batches.append(x.detach()[:, 0].clone())
            return x

    X, y = classification(n_samples=40)
    DeepClassifier(
        hidden_layer_sizes=(4,),
        activation=Spy,
        optimizer="sgd",
        learning_rate=1e-12,
        batch_size=40,
        max_epochs=3,
        patience=5,
        random_state=0,
    ).fit(X, y)
    epochs = [batch.numpy().round(6) for batch in first_batches]
    assert len(epochs) == 3
    assert sorted(epochs[0]) == pytest.approx(sorted(epochs[1]))  # the same rows
    assert not np.array_equal(epochs[0], epochs[1])  # in another order
    assert not np.array_equal(epochs[1], epochs[2])


def test_batchnorm_trains_on_batches_of_two_rows():
    X, y = classification(n_samples=20)
    clf = DeepClassifier(batchnorm=True, batch_size=2, **FAST).fit(X, y)
    assert clf.history_[0]["train_batch_count"] == 10


def test_batchnorm_folds_a_last_single_row_into_the_batch_before():
    X, y = classification(n_samples=51)
    clf = DeepClassifier(batchnorm=True, batch_size=50, **FAST).fit(X, y)
    assert clf.history_[0]["train_batch_count"] == 1


def test_dataset_rows_match_the_batches():
    X, y = classification(n_samples=20)
    data = TensorData(torch.as_tensor(X), torch.as_tensor(y), None, torch.tensor([3, 7]))
    x_row, (y_row, weight) = data[1]
    assert torch.equal(x_row, torch.as_tensor(X[7])) and int(y_row) == y[7] and weight is None


def test_auto_batch_size_is_200_rows():
    X, y = classification(n_samples=201)
    clf = DeepClassifier(early_stopping=False, **FAST).fit(X, y)
    assert clf.history_[0]["train_batch_count"] == 2
