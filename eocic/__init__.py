"""eocic: an open analytical workbench for the European Observatory for Clusters and
Industrial Change (EOCIC) analyses: cluster mapping, regional ecosystem scoreboard,
regressions linking clusters to entrepreneurship and growth, region explorer.

Data flows one way: sources -> pipeline -> mapping / scoreboard -> models -> reports.

Explore a run's tables with :func:`load_run` (``eocic.load_run("demo-2020")``, see
:mod:`eocic.runs`); their columns, units and meaning are in :mod:`eocic.tables` and
``docs/data_dictionary.md``. ``import eocic`` imports nothing else: the names below are loaded
on first use.
"""

__version__ = "0.1.0"

__all__ = ["Run", "RunNotFoundError", "load_run", "__version__"]

_LAZY = {"Run": "eocic.runs", "RunNotFoundError": "eocic.runs", "load_run": "eocic.runs"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'eocic' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
