"""Tables and paths as a policy reader sees them in the rendered reports.

The notebooks narrate; what they show goes through this module so that every report formats
numbers the same way and prints no machine paths.

Tables
------
In a notebook, once::

    from eocic.presentation import ReportTables
    tables = ReportTables(run_id, "01_data_pipeline")   # the stage's file name without .ipynb

then, wherever a table is shown (as the cell's last expression or inside ``display(...)``)::

    tables.show(frame, "selection", counts=["rows_read"], shares=["confidential_share"])

What the reader gets (:func:`format_table`, :func:`format_number`):

* no pandas index: a default (unnamed) index is dropped, named index levels (``set_index``,
  ``groupby``, ``pivot``) become ordinary columns; multi-level column names are joined;
* numbers for reading: thousands separators; values of magnitude >= 100 as whole numbers,
  smaller ones with 3 significant digits (``0.000300``, ``12.3``); no ``0.000000``;
* shares (fractions 0-1) as ``12.3 %``, percentages (already x 100) likewise; counts as whole
  numbers (``1,234,567``); year columns as they are (``2020``); booleans as yes / no;
* missing values (NaN, None, NA, NaT) as ``–``;
* a long table (more than ``max_rows`` rows) is written in full, unformatted, to
  ``reports/<run_id>/tables/<stage>_<name>.csv`` (atomically) and shown as a preview of its first
  ``preview_rows`` rows with a relative link to that CSV;
* every cell is escaped: text from the data is never live HTML.

Which columns are shares (fractions shown in %: shares, growth rates), percentages (already
x 100), counts or p-values is said by the caller (``shares=``, ``percents=``, ``counts=``,
``pvalues=``; ``raw=`` leaves a column as it is). Without that, the kind is inferred
conservatively from the column: an integer column is a count (a year column named ``year``,
``*_year``, ``t0``... is left as is), a float column named ``*_share`` whose values all lie in
[0, 1] is a share, a float column named ``*_pct`` or ``... (%)`` is a percentage, one named
``pvalue``/``p_value`` a p-value, any other float column a plain number.

Warnings
--------
A stage's own messages to the reader (e.g. the data pipeline's notes on impossible values) are
raised as ``UserWarning`` by the library; :func:`reader_notes` collects them around a call so
the notebook shows them as text (:func:`notes_view`) instead of a warning block, and passes any
other warning on (to stderr, hence the run's log).

Text from users
---------------
Anything a user supplies (a stage parameter such as ``region`` or ``peers``, a scenario's or a
regression specification's title, a folder or file name) is escaped once, where it is shown:

* in HTML, :func:`escape_html` (``&``, ``<``, ``>``, ``"`` and ``'`` as entities);
* in Markdown, :func:`escape_markdown` (as plain text) or :func:`markdown_code` (as code):
  nbconvert renders raw HTML in Markdown as live HTML, and Markdown's own syntax (a backtick
  closing a code span, ``[x](javascript:...)``, ``$`` math, ``*``, a line starting with ``#``)
  would otherwise act, so every ASCII punctuation character becomes a numeric character
  reference, which Markdown shows as that character and never reads as syntax;
* in a matplotlib title or label, :func:`figure_text` (a ``$`` would start mathtext).

Paths
-----
:func:`display_path` turns a path into what a report may print: relative to the project root
(or to a given folder such as the data folder); a path outside it shows only its last part.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import math
import numbers
import os
import re
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from eocic.atomic import atomic_path


#: What a missing value looks like in a report.
MISSING = "–"

#: Significant digits of numbers smaller than 100 (larger ones are shown as whole numbers).
DIGITS = 3

#: Tables longer than this are previewed and written in full as CSV.
MAX_ROWS = 20

#: Rows of the preview of a long table.
PREVIEW_ROWS = 10

_KINDS = ("number", "count", "share", "percent", "pvalue", "raw")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
_YEAR_COLUMN = re.compile(r"(^|_)(year|years|t0|t1|period)($|_)|^T$", re.IGNORECASE)
_PVALUE_COLUMN = re.compile(r"^p_?value$|^p$", re.IGNORECASE)


# --------------------------------------------------------------------------- numbers

def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists, arrays: not a scalar missing value
        return False


def _plain(value: float, digits: int) -> str:
    """A number with thousands separators: whole above 100, else ``digits`` significant."""
    if value == 0:
        return "0"
    rounded = float(f"{value:.{digits}g}")
    magnitude = abs(rounded)
    if magnitude >= 10 ** (digits - 1):
        return f"{value:,.0f}"
    if magnitude < 1e-6:
        return f"{value:.{digits - 1}e}"
    decimals = digits - 1 - math.floor(math.log10(magnitude))
    return f"{rounded:,.{max(decimals, 0)}f}"


def _percent(value: float) -> str:
    """``value`` (already in %) with one decimal; a non-zero value that would read 0.0 says so."""
    if value == 0:
        return "0 %"
    text = f"{value:,.1f}"
    if text in ("0.0", "-0.0"):
        return "<0.1 %" if value > 0 else ">-0.1 %"
    return f"{text} %"


def format_number(value: object, kind: str = "number", *, digits: int = DIGITS) -> str:
    """One value as a reader sees it (see the module docstring).

    ``kind`` is ``number`` (default), ``count`` (whole number), ``share`` (a fraction such as
    a share or a growth rate, shown in %), ``percent`` (already in %), ``pvalue`` (three
    decimals, ``<0.001`` below) or ``raw`` (``str(value)``). Missing values give ``–``, booleans
    ``yes``/``no``, text stays text.

    >>> format_number(1234567), format_number(0.0003), format_number(0.1234, "share")
    ('1,234,567', '0.000300', '12.3 %')
    """
    if kind not in _KINDS:
        raise ValueError(f"kind {kind!r}: use one of {', '.join(_KINDS)}")
    if _is_missing(value):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if kind == "raw" or not isinstance(value, numbers.Real):
        return str(value)
    number = float(value)
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    if kind == "count":
        return f"{number:,.0f}"
    if kind == "share":
        return _percent(100 * number)
    if kind == "percent":
        return _percent(number)
    if kind == "pvalue":
        return "<0.001" if number < 0.0005 else f"{number:.3f}"
    return _plain(number, digits)


# --------------------------------------------------------------------------- tables

def _flat_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without its index, which is kept as columns when it carries information: a
    named level becomes a column of that name, an unnamed level of labels (not integers) a
    column without a name; an unnamed integer index (row numbers) is dropped. Column names
    become strings (multi-level names joined)."""
    index = frame.index
    kept = {}
    for position in range(index.nlevels):
        level = index.get_level_values(position)
        if level.name is not None:
            kept[str(level.name)] = level
        elif not pd.api.types.is_integer_dtype(level.dtype):
            kept["" if index.nlevels == 1 else f"level {position}"] = level
    frame = frame.reset_index(drop=True)
    for position, (name, level) in enumerate(kept.items()):
        frame.insert(position, name, list(level), allow_duplicates=True)
    if isinstance(frame.columns, pd.MultiIndex):
        frame.columns = [" ".join(str(part) for part in column if str(part) != "")
                         for column in frame.columns]
    else:
        frame.columns = [str(column) for column in frame.columns]
    return frame


