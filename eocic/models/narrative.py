"""Words from numbers: what the estimates say against the published sign pattern.

Delgado, Porter & Stern (2010, 2014) report convergence (a negative coefficient on the own
initial level or LQ) and positive cluster effects (cluster strength, related clusters). For
every term with an expected sign, :func:`sign_pattern` counts the columns where the estimate
has that sign and is significant at 5%, has it but is not significant, or has the opposite
sign; :func:`describe` turns the counts and the range of estimates into sentences.
:func:`overview`, :func:`inference`, :func:`sample_notes` and :func:`caveats` say, in words, what a stage-04 run
estimated, on which samples, and what a reader should keep in mind (proxies, few clusters of the
standard errors, a proxy cluster grouping, models that were not estimated); :func:`summary` is
the "what the estimates say" section of the report.

Everything these functions return is Markdown for a rendered report, and much of it comes from
a user's specification YAML (table and model names, titles, variable names, sample filters) or
from file names: every such value is escaped once here (:func:`eocic.presentation.escape_markdown`,
:func:`~eocic.presentation.markdown_code`), so no part of a user's file is rendered as live HTML
or as Markdown syntax (a link, a code span a backtick could close).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from eocic.presentation import display_path, escape_markdown, markdown_code

from eocic.models.variables import VARIABLE_LABELS

SIGNIFICANCE = 0.05

#: Below this many clusters of the standard errors, cluster-robust inference is fragile
#: (Cameron & Miller 2015, "A practitioner's guide to cluster-robust inference", JHR 50(2)).
FEW_SE_CLUSTERS = 50


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
        label = escape_markdown(VARIABLE_LABELS.get(row["term"], row["term"]))
        meaning = "convergence" if row["expected_sign"] == "-" else "a positive cluster effect"
        low, high = row["coef_min"], row["coef_max"]
        span = (f"{low:.{digits}f}" if abs(high - low) < 10 ** -digits
                else f"between {low:.{digits}f} and {high:.{digits}f}")
        stands_for = "; ".join(escape_markdown(VARIABLE_LABELS.get(name, name))
                               for name in row["proxy_for"].split(", ") if name)
        proxy = f" (a proxy for {stands_for})" if stands_for else ""
        lines.append(
            f"- **Table {escape_markdown(row['spec'])}, {label}{proxy}**: estimate {span} across "
            f"{row['columns']} column(s); expected sign {row['expected_sign']} ({meaning}). "
            f"The estimate {_verdict(row)} ({row['agree_significant']} agree and significant, "
            f"{row['agree_insignificant']} agree but not significant, "
            f"{row['opposite_significant'] + row['opposite_insignificant']} opposite).")
    return "\n".join(lines)


def _labels(names: Iterable[str]) -> str:
    return "; ".join(escape_markdown(VARIABLE_LABELS.get(name, name))
                     for name in sorted(set(names)))


def overview(run) -> str:
    """One Markdown paragraph: the growth window, the tables estimated and the cluster grouping.

    ``run`` is a :class:`eocic.models.regressions.RegressionRun`."""
    names = ", ".join(escape_markdown(t.table.name) for t in run.estimated) or "none"
    return (f"Growth window **{run.t0}-{run.T}** ({run.T - run.t0} years); tables estimated: "
            f"**{names}**. {escape_markdown(run.grouping_note)}")


def sample_notes(sample) -> str:
    """Markdown for one estimation sample (:class:`eocic.models.variables.Sample`): its size
    and how it was built, one bullet per note."""
    unit = sample.unit.replace("_", " x ")
    lines = [f"**{unit}** sample: {len(sample.frame):,} rows, growth {sample.t0}-{sample.T}."]
    lines += [f"- {escape_markdown(note)}" for note in sample.notes]
    return "\n".join(lines)


def sample_status(sample) -> pd.DataFrame:
    """Cells by growth status over the window (rows: continuing, entry, exit, absent, missing;
    columns: the measure), counts as integers; empty when the sample records none."""
    if not len(sample.counts):
        return pd.DataFrame()
    table = sample.counts.pivot_table(index="status", columns="measure", values="cells",
                                      aggfunc="sum", sort=False).fillna(0).astype(int)
    table.columns.name = None
    return table


def caveats(run) -> list[str]:
    """Sentences a reader should see next to the estimates of ``run``
    (:class:`eocic.models.regressions.RegressionRun`):

    * regressors and dependent variables that are proxies, naming the proxied concept;
    * tables with fewer than :data:`FEW_SE_CLUSTERS` clusters of the standard errors;
    * a cluster grouping that is itself a proxy (NACE sections);
    * models that were not estimated, with the reason.
    """
    tidy = run.tidy
    notes = []
    if not tidy.empty:
        proxied = set(tidy["proxy_for"].dropna()) | set(tidy["dependent_proxy_for"].dropna())
        if proxied:
            notes.append(
                f"Some variables are **proxies** (standing in for: {_labels(proxied)}); read "
                "those rows as evidence on the proxy, not on the original concept.")
        few = tidy[tidy["n_groups"].lt(FEW_SE_CLUSTERS).fillna(False).astype(bool)]
        for spec, rows in few.groupby("spec", sort=False):
            low, high = int(rows["n_groups"].min()), int(rows["n_groups"].max())
            count = str(low) if low == high else f"{low}-{high}"
            notes.append(f"Table {escape_markdown(spec)} has only {count} clusters of the "
                         "standard errors: "
                         "cluster-robust inference is fragile with so few.")
    if run.grouping_note.startswith("PROXY"):
        notes.append(escape_markdown(run.grouping_note))
    for table in run.estimated:
        for result in table.results:
            if not result.estimated:
                notes.append(f"{escape_markdown(result.spec.label)} was not estimated: "
                             f"{escape_markdown(result.skipped)}.")
    return notes


def inference(run) -> str:
    """Markdown: how the standard errors and p-values of ``run`` were computed, and whether
    that is fixest's default (:mod:`eocic.models.engine`): clustered SEs with (N-1)/(N-K) x
    G/(G-1), fixed effects nested in the clusters left out of K, singletons dropped, t(G-1)
    p-values for OLS and normal ones for PPML. Tables whose settings differ from the default
    are named, with their settings; singletons dropped are counted per table."""
    from eocic.models import engine

    default = engine.Inference()
    fields = ("k_adj", "k_fixef", "G_adj", "G_df", "fixef_rm", "distribution")
    deviating, dropped = [], {}
    for table in run.estimated:
        estimated = [r for r in table.results if r.estimated]
        if any(tuple(getattr(r.spec.inference, f) for f in fields)
               != tuple(getattr(default, f) for f in fields) for r in estimated):
            deviating.append(table.table.name)
        counts = sorted({r.singletons for r in estimated})
        if counts and counts[-1]:
            dropped[table.table.name] = (f"{counts[0]:,} in each column" if len(counts) == 1
                                         else f"{counts[0]:,}-{counts[-1]:,} per column")
    text = ("**Inference.** Estimated with pyfixest (fixed effects absorbed). By default the "
            "settings follow fixest: standard errors clustered as each table says, times "
            "(N-1)/(N-K) x G/(G-1) with fixed effects nested in the clusters not counted in K; "
            "observations alone in a fixed-effect group (singletons) dropped, so they count "
            "neither in N nor as clusters; p-values and 95% intervals from t(G-1) for OLS and "
            "from the normal for PPML. ")
    if deviating:
        names = ", ".join(escape_markdown(name) for name in deviating)  # user YAML names
        text += (f"Table(s) {names} set their own inference in the registry "
                 "(see the note under each table). ")
    else:
        text += "Every table here uses these defaults. "
    if dropped:
        text += "Singletons dropped: " + "; ".join(
            f"table {escape_markdown(name)}: {count}" for name, count in dropped.items()) + ". "
    text += ("The settings of every column are printed under its table; the registry keys "
             "`small_sample`, `singletons` and `distribution` change them.")
    return text


def summary(run, level: float = SIGNIFICANCE) -> str:
    """Markdown: :func:`describe` of the estimates followed by the :func:`caveats`."""
    text = describe(run.tidy, level) if not run.tidy.empty else "No coefficient was estimated."
    notes = caveats(run)
    if notes:
        text += "\n\n**Caveats.** " + " ".join(notes)
    return text


def downloads(paths: Iterable[str | Path], report_dir: str | Path,
              project_root: str | Path) -> str:
    """Markdown list of the files a run wrote: files under ``report_dir`` as links relative to
    it (the rendered page lives there), other files as their path relative to
    ``project_root``; never an absolute path of the machine."""
    report_dir, project_root = Path(report_dir).resolve(), Path(project_root).resolve()
    lines = []
    for path in paths:
        path = Path(path).resolve()
        if path.is_relative_to(report_dir):
            relative = path.relative_to(report_dir).as_posix()
            # the name may come from a user's table name: shown escaped, linked percent-encoded
            lines.append(f"- [{escape_markdown(relative)}]({quote(relative)})")
        else:
            lines.append(f"- {markdown_code(display_path(path, project_root))}")
    return "\n".join(lines)
