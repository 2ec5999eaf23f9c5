"""The regression specification registry: which tables to estimate, and how.

The shipped registry is ``eocic/models/specifications.yaml``. Users extend it (or replace a
shipped table of the same name) with their own YAML, given as a file path or as a YAML string.
The layout is one mapping per *table*; each table holds a list of *models* (the columns of the
table), and a model inherits every table key it does not set itself::

    A:                                   # table name (used by ``specs="A,C"``)
      title: "Convergence vs clusters"
      reference: "Delgado, Porter & Stern (2014)"
      unit: region_division              # region_division | region_section | region
      estimator: ols                     # ols | ppml
      fixed_effects: [geo, nace_r2]      # dummies C(geo) + C(nace_r2)
      covariance: "cluster: geo"         # nonrobust | HC1 | HC2 | HC3 | "cluster: <column>[+<column>]"
                                         # (CRV1; "CRV3: <column>" for the cluster jackknife)
      small_sample: {k_adj: true, k_fixef: nonnested, G_adj: true, G_df: min}
                                         # small-sample factor (N-1)/(N-K) x G/(G-1); which
                                         # fixed-effect levels count in K: nonnested | full |
                                         # none; two-way clusters: min | conventional
      singletons: drop                   # drop | keep observations alone in a FE group
      distribution: auto                 # auto (t for OLS, normal for PPML) | t | normal
      sample: "employment_t0 >= 10"      # filter on the estimation sample (optional; grammar
                                         # in eocic.models.sample_filter, never executed)
      same_sample: true                  # every column on the intersection sample
      winsorise: [0.01, 0.99]            # clip the dependent variable (null: off)
      expected_signs: {ln_lq_t0: "-"}    # published sign pattern, for the narrative
      substitutes: {births_growth: local_units_growth}   # labelled proxies when absent
      offset: ln_employment_t0           # PPML only: log exposure with coefficient 1
      annualise: true                    # divide coefficients by T - t0 (PPML levels)
      notes: ["free text for the table notes"]
      models:
        - name: "Employment (1)"
          dependent: employment_growth
          regressors: [ln_lq_t0]
          when_unavailable: skip         # skip (with a note) if a variable has no data

Inference settings (``covariance``, ``small_sample``, ``singletons``, ``distribution``) become
one :class:`eocic.models.engine.Inference` per model (:attr:`Specification.inference`); their
meaning, and the defaults, which follow fixest (pyfixest 0.60), are in
:mod:`eocic.models.engine`: clustered SEs times (N-1)/(N-K) x G/(G-1) with fixed effects nested
in the clusters not counted in K, singletons dropped, t(G-1) p-values for OLS and normal ones for
PPML. ``small_sample: {k_fixef: full}``, ``singletons: keep``, ``distribution: t`` reproduce the
choices of eocic's statsmodels engine before issue 13. Every table prints the settings of its
columns in its notes.

A :class:`Specification` is one fully resolved model (one column); a :class:`TableSpec`
groups the columns of one table. Validation here covers the registry itself (unknown keys,
estimators, covariance types, unit names, winsorising limits); variables are checked against
the estimation sample when a model is fitted (:mod:`eocic.models.estimation`).
"""

from __future__ import annotations

import dataclasses
import re
from importlib import resources
from pathlib import Path

import yaml

from eocic.errors import EocicError
from eocic.models import engine
from eocic.models.sample_filter import SampleFilter

REGISTRY_FILE = "models/specifications.yaml"

UNITS = ("region_division", "region_section", "region")
"""Units of analysis; each has a sample builder in :mod:`eocic.models.variables`."""

ESTIMATORS = ("ols", "ppml")
ROBUST_TYPES = ("nonrobust", "HC1", "HC2", "HC3")
SMALL_SAMPLE_KEYS = {"k_adj": bool, "k_fixef": engine.K_FIXEF, "G_adj": bool,
                     "G_df": engine.G_DF}
"""Keys of ``small_sample``: pyfixest 0.60's ``ssc(k_adj, k_fixef, G_adj, G_df)``."""
SINGLETONS = {"drop": "singleton", "keep": "none"}
"""``singletons`` value -> pyfixest's ``fixef_rm``."""

