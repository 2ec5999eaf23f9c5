"""Stylised parameters of the demo economy by NACE division, section and country.

Magnitudes are rounded, plausible orders of size for the EU around 2008 (typed by hand, not
copied from any data file); they only give the synthetic data a realistic shape.
"""

from __future__ import annotations

from typing import NamedTuple


class DivisionProfile(NamedTuple):
    """Shape parameters of one NACE division.

    employment_thousands : persons employed in the EU-27 business economy around 2008 (1000s)
    relative_wage : wages and salaries per person employed relative to the national average
    persons_per_unit : average persons employed per local unit
    trend_growth : mu_i, trend annual log growth of employment
    crisis_sensitivity : loading on the 2009 recession path
    pandemic_sensitivity : loading on the 2020 pandemic path
    """

    employment_thousands: float
    relative_wage: float
    persons_per_unit: float
    trend_growth: float
    crisis_sensitivity: float
    pandemic_sensitivity: float


_P = DivisionProfile
DIVISION_PROFILES: dict[str, DivisionProfile] = {
    "B05": _P(200, 1.30, 60, -0.040, 0.8, 0.5), "B06": _P(50, 1.90, 40, -0.020, 0.8, 0.5),
    "B07": _P(40, 1.30, 40, -0.010, 1.2, 0.5), "B08": _P(200, 1.00, 8, -0.010, 1.5, 0.5),
    "B09": _P(40, 1.50, 20, 0.000, 1.2, 0.8),
    "C10": _P(4500, 0.80, 12, 0.000, 0.5, 0.3), "C11": _P(450, 1.00, 10, 0.000, 0.5, 0.8),
    "C12": _P(40, 1.40, 60, -0.030, 0.3, 0.2), "C13": _P(500, 0.75, 9, -0.025, 1.5, 0.8),
    "C14": _P(800, 0.55, 7, -0.035, 1.5, 1.0), "C15": _P(350, 0.60, 9, -0.020, 1.5, 1.0),
    "C16": _P(900, 0.80, 6, -0.010, 1.8, 0.5), "C17": _P(600, 1.15, 30, -0.010, 1.0, 0.5),
    "C18": _P(600, 0.95, 6, -0.030, 1.2, 0.8), "C19": _P(150, 1.80, 80, -0.010, 0.5, 0.5),
    "C20": _P(1100, 1.45, 30, 0.000, 1.0, 0.3), "C21": _P(600, 1.70, 60, 0.010, 0.3, 0.1),
    "C22": _P(1500, 1.05, 20, 0.000, 1.5, 0.8), "C23": _P(1200, 1.00, 10, -0.015, 1.8, 0.6),
    "C24": _P(900, 1.25, 40, -0.010, 2.0, 0.8), "C25": _P(3500, 1.00, 8, 0.000, 1.8, 0.8),
    "C26": _P(1000, 1.35, 25, -0.005, 1.5, 0.5), "C27": _P(1400, 1.20, 25, 0.000, 1.5, 0.6),
    "C28": _P(2900, 1.25, 20, 0.005, 2.0, 0.8), "C29": _P(2600, 1.35, 60, 0.005, 2.5, 1.2),
    "C30": _P(550, 1.40, 40, 0.005, 1.2, 1.5), "C31": _P(900, 0.75, 6, -0.015, 1.5, 0.6),
    "C32": _P(900, 0.90, 4, 0.000, 1.0, 0.6), "C33": _P(1100, 1.05, 6, 0.005, 1.0, 0.5),
    "D35": _P(1100, 1.70, 15, 0.000, 0.2, 0.1),
    "E36": _P(450, 1.10, 20, 0.000, 0.2, 0.1), "E37": _P(150, 1.05, 10, 0.000, 0.2, 0.1),
    "E38": _P(1000, 1.00, 12, 0.010, 0.5, 0.2), "E39": _P(50, 1.00, 8, 0.005, 0.5, 0.2),
    "F41": _P(4000, 0.85, 4, -0.005, 2.5, 0.5), "F42": _P(1500, 1.00, 10, -0.005, 1.5, 0.3),
    "F43": _P(8000, 0.80, 3, 0.005, 2.0, 0.4),
    "G45": _P(3800, 0.85, 4, 0.000, 1.2, 0.6), "G46": _P(9500, 1.05, 5, 0.003, 1.0, 0.5),
    "G47": _P(16000, 0.60, 4, 0.002, 0.6, 0.8),
    "H49": _P(6500, 0.90, 5, 0.005, 1.0, 0.8), "H50": _P(200, 1.20, 10, -0.005, 1.0, 1.5),
    "H51": _P(350, 1.55, 50, 0.010, 1.0, 4.0), "H52": _P(2800, 1.10, 15, 0.012, 1.0, 1.0),
    "H53": _P(1500, 0.85, 20, 0.008, 0.5, 0.2),
    "I55": _P(2800, 0.55, 8, 0.012, 0.8, 4.0), "I56": _P(9000, 0.45, 5, 0.015, 0.8, 3.0),
    "J58": _P(700, 1.35, 10, -0.010, 0.8, 0.3), "J59": _P(400, 1.20, 4, 0.005, 0.8, 1.0),
    "J60": _P(250, 1.50, 25, -0.005, 0.5, 0.3), "J61": _P(900, 1.60, 25, -0.010, 0.5, 0.2),
    "J62": _P(3500, 1.60, 5, 0.035, 0.8, 0.1), "J63": _P(450, 1.40, 5, 0.030, 0.8, 0.2),
    "K64": _P(2800, 1.85, 15, -0.003, 0.5, 0.1), "K65": _P(900, 1.75, 20, 0.000, 0.5, 0.1),
    "K66": _P(1300, 1.50, 4, 0.010, 0.5, 0.2),
    "L68": _P(2800, 0.75, 2, 0.010, 1.0, 0.3),
    "M69": _P(4000, 1.00, 3, 0.012, 0.4, 0.2), "M70": _P(3000, 1.40, 4, 0.020, 0.8, 0.3),
    "M71": _P(3000, 1.15, 3, 0.012, 1.2, 0.3), "M72": _P(600, 1.45, 10, 0.015, 0.3, 0.1),
    "M73": _P(1000, 1.10, 4, 0.008, 1.0, 0.6), "M74": _P(1500, 0.95, 2, 0.015, 0.8, 0.5),
    "M75": _P(300, 0.70, 3, 0.015, 0.2, 0.1),
    "N77": _P(900, 0.95, 6, 0.010, 1.2, 1.0), "N78": _P(3800, 0.70, 30, 0.020, 3.0, 1.5),
    "N79": _P(550, 0.80, 5, 0.005, 1.0, 5.0), "N80": _P(1200, 0.65, 20, 0.008, 0.5, 0.3),
    "N81": _P(4500, 0.50, 8, 0.012, 0.5, 0.5), "N82": _P(2000, 0.80, 5, 0.018, 0.8, 0.6),
    "S95": _P(400, 0.65, 2, -0.005, 0.5, 0.5),
}


