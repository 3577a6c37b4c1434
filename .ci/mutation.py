"""A small mutation tester: do the tests notice a one-token change of the code?

For each module given, every mutation point is found in its syntax tree:
comparison operators (``==``/``!=``, ``<``/``<=``, ``>``/``>=``, ``is``/
``is not``, ``in``/``not in``), arithmetic (``+``/``-``, ``*``/``/``),
``and``/``or``, a dropped ``not``, ``True``/``False`` and integer
constants (``n`` -> ``n + 1``). Each mutant is written over the module,
the tests are run (fast files only, stopping at the first failure, with a
time limit), and the module is restored. A mutant is *killed* when the
tests fail or time out; the survivors are listed with their line.

Usage (from the repository root, in the project's virtual environment)::

    python .ci/mutation.py                       # every mutant of the core modules
    python .ci/mutation.py --sample 60 --seed 0  # a random sample of them
    python .ci/mutation.py sklearn_dnn/_engine/net.py   # one module
"""

import argparse
import ast
import copy
import random
import subprocess
import sys
import time
from pathlib import Path

CORE = [
    "sklearn_dnn/_base.py",
    "sklearn_dnn/_engine/net.py",
    "sklearn_dnn/_engine/callbacks.py",
    "sklearn_dnn/_engine/schedules.py",
    "sklearn_dnn/_uncertainty.py",
    "sklearn_dnn/_engine/inference.py",
]
# The suite without the slow files (scikit-learn's 122 checks, the default
# benchmarks, the Dask cluster): what a mutant must fail.
TEST_COMMAND = [
    sys.executable,
    "-m",
    "pytest",
    "-x",
    "-q",
    "-p",
    "no:cacheprovider",
    "tests",
    "--ignore=tests/test_common.py",
    "--ignore=tests/test_defaults.py",
    "--ignore=tests/test_parallel.py",
]
SWAPS = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.And: ast.Or,
    ast.Or: ast.And,
}


def _docstring_nodes(tree):
    nodes = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant):
                nodes.add(id(body[0].value))
    return nodes


def mutation_points(tree):
    """(index of the node in ast.walk order, description) of every mutant."""
    skip = _docstring_nodes(tree)
    points = []
    for i, node in enumerate(ast.walk(tree)):
        if isinstance(node, ast.Compare):
            for j, op in enumerate(node.ops):
                if type(op) in SWAPS:
                    points.append((i, ("compare", j), node.lineno))
        elif isinstance(node, (ast.BinOp, ast.BoolOp)) and type(node.op) in SWAPS:
            points.append((i, ("op",), node.lineno))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            points.append((i, ("not",), node.lineno))
        elif isinstance(node, ast.Constant) and id(node) not in skip:
            if isinstance(node.value, bool) or (
                isinstance(node.value, int) and not isinstance(node.value, bool)
            ):
                points.append((i, ("constant",), node.lineno))
    return points


def _mutate(tree, point):
    tree = copy.deepcopy(tree)
    index, (kind, *rest), _ = point
    node = list(ast.walk(tree))[index]
    if kind == "compare":
        node.ops[rest[0]] = SWAPS[type(node.ops[rest[0]])]()
        return tree
    if kind == "op":
        node.op = SWAPS[type(node.op)]()
        return tree
    if kind == "constant":
        node.value = (not node.value) if isinstance(node.value, bool) else node.value + 1
        return tree
    # kind == "not": replace ``not x`` by ``x`` in its parent
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is node:
                setattr(parent, field, node.operand)
            elif isinstance(value, list):
                for k, item in enumerate(value):
                    if item is node:
                        value[k] = node.operand
    return tree


def describe(source_lines, point):
    _, (kind, *_), line = point
    return f"line {line} [{kind}]: {source_lines[line - 1].strip()}"


def run_tests(timeout):
    try:
        result = subprocess.run(TEST_COMMAND, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    return "passed" if result.returncode == 0 else "failed"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", default=CORE)
    parser.add_argument("--sample", type=int, help="test a random sample of this many mutants")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args()

    if run_tests(args.timeout) != "passed":
        sys.exit("The tests fail without any mutation: fix them first.")
    mutants = []
    for module in args.modules:
        path = Path(module)
        tree = ast.parse(path.read_text())
        mutants += [(path, tree, point) for point in mutation_points(tree)]
    if args.sample is not None and args.sample < len(mutants):
        mutants = random.Random(args.seed).sample(mutants, args.sample)
    print(f"{len(mutants)} mutants")
    killed, survivors, start = 0, [], time.time()
    for n, (path, tree, point) in enumerate(mutants, 1):
        original = path.read_text()
        try:
            path.write_text(ast.unparse(_mutate(tree, point)) + "\n")
            outcome = run_tests(args.timeout)
        finally:
            path.write_text(original)
        where = f"{path}: {describe(original.splitlines(), point)}"
        if outcome == "passed":
            survivors.append(where)
        else:
            killed += 1
        print(f"[{n}/{len(mutants)}] {outcome:8s} {where}", flush=True)
    total = len(mutants)
    rate = killed / max(total, 1)
    print(f"\nkilled {killed} of {total} ({rate:.0%}) in {time.time() - start:.0f} s")
    if survivors:
        print("survivors:")
        for where in survivors:
            print(f"  {where}")


if __name__ == "__main__":
    main()