TABLE_KEYS = {
    "title", "reference", "unit", "estimator", "fixed_effects", "covariance", "sample",
    "same_sample", "winsorise", "expected_signs", "substitutes", "offset", "annualise",
    "notes", "models", "when_unavailable", "small_sample", "singletons", "distribution",
}
MODEL_KEYS = {
    "name", "dependent", "regressors", "estimator", "fixed_effects", "covariance", "sample",
    "winsorise", "substitutes", "offset", "annualise", "notes", "when_unavailable",
    "small_sample", "singletons", "distribution",
}
INHERITED_KEYS = MODEL_KEYS - {"name", "dependent", "regressors", "notes"}

#: A table name: it selects the table (``specs="A,C"``) and names its files
#: (``reports/<run_id>/tables/table_<name>.html``), so letters, digits, ``_`` and ``-`` only,
#: at most 40 characters (no path separator, no markup).
TABLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


class SpecificationError(EocicError, ValueError):
    """A specification is invalid or cannot be estimated; the message names spec and problem."""


@dataclasses.dataclass(frozen=True)
class Covariance:
    """Covariance estimator of a model.

    ``kind`` is ``"cluster"`` or one of :data:`ROBUST_TYPES`; ``groups`` holds the column(s)
    whose combined values define the clusters (empty unless ``kind == "cluster"``);
    ``jackknife`` selects the cluster jackknife CRV3 instead of CRV1 (one column, OLS).
    """

    kind: str
    groups: tuple[str, ...] = ()
    jackknife: bool = False

    @property
    def vcov(self) -> str:
        """The engine's name (:data:`eocic.models.engine.VCOV_TYPES`)."""
        if self.kind == "cluster":
            return "CRV3" if self.jackknife else "CRV1"
        return "iid" if self.kind == "nonrobust" else self.kind

    @property
    def label(self) -> str:
        if self.kind == "cluster":
            return "clustered by " + " x ".join(self.groups) + f" ({self.vcov})"
        if self.kind == "nonrobust":
            return "conventional (homoskedastic)"
        return f"heteroskedasticity-robust ({self.kind})"

    @classmethod
    def parse(cls, value, where: str) -> "Covariance":
        """Read ``"HC1"``, ``"cluster: geo"`` (= ``"CRV1: geo"``), ``"cluster: geo+nace_r2"``,
        ``"CRV3: geo"`` or ``{cluster: geo}``."""
        if isinstance(value, dict) and list(value) == ["cluster"]:
            value = f"cluster: {value['cluster']}"
        if not isinstance(value, str):
            raise SpecificationError(
                f"{where}: covariance must be a string such as 'HC1' or 'cluster: geo', got "
                f"{value!r}")
        text = value.strip()
        if text in ROBUST_TYPES:
            return cls(text)
        if text == "HC0":
            raise SpecificationError(
                f"{where}: covariance 'HC0' is HC1 without the small-sample factor: write "
                "covariance: HC1 and small_sample: {k_adj: false}")
        match = re.fullmatch(
            r"(cluster|CRV1|CRV3)\s*:\s*([A-Za-z_][\w]*(?:\s*\+\s*[A-Za-z_][\w]*)*)", text)
        if match:
            groups = tuple(part.strip() for part in match.group(2).split("+"))
            jackknife = match.group(1) == "CRV3"
            if jackknife and len(groups) > 1:
                raise SpecificationError(f"{where}: CRV3 takes one cluster column, got "
                                         f"{' + '.join(groups)}")
            if len(groups) > 2:
                raise SpecificationError(f"{where}: at most two-way clustering, got "
                                         f"{' + '.join(groups)}")
            return cls("cluster", groups, jackknife)
        raise SpecificationError(
            f"{where}: unknown covariance {value!r}; use one of {', '.join(ROBUST_TYPES)}, "
            "'cluster: <column>' (several columns joined by '+') or 'CRV3: <column>'")


