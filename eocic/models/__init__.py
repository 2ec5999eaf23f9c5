"""Regressions linking clusters to growth and entrepreneurship (methodology section 4).

Modules: :mod:`~eocic.models.specifications` (the YAML registry), :mod:`~eocic.models.variables`
(estimation samples), :mod:`~eocic.models.estimation` (statsmodels fits and results),
:mod:`~eocic.models.tables` (side-by-side tables), :mod:`~eocic.models.figures` (coefficient
plot), :mod:`~eocic.models.narrative` (sign pattern in words) and
:mod:`~eocic.models.regressions` (the stage in one call).
"""
