"""Hand-made test tables that have the schema of the real ones (:mod:`eocic.tables`).

A test writes the columns it reasons about; :func:`complete` adds the others as the stage
would hold them when they carry nothing of interest (null where the schema allows it, False
for flags, the first allowed value of a code) and checks the result against the schema, so a
fixture can never drift from the real output unnoticed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from eocic import tables


def complete(table: str, frame: pd.DataFrame, **values) -> pd.DataFrame:
    """``frame`` with every column of the schema of ``table``, in order and with its kind.

    Columns not in ``frame`` come from ``values`` (a scalar or a sequence), else null when
    nullable, False for bool, the first allowed value for a code with allowed values; any other
    missing column is an error (the test must say what it holds).
    """
    schema = tables.schema_of(table)
    frame = frame.reset_index(drop=True)
    columns = {}
    for column in schema.columns:
        if column.name in frame.columns:
            data = frame[column.name]
        elif column.name in values:
            data = pd.Series(values[column.name], index=frame.index) if pd.api.types.is_scalar(
                values[column.name]) else pd.Series(list(values[column.name]), index=frame.index)
        elif column.nullable:
            data = pd.Series(None, index=frame.index, dtype=object)
        elif column.kind == "bool":
            data = pd.Series(False, index=frame.index)
        elif column.values is not None:
            data = pd.Series(column.values[0], index=frame.index)
        else:
            raise KeyError(f"complete({table!r}): give column {column.name!r} ({column.kind}, "
                           f"{column.description})")
        if column.kind == "str":
            data = data.astype(object).where(data.notna(), None)
        elif column.kind == "int":
            data = data.astype(column.dtype)
        elif column.kind in ("float", "bool"):
            data = data.astype(column.dtype)
        columns[column.name] = data
    return tables.validate(pd.DataFrame(columns), schema)


def write(folder: Path, table: str, frame: pd.DataFrame, **values) -> Path:
    """Write the :func:`complete` table into a run folder with the project's writer."""
    return tables.write_table(complete(table, frame, **values), table, folder)
