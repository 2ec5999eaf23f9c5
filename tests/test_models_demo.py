"""The estimator recovers the demo economy's planted parameters from the published files.

The demo is generated and run through the stage-01 pipeline into a temporary folder; the
specifications are the shipped ones, set to the data-generating process's definitions in
``truth.json``: regressors at ``t0 = first_year``, growth to ``last_year``, the demo's own
cluster groups, the pilot-treated dummy (the pilot effect starts in 2018), no winsorising.
"""

from __future__ import annotations

import dataclasses
import json
import warnings

import pandas as pd
import pytest

from eocic import pipeline, sources
from eocic.demo import generate_demo_economy
from eocic.models.estimation import RegressionModel
from eocic.models.regressions import load_tables, run_regressions
from eocic.models.specifications import shipped_registry
from eocic.models.variables import build_samples, grouping_from_mapping


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    raw = tmp_path_factory.mktemp("demo_raw")
    processed = tmp_path_factory.mktemp("demo_processed")
    generate_demo_economy(raw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline.run_pipeline(sources.locate_datasets(raw), raw, processed, year=2020)
    truth = json.loads((raw / "truth.json").read_text(encoding="utf-8"))
    return processed, truth, raw


def _assert_in_ci(result, term, true_value):
    low, high = result.conf_int.loc[term, ["ci_low", "ci_high"]]
    assert low <= true_value <= high, (
        f"{term}: {result.params[term]:.5f} [{low:.5f}, {high:.5f}] misses {true_value}")


def test_spec_a_recovers_convergence_and_cluster_strength(demo_run):
    processed, truth, _ = demo_run
    tables = load_tables(processed)
    t0, T = truth["first_year"], truth["last_year"]
    samples = build_samples(tables, grouping_from_mapping(truth["demo_cluster_groups"]), t0, T,
                            units=("region_division",), lq_floor=truth["lq_cluster_floor"])
    sample = samples["region_division"]
    treated = pd.DataFrame(truth["pilot_treated_cells"], columns=["geo", "nace_r2"])
    sample.frame = sample.frame.merge(treated.assign(pilot_treated=1.0), how="left",
                                      on=["geo", "nace_r2"]).fillna({"pilot_treated": 0.0})
    shipped = shipped_registry()["A"].models[1]  # Employment (2): own LQ + cluster LQ
    spec = dataclasses.replace(
        shipped, regressors=shipped.regressors + ("pilot_treated",), winsorise=None,
        sample="employment_t0 >= 100 and cluster_members_missing == 0")
    result = RegressionModel(spec, sample).fit()
    # 11 465 cells: with every cell published 16 344 pass the sample rule, but 15 % of the
    # demo's NUTS-2 x division cells are suppressed and a cell whose cluster has a suppressed
    # division at t0 is left out (4 % confidential gave 14 823)
    assert result.nobs > 11000 and result.n_groups == truth["n_regions"]
    _assert_in_ci(result, "ln_lq_t0", truth["parameters"]["delta"])
    _assert_in_ci(result, "ln_lq_cluster_t0", truth["parameters"]["beta"])
    assert result.params["pilot_treated"] > 0
    # the engine's defaults (fixest) are what recovered them
    assert result.inference_note.startswith("SE clustered by geo (CRV1); small-sample "
                                            "correction (N-1)/(N-K) x G/(G-1), fixed effects "
                                            "nested in clusters not counted in K")

    # the shipped column as it is (winsorised, all complete and incomplete clusters) still
    # has the published signs and the magnitudes within 20%
    as_shipped = RegressionModel(shipped, sample).fit()
    assert as_shipped.params["ln_lq_t0"] == pytest.approx(truth["parameters"]["delta"], rel=0.2)
    assert as_shipped.params["ln_lq_cluster_t0"] == pytest.approx(truth["parameters"]["beta"],
                                                                  rel=0.2)


def test_spec_b_recovers_the_start_up_parameters(demo_run):
    processed, truth, _ = demo_run
    tables = load_tables(processed)
    samples = build_samples(tables, grouping_from_mapping(truth["demo_cluster_groups"]),
                            truth["first_year"], truth["last_year"], units=("region_section",))
    shipped = shipped_registry()["B"].models[1]  # Births (2): ln birth rate + ln section LQ
    spec = dataclasses.replace(shipped, winsorise=None, sample="births_t0 >= 30")
    result = RegressionModel(spec, samples["region_section"]).fit()
    assert result.nobs > 2000
    _assert_in_ci(result, "ln_birth_rate_t0", truth["parameters"]["delta_b"])
    _assert_in_ci(result, "ln_lq_section_t0", truth["parameters"]["beta_b"])


def test_run_regressions_writes_the_output_contract(demo_run, tmp_path):
    processed, _, raw = demo_run
    run = run_regressions(processed, tmp_path / "report", year=2020, specs="B,C",
                          grouping="demo", data_dir=raw)
    written = pd.read_parquet(processed / "regressions.parquet")
    assert {"spec", "model", "term", "coef", "se", "pvalue", "ci_low", "ci_high",
            "nobs"} <= set(written.columns)
    assert set(written["spec"]) == {"B", "C"} and (written["t0"] == 2015).all()
    for suffix in ("html", "tex", "csv"):
        assert (tmp_path / "report" / "tables" / f"table_C.{suffix}").exists()
    assert (tmp_path / "report" / "tables" / "coefficients.png").exists()
    html_c = (tmp_path / "report" / "tables" / "table_C.html").read_text()
    assert "Country FE" in html_c and "SE clusters used (countries)" in html_c
    # the inference footer of every column: SE type, correction, singletons, distribution
    assert ("Inference: SE clustered by country (CRV1); small-sample correction (N-1)/(N-K) x "
            "G/(G-1), fixed effects nested in clusters not counted in K; singletons dropped "
            in html_c)
    assert set(written["covariance"]) == {
        r.inference_note for table in run.estimated for r in table.results if r.estimated}
    assert run.t0 == 2015 and run.T == 2020


def test_stage_04_uses_the_location_quotients_and_related_clusters_of_stage_02(demo_run):
    """One definition: the LQ of every region x division cell of the spec-A sample equals the
    sector-scheme LQ of the cluster mapping, and the related clusters of the sample are the
    related pairs of the mapping's linkages."""
    import numpy as np

    from eocic.clusters.mapping import build_cluster_mapping, default_weights, mapped_weights
    from eocic.models.variables import related_of_grouping, cluster_employment, validate_grouping
    from eocic.measures import related_categories

    processed, truth, _ = demo_run
    tables = load_tables(processed)
    t0, T = 2015, 2020
    weights = default_weights(("sector", "cluster"))
    mapping = build_cluster_mapping(tables["sbs"], weights, totals=tables["regional_totals"])
    grouping, _ = mapped_weights("cluster", tables["sbs"]["nace_r2"].unique())
    sample = build_samples(tables, validate_grouping(grouping), t0, T,
                           units=("region_division",))["region_division"].frame
    sector = mapping.table[(mapping.table["scheme"] == "sector") & (mapping.table["year"] == t0)]
    merged = sample.merge(sector[["geo", "category", "lq"]], left_on=["geo", "nace_r2"],
                          right_on=["geo", "category"], validate="one_to_one")
    assert len(merged) == len(sample) == len(sector)
    positive = merged["lq"] > 0
    assert positive.mean() > 0.99
    np.testing.assert_allclose(np.exp(merged.loc[positive, "ln_lq_t0"]),
                               merged.loc[positive, "lq"], rtol=1e-12)
    assert merged.loc[~positive, "ln_lq_t0"].isna().all()
    # related clusters: the same pairs as the mapping's linkages of the cluster scheme
    pairs = mapping.linkages[(mapping.linkages["scheme"] == "cluster")
                             & (mapping.linkages["year"] == t0)]
    sbs = tables["sbs"]
    employment = sbs[sbs["year"] == t0].set_index(["geo", "nace_r2"])["employment"]
    regional = tables["regional_totals"]
    regional = regional[regional["year"] == t0].set_index("geo")["employment"]
    related, _ = related_of_grouping(cluster_employment(employment, validate_grouping(grouping)),
                                     regional, validate_grouping(grouping))
    assert related == related_categories(pairs)
    assert all(category not in others for category, others in related.items())


def test_findings_name_the_proxies_of_a_run_without_business_demography(demo_run, tmp_path):
    """Stage 04 on a run without business demography (as the real 2014 extracts): table B
    uses local units for enterprise births, as the outcome and as the initial level; the
    regressions table records both proxies and the key findings name what stands in for what,
    while table A (real SBS employment growth) gets no proxy sentence."""
    from eocic import tables as schemas
    from eocic.findings import regression_findings

    processed, _, raw = demo_run
    data = {name: frame for name, frame in load_tables(processed).items()
            if name != "demography"}
    out = tmp_path / "processed"
    run_regressions(out, None, year=2020, specs="A,B", grouping="demo", data_dir=raw,
                    processed=data)
    written = schemas.read_table(out, "regressions")
    table_b = written[written["spec"] == "B"]
    assert set(table_b["model"]) == {"Births (1)"}  # the birth-rate and high-growth models skip
    assert (table_b["dependent"] == "local_units_growth").all()
    assert (table_b["dependent_proxy_for"] == "births_growth").all()
    assert dict(zip(table_b["term"], table_b["proxy_for"].fillna("-"))) == {
        "ln_local_units_t0": "ln_births_t0", "ln_lq_section_t0": "-"}
    table_a = written[written["spec"] == "A"]
    assert table_a["dependent_proxy_for"].isna().all() and table_a["proxy_for"].isna().all()
    findings = dict(zip(("A", "B"), regression_findings(written)))
    assert "Proxies" not in findings["A"]
    assert findings["A"].startswith("Regression table A, model Employment (1) (OLS, N = ")
    assert "outcome employment growth (annual, log): location quotient of the region's own " \
           "sector (log), 2015 " in findings["A"]
    assert findings["B"].endswith(
        "Proxies, for data the source lacks: local units growth (annual, log) stands in for "
        "enterprise births growth (annual, log); local units (log), 2015 stands in for "
        "enterprise births (log), 2015.")
