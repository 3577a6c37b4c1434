"""Early stopping of an ensemble: on the averaged validation loss, or member by member?

One training run answers both. An ensemble (``ensemble_size``, default 5)
trains with ``early_stopping=False`` and a watching callback, which, after
every epoch, scores a validation set held out of the training fold (10%,
stratified for classification) in two ways, with the estimator's own
stopping rule (an epoch improves when its loss is below the best by more
than ``tol``; a criterion stops after ``patience`` epochs without one):

- **averaged**: the loss of the ensemble's prediction (the members'
  probabilities averaged, or their values); the weights of its best epoch
  are kept, for all members at once. This is what ``fit`` does.
- **per member**: each member's own loss; each member keeps the weights of
  its own best epoch.

Training goes on until both have stopped, and each criterion's weights are
frozen once its own patience ran out, so each answer is the one it would
have given alone. Both are scored on the test fold: log-loss and accuracy
(classification), R^2 (regression); and the epochs each needed.

Data: bench_quality.py's data sets and preprocessing, ``--folds``-fold
cross-validation (seed 0), one thread.

Run::

    python benchmarks/bench_ensemble_stopping.py              # about 15 minutes
    python benchmarks/bench_ensemble_stopping.py --quick      # seconds
"""

from _common import RESULTS, one_thread, set_torch_threads, timed, write_report

one_thread()  # before numpy loads

import argparse  # noqa: E402
import copy  # noqa: E402
import math  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _datasets import (  # noqa: E402
    DATASETS,
    QUICK_DATASETS,
    SEED,
    cross_validation,
    load_dataset,
    make_preprocessor,
)
from sklearn.metrics import accuracy_score, log_loss, r2_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402

from sklearn_dnn import DeepClassifier, DeepRegressor  # noqa: E402
from sklearn_dnn._engine.callbacks import StopTraining  # noqa: E402
from sklearn_dnn._nn.layers import member_rows  # noqa: E402


class Criterion:
    """One early-stopping criterion: the estimator's rule, frozen once it stops."""

    def __init__(self, patience, tol):
        self.patience, self.tol = patience, tol
        self.best, self.stale, self.state, self.stopped_at = math.inf, 0, None, None

    def update(self, loss, epoch, snapshot):
        if self.stopped_at is not None:
            return
        self.stale = self.stale + 1 if loss > self.best - self.tol else 0
        if loss < self.best:
            self.best, self.state = loss, snapshot()
        if self.stale >= self.patience:
            self.stopped_at = epoch


class Watch(Callback):
    """Score the averaged and each member's validation loss every epoch (see the module doc)."""

    def __init__(self, X_valid, target, task, patience, tol):
        self.X_valid, self.target, self.task = X_valid, target, task
        self.patience, self.tol = patience, tol

    def on_train_begin(self, net, **kwargs):
        members = net.module_.ensemble_size
        self.averaged = Criterion(self.patience, self.tol)
        self.members = [Criterion(self.patience, self.tol) for _ in range(members)]

    def _loss(self, outputs):
        if self.task == "clf":
            return torch.nn.functional.cross_entropy(outputs, self.target).item()
        return torch.nn.functional.mse_loss(outputs[:, 0], self.target).item()

    def on_epoch_end(self, net, **kwargs):
        module = net.module_
        epoch = len(net.history)
        was_training = module.training
        module.eval()
        with torch.no_grad():
            outputs = module.members(self.X_valid)
            combined = module.combine(outputs)
        module.train(was_training)
        state = module.state_dict()
        members = module.ensemble_size
        self.averaged.update(self._loss(combined), epoch, lambda: copy.deepcopy(state))
        for e, criterion in enumerate(self.members):
            criterion.update(
                self._loss(outputs[:, e]),
                epoch,
                lambda e=e: {
                    k: member_rows(v, members)[e].clone() for k, v in state.items() if v.dim()
                },
            )
        if self.averaged.stopped_at and all(c.stopped_at for c in self.members):
            raise StopTraining


def per_member_state(module, watch):
    """The module's state with each member's slices from its own best epoch."""
    state = copy.deepcopy(module.state_dict())
    members = module.ensemble_size
    for e, criterion in enumerate(watch.members):
        for key, value in criterion.state.items():
            member_rows(state[key], members)[e] = value
    return state


def score(model, module_state, X_test, y_test, task):
    model.module_.load_state_dict(module_state)
    if task == "clf":
        proba = model.predict_proba(X_test)
        return {
            "log_loss": log_loss(y_test, proba, labels=model.classes_),
            "accuracy": accuracy_score(y_test, model.classes_[proba.argmax(1)]),
        }
    return {"r2": r2_score(y_test, model.predict(X_test))}


