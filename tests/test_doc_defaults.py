"""Every default the documentation states is the code's default.

The defaults live in the ``__init__`` signatures of ``DeepClassifier`` and
``DeepRegressor``. This test reads README.md, every page under docs/ and
the estimators' docstrings, finds the statements of a default and compares
each with ``inspect.signature``. A page states a default in one of three
forms, which this module parses:

- prose: a sentence with the word "default" and the value as a keyword in
  backticks, e.g. "``max_epochs=200``, the default" (several keywords in one
  span, ``activation="relu", l2=0``, and a call, ``DeepClassifier(l2=1e-3)``,
  count too);
- code: a line of a code block whose comment says "default", e.g.
  ``DeepClassifier(activation="relu")  # the default``;
- a table under a heading, or with a header, that says "default": every
  ``name=value`` in its rows, for the estimator its column names.

A statement belongs to the estimator it names (``DeepClassifier``,
"classifier", ``DeepRegressor``, "regressor"; a call names its class); one
that names neither, or both, must hold for every estimator that has the
hyperparameter (a docstring's sentence belongs to its own class). Sentences
about a *previous* default are history and are skipped. A sentence that
states a default in another form ("is 0.9 by default", "the default is
...") fails the test: the fix is to write the ``name=value`` form.
"""

import ast
import inspect
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from sklearn_dnn import DeepClassifier, DeepRegressor

ROOT = Path(__file__).resolve().parent.parent
ESTIMATORS = {"DeepClassifier": DeepClassifier, "DeepRegressor": DeepRegressor}
DEFAULTS = {
    name: {
        param: p.default
        for param, p in inspect.signature(cls.__init__).parameters.items()
        if param != "self"
    }
    for name, cls in ESTIMATORS.items()
}
HYPERPARAMETERS = set().union(*DEFAULTS.values())

DEFAULT_WORD = re.compile(r"\bdefaults?\b", re.IGNORECASE)
# A default that is history, not a claim about the code.
HISTORY = re.compile(
    r"\b(previous|former|old|earlier)\s+defaults?\b|\bdefaults?\s+(was|were|used to)\b",
    re.IGNORECASE,
)
# A default stated without a name=value the test could read.
# A default stated without a name=value the test could read: "the default is
# 0.9", "defaults to 'cpu'", "is 0.9 by default", "its default 1e-3".
VALUE = r"""(?:[-+]?\.?\d|["'(\[]|`[-+\d"'(\[]|`?(?:None|True|False)\b)"""
UNPARSED = re.compile(
    rf"\bdefaults?\s*(?:is|are|to|of|:|=)\s*{VALUE}|\b(?:is|are)\s+{VALUE}\S*\s+by\s+default\b"
    rf"|\bdefault\s+{VALUE}",
    re.IGNORECASE,
)
SPAN = re.compile(r"``(.+?)``|`([^`]+)`")
MENTIONS = {
    "DeepClassifier": re.compile(r"DeepClassifier|\bclassifiers?('s)?\b", re.IGNORECASE),
    "DeepRegressor": re.compile(r"DeepRegressor|\bregressors?('s)?\b", re.IGNORECASE),
}
HEADING = re.compile(r"^#{1,6}\s+(.*)")
TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}")
# A numpydoc parameter line: "name : type, default=value" (generated from the
# signatures by sklearn_dnn/_docs.py, checked here all the same).
NUMPYDOC_PARAMETER = re.compile(r"^(\w+) : .*\bdefault=(.+)$")


@dataclass
class Claim:
    where: str  # file:line
    text: str  # the sentence, row or code line
    name: str
    value: object
    estimators: tuple  # the estimators it is about


def keywords(code):
    """``(call name or None, {keyword: value})`` pairs found in ``code``.

    ``code`` is a Python call (``DeepClassifier(l2=1e-3)``) or keyword
    arguments (``l2=1e-3, dropout=0.1``). Values that are not literals are
    returned as the ``Unreadable`` marker with their source.
    """
    for source in (code, f"_({code})"):
        try:
            tree = ast.parse(source.strip(), mode="eval")
        except SyntaxError:
            continue
        found = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func.id if isinstance(node.func, ast.Name) else None
                pairs = {}
                for kw in node.keywords:
                    if kw.arg is None:
                        continue
                    try:
                        pairs[kw.arg] = ast.literal_eval(kw.value)
                    except ValueError:
                        pairs[kw.arg] = Unreadable(ast.unparse(kw.value))
                found.append((None if func == "_" else func, pairs))
        return found
    return []


@dataclass(frozen=True)
class Unreadable:
    source: str


def about(text, context):
    """The estimators a statement is about.

    A docstring's statements (``context`` one estimator) are about its
    class; elsewhere, the estimator a statement names, else ``context``.
    """
    if len(context) == 1:
        return context
    named = tuple(name for name, pattern in MENTIONS.items() if pattern.search(text))
    if len(named) == 1:
        return named
    return context