def _inferred_kind(name: str, column: pd.Series) -> str:
    dtype = column.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "raw"
    if pd.api.types.is_integer_dtype(dtype):
        return "raw" if _YEAR_COLUMN.search(name) else "count"
    if pd.api.types.is_float_dtype(dtype):
        lowered = name.lower()
        values = column.dropna()
        if (lowered == "share" or lowered.endswith("_share")) and len(values) \
                and values.between(0, 1).all():
            return "share"
        if lowered.endswith("_pct") or lowered.endswith("(%)"):
            return "percent"
        if _PVALUE_COLUMN.match(name):
            return "pvalue"
        return "number"
    return "raw"


def column_kinds(frame: pd.DataFrame, *, shares: Iterable[str] = (), percents: Iterable[str] = (),
                 counts: Iterable[str] = (), pvalues: Iterable[str] = (),
                 raw: Iterable[str] = ()) -> dict[str, str]:
    """The kind of every column of the flattened ``frame``: the caller's, else inferred.

    Raises
    ------
    KeyError
        When the caller names a column the table does not have (a typo would otherwise leave
        a share shown as 0.123).
    """
    flat = _flat_frame(frame)
    said: dict[str, str] = {}
    for kind, names in (("share", shares), ("percent", percents), ("count", counts),
                        ("pvalue", pvalues), ("raw", raw)):
        for name in names:
            if name not in flat.columns:
                raise KeyError(f"{kind} column {name!r} is not in the table "
                               f"(columns: {', '.join(flat.columns)})")
            said[name] = kind
    return {name: said.get(name) or _inferred_kind(name, flat[name]) for name in flat.columns}


