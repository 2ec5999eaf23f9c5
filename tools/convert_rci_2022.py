"""Turn the RCI 2022 raw-data workbook into a user indicator table (values + metadata).

The DG REGIO workbook "RCI 2.0 - 2022 edition - Raw data" (``RCI_2022_raw_data.xlsx``, in the
shared data under ``composite_indices/``) holds 68 raw indicators for 234 regions. This script
writes them in the layout of :mod:`eocic.scoreboard.user_indicators`::

    python tools/convert_rci_2022.py WORKBOOK OUT_DIR
    # -> OUT_DIR/rci_2022.csv (geo, year, indicator, value)
    #    OUT_DIR/rci_2022.metadata.csv (indicator, unit, direction, description, dimension, name)

Choices, each for a stated reason:

- **Year**: every value gets the edition year 2022. The workbook's reference periods differ by
  indicator (2019, "average 2019-2021", "RIS 2021" ...); one year keeps the 68 indicators
  comparable within the edition, as the RCI itself does. The reference period is kept in
  each indicator's description.
- **Merged capital regions**: the RCI merges seven capitals with their commuting zones
  (``AT_C`` = AT12 + AT13, ...; sheet "Info aggregated capital regions"). The merged value is
  given to each member NUTS-2 region, as the RCI does when it maps its scores. The sheet's
  Belgian codes lack a letter (``B10``): they are read as ``BE10``, ``BE24``, ``BE31``.
- **Dimension**: the RCI pillar, without its "regional"/"national" qualifier
  (``Institutions - national`` -> ``institutions``).
- **Direction**: -1 for the indicators where less is better (corruption perceived, debt, bond
  yields, mortality and death rates, road fatalities, low achievement, early leavers,
  lower-secondary only, unemployment, gender gaps, NEET, slack, temporary employment), +1
  otherwise (:data:`LESS_IS_BETTER`). The workbook states no direction column; these follow
  Dijkstra et al. (2023).
- **Codes**: the indicator name in snake case (at most 60 characters).

The workbook stays outside the repository; nothing from it is copied here.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

import pandas as pd

from eocic.atomic import write_text_atomic

#: Edition year given to every value.
EDITION_YEAR = 2022
#: Names (normalised, see :func:`_normalised`) of the indicators where less is better.
LESS_IS_BETTER = frozenset({
    "presence of corruption in the national public institutions in the country",
    "presence of corruption in the local or regional public institutions in the country",
    "government bond yields", "government debt",
    "road fatalities", "infant mortality", "cancer disease death rate",
    "heart disease death rate", "suicide death rate",
    "low achievement in reading (15-year-olds)", "low achievement in maths (15-year-olds)",
    "low achievement in science (15-year-olds)", "early school leavers",
    "lower-secondary completion only", "long-term unemployment", "unemployment rate",
    "gender balance unemployment", "gender balance employment", "neet",
    "labour market slack", "temporary employment",
})
#: Data-sheet column names that differ from the description sheet's indicator names.
COLUMN_ALIASES = {"child mortality": "infant mortality", "neet rate": "neet"}


class RciWorkbookError(ValueError):
    """The workbook does not have the layout this converter reads."""


def _normalised(name: str) -> str:
    text = unicodedata.normalize("NFKC", str(name)).replace("\xa0", " ").strip().lower()
    text = re.sub(r"\((x1000|%)\)$", "", text).strip().rstrip(".").strip()
    text = re.sub(r"\s+", " ", text)
    return COLUMN_ALIASES.get(text, text)


def _code(name: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", _normalised(name)).encode("ascii", "ignore")
    code = re.sub(r"[^a-z0-9]+", "_", ascii_text.decode()).strip("_")
    return code[:60].rstrip("_")


def _dimension(pillar: str) -> str:
    text = re.split(r"\s*[–-]\s*", str(pillar).strip())[0]
    text = re.sub(r"\s+(regional|national)$", "", text.strip(), flags=re.I)
    return _code(text)


def _direction(normalised_name: str) -> int:
    """-1 for :data:`LESS_IS_BETTER`; +1 otherwise (the 1-7 scores of the World Economic
    Forum items, organised crime included, run from worst to best)."""
    return -1 if normalised_name in LESS_IS_BETTER else 1


def _capital_members(workbook: Path) -> dict[str, list[str]]:
    sheet = pd.read_excel(workbook, "Info aggregated capital regions", header=3, engine="openpyxl")
    sheet = sheet.iloc[:, 1:]
    sheet.columns = ["country", "rci_code", "rci_name", "nuts_code", "nuts_name"]
    members: dict[str, list[str]] = {}
    current = None
    for row in sheet.itertuples(index=False):
        if isinstance(row.rci_code, str) and row.rci_code.strip():
            current = row.rci_code.strip()
        if current is None or not isinstance(row.nuts_code, str):
            continue
        code = row.nuts_code.strip()
        prefix = current[:2]
        if not code.startswith(prefix) and code[:1] == prefix[:1]:
            code = prefix + code[1:]  # "B10" -> "BE10"
        members.setdefault(current, []).append(code)
    return members


def convert(workbook: str | Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The values and metadata tables of the RCI 2022 workbook (see the module docstring)."""
    workbook = Path(workbook)
    described = pd.read_excel(workbook, "RCI_2022_indicators_descr", header=3, engine="openpyxl")
    described = described.dropna(subset=["Indicator name"])
    data = pd.read_excel(workbook, "RCI_2022_raw_data", engine="openpyxl")
    if list(data.columns[:2]) != ["NUTS", "Region name"]:
        raise RciWorkbookError(f"{workbook}: sheet RCI_2022_raw_data does not start with "
                               "NUTS, Region name")
    by_name = {_normalised(row["Indicator name"]): row for _, row in described.iterrows()}
    columns = {}
    for column in data.columns[2:]:
        key = _normalised(column)
        if key not in by_name:
            raise RciWorkbookError(f"{workbook}: column {column!r} has no row in "
                                   "RCI_2022_indicators_descr")
        columns[column] = key
    metadata = pd.DataFrame([{
        "indicator": _code(key),
        "unit": str(by_name[key]["Unit of measurement"]).strip(),
        "direction": _direction(key),
        "description": (f"{str(by_name[key]['Description']).strip()} Source: "
                        f"{str(by_name[key]['Source']).strip()}. Reference period: "
                        f"{str(by_name[key]['Reference year']).strip()}."),
        "dimension": _dimension(by_name[key]["Pillar name"]),
        "name": str(by_name[key]["Indicator name"]).strip(),
    } for key in columns.values()])
    repeated = metadata.loc[metadata["indicator"].duplicated(), "indicator"]
    if not repeated.empty:
        raise RciWorkbookError(f"{workbook}: two indicators share the code {repeated.iloc[0]}")
    members = _capital_members(workbook)
    long = data.drop(columns="Region name").melt(id_vars="NUTS", var_name="column")
    long["indicator"] = long["column"].map(lambda c: _code(columns[c]))
    long["geo"] = long["NUTS"].map(lambda code: members.get(code, [code]))
    long = long.explode("geo")
    long["year"] = EDITION_YEAR
    values = long[["geo", "year", "indicator", "value"]].dropna(subset=["value"])
    values = values.sort_values(["indicator", "geo"], ignore_index=True)
    return values, metadata


def write(workbook: str | Path, out_dir: str | Path, stem: str = "rci_2022") -> tuple[Path, Path]:
    """Convert and write ``<stem>.csv`` and ``<stem>.metadata.csv`` into ``out_dir``
    (atomically: no half-written file is left behind)."""
    values, metadata = convert(workbook)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    values_path = write_text_atomic(out_dir / f"{stem}.csv",
                                    values.to_csv(index=False, lineterminator="\n"))
    metadata_path = write_text_atomic(out_dir / f"{stem}.metadata.csv",
                                      metadata.to_csv(index=False, lineterminator="\n"))
    return values_path, metadata_path


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    values_path, metadata_path = write(argv[0], argv[1])
    print(f"{values_path}\n{metadata_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
