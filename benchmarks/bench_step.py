"""Per-epoch cost of one member against a hand-written torch loop, in one process.

A focused companion of ``bench_training.py`` (which runs each contender in
its own process, for peak memory): here the contenders run interleaved in
one process, on one thread, so that a loaded machine slows them alike,
and each timing is the median of ``--repeats``. Contenders:

- ``loop``: the hand-written PyTorch loop of ``bench_training.py`` (float32,
  whatever X's dtype: a float64 X is converted before timing);
- ``ours``: ``DeepClassifier`` with no early stopping and no penalty;
- ``mlp``: scikit-learn's ``MLPClassifier``, on digits only (it is
  slow on the large set).

Cases: ``make_classification`` (``--rows`` x 50, a (100, 100, 100)
network, batch 32 and 128) and ``load_digits`` (X / 16, by default a
(100,) network and batch 200, scikit-learn's MLP's defaults), X in float32
and in float64. The loop uses torch's default Adam, ours its fused kernel
(see ``sklearn_dnn._engine.optimizers``), as in ``bench_training.py``.
Each timing is a whole ``fit`` of ``--epochs`` epochs divided by the
epochs (so a fit's setup is counted, spread over its epochs); ``--clock cpu``
times the process's CPU time instead of the wall clock (on a busy machine).

``--profile`` instead runs cProfile over one fit of ours per case and
prints the Python function calls per training step and the top functions.

``--compile`` instead asks whether ``torch.compile`` pays for a small
network on the CPU: the loop's epoch on digits (full batches of 200, so
nothing recompiles) in eager mode, with the module compiled, and with the
forward pass and loss compiled together, all with fused Adam.

Run: python benchmarks/bench_step.py [--rows 50000] [--repeats 5] [--clock cpu]
     [--profile | --compile]
"""

import argparse
import cProfile
import pstats
import statistics
import time
import warnings

import numpy as np
import torch
from bench_training import torch_loop
from sklearn.datasets import load_digits, make_classification
from sklearn.neural_network import MLPClassifier

from sklearn_dnn import DeepClassifier


def loop(X, y, hidden, batch_size, epochs):
    """The hand-written loop of ``bench_training.py``, classification, float32."""
    return torch_loop("classification", X, y, hidden, batch_size, epochs)[0]


def ours(X, y, hidden, batch_size, epochs):
    model = DeepClassifier(
        hidden_layer_sizes=hidden,
        l2=0.0,
        batch_size=batch_size,
        max_epochs=epochs,
        early_stopping=False,
        tol=0.0,
        patience=epochs + 1,
        n_threads=1,
        random_state=0,
    )
    return lambda: model.fit(X, y)


def mlp(X, y, hidden, batch_size, epochs):
    model = MLPClassifier(
        hidden_layer_sizes=hidden,
        batch_size=batch_size,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=0,
    )
    return lambda: model.fit(X, y)


CONTENDERS = {"loop": loop, "ours": ours, "mlp": mlp}


def cases(args):
    """(name, X, y, hidden, batch size, epochs, contenders) of every case."""
    Xs, ys = make_classification(
        n_samples=args.rows, n_features=50, n_informative=10, random_state=0
    )
    Xd, yd = load_digits(return_X_y=True)
    Xd = Xd / 16
    for dtype in (np.float32, np.float64):
        name = np.dtype(dtype).name
        for batch in (32, 128):
            yield (
                f"synthetic {args.rows}x50 {name} batch {batch}",
                Xs.astype(dtype), ys, (100, 100, 100), batch, args.epochs,
                ("loop", "ours"),
            )  # fmt: skip
        yield (
            f"digits {name} batch {args.digits_batch}",
            Xd.astype(dtype), yd, tuple(args.digits_hidden), args.digits_batch,
            args.digits_epochs, ("loop", "ours", "mlp"),
        )  # fmt: skip


def timed(fit, clock):
    start = clock()
    fit()
    return clock() - start


def measure(args):
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    print("| case | loop ms/epoch | ours ms/epoch | ours / loop | mlp ms/epoch | mlp / loop |")
    print("|---|---|---|---|---|---|")
    for name, X, y, hidden, batch, epochs, names in cases(args):
        if args.only not in name:
            continue
        fits = {c: CONTENDERS[c](X, y, hidden, batch, epochs) for c in names}
        for fit in fits.values():  # warm-up: lazy imports, first calls
            fit()
        times = {c: [] for c in names}
        for _ in range(args.repeats):
            for c in names:
                times[c].append(timed(fits[c], clock) / epochs * 1e3)
        ms = {c: statistics.median(t) for c, t in times.items()}
        mlp_cells = "| - | -"
        if "mlp" in ms:
            mlp_cells = f"| {ms['mlp']:.2f} | {ms['mlp'] / ms['loop']:.2f}"
        print(
            f"| {name} | {ms['loop']:.2f} | {ms['ours']:.2f} | {ms['ours'] / ms['loop']:.2f} "
            f"{mlp_cells} |",
            flush=True,
        )


def profile(args):
    for name, X, y, hidden, batch, epochs, _ in cases(args):
        if args.only not in name:
            continue
        fit = ours(X, y, hidden, batch, epochs)
        fit()
        profiler = cProfile.Profile()
        profiler.enable()
        fit()
        profiler.disable()
        stats = pstats.Stats(profiler)
        steps = epochs * -(-len(X) // batch)
        print(f"## {name}: {stats.total_calls / steps:.0f} Python calls per step")
        stats.sort_stats("tottime").print_stats(args.top)


def compile_check(args):
    import torch.nn.functional as F
    from torch import nn

    Xd, yd = load_digits(return_X_y=True)
    X, y = torch.from_numpy((Xd / 16).astype(np.float32)), torch.from_numpy(yd)

    def stepper(how):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(64, 100), nn.ReLU(), nn.Linear(100, 10))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
        forward = torch.compile(model) if how == "module" else model

        def loss(xb, yb):
            return F.cross_entropy(forward(xb), yb)

        loss = torch.compile(loss) if how == "forward and loss" else loss

        def epoch():
            order = torch.randperm(len(X))
            X_s, y_s = X[order], y[order]
            for start in range(0, len(X) - 199, 200):
                optimizer.zero_grad()
                loss(X_s[start : start + 200], y_s[start : start + 200]).backward()
                optimizer.step()

        return epoch

    epochs = {how: stepper(how) for how in ("eager", "module", "forward and loss")}
    for how, epoch in epochs.items():
        start = time.perf_counter()
        epoch()
        epoch()
        print(f"{how}: first two epochs (compilation) {time.perf_counter() - start:.1f} s")
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    times = {how: [] for how in epochs}
    for _ in range(args.repeats):
        for how, epoch in epochs.items():
            times[how].append(timed(epoch, clock) * 1e3)
    for how, t in times.items():
        print(f"{how}: {statistics.median(t):.2f} ms/epoch")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--digits-epochs", type=int, default=20)
    parser.add_argument("--digits-hidden", type=int, nargs="+", default=[100])
    parser.add_argument("--digits-batch", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="", help="run the cases whose name has this text")
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="cpu: this process's CPU time, less sensitive to other processes on a busy machine",
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    if args.compile:
        compile_check(args)
    elif args.profile:
        profile(args)
    else:
        measure(args)


if __name__ == "__main__":
    main()
