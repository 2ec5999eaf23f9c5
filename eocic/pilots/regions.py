"""The ten EOCIC pilot regions in industrial transition, mapped to NUTS 2021 level 2.

The European Commission's pilot action for regions in industrial transition (launched in
December 2017, actions from 2018) worked with ten pilots, some of which are a whole country
(Lithuania, Slovenia) or several NUTS-2 regions (Hauts-de-France, Saxony, Wallonia). Mapping
(NUTS 2021):

=========================  ==========================================================
pilot                      NUTS-2 codes
=========================  ==========================================================
Cantabria                  ES13
Centre-Val de Loire        FRB0
East and North Finland     FI1D (Pohjois- ja Ita-Suomi)
Hauts-de-France            FRE1 Nord-Pas de Calais, FRE2 Picardie
Lithuania (country)        LT01 Sostines regionas, LT02 Vidurio ir vakaru Lietuvos regionas
North Middle Sweden        SE31 Norra Mellansverige
Piemonte                   ITC1
Saxony                     DED2 Dresden, DED4 Chemnitz, DED5 Leipzig
Slovenia (country)         SI03 Vzhodna Slovenija, SI04 Zahodna Slovenija
Wallonia                   BE31 Brabant wallon, BE32 Hainaut, BE33 Liege, BE34 Luxembourg,
                           BE35 Namur
=========================  ==========================================================

:func:`pilot_regions` checks every code against ``eocic.nuts.regions(2021)``.

The two other pilots of the action (never controls)
---------------------------------------------------
The action on regions in industrial transition had twelve pilots: the ten above, which also
received the cluster-policy advice evaluated here (the seed list), and **Grand Est** (FRF1
Alsace, FRF2 Champagne-Ardenne, FRF3 Lorraine in NUTS 2021) and **Greater Manchester** (UKD3,
NUTS 2016; the United Kingdom is not in NUTS 2021 data after Brexit), which took part in the
action without that advice. They are not treated by the cluster-policy advice, but they were
treated by the rest of the action from 2018, so as controls they would absorb part of the
effect being measured (a contaminated control group): :data:`EXCLUDED_FROM_CONTROLS` keeps
them out of the control pool, and :func:`excluded_regions` names them for notebook 07.

Aggregation of a pilot made of several NUTS-2 regions
-----------------------------------------------------
*Profiles* (:func:`aggregate_levels`): additive levels (persons employed, employment in
starred clusters, enterprise births, GDP in million EUR, population) are summed over the
pilot's NUTS-2 regions first, and ratios are formed from the sums (GDP per head = sum GDP /
sum population, shares = sum numerator / sum denominator); a ratio is never averaged across
parts, which would weight a small region like a large one. Composite scores (scoreboard),
which cannot be summed, are shown per NUTS-2 part beside their employment-weighted mean.

*Estimation* (:mod:`eocic.pilots.did`): the event study runs on NUTS-2 regions, with every part
of a pilot treated and the standard errors clustered by *pilot* (the pilot is the cluster unit;
each control region is its own cluster). Reasons: the data and the peers are NUTS-2 regions,
so treated and control units have comparable size (a summed Wallonia or Saxony would be an
outlier in levels and in noise); the parts of one pilot share the programme and its shocks,
so their errors are correlated and must be one cluster. With ten treated clusters the
cluster-robust standard errors can be too small (MacKinnon & Webb 2017), so every estimate
also carries the wild cluster bootstrap and randomisation inference
(:mod:`eocic.pilots.inference`).
"""

from __future__ import annotations

import pandas as pd

from eocic.errors import EocicError

