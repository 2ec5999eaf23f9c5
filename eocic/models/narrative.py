"""Words from numbers: what the estimates say against the published sign pattern.

Delgado, Porter & Stern (2010, 2014) report convergence (a negative coefficient on the own
initial level or LQ) and positive cluster effects (cluster strength, related clusters). For
every term with an expected sign, :func:`sign_pattern` counts the columns where the estimate
has that sign and is significant at 5%, has it but is not significant, or has the opposite
sign; :func:`describe` turns the counts and the range of estimates into sentences.
"""

from __future__ import annotations

import pandas as pd

from eocic.models.variables import VARIABLE_LABELS

SIGNIFICANCE = 0.05


def sign_pattern(tidy: pd.DataFrame, level: float = SIGNIFICANCE) -> pd.DataFrame:
    """Per table and term with an expected sign: ``spec, term, expected_sign, columns,
    agree_significant, agree_insignificant, opposite_significant, opposite_insignificant,
    coef_min, coef_max, proxy_for``."""
    rows = []
    rated = tidy[tidy["expected_sign"].isin(["+", "-"])]
    for (spec, term), group in rated.groupby(["spec", "term"], sort=False):
        expected = group["expected_sign"].iloc[0]
        agree = group["coef"] > 0 if expected == "+" else group["coef"] < 0
        significant = group["pvalue"] < level
        rows.append({
            "spec": spec, "term": term, "expected_sign": expected, "columns": len(group),
            "agree_significant": int((agree & significant).sum()),
            "agree_insignificant": int((agree & ~significant).sum()),
            "opposite_significant": int((~agree & significant).sum()),
            "opposite_insignificant": int((~agree & ~significant).sum()),
            "coef_min": float(group["coef"].min()), "coef_max": float(group["coef"].max()),
            "proxy_for": ", ".join(sorted(set(group["proxy_for"].dropna()))),
        })
    return pd.DataFrame(rows)


def _verdict(row) -> str:
    n = row["columns"]
    if row["agree_significant"] == n:
        return "matches the published pattern in every column"
    if row["agree_significant"] + row["agree_insignificant"] == n:
        return (f"has the published sign in every column but is significant at 5% in only "
                f"{row['agree_significant']} of {n}")
    if row["opposite_significant"] > 0:
        return (f"contradicts the published pattern: significantly of the opposite sign in "
                f"{row['opposite_significant']} of {n} columns")
    return (f"is mixed: the published sign in {row['agree_significant'] + row['agree_insignificant']} "
            f"of {n} columns, none significantly opposite")


def describe(tidy: pd.DataFrame, level: float = SIGNIFICANCE, digits: int = 4) -> str:
    """Markdown bullet list, one sentence per table and term with an expected sign."""
    pattern = sign_pattern(tidy, level)
    if pattern.empty:
        return "No estimated coefficient has a published expected sign to compare with."
    lines = []
    for row in pattern.to_dict("records"):
        label = VARIABLE_LABELS.get(row["term"], row["term"])
        meaning = "convergence" if row["expected_sign"] == "-" else "a positive cluster effect"
        low, high = row["coef_min"], row["coef_max"]
        span = (f"{low:.{digits}f}" if abs(high - low) < 10 ** -digits
                else f"between {low:.{digits}f} and {high:.{digits}f}")
        stands_for = "; ".join(VARIABLE_LABELS.get(name, name)
                               for name in row["proxy_for"].split(", ") if name)
        proxy = f" (a proxy for {stands_for})" if stands_for else ""
        lines.append(
            f"- **Table {row['spec']}, {label}{proxy}**: estimate {span} across "
            f"{row['columns']} column(s); expected sign {row['expected_sign']} ({meaning}). "
            f"The estimate {_verdict(row)} ({row['agree_significant']} agree and significant, "
            f"{row['agree_insignificant']} agree but not significant, "
            f"{row['opposite_significant'] + row['opposite_insignificant']} opposite).")
    return "\n".join(lines)
