"""One error base class: every error eocic raises on purpose derives from EocicError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import eocic
from eocic.errors import EocicError


def test_every_named_error_of_the_package_derives_from_eocic_error():
    named = {}
    for module_info in pkgutil.walk_packages(eocic.__path__, "eocic."):
        if module_info.name.endswith("__main__"):
            continue  # runs the command line on import
        module = importlib.import_module(module_info.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException)
                    and not issubclass(obj, Warning) and not name.startswith("_")
                    and obj.__module__ == module.__name__):
                named[f"{module.__name__}.{name}"] = obj
    assert len(named) >= 25, sorted(named)
    strays = sorted(name for name, cls in named.items() if not issubclass(cls, EocicError))
    assert strays == [], f"errors not derived from eocic.errors.EocicError: {strays}"
