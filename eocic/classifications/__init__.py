"""Classifications shared by the real-data pipeline and the demo economy: NACE Rev. 2 sections
and divisions (:mod:`eocic.classifications.nace`), and the tables of this folder (cluster
categories, emerging industries, NACE classes, NUTS changes and codes), read by
:mod:`eocic.clusters.definitions` and :mod:`eocic.nuts`."""