def claims_in_text(text, where, context, problems):
    """The default claims in one sentence or table row of prose.

    Each clause (the text between semicolons) that says "default" is read on
    its own; when it gives one hyperparameter several values (``device="cuda"``
    ... ``device="cpu"``, the default), the value nearest the word is the claim.
    """
    if not DEFAULT_WORD.search(text) or HISTORY.search(text):
        return []
    found = []
    for clause in text.split(";"):
        words = [m.start() for m in DEFAULT_WORD.finditer(clause)]
        if not words:
            continue
        nearest = {}
        for match in SPAN.finditer(clause):
            span = match.group(1) or match.group(2)
            if "=" not in span or "==" in span:
                continue
            distance = min(abs(match.start() - w) for w in words)
            for func, pairs in keywords(span):
                targets = (func,) if func in ESTIMATORS else about(text, context)
                for name, value in pairs.items():
                    if name in HYPERPARAMETERS and (
                        name not in nearest or distance < nearest[name][0]
                    ):
                        nearest[name] = (distance, Claim(where, text, name, value, targets))
        found += [claim for _, claim in nearest.values()]
    if not found and UNPARSED.search(text):
        problems.append(
            f"{where}: states a default the test cannot read; write it as "
            f"`name=value` in backticks: {text!r}"
        )
    return found


def claims_in_code(line, where, context):
    """The default claims of one code line whose comment says "default"."""
    code, _, comment = line.partition("#")
    if not DEFAULT_WORD.search(comment) or HISTORY.search(comment) or not code.strip():
        return []
    found = []
    for func, pairs in keywords(code.strip()):
        targets = (func,) if func in ESTIMATORS else about(comment, context)
        found += [
            Claim(where, line.strip(), name, value, targets)
            for name, value in pairs.items()
            if name in HYPERPARAMETERS
        ]
    return found


def split_sentences(paragraph):
    return re.split(r"(?<=[.!?])\s+(?=[A-Z`*(\[])", paragraph)


def claims_in_markdown(text, source, context, problems):
    """Every default claim of a Markdown (or docstring) text."""
    found = []
    lines = text.splitlines()
    heading = ""
    paragraph, start = [], 0
    in_code = False
    table_header, table_is_defaults = None, False

    def flush():
        joined = " ".join(line.strip() for line in paragraph)
        for sentence in split_sentences(joined):
            found.extend(claims_in_text(sentence, f"{source}:{start}", context, problems))
        paragraph.clear()

    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            flush()
            in_code = not in_code
            continue
        if in_code or stripped.startswith(">>> ") or stripped.startswith("... "):
            found.extend(claims_in_code(stripped.lstrip(">. "), f"{source}:{number}", context))
            continue
        if match := NUMPYDOC_PARAMETER.match(stripped):
            flush()
            name, value = match.groups()
            if name in HYPERPARAMETERS:
                for _, pairs in keywords(f"{name}={value}"):
                    found += [
                        Claim(f"{source}:{number}", stripped, key, val, context)
                        for key, val in pairs.items()
                    ]
            continue
        if match := HEADING.match(stripped):
            flush()
            heading = match.group(1)
            table_header = None
            continue
        if re.fullmatch(r"-{3,}|={3,}", stripped):  # a docstring's section underline
            heading = paragraph.pop() if paragraph else heading
            flush()
            continue
        if stripped.startswith("|"):
            flush()
            cells = [cell.strip() for cell in stripped.strip("|").split("|")]
            if table_header is None:
                table_header = cells
                table_is_defaults = bool(
                    DEFAULT_WORD.search(heading) or DEFAULT_WORD.search(stripped)
                ) and not HISTORY.search(heading)
            elif not TABLE_RULE.match(stripped):
                found.extend(
                    table_row_claims(
                        cells, table_header, table_is_defaults, f"{source}:{number}", problems
                    )
                )
            continue
        table_header = None
        if not stripped or stripped.startswith(("- ", "* ")) or re.match(r"\d+\.\s", stripped):
            flush()
            start = number
        if stripped:
            if not paragraph:
                start = number
            paragraph.append(stripped)
    flush()
    return found


def table_row_claims(cells, header, is_defaults, where, problems):
    """A table row: every cell of a defaults table is a claim for its column."""
    if not is_defaults:
        row = " | ".join(cells)
        return claims_in_text(row, where, tuple(ESTIMATORS), problems)
    found = []
    for index, cell in enumerate(cells):
        column = header[index] if index < len(header) else ""
        context = about(column, tuple(ESTIMATORS))
        for match in SPAN.finditer(cell):
            span = match.group(1) or match.group(2)
            if "=" not in span:
                continue
            for func, pairs in keywords(span):
                targets = (func,) if func in ESTIMATORS else context
                found += [
                    Claim(where, " | ".join(cells), name, value, targets)
                    for name, value in pairs.items()
                    if name in HYPERPARAMETERS
                ]
    return found


def pages():
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def all_claims():
    problems, claims = [], []
    for page in pages():
        text = page.read_text(encoding="utf-8")
        claims += claims_in_markdown(
            text, page.relative_to(ROOT).as_posix(), tuple(ESTIMATORS), problems
        )
    for name, cls in ESTIMATORS.items():
        claims += claims_in_markdown(cls.__doc__, f"{name}.__doc__", (name,), problems)
    return claims, problems