def format_table(frame: pd.DataFrame, *, shares: Iterable[str] = (),
                 percents: Iterable[str] = (), counts: Iterable[str] = (),
                 pvalues: Iterable[str] = (), raw: Iterable[str] = (),
                 digits: int = DIGITS) -> pd.DataFrame:
    """``frame`` as text for reading: no index, every cell formatted (see the module
    docstring); the columns are the flattened frame's."""
    flat = _flat_frame(frame)
    kinds = column_kinds(frame, shares=shares, percents=percents, counts=counts,
                         pvalues=pvalues, raw=raw)
    return pd.DataFrame(
        {name: [format_number(value, kinds[name], digits=digits) for value in flat[name]]
         for name in flat.columns},
        index=flat.index, dtype=object)


def table_html(text: pd.DataFrame, note: str = "", numeric: Iterable[str] = ()) -> str:
    """HTML of an already formatted table: every cell escaped, ``numeric`` columns aligned
    right (class ``num``), the others left (class ``text``); an optional ``note`` (HTML, made
    by the caller from escaped parts) below."""
    numeric = set(numeric)
    classes = ["num" if column in numeric else "text" for column in text.columns]
    head = "".join(f"<th class='{kind}'>{html.escape(str(column))}</th>"
                   for kind, column in zip(classes, text.columns))
    rows = "".join(
        "<tr>" + "".join(f"<td class='{kind}'>{html.escape(str(value))}</td>"
                         for kind, value in zip(classes, row)) + "</tr>"
        for row in text.itertuples(index=False, name=None))
    note_html = f"<p class='eocic-table-note'>{note}</p>" if note else ""
    return (f"<div class='eocic-table-wrap'><table class='eocic-table'><thead><tr>{head}</tr>"
            f"</thead><tbody>{rows}</tbody></table></div>{note_html}")


@dataclasses.dataclass(frozen=True)
class TableView:
    """A table ready for display: ``_repr_html_`` for the report, a plain-text ``repr`` for
    the run's log; ``csv_path`` is the full table's CSV when it was too long to show."""

    html: str
    text: str
    rows: int
    shown: int
    csv_path: Path | None = None

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


