"""Eurostat formats (bulk TSV, SDMX-CSV), the JRC ARDECO export, flags, dataset registry and
download."""
