"""Write the cached NUTS-2 neighbour list, ``eocic/classifications/nuts2021_neighbours.csv``.

Usage::

    .venv/bin/python tools/build_nuts_neighbours.py [GEOMETRY_FILE [OUTPUT_CSV]]

``GEOMETRY_FILE`` (default ``$EOCIC_SHARED_DATA/nuts/NUTS_RG_03M_2021_4326_LEVL_2.geojson.gz``,
i.e. ``../shared/data/...``) is a GISCO NUTS region file (``NUTS_RG_*``, GeoJSON, EPSG:4326 or
3035, plain or gzip). The rule is queen contiguity: two NUTS-2 regions are neighbours when
their polygons share at least one boundary vertex (:func:`eocic.maps.contiguity_pairs`
documents it, with the handling of enclaves and islands). The 1:3 million file is used because
it is the most detailed in the shared folder; the 1:20 million file (EPSG:3035) gives the same
755 rows, which ``tests/test_nuts_neighbours.py`` checks.

Output: ``geo, neighbour, shared_vertices`` (one row per unordered pair, ``geo < neighbour``;
one row with an empty ``neighbour`` per region without any: 23 in NUTS 2021, the islands,
outermost regions, Ceuta and Melilla). The geometry is not copied: only codes and counts.
Pass another geometry file (another NUTS version) and an output path to build a list for
:func:`eocic.nuts.neighbours` ``(path=...)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from eocic.atomic import write_text_atomic
from eocic.maps import contiguity_pairs
from eocic.nuts import NEIGHBOURS_CSV
from eocic.scoreboard.external import shared_data_dir

DEFAULT_GEOMETRIES = Path("nuts") / "NUTS_RG_03M_2021_4326_LEVL_2.geojson.gz"


def main(argv: list[str]) -> int:
    geometry = Path(argv[0]) if argv else shared_data_dir() / DEFAULT_GEOMETRIES
    output = Path(argv[1]) if len(argv) > 1 else NEIGHBOURS_CSV
    table = contiguity_pairs(geometry)
    write_text_atomic(output, table.to_csv(index=False, lineterminator="\n"))
    alone = table.loc[table["neighbour"] == "", "geo"].tolist()
    print(f"{output}: {len(table)} rows from {geometry}; without neighbours: {', '.join(alone)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