def parse_inference(covariance: Covariance, small_sample, singletons, distribution,
                    where: str) -> engine.Inference:
    """The engine's :class:`~eocic.models.engine.Inference` from the registry keys
    ``covariance``, ``small_sample`` (mapping, keys :data:`SMALL_SAMPLE_KEYS`; absent keys
    take fixest's defaults), ``singletons`` (``drop`` | ``keep``) and ``distribution``
    (``auto`` | ``t`` | ``normal``); errors name ``where`` and the allowed values."""
    small_sample = {} if small_sample is None else small_sample
    if not isinstance(small_sample, dict):
        raise SpecificationError(
            f"{where}: small_sample must be a mapping such as {{k_adj: true, k_fixef: "
            f"nonnested}}, got {small_sample!r}")
    unknown = sorted(set(map(str, small_sample)) - set(SMALL_SAMPLE_KEYS))
    if unknown:
        raise SpecificationError(f"{where}: unknown small_sample key(s) {', '.join(unknown)}; "
                                 f"allowed: {', '.join(SMALL_SAMPLE_KEYS)}")
    for key, value in small_sample.items():
        allowed = SMALL_SAMPLE_KEYS[key]
        if allowed is bool and not isinstance(value, bool):
            raise SpecificationError(f"{where}: small_sample {key} must be true or false, got "
                                     f"{value!r}")
        if allowed is not bool and value not in allowed:
            raise SpecificationError(f"{where}: small_sample {key} {value!r} is not one of "
                                     f"{', '.join(allowed)}")
    singletons = "drop" if singletons is None else singletons
    if singletons not in SINGLETONS:
        raise SpecificationError(f"{where}: singletons must be 'drop' or 'keep', got "
                                 f"{singletons!r}")
    distribution = "auto" if distribution is None else distribution
    if distribution not in engine.DISTRIBUTIONS:
        raise SpecificationError(f"{where}: distribution must be one of "
                                 f"{', '.join(engine.DISTRIBUTIONS)}, got {distribution!r}")
    try:
        return engine.Inference(vcov=covariance.vcov, clusters=covariance.groups,
                                fixef_rm=SINGLETONS[singletons], distribution=distribution,
                                **small_sample)
    except engine.EstimationError as error:
        raise SpecificationError(f"{where}: {error}") from error


@dataclasses.dataclass(frozen=True)
class Specification:
    """One regression (one column of a table), with every table default resolved.

    Attributes
    ----------
    table, name : str
        Table name (``"A"``) and column name (``"Employment (1)"``).
    title, reference : str
        Table title and the paper it follows.
    unit : str
        Unit of analysis (:data:`UNITS`).
    dependent : str
        Dependent variable (a column of the estimation sample).
    regressors : tuple of str
        Explanatory variables, in table order.
    fixed_effects : tuple of str
        Columns entered as dummies ``C(column)``.
    covariance : Covariance
    inference : eocic.models.engine.Inference
        Covariance, small-sample factor, singletons and test distribution, as the engine
        takes them (registry keys ``covariance``, ``small_sample``, ``singletons``,
        ``distribution``).
    sample : SampleFilter or None
        Filter selecting the estimation rows (applied before missing values are dropped),
        parsed from the registry text by :class:`eocic.models.sample_filter.SampleFilter`:
        comparisons of columns with constants, and/or/not, ``isin``; never executed as code.
    estimator : str
        ``"ols"`` or ``"ppml"`` (Poisson GLM, log link).
    winsorise : tuple of float or None
        Quantiles (low, high) at which the dependent variable is clipped in the estimation
        sample.
    substitutes : dict
        ``{variable: proxy}`` used when ``variable`` has no data in the run; the proxy is
        reported in the table notes.
    expected_signs : dict
        ``{regressor: "+" | "-"}`` (published pattern).
    offset : str or None
        PPML log exposure (coefficient fixed at 1).
    annualise : bool
        Divide coefficients, SEs and CIs by the growth window ``T - t0``.
    when_unavailable : str
        ``"error"`` (default) or ``"skip"`` when a variable has no data and no substitute.
    notes : tuple of str
    same_sample : bool
        Table option: estimate every column on the intersection sample.
    """

    table: str
    name: str
    title: str
    reference: str
    unit: str
    dependent: str
    regressors: tuple[str, ...]
    fixed_effects: tuple[str, ...]
    covariance: Covariance
    sample: SampleFilter | None
    estimator: str
    winsorise: tuple[float, float] | None
    substitutes: dict
    expected_signs: dict
    offset: str | None
    annualise: bool
    when_unavailable: str
    notes: tuple[str, ...]
    same_sample: bool
    inference: engine.Inference = None

    def __post_init__(self) -> None:
        # a filter given as text (e.g. ``dataclasses.replace(spec, sample="x >= 10")``) is
        # parsed here, so a Specification never holds an unparsed filter
        if isinstance(self.sample, str):
            object.__setattr__(self, "sample", SampleFilter.parse(self.sample, self.label))
        # inference follows the covariance (e.g. after dataclasses.replace(spec, covariance=..))
        # unless set: the defaults of fixest with this covariance
        if self.inference is None or (self.inference.vcov, self.inference.clusters) != (
                self.covariance.vcov, self.covariance.groups):
            base = self.inference or engine.Inference()
            object.__setattr__(self, "inference", dataclasses.replace(
                base, vcov=self.covariance.vcov, clusters=self.covariance.groups))

    @property
    def label(self) -> str:
        return f"{self.table} / {self.name}"

    def variables(self) -> list[str]:
        """Every column the model reads (dependent, regressors, FE, clusters, offset)."""
        names = [self.dependent, *self.regressors, *self.fixed_effects, *self.covariance.groups]
        if self.offset:
            names.append(self.offset)
        return list(dict.fromkeys(names))