PILOT_REGIONS: dict[str, tuple[str, ...]] = {
    "Cantabria": ("ES13",),
    "Centre-Val de Loire": ("FRB0",),
    "East and North Finland": ("FI1D",),
    "Hauts-de-France": ("FRE1", "FRE2"),
    "Lithuania": ("LT01", "LT02"),
    "North Middle Sweden": ("SE31",),
    "Piemonte": ("ITC1",),
    "Saxony": ("DED2", "DED4", "DED5"),
    "Slovenia": ("SI03", "SI04"),
    "Wallonia": ("BE31", "BE32", "BE33", "BE34", "BE35"),
}
"""Pilot name -> NUTS 2021 level-2 codes."""

EXCLUDED_FROM_CONTROLS: dict[str, tuple[str, ...]] = {
    "Grand Est": ("FRF1", "FRF2", "FRF3"),
    "Greater Manchester": ("UKD3",),
}
"""The 11th and 12th pilots of the action (no cluster-policy advice) -> NUTS-2 codes (Grand
Est in NUTS 2021, Greater Manchester in NUTS 2016, the last version with the UK). Never
controls: treated by the rest of the action from 2018 (module docstring)."""

EXCLUSION_REASON = (
    "pilot of the action on regions in industrial transition (from 2018) without the "
    "cluster-policy advice: treated by the rest of the action, so not a clean control")
"""Why the regions of :data:`EXCLUDED_FROM_CONTROLS` are not controls (shown in notebook 07)."""

COUNTRY_PILOTS: frozenset[str] = frozenset({"Lithuania", "Slovenia"})
"""Pilots that are a whole country (all its NUTS-2 regions)."""

PILOT_START_YEAR = 2018
"""First year of pilot actions (the pilot action was launched in December 2017)."""


class PilotRegionError(EocicError, ValueError):
    """A pilot code is not a NUTS-2 region of the NUTS version asked for."""


def pilot_of() -> dict[str, str]:
    """``{NUTS-2 code: pilot name}``."""
    return {code: name for name, codes in PILOT_REGIONS.items() for code in codes}


def excluded_regions(available: set[str] | frozenset[str] | None = None) -> pd.DataFrame:
    """The regions kept out of the control pool, named: ``pilot, geo, name, nuts_version,
    in_data, reason``.

    ``available``: the regions of the run's data (``in_data`` says whether each excluded
    region is there; Greater Manchester is absent from NUTS 2021 data, so excluding it changes
    nothing on such data, and the notebook says so). Names come from ``eocic.nuts`` (Grand Est
    from NUTS 2021, Greater Manchester from NUTS 2021 with the UK).
    """
    from eocic.nuts import regions

    names = regions(2021, 2, include_uk=True).set_index("geo")["name"]
    rows = []
    for pilot, codes in EXCLUDED_FROM_CONTROLS.items():
        for code in codes:
            rows.append({"pilot": pilot, "geo": code, "name": names.get(code, pilot),
                         "nuts_version": "2016 (UK)" if code.startswith("UK") else "2021",
                         "in_data": None if available is None else code in available,
                         "reason": EXCLUSION_REASON})
    return pd.DataFrame(rows)


def never_controls() -> frozenset[str]:
    """Every NUTS-2 code that may not be a control: the ten seed pilots' parts and
    :data:`EXCLUDED_FROM_CONTROLS`."""
    excluded = {code for codes in EXCLUDED_FROM_CONTROLS.values() for code in codes}
    return frozenset(pilot_of()) | frozenset(excluded)


