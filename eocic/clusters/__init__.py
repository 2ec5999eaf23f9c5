"""Cluster mapping: category definitions, indicators, stars, linkages and figures (EOCIC methodology)."""
