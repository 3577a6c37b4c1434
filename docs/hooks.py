"""MkDocs hooks: tables of the package's components, generated at build time.

A page line ``<!-- components: NAME -->`` is replaced by the table of the
registry NAME (ACTIVATIONS, INITIALIZERS, OPTIMIZERS, SCHEDULES, or a
MIGRATION_* table of other libraries' names), built from
the registry itself and, for the formulas, from its module's docstring. A new
registry entry therefore shows up in the docs with no edit, and an unknown
NAME fails the build.
"""

import functools
import re

import torch
from mkdocs.exceptions import PluginError

from sklearn_dnn._engine import optimizers as _optimizers
from sklearn_dnn._engine import schedules as _schedules
from sklearn_dnn._hyperparameters import foreign as _foreign
from sklearn_dnn._nn import activations as _activations
from sklearn_dnn._nn import initializers as _initializers

MARKER = re.compile(r"^<!-- components: (\w+) -->$", re.MULTILINE)


def rst_simple_table(docstring):
    """The rows of the two-column reST simple table in ``docstring``, as a dict.

    A row's first column starts at the left margin; lines whose first column
    is blank continue the row above.
    """
    lines = docstring.splitlines()
    rules = [i for i, line in enumerate(lines) if re.fullmatch(r"=+ +=+", line.strip())]
    if len(rules) < 2:
        raise PluginError("no reST simple table in a component module's docstring")
    indent = len(lines[rules[0]]) - len(lines[rules[0]].lstrip())
    width = lines[rules[0]].strip().index(" ")
    body = lines[rules[-2] + 1 : rules[-1]]  # after the header's rule, if any
    rows, key = {}, None
    for line in body:
        first, second = line[indent : indent + width].strip(), line[indent + width :].strip()
        if first:
            key = first.strip("`")
            rows[key] = second
        elif key is not None:
            rows[key] += " " + second
    return rows


def _callable_name(function):
    """``torch.nn.init.kaiming_uniform_(nonlinearity='relu')`` for a function or partial."""
    if isinstance(function, functools.partial):
        arguments = [repr(a) for a in function.args]
        arguments += [f"{k}={v!r}" for k, v in function.keywords.items()]
        return f"{_callable_name(function.func)}({', '.join(arguments)})"
    module = function.__module__.replace("torch.nn.modules.activation", "torch.nn")
    return f"{module}.{function.__qualname__}"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def activations_table():
    rows = []
    for name in _activations.ACTIVATIONS:
        module = _activations.make_activation(name)
        family = _activations.activation_family(module)
        auto = _initializers.AUTO_INITIALIZERS[family]
        rows.append((f'`"{name}"`', f"`torch.nn.{module!r}`", f'`"{auto}"`'))
    return _table(("name", "module of each hidden layer", 'initializer="auto" picks'), rows)


def initializers_table():
    spreads = rst_simple_table(_initializers.__doc__)
    rows = []
    for name, function in _initializers.INITIALIZERS.items():
        family = next(
            (
                spread
                for key, spread in spreads.items()
                if re.fullmatch(key.replace("*", ".*"), name)
            ),
            "",
        )
        rows.append((f'`"{name}"`', f"`{_callable_name(function)}`", family))
    return _table(("name", "torch function", "standard deviation of the weights"), rows)


def optimizers_table():
    rows = []
    for name, factory in _optimizers.OPTIMIZERS.items():
        betas = (0.5, 0.75)
        optimizer = factory([torch.nn.Parameter(torch.zeros(1))], 0.1, 0.5, True, betas)
        defaults = optimizer.defaults
        cls = type(optimizer)
        rows.append(
            (
                f'`"{name}"`',
                f"`{cls.__module__.rsplit('.', 1)[0]}.{cls.__name__}`",
                "yes" if defaults.get("momentum") == 0.5 else "",
                "yes" if defaults.get("nesterov") is True else "",
                "yes" if tuple(defaults.get("betas", ())) == betas else "",
            )
        )
    header = ("name", "torch optimizer", "uses `momentum`", "uses `nesterov`", "uses `betas`")
    return _table(header, rows)


def schedules_table():
    formulas = rst_simple_table(_schedules.__doc__)
    settings = {
        "learning_rate": 0.1,
        "decay_rate": 0.1,
        "decay_steps": 10,
        "power_t": 1.0,
        "max_epochs": 100,
        "n_batches": 10,
        "monitor": "train_loss",
    }
    rows = []
    for name in _schedules.SCHEDULES:
        callback = _schedules.make_schedule(name, settings)
        if callback is None:  # a factor of the run's progress, applied by RunSchedules
            policy, step_every = "(none: a factor of the run's progress)", "batch"
        else:
            policy, step_every = f"`{callback.policy.__name__}`", callback.step_every
        rows.append((f'`"{name}"`', formulas.get(name, ""), policy, step_every))
    header = ("name", "learning rate", "in `torch.optim.lr_scheduler`", "stepped every")
    return _table(header, rows)


TABLES = {
    "ACTIVATIONS": activations_table,
    "INITIALIZERS": initializers_table,
    "OPTIMIZERS": optimizers_table,
    "SCHEDULES": schedules_table,
    # docs/migration.md: other libraries' names, from the table the hints read.
    "MIGRATION_SKLEARN": functools.partial(_foreign.markdown_table, "sklearn"),
    "MIGRATION_SKORCH": functools.partial(_foreign.markdown_table, "skorch"),
    "MIGRATION_KERAS": functools.partial(_foreign.markdown_table, "keras"),
    "MIGRATION_FIT": _foreign.fit_arguments_table,
}


def on_page_markdown(markdown, page, config, files):
    def replace(match):
        name = match.group(1)
        if name not in TABLES:
            raise PluginError(
                f"{page.file.src_path}: unknown components table {name!r}; known: {sorted(TABLES)}"
            )
        return TABLES[name]()

    return MARKER.sub(replace, markdown)