def pilot_regions(version: int = 2021) -> pd.DataFrame:
    """The pilots' NUTS-2 regions with their names.

    Returns ``pilot, geo, name, country, country_pilot`` (bool), sorted by pilot and geo.

    Raises
    ------
    PilotRegionError
        If a code is not a NUTS-2 region of ``version`` (the mapping is for NUTS 2021).
    """
    from eocic.nuts import regions

    names = regions(version, 2).set_index("geo")
    rows = []
    for pilot, codes in PILOT_REGIONS.items():
        for code in codes:
            if code not in names.index:
                raise PilotRegionError(
                    f"pilot {pilot}: {code} is not a NUTS-2 region of NUTS {version}; the pilot "
                    "mapping is for NUTS 2021 (harmonise the data to NUTS 2021 first)")
            rows.append({"pilot": pilot, "geo": code, "name": names.loc[code, "name"],
                         "country": names.loc[code, "country"],
                         "country_pilot": pilot in COUNTRY_PILOTS})
    if version == 2021:
        for pilot in COUNTRY_PILOTS:
            country = PILOT_REGIONS[pilot][0][:2]
            all_codes = set(names.index[names["country"] == country])
            if all_codes != set(PILOT_REGIONS[pilot]):
                raise PilotRegionError(f"country pilot {pilot}: NUTS 2021 has {sorted(all_codes)}, "
                                       f"the mapping {PILOT_REGIONS[pilot]}")
    return pd.DataFrame(rows).sort_values(["pilot", "geo"], kind="mergesort").reset_index(drop=True)


def aggregate_levels(frame: pd.DataFrame, levels: list[str],
                     ratios: dict[str, tuple[str, str]] | None = None,
                     keys: tuple[str, ...] = ("year",)) -> pd.DataFrame:
    """Sum additive levels over each pilot's NUTS-2 regions, then form ratios of the sums.

    Parameters
    ----------
    frame : DataFrame
        ``geo`` plus ``keys`` plus the ``levels`` columns (one row per region x keys).
    levels : list of str
        Additive columns (persons, EUR, enterprises); a pilot-year with a missing part is
        missing (never a partial sum), and ``parts`` counts the parts found.
    ratios : dict, optional
        ``{name: (numerator, denominator)}`` computed on the sums.

    Returns
    -------
    DataFrame
        ``pilot`` + keys + levels + ratio names + ``parts``, sorted.
    """
    membership = pilot_of()
    parts = frame[frame["geo"].isin(membership)].assign(pilot=lambda f: f["geo"].map(membership))
    group_keys = ["pilot", *keys]
    grouped = parts.groupby(group_keys, sort=True)
    summed = grouped[levels].sum(min_count=1)
    complete = grouped[levels].count()
    expected = summed.index.get_level_values("pilot").map(lambda p: len(PILOT_REGIONS[p]))
    for column in levels:
        summed[column] = summed[column].where(complete[column].to_numpy() == expected.to_numpy())
    summed["parts"] = grouped.size().to_numpy()
    for name, (numerator, denominator) in (ratios or {}).items():
        summed[name] = summed[numerator] / summed[denominator]
    return summed.reset_index()


def peer_sets(peers: pd.DataFrame | None, k: int = 5) -> dict[str, list[str]]:
    """``{pilot: sorted non-pilot peers}``: the union of the ``k`` best-ranked peers of the
    pilot's NUTS-2 parts (``peers``: ``geo, peer, rank``). Empty lists without peers."""
    membership = pilot_of()
    result: dict[str, list[str]] = {name: [] for name in PILOT_REGIONS}
    if peers is None or peers.empty:
        return result
    chosen = peers[peers["geo"].isin(membership) & ~peers["peer"].isin(membership)]
    chosen = chosen.sort_values(["geo", "rank", "peer"], kind="mergesort").groupby("geo").head(k)
    for geo, part in chosen.groupby("geo"):
        result[membership[geo]] = sorted(set(result[membership[geo]]) | set(part["peer"]))
    return result