class ReportTables:
    """Shows a stage's tables for readers; long ones go to CSV files next to the report.

    Parameters
    ----------
    run_id : str
        The run: CSV files are written to ``<root>/reports/<run_id>/tables/``.
    stage : str
        The stage's file stem (``"01_data_pipeline"``): prefix of the CSV names.
    root : path, optional
        The project root (default :func:`eocic.config.project_root`).
    report_dir : path, optional
        The run's report folder, when not ``<root>/reports/<run_id>`` (the study runner's
        staging folder: the notebooks' ``report_dir`` parameter); CSV files go to its
        ``tables/``.
    max_rows, preview_rows : int
        A table with more than ``max_rows`` rows is shown as its first ``preview_rows``.
    """

    def __init__(self, run_id: str, stage: str, *, root: str | os.PathLike[str] | None = None,
                 max_rows: int = MAX_ROWS, preview_rows: int = PREVIEW_ROWS,
                 report_dir: str | os.PathLike[str] | None = None) -> None:
        if not _NAME.match(stage):
            raise ValueError(f"stage {stage!r}: lower-case letters, digits, '_' and '-' only")
        if root is None:
            from eocic.config import project_root
            root = project_root()
        self.tables_dir = (Path(report_dir) if report_dir is not None
                           else Path(root) / "reports" / str(run_id)) / "tables"
        self.stage = stage
        self.max_rows = max_rows
        self.preview_rows = min(preview_rows, max_rows)

    def csv_path(self, name: str) -> Path:
        """Where the full table ``name`` is written."""
        if not _NAME.match(name):
            raise ValueError(f"table name {name!r}: lower-case letters, digits, '_' and '-' only")
        return self.tables_dir / f"{self.stage}_{name}.csv"

    def show(self, frame: pd.DataFrame, name: str, *, shares: Iterable[str] = (),
             percents: Iterable[str] = (), counts: Iterable[str] = (),
             pvalues: Iterable[str] = (), raw: Iterable[str] = (), digits: int = DIGITS,
             max_rows: int | None = None, columns: Iterable[str] | None = None) -> TableView:
        """``frame`` formatted for reading (see the module docstring); a table longer than
        ``max_rows`` (default the instance's) is written in full to :meth:`csv_path` and
        previewed with a link. ``columns`` selects the columns shown (of the flattened frame,
        in that order); the CSV keeps them all."""
        if isinstance(frame, pd.Series):
            frame = frame.to_frame()
        limit = self.max_rows if max_rows is None else max_rows
        flat = _flat_frame(frame)
        kinds = column_kinds(frame, shares=shares, percents=percents, counts=counts,
                             pvalues=pvalues, raw=raw)
        text = format_table(frame, shares=shares, percents=percents, counts=counts,
                            pvalues=pvalues, raw=raw, digits=digits)
        if columns is not None:
            columns = list(columns)
            unknown = [column for column in columns if column not in text.columns]
            if unknown:
                raise KeyError(f"columns {unknown} are not in the table "
                               f"(columns: {', '.join(text.columns)})")
            text = text[columns]
        numeric = [column for column in text.columns if kinds[column] != "raw"
                   or (pd.api.types.is_numeric_dtype(flat[column].dtype)
                       and not pd.api.types.is_bool_dtype(flat[column].dtype))]
        rows = len(text)
        if rows == 0:
            return TableView(html="<p class='eocic-table-note'>(no rows)</p>", text="(no rows)",
                             rows=0, shown=0)
        csv_path = None
        note = plain_note = ""
        shown = text
        if rows > limit:
            csv_path = self.csv_path(name)
            with atomic_path(csv_path) as partial:
                flat.to_csv(partial, index=False)
            shown = text.head(min(self.preview_rows, limit))
            link = f"tables/{csv_path.name}"
            note = (f"First {len(shown):,} of {rows:,} rows. The full table: "
                    f"<a href='{html.escape(link)}'>{html.escape(csv_path.name)}</a> (CSV).")
            plain_note = f"First {len(shown):,} of {rows:,} rows; the full table: {link}"
        plain = shown.to_string(index=False) + (f"\n{plain_note}" if plain_note else "")
        return TableView(html=table_html(shown, note, numeric), text=plain, rows=rows,
                         shown=len(shown), csv_path=csv_path)


# --------------------------------------------------------------------------- notes

@contextlib.contextmanager
def reader_notes(category: type[Warning] = UserWarning) -> Iterator[list[str]]:
    """Collect the warnings of ``category`` raised in the block as notes for the reader.

    Yields a list that holds their messages (in order, without repeats) once the block has
    run; warnings of other categories are re-issued after the block, so they reach stderr and
    the run's log as before, never the notes.
    """
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield notes
    for warning in caught:
        if issubclass(warning.category, category):
            message = str(warning.message)
            if message not in notes:
                notes.append(message)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)