@dataclasses.dataclass(frozen=True)
class TableSpec:
    """One regression table: its name, title and columns (:class:`Specification`)."""

    name: str
    title: str
    reference: str
    unit: str
    same_sample: bool
    models: tuple[Specification, ...]
    notes: tuple[str, ...] = ()


def _as_tuple(value, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SpecificationError(f"{where}: {key} must be a list of variable names, got {value!r}")


def _winsorise(value, where: str) -> tuple[float, float] | None:
    if value is None or value is False:
        return None
    if (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, (int, float)) for v in value)
            and 0 <= value[0] < value[1] <= 1):
        return (float(value[0]), float(value[1]))
    raise SpecificationError(
        f"{where}: winsorise must be null or [low, high] quantiles with 0 <= low < high <= 1, "
        f"got {value!r}")


def _build_table(name: str, entry, origin: str) -> TableSpec:
    where = f"specification table {name!r} ({origin})"
    if not TABLE_NAME.match(name):
        raise SpecificationError(
            f"{where}: a table name is used in file names and in specs=; use letters, digits, "
            "'_' and '-' (at most 40, starting with a letter or digit), e.g. MY_TABLE")
    if not isinstance(entry, dict):
        raise SpecificationError(f"{where}: expected a mapping of keys, got {type(entry).__name__}")
    unknown = sorted(set(entry) - TABLE_KEYS)
    if unknown:
        raise SpecificationError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(TABLE_KEYS))}")
    for key in ("title", "unit", "models"):
        if key not in entry:
            raise SpecificationError(f"{where}: the key {key!r} is required")
    if entry["unit"] not in UNITS:
        raise SpecificationError(
            f"{where}: unknown unit {entry['unit']!r}; use one of {', '.join(UNITS)}")
    if not isinstance(entry["models"], list) or not entry["models"]:
        raise SpecificationError(f"{where}: models must be a non-empty list")
    models = []
    seen: set[str] = set()
    for position, model in enumerate(entry["models"], start=1):
        model_where = f"{where}, model {position}"
        if not isinstance(model, dict):
            raise SpecificationError(f"{model_where}: expected a mapping, got {model!r}")
        unknown = sorted(set(model) - MODEL_KEYS)
        if unknown:
            raise SpecificationError(
                f"{model_where}: unknown key(s) {', '.join(unknown)}; allowed: "
                f"{', '.join(sorted(MODEL_KEYS))}")
        for key in ("name", "dependent", "regressors"):
            if key not in model:
                raise SpecificationError(f"{model_where}: the key {key!r} is required")
        model_name = str(model["name"])
        if model_name in seen:
            raise SpecificationError(f"{where}: two models are named {model_name!r}")
        seen.add(model_name)
        model_where = f"specification {name} / {model_name} ({origin})"
        merged = {key: entry.get(key) for key in INHERITED_KEYS} | {
            key: value for key, value in model.items() if key in INHERITED_KEYS}
        estimator = merged.get("estimator") or "ols"
        if estimator not in ESTIMATORS:
            raise SpecificationError(
                f"{model_where}: unknown estimator {estimator!r}; use one of {', '.join(ESTIMATORS)}")
        regressors = _as_tuple(model["regressors"], model_where, "regressors")
        if not regressors:
            raise SpecificationError(f"{model_where}: at least one regressor is needed")
        if len(set(regressors)) != len(regressors):
            raise SpecificationError(f"{model_where}: a regressor is listed twice: {regressors}")
        when = merged.get("when_unavailable") or "error"
        if when not in ("error", "skip"):
            raise SpecificationError(f"{model_where}: when_unavailable must be 'error' or 'skip'")
        substitutes = merged.get("substitutes") or {}
        signs = entry.get("expected_signs") or {}
        if not isinstance(substitutes, dict) or not isinstance(signs, dict):
            raise SpecificationError(f"{model_where}: substitutes and expected_signs are mappings")
        bad_signs = {k: v for k, v in signs.items() if v not in ("+", "-")}
        if bad_signs:
            raise SpecificationError(f"{model_where}: expected signs must be '+' or '-': {bad_signs}")
        if merged.get("offset") and estimator != "ppml":
            raise SpecificationError(f"{model_where}: an offset needs estimator 'ppml'")
        covariance = Covariance.parse(merged.get("covariance") or "HC1", model_where)
        if covariance.jackknife and estimator == "ppml":
            raise SpecificationError(f"{model_where}: CRV3 is available for OLS only; use "
                                     "'cluster: <column>' (CRV1) for PPML")
        inference = parse_inference(covariance, merged.get("small_sample"),
                                    merged.get("singletons"), merged.get("distribution"),
                                    model_where)
        models.append(Specification(
            table=name,
            name=model_name,
            title=str(entry["title"]),
            reference=str(entry.get("reference") or ""),
            unit=entry["unit"],
            dependent=str(model["dependent"]),
            regressors=regressors,
            fixed_effects=_as_tuple(merged.get("fixed_effects"), model_where, "fixed_effects"),
            covariance=covariance,
            sample=(SampleFilter.parse(merged["sample"], model_where)
                    if merged.get("sample") else None),
            estimator=estimator,
            winsorise=_winsorise(merged.get("winsorise"), model_where),
            substitutes=dict(substitutes),
            expected_signs=dict(signs),
            offset=merged.get("offset") or None,
            annualise=bool(merged.get("annualise")),
            when_unavailable=when,
            notes=tuple(entry.get("notes") or ()) + tuple(model.get("notes") or ()),
            same_sample=bool(entry.get("same_sample", True)),
            inference=inference,
        ))
    return TableSpec(name=name, title=str(entry["title"]),
                     reference=str(entry.get("reference") or ""), unit=entry["unit"],
                     same_sample=bool(entry.get("same_sample", True)), models=tuple(models),
                     notes=tuple(entry.get("notes") or ()))


