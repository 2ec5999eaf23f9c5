"""Eurostat observation flags: code lists, meanings, confidentiality, retired codes.

Eurostat attaches one or more letters to an observation (``12.5 bp``, ``: c``). Since
27 January 2025 the flags come from two SDMX code lists: OBS_STATUS (lower case) and
CONF_STATUS (upper case). Files published before that date use the older single list.
Both are accepted, case-sensitively, several letters per cell.

Reference: Eurostat, "Database - flags and special values"
(https://ec.europa.eu/eurostat/web/main/data/database), the 2025 code-list change.

Conventions that are not flags: ``:`` is a missing value, ``0`` a real zero, and ``0n``
a value below half the unit used (a value 0 with flag ``n``).
"""

from __future__ import annotations

import pandas as pd

#: Flags used before 27 January 2025 (one list, lower case).
LEGACY_FLAGS: dict[str, str] = {
    "b": "break in time series",
    "c": "confidential",
    "d": "definition differs (see metadata)",
    "e": "estimated",
    "f": "forecast",
    "i": "see metadata (phased out)",
    "n": "not significant",
    "p": "provisional",
    "r": "revised",
    "s": "Eurostat estimate",
    "u": "low reliability",
    "z": "not applicable",
}

#: OBS_STATUS code list, since 27 January 2025 (lower case).
OBS_STATUS: dict[str, str] = {
    "b": "break in time series",
    "d": "definition differs (see metadata)",
    "e": "estimated",
    "f": "forecast",
    "i": "value imputed by Eurostat or other receiving agencies",
    "m": "missing value, data cannot exist",
    "n": "not significant",
    "p": "provisional",
    "u": "low reliability",
}

#: CONF_STATUS code list, since 27 January 2025 (upper case).
CONF_STATUS: dict[str, str] = {
    "C": "confidential",
    "N": "not for publication",
    "P": "information under non-statistical secrecy arrangements",
}

#: Retired legacy code -> its 2025 replacement (``c`` moved to CONF_STATUS as ``C``).
RETIRED_CODES: dict[str, str] = {"s": "i", "z": "m", "c": "C"}

#: Every letter the readers accept without a warning.
KNOWN_FLAGS: frozenset[str] = frozenset(LEGACY_FLAGS) | frozenset(OBS_STATUS) | frozenset(CONF_STATUS)

#: Letters that mean the value is withheld for confidentiality or secrecy.
CONFIDENTIAL_FLAGS: frozenset[str] = frozenset({"c", "C", "N", "P"})


def describe(code: str) -> str:
    """Meaning of one flag letter, naming the code list(s) it belongs to.

    A letter present in both lists with different meanings (``i``) gives both.

    Raises
    ------
    KeyError
        If ``code`` is not a known flag letter (flags are case-sensitive).
    """
    meanings = []
    if code in OBS_STATUS:
        meanings.append(f"{OBS_STATUS[code]} (OBS_STATUS)")
    if code in CONF_STATUS:
        meanings.append(f"{CONF_STATUS[code]} (CONF_STATUS)")
    if code in LEGACY_FLAGS and (code not in OBS_STATUS or LEGACY_FLAGS[code] != OBS_STATUS[code]):
        meanings.append(f"{LEGACY_FLAGS[code]} (before 2025)")
    if not meanings:
        raise KeyError(f"unknown Eurostat flag {code!r}; known flags: {''.join(sorted(KNOWN_FLAGS))}")
    return "; ".join(meanings)


def is_confidential(flags: pd.Series) -> pd.Series:
    """True where the flags mark the value as withheld.

    Decision: confidential means any of ``c`` (legacy), ``C`` (confidential), ``N`` (not
    for publication) or ``P`` (non-statistical secrecy arrangement). All four stand for a
    value that exists but is not disseminated, unlike ``:`` alone (not available) or
    ``m``/``z`` (cannot exist). Matching is case-sensitive: ``n`` (not significant) and
    ``p`` (provisional) are not confidential.

    Parameters
    ----------
    flags : pandas.Series
        Flag strings as returned by the readers (``""`` when none; missing is treated
        as no flag).

    Returns
    -------
    pandas.Series of bool, same index.
    """
    text = flags.astype("string").fillna("")
    return text.str.contains("[cCNP]", regex=True).astype(bool)


def to_2025_codes(flags: pd.Series) -> pd.Series:
    """Replace retired legacy letters by their 2025 codes (``s``->``i``, ``z``->``m``,
    ``c``->``C``), keeping the letter order; other letters are left as they are.

    Note the legacy ``i`` ("see metadata") and ``r`` ("revised") have no 2025 code and
    are kept unchanged.
    """
    table = str.maketrans(RETIRED_CODES)
    text = flags.astype("string").fillna("")
    return text.map(lambda cell: cell.translate(table)).astype(flags.dtype)
