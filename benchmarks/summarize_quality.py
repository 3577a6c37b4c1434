"""The issue's targets, read off quality runs: means on the same folds, wins by data-set group.

Reads the fold records (``.jsonl`` or ``.json``) of one or more runs of
``bench_quality.py``, and writes a markdown summary: for each group of
data sets (the 22 of 0.1, the 7 non-linear ones, all 29) and for each set
of folds every model ran (fold 0, where RealMLP-TD ran alone; all five
otherwise), each model's mean accuracy, log-loss and R^2, its fold-paired
wins/ties/losses against the others (as ``bench_quality.compare``), and
the geometric mean of its fit-time ratio to ``mlp``, from the same run
only (fit times of different runs are not compared)::

    python benchmarks/summarize_quality.py benchmarks/results/quality_defaults_v3.jsonl \\
        benchmarks/results/quality_baselines_v3.jsonl benchmarks/results/quality_realmlp_v3.jsonl \\
        --out benchmarks/results/defaults_v3_summary.md

A model's records come from the first file that has it.
"""

import argparse
import math
from pathlib import Path

import numpy as np
from _datasets import DATASETS, NONLINEAR, ORIGINAL
from bench_quality import aggregate, compare, read_records

GROUPS = {
    "the 22 sets of 0.1": ORIGINAL,
    "the 7 non-linear sets": NONLINEAR,
    "all 29 sets": ORIGINAL + NONLINEAR,
}


def load(paths):
    """Records of every model, each model's from the first file that has it, and their runs."""
    records, run_of = [], {}
    for path in paths:
        own = read_records(path)
        for model in sorted({r["model"] for r in own} - set(run_of)):
            run_of[model] = Path(path).stem
            records += [r for r in own if r["model"] == model]
    return records, run_of


def means(results, names, model, task):
    """Mean score (and log-loss) of ``model`` over ``names``, or None where a set lacks it."""
    rows = [results[n].get(model) for n in names]
    if not rows or any(r is None for r in rows):
        return None
    score = float(np.mean([r["score"] for r in rows]))
    loss = float(np.mean([r["log_loss"] for r in rows])) if task == "clf" else None
    return score, loss


def time_ratio(results, names, model, run_of):
    """Geometric mean over ``names`` of fit time / mlp's, when both ran in the same run."""
    if run_of.get(model) != run_of.get("mlp"):
        return None
    logs = [math.log(results[n][model]["fit_time"] / results[n]["mlp"]["fit_time"]) for n in names]
    return math.exp(float(np.mean(logs))) if logs else None


def section(records, folds, run_of, task_of):
    kept = [r for r in records if r["fold"] in folds]
    results = aggregate(kept)
    models = sorted({r["model"] for r in kept}, key=lambda m: (not m.startswith("ours"), m))
    lines = []
    for group, members in GROUPS.items():
        for task, title in (("clf", "classification"), ("reg", "regression")):
            names = [n for n in members if n in results and task_of.get(n) == task]
            complete = [
                m
                for m in models
                if all(
                    len(results[n].get(m, {}).get("fold_scores", {})) == len(folds) for n in names
                )
            ]
            if not names or not complete:
                continue
            score = "accuracy | log-loss" if task == "clf" else "R^2"
            lines += [
                f"**{title}, {group} ({len(names)})**",
                "",
                f"| model | {score} | time / mlp, same run |",
                "|---|---|---|" + ("---|" if task == "clf" else ""),
            ]
            for m in complete:
                s, loss = means(results, names, m, task)
                ratio = time_ratio(results, names, m, run_of)
                cells = [f"{s:.4f}"] + ([f"{loss:.4f}"] if task == "clf" else [])
                cells.append("" if ratio is None else f"{ratio:.2f}")
                lines.append(f"| {m} | " + " | ".join(cells) + " |")
            lines += ["", "| model | vs | wins | ties | losses |", "|---|---|---|---|---|"]
            subset = {n: {m: results[n][m] for m in complete} for n in names}
            for m in [m for m in complete if m.startswith("ours")]:
                for other, c in compare(subset, task_of, ours=m).get(task, {}).items():
                    lines.append(f"| {m} | {other} | {c['wins']} | {c['ties']} | {c['losses']} |")
            lines.append("")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    records, run_of = load(args.paths)
    task_of = {n: DATASETS[n][3] for n in DATASETS}
    lines = [
        "# Quality summary",
        "",
        "Runs: " + ", ".join(f"`{m}` from {run}" for m, run in sorted(run_of.items())) + ".",
        "A win (loss): the mean over the paired folds of the score difference exceeds (is "
        "below minus) its standard deviation; on one fold, any difference decides.",
        "",
    ]
    for folds, title in (
        ((0,), "Fold 0 (every model, RealMLP-TD included)"),
        (tuple(range(5)), "All five folds"),
    ):
        lines += [f"## {title}", ""] + section(records, set(folds), run_of, task_of)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