def cluster_profile(year: int, *, sbs: pd.DataFrame, totals: pd.DataFrame,
                    cluster_mapping: pd.DataFrame | None = None,
                    scheme: str = "cluster") -> tuple[pd.DataFrame, str]:
    """Per region: ``geo, clusters, starred_employment, regional_employment`` in ``year``.

    From the cluster mapping (categories of ``scheme`` with ``is_cluster``) when given, else
    the proxy: divisions with ``LQ >= 2`` (the specialisation star) from ``sbs``. Returns the
    table and the basis used.
    """
    from eocic import measures

    if cluster_mapping is not None:
        rows = cluster_mapping[(cluster_mapping["scheme"] == scheme)
                               & (cluster_mapping["year"] == year)].copy()
        rows["starred"] = rows["employment"].where(rows["is_cluster"].fillna(False).astype(bool), 0.0)
        grouped = rows.groupby("geo", sort=True)
        table = pd.DataFrame({"clusters": grouped["is_cluster"].sum().astype("int64"),
                              "starred_employment": grouped["starred"].sum(),
                              "regional_employment": grouped["regional_employment"].first()})
        basis = f"cluster mapping, scheme {scheme}"
    else:
        lq = measures.division_location_quotients(sbs, totals, year)
        lq["starred"] = lq["employment"].where(lq["lq"] >= 2, 0.0)
        grouped = lq.groupby("geo", sort=True)
        table = pd.DataFrame({"clusters": (lq["lq"] >= 2).groupby(lq["geo"]).sum().astype("int64"),
                              "starred_employment": grouped["starred"].sum(),
                              "regional_employment": grouped["regional_employment"].first()})
        basis = "proxy: SBS divisions with LQ >= 2"
    return table.reset_index(), basis


def pilot_vs_peers(regional: pd.DataFrame, levels: list[str], ratios: dict[str, tuple[str, str]],
                   peers: dict[str, list[str]]) -> pd.DataFrame:
    """Pilot aggregates (sum of levels, then ratios) beside the median over its peer regions.

    ``regional``: ``geo`` + ``levels`` (one row per region). Returns ``pilot, parts,
    n_peers`` and for each level and ratio ``<name>_pilot`` and ``<name>_peers``.
    """
    pilots = aggregate_levels(regional.assign(year=0), levels, ratios).drop(columns="year")
    values = regional.set_index("geo")
    for name, (numerator, denominator) in ratios.items():
        values[name] = values[numerator] / values[denominator]
    rows = []
    for _, row in pilots.iterrows():
        members = [p for p in peers.get(row["pilot"], []) if p in values.index]
        record = {"pilot": row["pilot"], "parts": int(row["parts"]), "n_peers": len(members)}
        for column in [*levels, *ratios]:
            record[f"{column}_pilot"] = row[column]
            record[f"{column}_peers"] = (float(values.loc[members, column].median())
                                         if members else float("nan"))
        rows.append(record)
    return pd.DataFrame(rows)


def scoreboard_profile(scoreboard: pd.DataFrame, peers: dict[str, list[str]], year: int,
                       weights: pd.Series, level: str = "dimension") -> pd.DataFrame:
    """Scoreboard scores of each pilot beside its peers' median.

    Scores cannot be summed: the pilot value is the mean of its parts' scores weighted by
    ``weights`` (e.g. SBS employment, indexed by geo), with the parts' minimum and maximum.
    Returns ``pilot, code, name, score_pilot, score_min, score_max, score_peers``.
    """
    rows = scoreboard[(scoreboard["year"] == year) & (scoreboard["level"] == level)]
    result = []
    for (code, name), part in rows.groupby(["code", "name"], sort=True):
        scores = part.set_index("geo")["score"]
        for pilot, codes in PILOT_REGIONS.items():
            own = scores.reindex(list(codes)).dropna()
            weight = weights.reindex(own.index).fillna(0.0)
            value = (float((own * weight).sum() / weight.sum()) if weight.sum() > 0
                     else float(own.mean()) if len(own) else float("nan"))
            members = [p for p in peers.get(pilot, []) if p in scores.index]
            result.append({"pilot": pilot, "code": code, "name": name, "score_pilot": value,
                           "score_min": float(own.min()) if len(own) else float("nan"),
                           "score_max": float(own.max()) if len(own) else float("nan"),
                           "score_peers": float(scores.loc[members].median()) if members
                           else float("nan")})
    return pd.DataFrame(result)
