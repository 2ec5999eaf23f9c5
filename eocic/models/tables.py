"""Side-by-side regression tables (coefficients, SEs, stars, N, R-squared, fixed effects) and
their export to HTML, LaTeX and CSV.

Layout (one column per model, as in journal tables)::

                                   Employment (1)   Employment (2)
    ln LQ own sector, t0              -0.0198***       -0.0201***
                                      (0.0002)         (0.0002)
    ...
    Region FE                          Yes              Yes
    N                                  16,057           16,057
    R-squared                          0.690            0.724

    ...
    SE clusters used (regions)         271              271

Stars: *** p < 0.01, ** p < 0.05, * p < 0.1, two-sided, from the distribution the inference
settings name (by default t(G-1) for OLS with clustered SEs, normal for PPML). The rows end
with N (observations used, singletons dropped), the number of SE clusters *used* (with at
least one observation in the estimation sample) and the fixed effects; the first notes give,
for every column, the SE type, the small-sample correction, the singletons dropped and the
distribution of the test statistic (:meth:`eocic.models.engine.Inference.describe`), then the
sample construction, proxies and columns not estimated.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from eocic.atomic import write_text_atomic
from eocic.models.estimation import FE_LABELS, RegressionResults, TableResults
from eocic.models.variables import VARIABLE_LABELS

STAR_LEVELS = ((0.01, "***"), (0.05, "**"), (0.10, "*"))
STAR_NOTE = "*** p<0.01, ** p<0.05, * p<0.1"


def stars(pvalue: float) -> str:
    """Significance stars: ``***`` below 1%, ``**`` below 5%, ``*`` below 10%."""
    for level, mark in STAR_LEVELS:
        if pvalue < level:
            return mark
    return ""


def _terms(results: list[RegressionResults]) -> list[str]:
    terms: list[str] = []
    for result in results:
        for term in result.regressors:
            if term not in terms:
                terms.append(term)
    return terms


def _term_label(term: str, results: list[RegressionResults]) -> str:
    label = VARIABLE_LABELS.get(term, term)
    stands_for = {r.proxies.get(term) for r in results if r.proxies.get(term)}
    if stands_for:
        label += " [proxy for " + ", ".join(
            VARIABLE_LABELS.get(s, s) for s in sorted(stands_for)) + "]"
    return label


#: The unit a cluster of the standard errors is, in words.
SE_CLUSTER_UNITS = {"geo": "regions", "country": "countries", "nace_r2": "sectors",
                    "section": "sections", "category": "cluster categories", "year": "years"}


def _se_cluster_label(results: list[RegressionResults]) -> str:
    """Row label of the number of clusters of the standard errors, e.g. ``SE clusters
    (regions)``: the groups of the cluster-robust covariance, not industrial clusters."""
    groups = list(dict.fromkeys(
        " x ".join(SE_CLUSTER_UNITS.get(g, g) for g in r.spec.covariance.groups)
        for r in results if r.spec.covariance.kind == "cluster"))
    return "SE clusters used" + (f" ({'; '.join(groups)})" if groups else "")


def regression_table(estimated: TableResults, digits: int = 4) -> pd.DataFrame:
    """The side-by-side table as strings: rows = coefficient/SE pairs then statistics.

    The index holds the row labels (an SE row has an empty label); columns are the model names.
    """
    results = estimated.results
    columns = [r.spec.name for r in results]
    rows: list[tuple[str, list[str]]] = []
    for term in _terms(results):
        coefficient, error = [], []
        for r in results:
            if r.estimated and term in r.regressors:
                coefficient.append(f"{r.params[term]:.{digits}f}{stars(r.pvalues[term])}")
                error.append(f"({r.bse[term]:.{digits}f})")
            else:
                coefficient.append("")
                error.append("")
        rows.append((_term_label(term, results), coefficient))
        rows.append(("", error))
    rows.append(("Dependent variable", [
        VARIABLE_LABELS.get(r.dependent, r.dependent) + (" [proxy]" if r.dependent in r.proxies
                                                        else "") for r in results]))
    rows.append(("Estimator", [r.spec.estimator.upper() if r.estimated else "not estimated"
                               for r in results]))
    fixed = list(dict.fromkeys(fe for r in results for fe in r.spec.fixed_effects))
    for fe in fixed:
        rows.append((FE_LABELS.get(fe, f"{fe} FE"), [
            ("Yes" if fe in r.spec.fixed_effects else "No") if r.estimated else ""
            for r in results]))
    rows.append(("N", [f"{r.nobs:,}" if r.estimated else "" for r in results]))
    rows.append(("R-squared", [
        (f"{r.rsquared:.3f}" + (" (pseudo)" if r.spec.estimator == "ppml" else ""))
        if r.estimated else "" for r in results]))
    rows.append((_se_cluster_label(results), [
        f"{r.n_groups:,}" if r.estimated and r.n_groups else "" for r in results]))
    table = pd.DataFrame([values for _, values in rows], columns=columns,
                         index=[label for label, _ in rows])
    table.index.name = estimated.table.name
    return table


def table_notes(estimated: TableResults) -> list[str]:
    """Notes under a table: stars, inference settings (SE type, small-sample correction,
    singletons, distribution; one line shared by the columns, or one per column when they
    differ), sample, proxies and per-column notes."""
    results = estimated.results
    notes = [f"{STAR_NOTE}. Standard errors in parentheses."]
    inference = {r.spec.name: r.inference_note for r in results if r.estimated}
    if len(set(inference.values())) == 1:
        notes.append(f"Inference: {next(iter(inference.values()))}.")
    else:
        notes.extend(f"Inference, {name}: {text}." for name, text in inference.items())
    if estimated.common_sample:
        notes.append("All columns are estimated on the same sample (rows usable in every "
                     "column).")
    else:
        notes.append("Each column uses every row usable for it; N differs across columns.")
    if estimated.table.reference:
        notes.append(f"Design follows {estimated.table.reference}.")
    notes.extend(estimated.table.notes)
    notes.extend(estimated.sample_notes)
    seen: set[str] = set()
    for r in results:
        for note in r.notes:
            text = note.split(": ", 1)[1] if ": " in note else note
            if r.estimated and text in seen:
                continue
            seen.add(text)
            notes.append(note)
    return notes


def to_html(estimated: TableResults, digits: int = 4) -> str:
    """A self-contained HTML fragment: caption, table and notes."""
    table = regression_table(estimated, digits)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = []
    for label, values in table.iterrows():
        cells = "".join(f"<td>{html.escape(v)}</td>" for v in values)
        body.append(f"<tr><th>{html.escape(str(label))}</th>{cells}</tr>")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in table_notes(estimated))
    title = html.escape(f"Table {estimated.table.name}. {estimated.table.title}")
    return (
        '<div class="eocic-regression-table">\n'
        f'<table class="regression">\n<caption>{title}</caption>\n'
        f"<thead><tr><th></th>{head}</tr></thead>\n<tbody>\n" + "\n".join(body)
        + "\n</tbody>\n</table>\n"
        f'<ul class="notes">{notes}</ul>\n</div>\n')


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}", "<": r"$<$", ">": r"$>$"}


def latex_escape(text: str) -> str:
    """Escape LaTeX special characters."""
    return "".join(_LATEX_SPECIAL.get(char, char) for char in str(text))


def _latex_cell(value: str) -> str:
    mark = len(value) - len(value.rstrip("*"))
    if mark:
        return latex_escape(value[:-mark]) + "$^{" + "*" * mark + "}$"
    return latex_escape(value)


def to_latex(estimated: TableResults, digits: int = 4) -> str:
    """A ``table`` environment with a booktabs ``tabular`` and the notes as a footnote block
    (needs ``\\usepackage{booktabs}``)."""
    table = regression_table(estimated, digits)
    n = len(table.columns)
    lines = [
        r"\begin{table}[htbp]\centering",
        r"\caption{" + latex_escape(f"Table {estimated.table.name}. {estimated.table.title}") + "}",
        r"\label{tab:eocic-" + latex_escape(estimated.table.name.lower()) + "}",
        r"\small",
        r"\begin{tabular}{l" + "c" * n + "}",
        r"\toprule",
        " & " + " & ".join(latex_escape(c) for c in table.columns) + r" \\",
        r"\midrule",
    ]
    statistics_start = table.index.get_loc("Dependent variable")
    for position, (label, values) in enumerate(table.iterrows()):
        if position == statistics_start:
            lines.append(r"\midrule")
        lines.append(latex_escape(label) + " & " + " & ".join(_latex_cell(v) for v in values)
                     + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}",
              r"\par\medskip\begin{minipage}{0.95\linewidth}\footnotesize"]
    lines += [latex_escape(note) + r"\par" for note in table_notes(estimated)]
    lines += [r"\end{minipage}", r"\end{table}", ""]
    return "\n".join(lines)


def write_tables(estimated: list[TableResults], out_dir: str | Path, digits: int = 4
                 ) -> list[Path]:
    """Write every table as ``<out_dir>/table_<name>.html``, ``.tex`` and ``.csv``.

    The CSV holds the displayed strings (rows as in the table) followed by the notes, one per
    row. Returns the written paths.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in estimated:
        stem = out / f"table_{table.table.name}"
        written.append(write_text_atomic(stem.with_suffix(".html"), to_html(table, digits)))
        written.append(write_text_atomic(stem.with_suffix(".tex"), to_latex(table, digits)))
        frame = regression_table(table, digits).reset_index()
        frame.columns = ["row"] + list(frame.columns[1:])
        notes = pd.DataFrame({"row": [f"Note: {n}" for n in table_notes(table)]})
        written.append(write_text_atomic(stem.with_suffix(".csv"),
                                         pd.concat([frame, notes]).fillna("").to_csv(index=False)))
    return written
