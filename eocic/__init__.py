"""eocic: an open analytical workbench for the European Observatory for Clusters and
Industrial Change (EOCIC) analyses: cluster mapping, regional ecosystem scoreboard,
regressions linking clusters to entrepreneurship and growth, region explorer.

Data flows one way: sources -> pipeline -> mapping / scoreboard -> models -> reports.
"""

__version__ = "0.1.0"
