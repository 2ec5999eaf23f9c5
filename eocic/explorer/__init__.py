"""Region explorer: an ipywidgets view over the tables of one finished run.

:mod:`eocic.explorer.controller` holds the logic (tables, current region and peers, the content
of every tab) and is tested without a browser; :mod:`eocic.explorer.app` wires it to widgets;
:mod:`eocic.explorer.export` writes the current tables (CSV) and figures (PNG).
"""

from eocic.explorer.controller import (  # noqa: F401
    MAX_PEERS, Panel, RegionExplorer, find_run, latest_run, settings_from_environment,
)
