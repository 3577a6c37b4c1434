"""Declarative hyperparameter constraints, checked at the start of ``fit``.

scikit-learn validates its own estimators' hyperparameters with a private
module (``sklearn.utils._param_validation``) whose names and behaviour
change between releases. This is a small module of our own with the same
idea and the same wording of its errors: each estimator declares
``_parameter_constraints = {name: [constraint, ...]}`` and
:func:`validate_params` checks that every value satisfies at least one
constraint of its list.

A constraint is one of:

- :class:`Interval` (a number in a range) or :class:`Options` (a string
  among a set);
- a type (the value must be an instance of it);
- ``None`` (the value may be None), ``callable``;
- one of the strings ``"boolean"``, ``"random_state"``, ``"verbose"``,
  ``"array-like"``.
"""

import copy
import inspect
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np

from ..exceptions import InvalidParameterError


class Interval:
    """A number of ``kind`` (``Integral`` or ``Real``) between ``left`` and ``right``.

    ``left`` or ``right`` may be None (unbounded); ``closed`` is one of
    ``"left"``, ``"right"``, ``"both"``, ``"neither"``. Booleans are not
    numbers here, and an ``Integral`` satisfies a ``Real`` interval.
    """

    def __init__(self, kind, left, right, *, closed):
        self.kind = kind
        self.left = left
        self.right = right
        self.closed = closed

    def is_satisfied_by(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, self.kind):
            return False
        if self.left is not None:
            low_ok = value >= self.left if self.closed in ("left", "both") else value > self.left
            if not low_ok:
                return False
        if self.right is not None:
            high_ok = (
                value <= self.right if self.closed in ("right", "both") else value < self.right
            )
            if not high_ok:
                return False
        return not (isinstance(value, Real) and np.isnan(value))

    def __str__(self):
        kind = "an int" if self.kind is Integral else "a float"
        left = "-inf" if self.left is None else self.left
        right = "inf" if self.right is None else self.right
        if self.kind is Real:
            left = left if self.left is None else float(self.left)
            right = right if self.right is None else float(self.right)
        opening = "[" if self.closed in ("left", "both") and self.left is not None else "("
        closing = "]" if self.closed in ("right", "both") and self.right is not None else ")"
        return f"{kind} in the range {opening}{left}, {right}{closing}"


class Options:
    """A string among ``options``."""

    def __init__(self, options):
        self.options = frozenset(options)

    def is_satisfied_by(self, value):
        return isinstance(value, str) and value in self.options

    def __str__(self):
        return f"a str among {sorted(self.options)}"


def _is_array_like(value):
    return isinstance(value, (list, tuple, np.ndarray)) or hasattr(value, "__array__")


_NAMED = {
    "boolean": (lambda v: isinstance(v, (bool, np.bool_)), "an instance of 'bool'"),
    "random_state": (
        lambda v: (
            v is None
            or (isinstance(v, Integral) and not isinstance(v, bool) and 0 <= v < 2**32)
            or isinstance(v, np.random.RandomState)
        ),
        "an int in the range [0, 4294967295], an instance of 'numpy.random.RandomState' or None",
    ),
    "verbose": (
        lambda v: isinstance(v, (bool, np.bool_)) or (isinstance(v, Integral) and v >= 0),
        "an int in the range [0, inf) or a bool",
    ),
    "array-like": (_is_array_like, "an array-like"),
}


def _satisfied(constraint, value):
    if constraint is None:
        return value is None
    if constraint is callable:
        return callable(value)
    if isinstance(constraint, str):
        return _NAMED[constraint][0](value)
    if isinstance(constraint, type):
        return isinstance(value, constraint)
    return constraint.is_satisfied_by(value)


def _describe(constraint):
    if constraint is None:
        return "None"
    if constraint is callable:
        return "a callable"
    if isinstance(constraint, str):
        return _NAMED[constraint][1]
    if isinstance(constraint, type):
        return f"an instance of {constraint.__qualname__!r}"
    return str(constraint)


def describe_constraints(constraints):
    """``"a, b or c"``: what a parameter with these constraints accepts."""
    parts = [_describe(c) for c in constraints]
    if len(parts) == 1:
        return parts[0]
    return f"{', '.join(parts[:-1])} or {parts[-1]}"


def validate_params(estimator):
    """Raise :class:`InvalidParameterError` for the first value that breaks its constraints.

    The message follows scikit-learn's: ``The 'dropout' parameter of
    DeepClassifier must be a float in the range [0.0, 1.0). Got 1.0
    instead.``
    """
    for name, constraints in estimator._parameter_constraints.items():
        value = getattr(estimator, name)
        if any(_satisfied(c, value) for c in constraints):
            continue
        raise InvalidParameterError(
            f"The {name!r} parameter of {type(estimator).__name__} must be "
            f"{describe_constraints(constraints)}. Got {value!r} instead."
        )


def string_options(constraints):
    """The strings a parameter with these constraints accepts (for "did you mean")."""
    return sorted(o for c in constraints if isinstance(c, Options) for o in c.options)


def python_value(value):
    """``value`` with numpy's scalars as Python's, and a 1-d array as a tuple of them.

    A search over ``np.array([True, False])`` or ``np.arange(1, 4)`` hands
    the estimator numpy scalars; torch's fused optimizer kernels, its
    schedulers and ``requires_grad_`` take only Python's bool, int and float.
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray) and value.ndim <= 1:
        listed = value.tolist()
        return tuple(listed) if isinstance(listed, list) else listed
    if isinstance(value, tuple):
        return tuple(python_value(v) for v in value)
    return value


def with_python_values(estimator):
    """A shallow copy of ``estimator`` whose hyperparameters hold Python values, not numpy's.

    ``fit`` reads its settings from it: one place where numpy's scalars
    become what torch takes, and the estimator's own parameters stay
    exactly as the user set them.
    """
    plain = copy.copy(estimator)
    for name, value in estimator.get_params(deep=False).items():
        setattr(plain, name, python_value(value))
    return plain


# The warm-start effect of a hyperparameter that is part of the architecture:
# a warm start refuses a change of it (see ``_nn/architecture.py``).
FIXED = "refused: part of the architecture"


@dataclass(frozen=True)
class Hyperparameter:
    """The one declaration of a hyperparameter: what it accepts, does and rebuilds.

    ``_parameter_constraints``, the warm-start tables, the docstrings and
    "did you mean" all read it (see ``_hyperparameters/``).

    Parameters
    ----------
    name : str
    kind : str
        Its type as the docstring states it (``"float"``, ``"int or None"``).
    constraints : list
        What it accepts (see this module's docstring).
    warm_start : str or None
        What a warm start rebuilds when it changes, :data:`FIXED` for a
        part of the architecture, or None for ``warm_start`` itself.
    doc : str
        Its docstring entry (indentation is removed); ``{architecture}``
        is replaced by the list of the architecture's settings.
    """

    name: str
    kind: str
    constraints: list
    warm_start: str | None
    doc: str

    def __post_init__(self):
        object.__setattr__(self, "doc", inspect.cleandoc(self.doc))
