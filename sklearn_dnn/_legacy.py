"""The module paths of sklearn-dnn 0.1.0, so that the models it pickled still load.

A pickle names each class and function by the module that defined it. In
0.1.0 every module sat at the top of the package; now the network is in
``_nn/``, the training engine in ``_engine/`` and the hyperparameters in
``_hyperparameters/``. :func:`install` (run when the package is imported)
registers each old path that moved as a module whose names are looked up
where they live now, so ``pickle.load`` finds ``sklearn_dnn._module.MLP``.
The old paths are for pickles only: code imports the new ones.
"""

import importlib
import sys
import types

# Each 0.1.0 module that moved -> the modules that now hold its names.
OLD_PATHS = {
    "_activations": ("_nn.activations",),
    "_initializers": ("_nn.initializers",),
    "_layers": ("_nn.layers", "_nn.blocks"),
    "_module": ("_nn.mlp", "_nn.blocks", "_nn.layers"),
    "_net": ("_engine.net", "_engine.inference"),
    "_callbacks": ("_engine.callbacks",),
    "_groups": ("_engine.groups",),
    "_optimizers": ("_engine.optimizers",),
    "_schedules": ("_engine.schedules",),
    "_seeding": ("_engine.seeding",),
    "_threads": ("_engine.threads",),
    "_plan": ("_engine.plan",),
    "_training": ("_engine.training", "_engine.user_callbacks"),
    "_params": ("_hyperparameters.constraints",),
    "_checks": ("_hyperparameters.checks", "_engine.divergence", "_warnings"),
    "_pipeline": ("_in_pipelines",),
}


class OldPath(types.ModuleType):
    """A 0.1.0 module path whose names are looked up in the modules that hold them now."""

    def __init__(self, name, targets):
        super().__init__(name, f"sklearn-dnn 0.1.0's {name}; its names are in {targets}.")
        self.targets = targets

    def __getattr__(self, attr):
        if attr.startswith("__"):  # what import machinery probes
            raise AttributeError(attr)
        package = self.__name__.rpartition(".")[0]
        for target in self.targets:
            module = importlib.import_module(f"{package}.{target}")
            if hasattr(module, attr):
                return getattr(module, attr)
        raise AttributeError(f"{self.__name__} (a 0.1.0 path, now {self.targets}) has no {attr!r}")


def install():
    """Register every moved 0.1.0 path (an existing module of that name is kept)."""
    for old, targets in OLD_PATHS.items():
        name = f"{__package__}.{old}"
        sys.modules.setdefault(name, OldPath(name, targets))
