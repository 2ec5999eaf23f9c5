"""Shock scenarios: employment (or output) shocks by NACE Rev. 2 division, read from a file.

A scenario is a YAML file (shipped ones live in ``eocic/stress/scenarios/``) or a CSV file
with the header ``nace_r2,shock``. A shock is a fraction in [-1, 1]: ``-0.08`` means that the
division loses 8 % of its persons employed (or of its output) in every region. Divisions not
listed get no shock (0).

YAML layout (see ``scenarios/template.yaml``)::

    name: my_scenario            # short identifier (letters, digits, _), defaults to the file stem
    title: One-line title
    unit: employment             # employment | output
    horizon: 2-3 years           # free text
    description: >
      What happens and why.
    sources:
      - Reference or judgement behind the numbers
    shocks:
      C24: -0.08
      C20: -0.05

Validation (:class:`ScenarioError`, naming the file, the line, the code and the fix): a code
that is not one of the 71 NACE Rev. 2 divisions of the regional SBS (B05-N82, S95; sections
such as ``C`` are not accepted), a shock that is not a number or lies outside [-1, 1] (e.g.
``-8`` instead of ``-0.08``), a division listed twice, a missing ``shocks`` table.

Shipped scenarios: :data:`SHIPPED` (``energy_price``, ``trade``, ``automation``, ``template``).
The numbers are documented judgement calls, not estimates: each file names its sources.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from eocic.errors import EocicError

SHIPPED: tuple[str, ...] = ("energy_price", "trade", "automation", "template")
"""Names of the scenarios shipped in ``eocic/stress/scenarios/<name>.yaml``."""

UNITS: tuple[str, ...] = ("employment", "output")

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")


class ScenarioError(EocicError, ValueError):
    """A scenario file is invalid; the message names the file, the line, the code and the fix."""


@dataclasses.dataclass(frozen=True)
class Scenario:
    """One shock scenario.

    Attributes
    ----------
    name, title, description, horizon : str
    unit : str
        ``employment`` (shock to persons employed) or ``output`` (shock to output; the stress
        test then assumes jobs move in proportion, an employment elasticity of 1).
    sources : tuple of str
        References and judgement behind the numbers.
    shocks : pandas.Series
        Shock (fraction, in [-1, 1]) by NACE division (index ``nace_r2``, sorted).
    path : str
        The file the scenario was read from.
    """

    name: str
    title: str
    unit: str
    horizon: str
    description: str
    sources: tuple[str, ...]
    shocks: pd.Series
    path: str

    def describe(self) -> str:
        """Markdown for a report: name, title, unit, horizon, description and sources.

        The fields come from a user's file, so each is escaped as literal Markdown text
        (:func:`eocic.presentation.escape_markdown`: Markdown renderers pass raw HTML through,
        and a backtick, ``[x](javascript:...)`` or ``$`` would otherwise act): a report never
        renders text of a scenario file as live HTML or Markdown syntax."""
        from eocic.presentation import escape_markdown, markdown_code

        def text(value: str) -> str:
            return escape_markdown(" ".join(str(value).split()))

        lines = [f"**Scenario {markdown_code(self.name)}**: {text(self.title)} (shock to "
                 f"{text(self.unit)}; horizon: {text(self.horizon) or 'not stated'}).", "",
                 text(self.description)]
        if self.sources:
            lines += ["", "**Sources and judgement**", ""]
            lines += [f"- {text(source)}" for source in self.sources]
        return "\n".join(lines)

    def table(self) -> pd.DataFrame:
        """``nace_r2, name, shock`` (division names from the NACE table)."""
        names = _division_names()
        return pd.DataFrame({"nace_r2": self.shocks.index,
                             "name": [names[c] for c in self.shocks.index],
                             "shock": self.shocks.to_numpy()})


def _division_names() -> dict[str, str]:
    from eocic.classifications.nace import nace_divisions

    table = nace_divisions()
    return dict(zip(table["division"], table["name"]))


def shipped_path(name: str) -> Path:
    """Path of a shipped scenario file."""
    return Path(str(resources.files("eocic.stress").joinpath("scenarios", f"{name}.yaml")))


def _check_shocks(entries: list[tuple[object, object, int]], path: str) -> pd.Series:
    """Validate ``(code, value, line)`` entries; return the shocks Series."""
    names = _division_names()
    seen: dict[str, int] = {}
    shocks: dict[str, float] = {}
    for code, value, line in entries:
        where = f"{path}, line {line}"
        text = str(code).strip().upper() if code is not None else ""
        if text not in names:
            hint = ("a NACE section letter is not accepted: list its divisions (e.g. C24, C25)"
                    if re.fullmatch(r"[A-U]", text) else
                    "use a two-digit NACE Rev. 2 division with its section letter, e.g. C24, "
                    "covered by the regional SBS (B05-N82 and S95)")
            raise ScenarioError(f"{where}: unknown NACE division {code!r}; {hint}")
        if text in seen:
            raise ScenarioError(
                f"{where}: division {text} is listed twice (first on line {seen[text]}); "
                "keep one line per division (add the shocks up if both are meant)")
        seen[text] = line
        if isinstance(value, bool) or value is None:
            raise ScenarioError(f"{where}: shock of {text} is {value!r}; give a number such as "
                                "-0.08 (an 8 % loss)")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ScenarioError(f"{where}: shock of {text} is {value!r}, not a number; give a "
                                "fraction such as -0.08 (an 8 % loss)") from None
        if not -1.0 <= number <= 1.0 or number != number:
            raise ScenarioError(
                f"{where}: shock of {text} is {number:g}, outside [-1, 1]; shocks are fractions "
                f"(write {number / 100:g} for {number:g} %)")
        shocks[text] = number
    if not shocks:
        raise ScenarioError(f"{path}: no shocks; list at least one division (e.g. C24: -0.05)")
    series = pd.Series(shocks, dtype="float64").sort_index()
    series.index.name = "nace_r2"
    series.name = "shock"
    return series


def _yaml_scenario(text: str, path: str, stem: str) -> Scenario:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None or not isinstance(root, yaml.MappingNode):
            raise ScenarioError(f"{path}: expected a YAML mapping with a 'shocks' table "
                                "(see eocic/stress/scenarios/template.yaml)")
        fields: dict[str, object] = {}
        shock_node = None
        for key_node, value_node in root.value:
            key = loader.construct_object(key_node, deep=True)
            if key in fields or (key == "shocks" and shock_node is not None):
                raise ScenarioError(f"{path}, line {key_node.start_mark.line + 1}: field "
                                    f"{key!r} appears twice; keep one")
            if key == "shocks":
                shock_node = value_node
            else:
                fields[key] = loader.construct_object(value_node, deep=True)
        if shock_node is None or not isinstance(shock_node, yaml.MappingNode):
            raise ScenarioError(f"{path}: a 'shocks' mapping (division: fraction) is required, "
                                "e.g. 'shocks: {C24: -0.05}'")
        entries = [(loader.construct_object(k, deep=True), loader.construct_object(v, deep=True),
                    k.start_mark.line + 1) for k, v in shock_node.value]
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {error}") from None
    finally:
        loader.dispose()
    unknown = sorted(set(fields) - {"name", "title", "unit", "horizon", "description", "sources"})
    if unknown:
        raise ScenarioError(f"{path}: unknown field(s) {unknown}; allowed: name, title, unit, "
                            "horizon, description, sources, shocks")
    shocks = _check_shocks(entries, path)
    return _scenario(fields, shocks, path, stem)


def _csv_scenario(text: str, path: str, stem: str) -> Scenario:
    rows = list(csv.reader(io.StringIO(text)))
    rows = [(number, row) for number, row in enumerate(rows, start=1)
            if row and not (len(row) == 1 and not row[0].strip()) and not row[0].startswith("#")]
    if not rows or [c.strip() for c in rows[0][1]] != ["nace_r2", "shock"]:
        raise ScenarioError(f"{path}: the CSV header must be 'nace_r2,shock'")
    entries = []
    for number, row in rows[1:]:
        if len(row) != 2:
            raise ScenarioError(f"{path}, line {number}: expected 2 fields (nace_r2,shock), "
                                f"found {len(row)}")
        entries.append((row[0], row[1].strip(), number))
    return _scenario({}, _check_shocks(entries, path), path, stem)


def _scenario(fields: dict, shocks: pd.Series, path: str, stem: str) -> Scenario:
    name = str(fields.get("name", stem))
    if not _NAME.match(name):
        raise ScenarioError(f"{path}: name {name!r} must use letters, digits, '_' or '-'")
    unit = str(fields.get("unit", "employment"))
    if unit not in UNITS:
        raise ScenarioError(f"{path}: unit {unit!r} is not one of {UNITS}")
    sources = fields.get("sources", [])
    if isinstance(sources, str):
        sources = [sources]
    return Scenario(name=name, title=str(fields.get("title", name)), unit=unit,
                    horizon=str(fields.get("horizon", "")),
                    description=" ".join(str(fields.get("description", "")).split()),
                    sources=tuple(str(s) for s in sources), shocks=shocks, path=path)


def load_scenario(scenario: str | Path) -> Scenario:
    """Read and validate a scenario: a shipped name (:data:`SHIPPED`) or a ``.yaml``/``.yml``/
    ``.csv`` file.

    Raises
    ------
    ScenarioError
        Unknown name or missing file, or invalid content (see the module docstring).
    """
    text_name = str(scenario)
    if text_name in SHIPPED:
        path = shipped_path(text_name)
    else:
        path = Path(text_name)
        if not path.exists():
            raise ScenarioError(f"scenario {text_name!r} is neither a shipped scenario "
                                f"{SHIPPED} nor an existing file")
    text = _scenario_text(path)
    if path.suffix.lower() == ".csv":
        return _csv_scenario(text, str(path), path.stem)
    if path.suffix.lower() in (".yaml", ".yml"):
        return _yaml_scenario(text, str(path), path.stem)
    raise ScenarioError(f"{path}: unknown file type {path.suffix!r}; use .yaml, .yml or .csv")


def _scenario_text(path: Path) -> str:
    """The text of a scenario file, which must be UTF-8 (a UTF-8 byte-order mark is allowed).

    Raises
    ------
    ScenarioError
        Naming the file, the encoding found (UTF-16 byte-order mark or NUL bytes) or the byte
        offset and line of the first byte that is not UTF-8 (a file saved as Latin-1 or
        Windows-1252), and how to convert it.
    """
    raw = path.read_bytes()
    convert = ("re-save it as UTF-8 (in an editor: 'Save with encoding UTF-8'; shell: "
               "iconv -f {encoding} -t UTF-8 FILE > FILE.utf8)")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:4096]:
        raise ScenarioError(f"{path}: the file is UTF-16 text (or binary), not UTF-8; "
                            + convert.format(encoding="UTF-16"))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        found = raw[error.start:error.start + 2].hex(" ").upper()
        raise ScenarioError(
            f"{path}, line {line}: byte {found} at byte offset {error.start} is not UTF-8 (the "
            "file is probably Latin-1/Windows-1252); " + convert.format(encoding="LATIN1")
        ) from error


def shipped_scenarios() -> list[Scenario]:
    """The shipped scenarios except the template, in :data:`SHIPPED` order."""
    return [load_scenario(name) for name in SHIPPED if name != "template"]
