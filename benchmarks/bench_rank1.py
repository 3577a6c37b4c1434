"""Does a weight-sharing ensemble (BatchEnsemble / TabM-style rank-1 adapters) pay per second?

A measurement to decide whether sklearn-dnn should offer one, not a
feature: three networks train in the same hand-written loop on the same
data, one CPU thread:

- ``single``: one network (sklearn-dnn's ``MLP``, ``ensemble_size=1``);
- ``independent``: sklearn-dnn's stacked ensemble (``MLP``,
  ``ensemble_size=E``): every member its own weights;
- ``rank1``: one shared weight matrix per layer, each member scaling its
  inputs and outputs by its own vectors (``r``, ``s``) and with its own
  bias (Wen et al., 2020); as in TabM (Gorishniy et al., 2025) the first
  layer's ``r`` starts at random signs and every other adapter at 1.

Each member gets its own order of the rows (batches of (members, rows,
features)), Adam at ``--lr``, the sum of the members' cross-entropies;
early stopping on the validation loss of the averaged probabilities
(patience 10), keeping the best epoch. Reported per data set: test
log-loss and accuracy of the averaged prediction, epochs, and seconds.

Run: python benchmarks/bench_rank1.py [--members 8] [--quick]
"""

from _common import RESULTS, Stopwatch, one_thread, set_torch_threads, write_report

one_thread()  # before numpy loads

import argparse  # noqa: E402
import copy  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _datasets import SEED, load_dataset, make_preprocessor  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.metrics import accuracy_score, log_loss  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from torch import nn  # noqa: E402

from sklearn_dnn._nn.mlp import MLP, combine_logits  # noqa: E402


class RankOneLinear(nn.Module):
    """A shared (out, in) weight; member e computes ``((x * r[e]) @ W.T) * s[e] + b[e]``."""

    def __init__(self, width_in, width_out, members, generator, random_r):
        super().__init__()
        weight = torch.empty(width_out, width_in)
        nn.init.kaiming_uniform_(weight, nonlinearity="relu", generator=generator)
        self.weight = nn.Parameter(weight)
        r = torch.ones(members, 1, width_in)
        if random_r:
            r = torch.randint(0, 2, r.shape, generator=generator).float() * 2 - 1
        self.r = nn.Parameter(r)
        self.s = nn.Parameter(torch.ones(members, 1, width_out))
        self.bias = nn.Parameter(torch.zeros(members, 1, width_out))

    def forward(self, h):  # (members, rows, in) or (rows, in)
        return (h * self.r) @ self.weight.T * self.s + self.bias


class RankOneMLP(nn.Module):
    def __init__(self, n_features, widths, n_outputs, members, seed):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        layers, width_in = [], n_features
        for i, width in enumerate(widths):
            layers += [RankOneLinear(width_in, width, members, generator, i == 0), nn.ReLU()]
            width_in = width
        layers.append(RankOneLinear(width_in, n_outputs, members, generator, False))
        self.layers = nn.Sequential(*layers)

    def members(self, X):
        out = self.layers(X.transpose(0, 1) if X.dim() == 3 else X)
        return out.transpose(0, 1)  # (rows, members, outputs)


def stacked_members(module):
    return lambda X: module.members(X)


def train(module, members_of, X, y, X_valid, y_valid, members, args):
    generator = torch.Generator().manual_seed(SEED)
    optimizer = torch.optim.Adam(module.parameters(), lr=args.lr)
    n = len(X)
    best, best_state, stale, epochs = math.inf, None, 0, 0
    watch = Stopwatch()
    for _ in range(args.max_epochs):
        epochs += 1
        module.train()
        orders = torch.stack([torch.randperm(n, generator=generator) for _ in range(members)])
        for lo in range(0, n, args.batch_size):
            index = orders[:, lo : lo + args.batch_size]  # (members, rows)
            xb = X[index.reshape(-1)].view(members, -1, X.shape[1]).transpose(0, 1)
            yb = y[index.T.reshape(-1)]
            out = members_of(xb)  # (rows, members, classes)
            per_row = nn.functional.cross_entropy(out.flatten(0, 1), yb, reduction="none")
            loss = per_row.view(out.shape[0], members).mean(dim=0).sum()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        module.eval()
        with torch.no_grad():
            valid = nn.functional.cross_entropy(combine_logits(members_of(X_valid)), y_valid)
        valid = valid.item()
        stale = stale + 1 if valid > best - 1e-4 else 0
        if valid < best:
            best, best_state = valid, copy.deepcopy(module.state_dict())
        if stale >= args.patience:
            break
    seconds = watch()
    module.load_state_dict(best_state)
    return seconds, epochs


def data(name):
    if name == "digits":
        X, y = load_digits(return_X_y=True)
        X = StandardScaler().fit_transform(X)
    else:
        frame, y, task = load_dataset(name)
        X = make_preprocessor(frame).fit_transform(frame)  # unsupervised: scaling, one-hot
    X = X.astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=SEED
    )
    X_fit, X_valid, y_fit, y_valid = train_test_split(
        X_train, y_train, test_size=0.1, stratify=y_train, random_state=SEED
    )
    t = torch.as_tensor
    return t(X_fit), t(y_fit), t(X_valid), t(y_valid), t(X_test), y_test


def run(name, args):
    X, y, X_valid, y_valid, X_test, y_test = data(name)
    n_classes = int(y.max()) + 1
    widths = tuple(args.widths)
    rows = []
    for kind, members in (
        ("single", 1),
        ("independent", args.members),
        ("rank1", args.members),
    ):
        if kind == "rank1":
            module = RankOneMLP(X.shape[1], widths, n_classes, members, SEED)
        else:
            module = MLP(X.shape[1], widths, n_classes, ensemble_size=members, seed=SEED)
        members_of = stacked_members(module)
        seconds, epochs = train(module, members_of, X, y, X_valid, y_valid, members, args)
        with torch.no_grad():
            proba = torch.softmax(combine_logits(members_of(X_test)), dim=-1).numpy()
        rows.append(
            {
                "dataset": name,
                "model": kind,
                "members": members,
                "parameters": sum(p.numel() for p in module.parameters()),
                "seconds": seconds,
                "epochs": epochs,
                "seconds_per_epoch": seconds / epochs,
                "log_loss": log_loss(y_test, proba, labels=np.arange(n_classes)),
                "accuracy": accuracy_score(y_test, proba.argmax(1)),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="digits,SwissLabor,OJ,hpc_data,mlc_churn,cells")
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--widths", type=int, nargs="+", default=[100, 100])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    set_torch_threads(1)
    names = args.datasets.split(",")
    if args.quick:
        names, args.max_epochs = ["digits"], 3
    rows = [row for name in names for row in run(name, args)]
    lines = [
        f"{args.members} members, widths {tuple(args.widths)}, batch {args.batch_size}, "
        "Adam, one thread; early stopping on the averaged validation loss.",
        "",
        "| data set | model | parameters | s/epoch | epochs | seconds | log-loss | accuracy |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['dataset']} | {r['model']} | {r['parameters']} | "
            f"{r['seconds_per_epoch']:.3f} | {r['epochs']} | {r['seconds']:.1f} | "
            f"{r['log_loss']:.4f} | {r['accuracy']:.4f} |"
        )
    report = "\n".join(lines)
    print(report)
    if not args.quick:
        write_report(args.out / "rank1", rows, report + "\n")


if __name__ == "__main__":
    main()
