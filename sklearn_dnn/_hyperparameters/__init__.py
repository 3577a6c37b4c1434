"""Every hyperparameter, declared once, and what the estimators derive from the declarations.

A hyperparameter is declared in ``_hyperparameters/model.py`` (the network
and its optimization) or ``_hyperparameters/training.py`` (the training
run): what it accepts, what a warm start does when it changes, and its
docstring entry. From them come

- each estimator's ``_parameter_constraints`` (:func:`declared`), which
  validation and "did you mean ...?" read;
- :data:`WARM_START_HONOURED` and :data:`WARM_START_FIXED`, the warm-start
  policy;
- the estimators' docstrings (:func:`parameter_doc`, through ``fill_doc``),
  whose list of the settings a warm start refuses is the architecture's own
  (:data:`~sklearn_dnn._nn.architecture.ARCHITECTURE_SETTINGS`).

The defaults live in the ``__init__`` signatures, which scikit-learn
reads; ``tests/test_parameters.py`` checks that signatures and
declarations agree. Adding a hyperparameter: its keyword in the
signatures, its declaration, and its use in the plan (``_engine/plan.py``).
"""

import inspect
import textwrap

from .._nn.architecture import ARCHITECTURE_SETTINGS
from .constraints import FIXED
from .model import MODEL_HYPERPARAMETERS
from .training import TRAINING_HYPERPARAMETERS

HYPERPARAMETERS = {h.name: h for h in (*MODEL_HYPERPARAMETERS, *TRAINING_HYPERPARAMETERS)}

# What each hyperparameter that a warm start honours rebuilds: a continued
# fit builds a new training net from the plan, so each applies to it.
WARM_START_HONOURED = {
    name: h.warm_start for name, h in HYPERPARAMETERS.items() if h.warm_start not in (FIXED, None)
}

# The architecture: a change under trained weights is refused by name.
WARM_START_FIXED = tuple(name for name, h in HYPERPARAMETERS.items() if h.warm_start == FIXED)


def declared(**narrowed):
    """Set a class's ``_parameter_constraints`` from the declarations of its ``__init__``'s.

    ``narrowed`` replaces the declared constraints of some parameters for
    this class (a classifier's ``scoring`` takes a classifier's scores).
    """

    def decorate(cls):
        names = [name for name in inspect.signature(cls.__init__).parameters if name != "self"]
        undeclared = [name for name in names if name not in HYPERPARAMETERS]
        if undeclared:
            raise TypeError(f"{cls.__name__} has undeclared hyperparameters {undeclared}.")
        cls._parameter_constraints = {
            name: list(narrowed.get(name, HYPERPARAMETERS[name].constraints)) for name in names
        }
        return cls

    return decorate


def parameter_doc(name, default, own=None):
    """The numpydoc entry of hyperparameter ``name`` with ``default`` (as the docs show it).

    ``own``: the estimator's hyperparameters (all when None); the list of
    architecture settings names only those.
    """
    declaration = HYPERPARAMETERS[name]
    body = declaration.doc
    if "{architecture}" in body:
        settings = [s for s in ARCHITECTURE_SETTINGS if own is None or s in own]
        listed = ", ".join(f"``{setting}``" for setting in settings)
        body = textwrap.fill(body.replace("{architecture}", listed), width=70)
    return f"{name} : {declaration.kind}, default={default}\n" + textwrap.indent(body, "    ")