def parse_registry(text: str, origin: str = "YAML string") -> dict[str, TableSpec]:
    """Parse registry YAML text into ``{table name: TableSpec}`` (validated)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise SpecificationError(f"{origin}: not valid YAML: {error}") from error
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise SpecificationError(
            f"{origin}: the registry must be a mapping of table name -> table, got "
            f"{type(document).__name__}")
    return {str(name): _build_table(str(name), entry, origin) for name, entry in document.items()}


def shipped_registry() -> dict[str, TableSpec]:
    """The registry shipped in ``eocic/models/specifications.yaml``."""
    text = resources.files("eocic").joinpath(REGISTRY_FILE).read_text(encoding="utf-8")
    return parse_registry(text, f"eocic/{REGISTRY_FILE}")


def load_registry(extra: str | Path | None = None) -> dict[str, TableSpec]:
    """The shipped registry, extended (or overridden table by table) by ``extra``.

    Parameters
    ----------
    extra : str or Path, optional
        Path to a user YAML file, or YAML text (a string containing a newline or a colon
        that is not an existing file). Tables with a shipped name replace the shipped table.
    """
    registry = shipped_registry()
    if extra is None or (isinstance(extra, str) and not extra.strip()):
        return registry
    path = Path(extra) if isinstance(extra, Path) or "\n" not in str(extra) else None
    if path is not None and path.is_file():
        registry.update(parse_registry(path.read_text(encoding="utf-8"), str(path)))
    elif isinstance(extra, str) and (":" in extra or "\n" in extra):
        registry.update(parse_registry(extra, "extra_specs YAML string"))
    else:
        raise SpecificationError(
            f"extra specifications {str(extra)!r}: no such file, and not YAML text; give the "
            "path of a YAML file or the YAML itself")
    return registry


def select_tables(registry: dict[str, TableSpec], names: str | list[str] | None) -> list[TableSpec]:
    """Tables named in ``names`` (comma-separated string or list; empty = all, in order)."""
    if names is None or (isinstance(names, str) and not names.strip()):
        return list(registry.values())
    wanted = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
    unknown = [n for n in wanted if n and n not in registry]
    if unknown:
        raise SpecificationError(
            f"unknown specification table(s) {', '.join(unknown)}; the registry has "
            f"{', '.join(registry)}")
    return [registry[n] for n in wanted if n]