def run_fold(name, X, y, task, train, test, args):
    prep = make_preprocessor(X)
    X_train = prep.fit_transform(X.iloc[train]).astype(np.float32)
    X_test = prep.transform(X.iloc[test]).astype(np.float32)
    y_train, y_test = y[train], y[test]
    fit_rows, valid_rows = train_test_split(
        np.arange(len(y_train)),
        test_size=0.1,
        random_state=SEED,
        stratify=y_train if task == "clf" else None,
    )
    y_fit = y_train[fit_rows]
    if task == "clf":
        classes = np.unique(y_fit)
        keep = np.isin(y_train[valid_rows], classes)
        valid_rows = valid_rows[keep]
        target = torch.as_tensor(np.searchsorted(classes, y_train[valid_rows]))
        cls = DeepClassifier
    else:
        target = torch.as_tensor(
            ((y_train[valid_rows] - y_fit.mean()) / y_fit.std()).astype(np.float32)
        )
        cls = DeepRegressor
    watch = Watch(torch.as_tensor(X_train[valid_rows]), target, task, args.patience, args.tol)
    model = cls(
        ensemble_size=args.ensemble_size,
        early_stopping=False,
        max_epochs=args.max_epochs,
        patience=args.patience,
        tol=args.tol,
        n_threads=1,
        random_state=SEED,
        callbacks=[("watch", watch)],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seconds = timed(model.fit, X_train[fit_rows], y_fit)[1]
    fitted = dict(model.net_.callbacks_)["watch"]
    last = model.n_iter_
    averaged_epochs = fitted.averaged.stopped_at or last
    member_epochs = max(c.stopped_at or last for c in fitted.members)
    return {
        "dataset": name,
        "task": task,
        "seconds": seconds,
        "epochs": {"averaged": averaged_epochs, "per_member": member_epochs},
        "averaged": score(model, fitted.averaged.state, X_test, y_test, task),
        "per_member": score(model, per_member_state(model.module_, fitted), X_test, y_test, task),
    }


def markdown(rows, args):
    lines = [
        f"ensemble_size={args.ensemble_size}, patience={args.patience}, tol={args.tol}, "
        f"{args.folds} folds, one thread. Mean over folds; the difference is per member - "
        "averaged, with its standard deviation over folds.",
        "",
        "| data set | metric | averaged | per member | difference | epochs (avg / per member) |",
        "|---|---|---|---|---|---|",
    ]
    wins = {"averaged": 0, "per_member": 0, "tie": 0}
    for name in dict.fromkeys(r["dataset"] for r in rows):
        folds = [r for r in rows if r["dataset"] == name]
        metric = "log_loss" if folds[0]["task"] == "clf" else "r2"
        a = np.array([f["averaged"][metric] for f in folds])
        p = np.array([f["per_member"][metric] for f in folds])
        diff = p - a
        better = -1 if metric == "log_loss" else 1  # sign of "per member is better"
        if abs(diff.mean()) <= diff.std():
            wins["tie"] += 1
        elif np.sign(diff.mean()) == better:
            wins["per_member"] += 1
        else:
            wins["averaged"] += 1
        epochs_a = np.mean([f["epochs"]["averaged"] for f in folds])
        epochs_p = np.mean([f["epochs"]["per_member"] for f in folds])
        lines.append(
            f"| {name} | {metric} | {a.mean():.4f} | {p.mean():.4f} | "
            f"{diff.mean():+.4f} ± {diff.std():.4f} | {epochs_a:.0f} / {epochs_p:.0f} |"
        )
    lines += [
        "",
        f"Better (difference beyond one standard deviation): averaged on {wins['averaged']}, "
        f"per member on {wins['per_member']}, ties on {wins['tie']}.",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=None, help="comma-separated; default: all")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--ensemble-size", type=int, default=5)
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--label", default="v1")
    args = parser.parse_args(argv)
    set_torch_threads(1)
    names = list(DATASETS) if args.datasets is None else args.datasets.split(",")
    if args.quick:
        names, args.folds, args.max_epochs = list(QUICK_DATASETS[:2]), 2, 15
    rows = []
    for name in names:
        X, y, task = load_dataset(name)
        for train, test in cross_validation(task, args.folds).split(X, y):
            rows.append(run_fold(name, X, y, task, train, test, args))
        print(f"{name}: done", flush=True)
    report = markdown(rows, args)
    print(report)
    write_report(args.out / f"ensemble_stopping_{args.label}", rows, report + "\n")


if __name__ == "__main__":
    main()
