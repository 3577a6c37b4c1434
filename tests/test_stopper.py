"""When training stops: the rule (``_engine/callbacks.Stopper``) on a fake net, then a fit."""

import warnings

import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from sklearn_dnn import DeepClassifier
from sklearn_dnn._engine.callbacks import Stopper, StopTraining

from ._data import classification


class FakeNet:
    """A history of plain dicts and a one-weight module whose weight is the epoch."""

    def __init__(self):
        self.history = []
        self.module_ = torch.nn.Linear(1, 1, bias=False)


def run(stopper, losses, key="valid_loss", **extra):
    """Feed ``losses`` epoch by epoch; returns the net and the epochs run."""
    net = FakeNet()
    stopper.on_train_begin(net)
    for epoch, loss in enumerate(losses, start=1):
        net.history.append({"epoch": epoch, key: loss, **extra})
        with torch.no_grad():
            net.module_.weight.fill_(epoch)
        try:
            stopper.on_epoch_end(net)
        except StopTraining:
            break
    stopper.on_train_end(net)
    return net, len(net.history)


def stopper(patience=2, tol=0.0, restore_best=False, monitor="valid_loss"):
    return Stopper(monitor, patience, tol, restore_best)


def test_stops_after_patience_epochs_without_improvement():
    _, epochs = run(stopper(patience=3), [5, 4, 4.5, 4.2, 4.1, 1])
    assert epochs == 5  # epochs 3, 4, 5 do not improve on 4


def test_an_improvement_resets_the_count():
    _, epochs = run(stopper(patience=2), [5, 5.5, 4, 4.5, 3, 3.5, 3.2, 1])
    assert epochs == 7


def test_a_loss_equal_to_the_best_is_no_stale_epoch_without_tol():
    _, epochs = run(stopper(patience=2), [5, 4, 4, 4, 4])  # scikit-learn's MLP's rule
    assert epochs == 5


def test_an_improvement_smaller_than_tol_is_stale():
    _, epochs = run(stopper(patience=2, tol=0.5), [5, 4.8, 4.6, 1])
    assert epochs == 3  # 4.8 and 4.6 are not 0.5 below the best
    _, epochs = run(stopper(patience=2, tol=0.1), [5, 4.8, 4.6, 4.4])
    assert epochs == 4


def test_runs_to_the_end_while_improving():
    s = stopper(patience=1)
    _, epochs = run(s, [5, 4, 3])
    assert epochs == 3 and not s.stopped_


def test_restores_the_weights_of_the_best_epoch_and_marks_it():
    s = stopper(patience=2, restore_best=True)
    net, _ = run(s, [5, 3, 4, 4.5])
    assert net.module_.weight.item() == 2.0
    assert [epoch.get("best", False) for epoch in net.history] == [False, True, False, False]
    assert s.best_state_ is None  # no spare copy of the weights kept


def test_without_restore_best_the_last_weights_stay():
    net, _ = run(stopper(patience=2), [5, 3, 4, 4.5])
    assert net.module_.weight.item() == 4.0
    assert not any("best" in epoch for epoch in net.history)


def test_the_best_epoch_is_the_lowest_loss_even_within_tol():
    net, _ = run(stopper(patience=5, tol=1.0, restore_best=True), [5, 4.5, 4.2, 4.8])
    assert net.module_.weight.item() == 3.0


def test_valid_score_is_watched_as_higher_is_better():
    s = stopper(patience=2, restore_best=True, monitor="valid_score")
    net, epochs = run(s, [0.5, 0.9, 0.7, 0.8, 0.95], key="valid_score")
    assert epochs == 4 and net.module_.weight.item() == 2.0


def test_train_loss_is_watched_with_its_penalty():
    s = stopper(monitor="train_loss")
    run(s, [1.0, 2.0], key="train_loss", train_penalty=0.5)
    assert s.losses_ == [1.5, 2.5]
    s = stopper(monitor="train_loss")
    run(s, [1.0], key="train_loss")  # no penalty recorded
    assert s.losses_ == [1.0]


@pytest.mark.parametrize(
    "losses, patience, tol, improving",
    [
        ([5, 4, 3], 2, 0.0, True),
        ([5, 4, 3.9], 2, 0.5, False),  # falls by less than tol an epoch
        ([5, 2, 1.6, 1.2], 3, 0.3, True),  # (2 - 1.2) / 2 = 0.4 > 0.3 over the last 3
        ([9, 2, 2, 1.9], 3, 0.1, False),  # the fall before the window does not count
        ([5], 1, 0.0, False),  # a single epoch shows no trend
    ],
)
def test_still_improving_reads_the_last_patience_epochs(losses, patience, tol, improving):
    s = stopper(patience=max(patience, 1), tol=tol)
    run(s, losses)
    assert s.still_improving() is improving


def test_not_still_improving_once_stopped():
    s = stopper(patience=2, tol=0.1)
    run(s, [1, 10, 1.5])  # falling at the end, but stopped: no better than the first
    assert s.stopped_ and not s.still_improving()


# Through a fit.


def test_training_stops_after_patience_epochs_without_improvement():
    # A rate of 1e-12 changes nothing, and tol=1 makes no epoch an
    # improvement: the first epoch sets the best loss, then `patience`
    # epochs without improvement end the fit (scikit-learn's rule).
    X, y = classification(n_samples=50)
    for patience in (1, 3):
        clf = DeepClassifier(
            optimizer="sgd",
            learning_rate=1e-12,
            schedule=None,
            tol=1.0,
            patience=patience,
            max_epochs=50,
        ).fit(X, y)
        assert clf.n_iter_ == patience + 1


def test_convergence_warning_only_while_the_loss_still_falls():
    X, y = classification(n_samples=50)
    # A constant rate: the fit did not anneal (a schedule that spans the run would have).
    still_falling = DeepClassifier(
        early_stopping=False, max_epochs=3, schedule=None, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="still falling by more than tol"):
        still_falling.fit(X, y)
    flat = DeepClassifier(
        early_stopping=False, optimizer="sgd", learning_rate=1e-12, max_epochs=3, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        flat.fit(X, y)  # max_epochs ended it, but more epochs would not help