class SectionProfile(NamedTuple):
    """Business demography rates of a NACE section (shares of active enterprises per year).

    birth_rate : enterprise births / active enterprises
    death_rate : enterprise deaths / active enterprises
    high_growth_rate : high-growth enterprises (employment growth >= 10 %/year over 3 years,
        10+ employees) / active enterprises
    enterprises_per_unit : active enterprises per local unit
    """

    birth_rate: float
    death_rate: float
    high_growth_rate: float
    enterprises_per_unit: float


SECTION_PROFILES: dict[str, SectionProfile] = {
    "B": SectionProfile(0.05, 0.05, 0.020, 0.85), "C": SectionProfile(0.05, 0.05, 0.025, 0.90),
    "D": SectionProfile(0.12, 0.05, 0.010, 0.80), "E": SectionProfile(0.05, 0.04, 0.020, 0.85),
    "F": SectionProfile(0.10, 0.09, 0.010, 0.95), "G": SectionProfile(0.08, 0.08, 0.008, 0.85),
    "H": SectionProfile(0.08, 0.08, 0.012, 0.90), "I": SectionProfile(0.10, 0.10, 0.010, 0.90),
    "J": SectionProfile(0.12, 0.09, 0.020, 0.95), "K": SectionProfile(0.08, 0.07, 0.008, 0.80),
    "L": SectionProfile(0.07, 0.06, 0.004, 0.95), "M": SectionProfile(0.11, 0.08, 0.010, 0.97),
    "N": SectionProfile(0.12, 0.10, 0.020, 0.92),
}