@dataclasses.dataclass(frozen=True)
class NotesView:
    """Notes as an escaped HTML list (``_repr_html_``) and plain text (``repr``)."""

    title: str
    notes: tuple[str, ...]

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(note)}</li>" for note in self.notes)
        return (f"<div class='eocic-notes'><p><strong>{html.escape(self.title)}</strong></p>"
                f"<ul>{items}</ul></div>")

    def __repr__(self) -> str:
        return "\n".join([self.title, *(f"- {note}" for note in self.notes)])


def notes_view(notes: Iterable[str], title: str) -> NotesView:
    """``notes`` under ``title``, for display (every note escaped: messages may quote data)."""
    return NotesView(title=title, notes=tuple(notes))


# --------------------------------------------------------------------------- text from users

def escape_html(text: object) -> str:
    """``text`` (any value, shown as ``str(text)``) safe to put into HTML text or an HTML
    attribute value: ``& < > " '`` become entities, so no value a user passed (a region, a peer
    list, a run id, a message quoting them) becomes an element, an attribute or a closed quote.
    In Markdown use :func:`escape_markdown` (a backtick or a link would still act there)."""
    return html.escape(str(text), quote=True)


#: ASCII characters :func:`escape_markdown` writes as numeric character references: every
#: punctuation mark (Markdown syntax, and ``<``/``&`` of raw HTML) and the line breaks and tabs
#: that could start a new Markdown block (a heading, a list, an indented code block).
_MARKDOWN_LITERAL = re.compile(r"""[!-/:-@\[-`{-~\t\n\r\f\v]""")


def escape_markdown(text) -> str:
    """``text`` (any value, via ``str``) as literal text inside Markdown.

    Every ASCII punctuation character and line break becomes a numeric character reference
    (``<`` -> ``&#60;``, a backtick -> ``&#96;``, ``$`` -> ``&#36;``): CommonMark renderers
    (nbconvert's mistune, JupyterLab) show the character and never read it as syntax, so the
    value can neither close a code span, open a link, emphasis or ``$`` math, start a block,
    nor be raw HTML. Letters, digits, spaces and non-ASCII text stay as they are: ``DE11``
    is written ``DE11``, ``demo-2020`` reads ``demo-2020`` on the page.

    >>> escape_markdown("DE11"), escape_markdown("a`<b>")
    ('DE11', 'a&#96;&#60;b&#62;')
    """
    return _MARKDOWN_LITERAL.sub(lambda match: f"&#{ord(match.group())};", str(text))


def markdown_code(text) -> str:
    """``text`` shown as code inside Markdown: ``<code>`` around :func:`escape_markdown` of it
    (the same as a backtick code span on the page, but no backtick in the value can close it)."""
    return f"<code>{escape_markdown(text)}</code>"


def figure_text(text) -> str:
    """``text`` (any value, via ``str``) for a matplotlib title, label or annotation: every
    ``$`` escaped as ``\\$``, so the value is drawn as it is instead of being parsed as
    mathtext (which can fail on a value such as ``$\\frac$`` and stop the stage)."""
    return str(text).replace("$", r"\$")


# --------------------------------------------------------------------------- paths

def display_path(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> str:
    """``path`` as a report may print it: relative to ``root`` (default the project root), in
    POSIX form; a path outside ``root`` shows only its last part (``…/data``), so no machine
    layout (``/home/<user>/...``) reaches a shared report. A path in the study runner's staging
    folder (``.staging-<run_id>-<token>/<run_id>/...``, see :mod:`eocic.run_integrity`) is
    shown where the run is published (``<run_id>/...``)."""
    if root is None:
        from eocic.config import project_root
        root = project_root()
    target = Path(path)
    base = Path(root)
    if not target.is_absolute():
        return _published(target.as_posix())
    try:
        relative = target.resolve().relative_to(base.resolve())
    except ValueError:
        return f"…/{target.name}" if target.name else "…"
    return _published(relative.as_posix()) or "."


#: The staging component of a path the study runner writes (``.staging-<run_id>-<token>/``).
_STAGING_PART = re.compile(r"(^|/)\.staging-[^/]+/")


def _published(posix_path: str) -> str:
    return _STAGING_PART.sub(r"\1", posix_path)
