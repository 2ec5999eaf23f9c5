"""Eurostat formats (bulk TSV, SDMX-CSV), flags, dataset registry and download."""