def same(stated, actual):
    if isinstance(stated, list):
        stated = tuple(stated)
    if isinstance(stated, bool) or isinstance(actual, bool):
        return stated is actual
    if isinstance(stated, (int, float)) and isinstance(actual, (int, float)):
        return math.isclose(stated, actual, rel_tol=1e-9, abs_tol=0.0)
    return stated == actual


def wrong(claims):
    """One message per claim that differs from a signature it is about."""
    messages = []
    for claim in claims:
        for estimator in claim.estimators:
            if claim.name not in DEFAULTS[estimator]:
                continue  # a hyperparameter of the other estimator only
            actual = DEFAULTS[estimator][claim.name]
            if isinstance(claim.value, Unreadable) or not same(claim.value, actual):
                stated = getattr(claim.value, "source", repr(claim.value))
                messages.append(
                    f"{claim.where}: states {claim.name}={stated} as {estimator}'s default, "
                    f"the code has {actual!r}: {claim.text!r}"
                )
    return messages


def test_every_stated_default_is_the_code_default():
    claims, problems = all_claims()
    messages = wrong(claims) + problems
    assert not messages, "\n".join(messages)


def test_the_pages_state_defaults_the_test_reads():
    # The test checks something: the pages state the main defaults in the
    # form it parses (a page rewritten into prose would silently drop out).
    claims, _ = all_claims()
    stated = {(claim.name, estimator) for claim in claims for estimator in claim.estimators}
    for name in ("max_epochs", "learning_rate", "l2", "activation", "early_stopping", "tol"):
        for estimator in ESTIMATORS:
            assert (name, estimator) in stated, f"no page states {estimator}'s {name} default"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The default is `max_epochs=200`.",
            {("max_epochs", 200, ("DeepClassifier", "DeepRegressor"))},
        ),
        (
            "The regressor's default, `l2=1e-2`, is stronger.",
            {("l2", 0.01, ("DeepRegressor",))},
        ),
        ("`DeepClassifier(l2=1e-3)` is the default.", {("l2", 0.001, ("DeepClassifier",))}),
        (
            'Defaults: `activation="relu", dropout=0.0`.',
            {
                ("activation", "relu", ("DeepClassifier", "DeepRegressor")),
                ("dropout", 0.0, ("DeepClassifier", "DeepRegressor")),
            },
        ),
        ("The previous default was `l2=1e-4`.", set()),
        ("`early_stopping=True` holds out rows.", set()),  # not a default
        ('The default `method="auto"` samples both.', set()),  # not a hyperparameter
    ],
)
def test_parser_reads_prose(text, expected):
    problems = []
    found = claims_in_text(text, "x", tuple(ESTIMATORS), problems)
    assert {(c.name, c.value, c.estimators) for c in found} == expected
    assert not problems


def test_parser_reads_code_lines_and_tables():
    page = "\n".join(
        [
            "```python",
            "DeepRegressor(tol=1e-3)  # the default",
            "DeepClassifier(l2=0.5)  # not one",
            "```",
            "",
            "## The defaults chosen",
            "",
            "| | `DeepClassifier` | `DeepRegressor` |",
            "|---|---|---|",
            "| stopping | `tol=1e-4` | `tol=1e-3` |",
        ]
    )
    found = claims_in_markdown(page, "page", tuple(ESTIMATORS), [])
    assert {(c.name, c.value, c.estimators) for c in found} == {
        ("tol", 0.001, ("DeepRegressor",)),
        ("tol", 0.0001, ("DeepClassifier",)),
    }
    assert not wrong(found)


def test_a_wrong_default_fails():
    page = "Training runs for at most `max_epochs=300` epochs, the default."
    found = claims_in_markdown(page, "page", tuple(ESTIMATORS), [])
    messages = wrong(found)
    assert len(messages) == 2  # both estimators have max_epochs=60
    assert "max_epochs=300" in messages[0] and "60" in messages[0]


def test_a_default_for_one_estimator_only_is_checked_against_it():
    # class_weight exists on the classifier only: the regressor is skipped.
    found = claims_in_markdown("`class_weight=None` is the default.", "p", tuple(ESTIMATORS), [])
    assert [c.name for c in found] == ["class_weight"] and not wrong(found)
    found = claims_in_markdown('`class_weight="balanced"` by default.', "p", tuple(ESTIMATORS), [])
    assert len(wrong(found)) == 1


@pytest.mark.parametrize(
    "text",
    [
        "`momentum` applies to SGD and is 0.9 by default.",
        'The device is the CPU (the default is `"cpu"`).',
        "Adam at its default 1e-3 converges.",
    ],
)
def test_a_default_in_another_form_is_reported(text):
    problems = []
    assert claims_in_text(text, "x", tuple(ESTIMATORS), problems) == []
    assert len(problems) == 1 and "name=value" in problems[0]