class CountryProfile(NamedTuple):
    """Country-level levels around 2008.

    gdp_per_head : GDP at current market prices per inhabitant, EUR
    price_level : price level index of GDP, EU-27 = 1 (PPS = EUR / price_level)
    unit_size : multiplier on persons per local unit
    lifelong_learning : adult participation in education and training, % of 25-64
    agriculture_share : share of agriculture (NACE A) in total employment
    population_trend : annual log growth of population
    """

    gdp_per_head: float
    price_level: float
    unit_size: float
    lifelong_learning: float
    agriculture_share: float
    population_trend: float


_C = CountryProfile
COUNTRY_PROFILES: dict[str, CountryProfile] = {
    "AT": _C(35100, 1.05, 1.2, 13.0, 0.05, 0.005), "BE": _C(32300, 1.08, 1.1, 7.0, 0.015, 0.006),
    "BG": _C(5000, 0.45, 0.9, 1.5, 0.18, -0.007), "CY": _C(23500, 0.90, 0.8, 8.0, 0.04, 0.010),
    "CZ": _C(15000, 0.65, 0.9, 8.0, 0.03, 0.002), "DE": _C(30600, 1.02, 1.3, 8.0, 0.015, 0.002),
    "DK": _C(43500, 1.35, 1.2, 30.0, 0.025, 0.004), "EE": _C(12400, 0.70, 1.0, 10.0, 0.04, -0.002),
    "EL": _C(21800, 0.85, 0.6, 3.0, 0.11, -0.004), "ES": _C(24300, 0.92, 0.7, 10.0, 0.04, 0.004),
    "FI": _C(35000, 1.20, 1.1, 23.0, 0.045, 0.003), "FR": _C(30800, 1.08, 1.0, 6.0, 0.03, 0.004),
    "HR": _C(11000, 0.70, 0.9, 2.5, 0.10, -0.006), "HU": _C(10600, 0.58, 0.8, 3.0, 0.05, -0.002),
    "IE": _C(41000, 1.25, 1.1, 7.0, 0.05, 0.010), "IT": _C(26900, 1.00, 0.6, 6.0, 0.04, 0.001),
    "LT": _C(10200, 0.60, 0.9, 5.0, 0.08, -0.010), "LU": _C(80000, 1.25, 1.2, 10.0, 0.01, 0.020),
    "LV": _C(11000, 0.65, 0.9, 6.0, 0.08, -0.010), "MT": _C(15000, 0.78, 0.8, 6.0, 0.01, 0.012),
    "NL": _C(38500, 1.10, 1.1, 17.0, 0.025, 0.004), "PL": _C(9500, 0.60, 0.8, 5.0, 0.14, -0.001),
    "PT": _C(16900, 0.82, 0.7, 7.0, 0.10, -0.002), "RO": _C(6900, 0.52, 0.8, 1.5, 0.25, -0.006),
    "SE": _C(37000, 1.22, 1.1, 25.0, 0.02, 0.008), "SI": _C(18600, 0.80, 0.9, 13.0, 0.07, 0.002),
    "SK": _C(12300, 0.68, 0.9, 3.0, 0.03, 0.001),
}

CRISIS_PATH: dict[int, float] = {
    2009: -0.045, 2010: -0.040, 2011: -0.030, 2012: -0.030, 2013: -0.025, 2014: -0.015,
    2015: -0.008, 2016: -0.003,
}
"""Log deviation of employment from trend caused by the 2009 recession (multiplied by the
division's crisis sensitivity); 0 in years not listed."""

PANDEMIC_PATH: dict[int, float] = {2020: -0.030, 2021: -0.015, 2022: -0.004}
"""Log deviation of employment from trend caused by the 2020 pandemic (multiplied by the
division's pandemic sensitivity); 0 in years not listed."""

GDP_CYCLE_PATH: dict[int, float] = {
    2009: -0.055, 2010: -0.035, 2011: -0.025, 2012: -0.030, 2013: -0.030, 2014: -0.020,
    2015: -0.010, 2020: -0.060, 2021: -0.020,
}
"""Log deviation of GDP per head from its trend path (common to all regions)."""
