"""NACE Rev. 2 sections and divisions of the demo economy: the project's classification
(:mod:`eocic.classifications.nace`), which the real-data pipeline uses too."""

from eocic.classifications.nace import nace_divisions, nace_sections

__all__ = ["nace_divisions", "nace_sections"]
