"""Hostile values in everything a user can supply are shown escaped, never live (issue 15, 2).

A user's value (a stage parameter such as ``region``, ``country``, ``map_category``; a scenario
file's title and description; a regression specification's title, model names and notes; a
source folder's name) reaches the reports through Markdown (``IPython.display.Markdown``,
rendered by nbconvert's mistune, which passes raw HTML through), HTML (tables, ``index.html``)
and figure titles. Each display function is given the values of :data:`HOSTILE` and the HTML it
produces is parsed (:mod:`html.parser`): the page must hold exactly the elements and attributes
it holds for a harmless value (``DE11``), no ``javascript:`` URL, and show the value as text,
character for character. The end-to-end test (marked ``e2e``) runs the demo study with hostile
values in every parameter the stages accept and parses every page of the run.
"""

from __future__ import annotations

import json
import os
import shutil
import types
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from matplotlib.figure import Figure
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from eocic.presentation import (ReportTables, escape_html, escape_markdown, figure_text,
                                markdown_code, notes_view)

matplotlib.use("Agg")

REPO_ROOT = Path(__file__).resolve().parents[1]

#: What a hostile or careless user types: raw HTML, attribute break-outs, a backtick that
#: closes a Markdown code span, a javascript: link, template and math delimiters, a line
#: break starting a new Markdown block, Markdown emphasis and tables.
HOSTILE = [
    "<img src=x onerror=alert(1)>",
    '"><script>alert(1)</script>',
    "' onmouseover='alert(1)",
    "`<img src=x onerror=alert(1)>`",
    "x`</code><img src=x onerror=alert(1)>",
    "``<svg onload=alert(1)>``",
    "[x](javascript:alert(1))",
    "<a href='javascript:alert(1)'>x</a>",
    "<javascript:alert(1)>",
    "{{7*7}} {% raw %} ${x}",
    "$<img src=x onerror=alert(1)>$",
    "$$\\frac{1}{2}<script>alert(1)</script>$$",
    "\\(<img src=x onerror=alert(1)>\\)",
    "line\n\n<script>alert(1)</script>\n# heading\n- item",
    "**bold** _em_ ~~gone~~ | a | b |",
    "&lt;img src=x onerror=alert(1)&gt; &amp;",
    "<!-- comment --> <![CDATA[x]]> <?php ?>",
]
BENIGN = "DE11"

#: Attributes whose value is a URL a browser follows or loads.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster",
                  "background"}


# --------------------------------------------------------------------------- the DOM

class PageDom(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, tuple[tuple[str, str | None], ...]]] = []
        self.text: list[str] = []
        self.comments: list[str] = []
        self._open_script = False
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, tuple(attrs)))
        self._open_script = tag == "script"
        if self._open_script:
            self.scripts.append("")

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, tuple(attrs)))

    def handle_endtag(self, tag):
        if tag == "script":
            self._open_script = False

    def handle_data(self, data):
        if self._open_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)

    def handle_comment(self, data):
        self.comments.append(data)

    def handle_pi(self, data):
        self.elements.append(("?pi", ()))

    def unknown_decl(self, data):
        self.elements.append(("!decl", ()))


def parse(page: str) -> PageDom:
    dom = PageDom()
    dom.feed(page)
    dom.close()
    return dom


def shape(page: str) -> list[tuple[str, tuple[str, ...]]]:
    """The elements of ``page`` and the names of their attributes, in order."""
    return [(tag, tuple(name for name, _ in attrs)) for tag, attrs in parse(page).elements]


def visible_text(page: str) -> str:
    return " ".join("".join(parse(page).text).split())


def live_payloads(page: str) -> list[str]:
    """Elements or attributes that would run a hostile payload: an ``on*`` attribute, a
    ``javascript:`` URL, an ``<img src=x>``, a ``<script>`` or ``<svg>`` calling alert, a
    processing instruction or declaration."""
    dom = parse(page)
    found = []
    for tag, attrs in dom.elements:
        values = dict(attrs)
        for name, value in attrs:
            text = "".join((value or "").split()).lower()
            if name.startswith("on") or (name in URL_ATTRIBUTES and text.startswith("javascript:")):
                found.append(f"<{tag} {name}={value!r}>")
        if tag == "img" and values.get("src") == "x":
            found.append("<img src=x>")
        if tag in ("?pi", "!decl"):
            found.append(tag)
    found += [f"<script>{body}" for body in dom.scripts if "alert(" in body]
    return found


def assert_inert(produce, value: str, benign: str = BENIGN, *, render=lambda text: text) -> str:
    """``render(produce(value))`` has the elements and attributes of ``render(produce(benign))``
    and no live payload; returns the rendered hostile page."""
    page, reference = render(produce(value)), render(produce(benign))
    assert shape(page) == shape(reference), (value, page)
    assert live_payloads(page) == [], (value, page)
    return page


def markdown_page(text: str) -> str:
    """Markdown as a rendered report shows it (nbconvert's renderer of ``text/markdown``)."""
    return markdown2html_mistune(text)


def shown_as_typed(page: str, value: str) -> bool:
    """The page's text shows ``value`` character for character (whitespace collapsed), and no
    entity escaped twice (``&lt;`` a reader would see)."""
    return " ".join(value.split()) in visible_text(page)


# --------------------------------------------------------------------------- presentation

@pytest.mark.parametrize("value", HOSTILE)
def test_escape_html_in_text_and_attributes(value):
    page = assert_inert(lambda v: f"<p title=\"{escape_html(v)}\">{escape_html(v)}</p>", value)
    assert parse(page).elements[0][1] == (("title", value),)
    assert "".join(parse(page).text) == value


@pytest.mark.parametrize("value", HOSTILE)
def test_escape_markdown_is_plain_text_on_the_page(value):
    page = assert_inert(lambda v: f"**Region** {escape_markdown(v)} in {BENIGN}.", value,
                        render=markdown_page)
    assert shown_as_typed(page, value), page


@pytest.mark.parametrize("value", HOSTILE)
def test_markdown_code_survives_backticks(value):
    page = assert_inert(lambda v: f"**Region {markdown_code(v)} is not in the data.**", value,
                        render=markdown_page)
    assert shown_as_typed(page, value), page
    assert [tag for tag, _ in parse(page).elements] == ["p", "strong", "code"]


def test_the_old_code_span_let_a_backtick_out():
    """What stages 02 and 06 did: the value between backticks; the test above would fail."""
    page = markdown_page("**Region `x`<img src=x onerror=alert(1)>``**")
    assert live_payloads(page)


def test_markdown_escaping_reads_naturally():
    """A normal value is written as it is: nothing a reader or a diff would trip over."""
    assert escape_markdown("DE11") == "DE11" and markdown_code("DE11") == "<code>DE11</code>"
    assert visible_text(markdown_page(escape_markdown("Baden-Württemberg (DE1)"))) == \
        "Baden-Württemberg (DE1)"
    assert "&" not in visible_text(markdown_page(markdown_code("demo-2020 data/raw/demo")))


@pytest.mark.parametrize("value", ["$\\frac$", "$x", "a $ b $$", "$\\undefinedcommand{x}$",
                                   "<img src=x onerror=alert(1)>"])
def test_figure_text_is_drawn_as_typed(value):
    figure = Figure()
    axis = figure.subplots()
    axis.set_title(figure_text(value))
    figure.savefig(os.devnull, format="png")  # mathtext would parse (and fail) here
    if value.count("$") >= 2 and "\\" in value:
        broken = Figure()
        broken.subplots().set_title(value)
        with pytest.raises(ValueError):
            broken.savefig(os.devnull, format="png")


@pytest.mark.parametrize("value", HOSTILE)
def test_report_table_and_notes_escape_cells_and_names(value, tmp_path):
    tables = ReportTables("r1", "02_cluster_mapping", root=tmp_path)
    frame = lambda v: pd.DataFrame({v: [v, BENIGN], "employment": [1, 2]})  # noqa: E731
    page = assert_inert(lambda v: tables.show(frame(v), "cells")._repr_html_(), value)
    assert shown_as_typed(page, value)
    page = assert_inert(lambda v: notes_view([v, BENIGN], v)._repr_html_(), value)
    assert shown_as_typed(page, value)



# --------------------------------------------------------------------------- stage texts

@pytest.mark.parametrize("value", HOSTILE)
def test_scenario_description_from_a_user_file(value, tmp_path):
    import yaml

    from eocic.stress.scenarios import load_scenario

    def describe(text: str) -> str:
        path = tmp_path / f"s{abs(hash(text))}.yaml"
        path.write_text(yaml.safe_dump({"title": text, "horizon": text, "description": text,
                                        "sources": [text, BENIGN], "shocks": {"C24": -0.1}}))
        return load_scenario(path).describe()

    page = assert_inert(describe, value, render=markdown_page)
    assert shown_as_typed(page, value), page


@pytest.mark.parametrize("value", HOSTILE)
def test_regression_narrative_of_a_user_specification(value, tmp_path):
    from eocic.models import narrative

    def run(text: str):
        tidy = pd.DataFrame({
            "spec": [text], "model": [text], "term": [text], "coef": [0.1], "pvalue": [0.01],
            "expected_sign": ["+"], "proxy_for": [text], "dependent_proxy_for": [text],
            "n_groups": [12]})
        skipped = types.SimpleNamespace(estimated=False, skipped=text,
                                        spec=types.SimpleNamespace(label=f"{text} / {text}"))
        table = types.SimpleNamespace(table=types.SimpleNamespace(name=text), results=[skipped])
        return types.SimpleNamespace(tidy=tidy, estimated=[table], t0=2015, T=2020,
                                     grouping_note=f"PROXY {text}")

    for produce in (lambda v: narrative.overview(run(v)), lambda v: narrative.summary(run(v))):
        page = assert_inert(produce, value, render=markdown_page)
        assert shown_as_typed(page, value), page
    sample = lambda v: types.SimpleNamespace(  # noqa: E731
        unit="region", frame=[], t0=2015, T=2020, notes=[f"sample filter {v!r} keeps 3 rows"])
    page = assert_inert(lambda v: narrative.sample_notes(sample(v)), value, render=markdown_page)
    assert shown_as_typed(page, f"sample filter {value!r} keeps 3 rows"), page
    report_dir = tmp_path / "reports" / "r1"
    files = lambda v: narrative.downloads(  # noqa: E731
        [report_dir / "tables" / f"table_{v}.html", tmp_path / "data" / f"{v}.parquet"],
        report_dir, tmp_path)
    page = assert_inert(files, value.replace("/", "_"), render=markdown_page)
    links = [dict(attrs)["href"] for tag, attrs in parse(page).elements if tag == "a"]
    assert len(links) == 1 and links[0].startswith("tables/table_")


@pytest.mark.parametrize("value", HOSTILE)
def test_map_sentence_with_a_hostile_category_scheme_or_region(value):
    from test_plotting import crowded_portfolio

    from eocic.clusters import figures

    table = crowded_portfolio(geo="AT13")
    page = assert_inert(lambda v: figures.map_category(table, "AT13", 2020, "cluster", v)[1],
                        value, render=markdown_page)
    assert shown_as_typed(page, f"Category {value} is not in scheme cluster"), page
    named = table.assign(category_name=value)
    page = assert_inert(lambda v: figures.map_category(table.assign(category_name=v), "AT13",
                                                       2020, "cluster")[1],
                        value, render=markdown_page)
    assert shown_as_typed(page, value) and len(named)


@pytest.mark.parametrize("value", [v for v in HOSTILE if "/" not in v and "\n" not in v])
def test_no_map_note_names_a_hostile_source_folder_escaped(value, tmp_path, monkeypatch):
    from eocic import maps

    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path)  # the project root: folders are shown relative to it

    def note(name: str) -> str:
        source = tmp_path / name
        (source / "nuts").mkdir(parents=True, exist_ok=True)
        return maps.load_geometries(tmp_path / "raw", source, shared=tmp_path / "shared")[1]

    page = assert_inert(note, value, render=markdown_page)
    assert shown_as_typed(page, value), page
    (tmp_path / value / "nuts" / "NUTS_RG_60M_2016_4326_LEVL_2.geojson").write_text("{broken")
    (tmp_path / BENIGN / "nuts" / "NUTS_RG_60M_2016_4326_LEVL_2.geojson").write_text("{broken")
    page = assert_inert(note, value, render=markdown_page)
    assert "not a readable GeoJSON" in visible_text(page) and shown_as_typed(page, value)


# --------------------------------------------------------------------------- index.html

@pytest.mark.parametrize("value", HOSTILE)
def test_index_page_escapes_parameters_errors_and_the_manifest(value, tmp_path):
    from eocic import report
    from eocic.config import StudyConfig
    from eocic.study import Stage, StageResult, StudyRun

    def index(text: str) -> str:
        root = tmp_path / f"r{abs(hash(text))}"
        config = StudyConfig(source=str(root / text), year=2020, run_id="r1", root=root)
        config.processed_dir.mkdir(parents=True)
        config.report_dir.mkdir(parents=True)
        (config.processed_dir / "manifest.json").write_text(json.dumps({
            "inputs": [{"dataset": text, "path": f"{text}/sbs.tsv", "rows": 3, "bytes": 9,
                        "sha256": "0" * 64}], "missing_datasets": [text]}))
        stage = Stage("01", "data_pipeline", root / "notebooks" / "01_data_pipeline.ipynb")
        failed = StageResult(stage, status="failed", seconds=1.0,
                             error=f"PeerError: region {text!r} has no structural data")
        run = StudyRun(config, [failed], config.report_dir / "index.html", text)
        info = {"parameters": {"region": text, "peers": [text, BENIGN],
                               "extra_specs": str(root / text / "specs.yaml")},
                "git_commit": text, "packages": {"eocic": text}}
        return report.write_index(run, info).read_text()

    page = assert_inert(index, value)
    assert shown_as_typed(page, f"region {value!r} has no structural data"), page
    assert shown_as_typed(page, f"Source {value}, reference year"), page  # a folder source
    assert str(tmp_path) not in page  # shown relative to the project, no machine path
    assert parse(page).elements.count(("script", ())) == 0


@pytest.mark.parametrize("value", HOSTILE)
def test_key_findings_escape_names_from_the_tables(value):
    from eocic.findings import cluster_findings, regression_findings

    def clusters(text: str) -> str:
        mapping = pd.DataFrame({
            "scheme": "cluster", "year": 2020, "is_cluster": True, "performance_class": "high",
            "employment": [100.0, 50.0], "category_name": [text, BENIGN], "geo": ["AT13", "XX99"],
            "lq": 2.5, "estimated_share": 0.0, "apportioned": False})
        return "".join(f"<li>{finding}</li>" for finding in
                       cluster_findings(mapping, 2020, {"XX99": text}))

    def regressions(text: str) -> str:
        rows = pd.DataFrame({
            "spec": ["HOSTILE_1"], "model": [text], "term": [text], "t0": [2015], "T": [2020],
            "coef": [0.1], "se": [0.01], "pvalue": [0.01], "dependent": [text],
            "dependent_proxy_for": [text], "proxy_for": [text], "estimator": ["ols"],
            "nobs": [100]})
        return "".join(f"<li>{finding}</li>" for finding in regression_findings(rows))

    for produce in (clusters, regressions):
        page = assert_inert(produce, value)
        assert shown_as_typed(page, value), page


# --------------------------------------------------------------------------- refused values

def test_values_the_stages_refuse_get_a_clear_error(tmp_path):
    """Parameters validated before they are shown: the error names the value and the fix."""
    from eocic.models.specifications import SpecificationError, parse_registry
    from eocic.pilots.did import EventStudyError
    from eocic.pilots.run import run_pilots
    from eocic.scoreboard.peers import PeerError, choose_peers
    from eocic.stress.scenarios import ScenarioError, load_scenario

    hostile = "<img src=x onerror=alert(1)>"
    distances = pd.DataFrame(0.0, index=["DE11", "FR10"], columns=["DE11", "FR10"])
    with pytest.raises(PeerError, match="has no structural data") as error:
        choose_peers(hostile, distances)
    assert repr(hostile) in str(error.value)
    with pytest.raises(PeerError, match="unknown peer regions") as error:
        choose_peers("DE11", distances, f"{hostile},FR10")
    assert hostile.upper() in str(error.value)  # peers are upper-cased NUTS codes
    with pytest.raises(EventStudyError, match="unknown outcome"):
        run_pilots(tmp_path, 2020, outcome=hostile)
    path = tmp_path / "named.yaml"
    path.write_text(f'name: "{hostile}"\nshocks: {{C24: -0.1}}\n')
    with pytest.raises(ScenarioError, match="must use letters, digits"):
        load_scenario(path)
    for name in (hostile, "../../outside", "a/b", "x" * 41, "`x`"):
        with pytest.raises(SpecificationError, match="a table name is used in file names") as error:
            parse_registry(json.dumps({name: {"title": "t", "unit": "region", "models": [
                {"name": "m", "dependent": "y", "regressors": ["x"]}]}}))
        assert repr(name) in str(error.value) and "MY_TABLE" in str(error.value)


# --------------------------------------------------------------------------- the whole study

#: Folder names cannot hold "/", so the source folders carry the payloads that need none.
SOURCE_FOLDER = "data `<img src=x onerror=alert(1)>` [x](javascript:alert(1)) $x$"
SOURCE_SUBFOLDER = "files <svg onload=alert(1)> {{7*7}}"

SCENARIO_YAML = """\
name: hostile_scenario
title: "<img src=x onerror=alert(1)> `x`<img src=x onerror=alert(1)>` [x](javascript:alert(1))"
horizon: "$<script>alert(1)</script>$"
description: >
  A "><script>alert(1)</script> scenario with {{7*7}} and ``<svg onload=alert(1)>``.
sources:
  - "[click](javascript:alert(1))"
  - "<a href='javascript:alert(1)'>x</a>"
shocks:
  C24: -0.1
  C20: -0.05
"""

SPECS_YAML = """\
HOSTILE_1:
  title: "<img src=x onerror=alert(1)> `x`<img src=x onerror=alert(1)>` $\\\\frac$"
  reference: "[x](javascript:alert(1)) \\"><script>alert(1)</script>"
  unit: region
  estimator: ols
  covariance: HC1
  same_sample: false
  expected_signs: {strong_cluster_share_t0: "+"}
  notes: ["<svg onload=alert(1)> `a`<img src=x onerror=alert(1)>` {{7*7}}"]
  models:
    - name: "GDP `<img src=x onerror=alert(1)>` $\\\\frac$ (1)"
      dependent: gdp_per_head_growth
      regressors: [strong_cluster_share_t0]
    - name: "second <script>alert(1)</script>"
      dependent: gdp_per_head_growth
      regressors: [strong_cluster_share_t0, ln_gdp_per_head_t0]
"""

TICKED = "X`<img src=x onerror=alert(1)>`"


def _pages(report_dir: Path) -> dict[str, str]:
    return {page.name: page.read_text(encoding="utf-8")
            for page in sorted(report_dir.glob("*.html"))}


def _no_live_payload(pages: dict[str, str]) -> None:
    for name, page in pages.items():
        assert live_payloads(page) == [], name
        text = visible_text(page)
        # escaped once: a reader sees "<img", never "&lt;img" or "&#96;"
        assert "&lt;img" not in text and "&#96;" not in text and "&#60;" not in text, name


@pytest.mark.e2e
def test_a_study_with_hostile_values_shows_them_escaped_on_every_page(tmp_path_factory):
    """The demo economy, read from a folder whose name is hostile, run with a hostile country,
    map category, scenario file and regression specifications; then with a hostile region
    (stages 06, 02 and 03, which refuses it with a clear error). Every page of the run is
    parsed: no element or attribute from the values, each value shown as typed."""
    from eocic.config import StudyConfig
    from eocic.demo import generate_demo_economy
    from eocic.study import StageFailed, run_study

    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(REPO_ROOT / "notebooks", root / "notebooks")
    source = root / SOURCE_FOLDER
    generate_demo_economy(source / SOURCE_SUBFOLDER)
    scenario = root / "<img src=x onerror=alert(1)>.yaml"
    scenario.write_text(SCENARIO_YAML, encoding="utf-8")
    specs = root / "specs `<svg onload=alert(1)>`.yaml"
    specs.write_text(SPECS_YAML, encoding="utf-8")
    config = StudyConfig(source=str(source), year=2020, run_id="hostile-2020", root=root)
    report_dir = root / "reports" / "hostile-2020"
    previous = Path.cwd()
    os.chdir(root)
    try:
        run = run_study(config, log=lambda line: None, extra_parameters={
            "country": TICKED,
            "map_category": "[x](javascript:alert(1)) `<img src=x onerror=alert(1)>`",
            "scenario": str(scenario), "extra_specs": str(specs), "draws": 100})
        assert run.ok
        pages = _pages(report_dir)
        assert len(pages) == 8, sorted(pages)  # seven stages and the index
        _no_live_payload(pages)
        # the values reached the pages, shown as typed
        assert shown_as_typed(pages["01_data_pipeline.html"], f"Source {SOURCE_FOLDER}: ")
        assert shown_as_typed(pages["01_data_pipeline.html"],
                              f"{SOURCE_SUBFOLDER}/sbs_r_nuts06_r2.tsv.gz")
        assert shown_as_typed(pages["02_cluster_mapping.html"],
                              f"Country {TICKED} is not in the data")
        assert shown_as_typed(pages["02_cluster_mapping.html"],
                              "Category [x](javascript:alert(1)) `<img src=x onerror=alert(1)>` "
                              "is not in scheme cluster")
        assert shown_as_typed(pages["04_regressions.html"],
                              "Table HOSTILE_1. <img src=x onerror=alert(1)> `x`<img src=x "
                              "onerror=alert(1)>` $\\frac$")
        assert shown_as_typed(pages["04_regressions.html"], "second <script>alert(1)</script>")
        assert shown_as_typed(pages["06_stress_test.html"],
                              "<img src=x onerror=alert(1)> `x`<img src=x onerror=alert(1)>` "
                              "[x](javascript:alert(1))")
        assert shown_as_typed(pages["06_stress_test.html"], "[click](javascript:alert(1))")
        assert shown_as_typed(pages["index.html"], TICKED)

        # a hostile region: stage 06 says it is not in the data; stage 02 falls back to the
        # largest region and says so; stage 03 refuses it, naming it
        hostile_region = "DE`<img src=x onerror=alert(1)>`\"><script>alert(1)</script>"
        run = run_study(config, log=lambda line: None, stages=["06"],
                        extra_parameters={"region": hostile_region, "scenario": str(scenario)})
        assert run.ok
        with pytest.raises(StageFailed, match="has no structural data"):
            run_study(config, log=lambda line: None, stages=["02", "03"],
                      extra_parameters={"region": hostile_region,
                                        "peers": "<img src=x onerror=alert(1)>,FR10"})
        pages = _pages(report_dir)
        _no_live_payload(pages)
        assert shown_as_typed(pages["06_stress_test.html"],
                              f"Region {hostile_region} is not in the data")
        assert shown_as_typed(pages["02_cluster_mapping.html"],
                              f"Region {hostile_region} is not in the data; showing")
        record = json.loads((report_dir / "run.json").read_text())
        assert [s["status"] for s in record["stages"]] == ["ok", "failed"]
        assert shown_as_typed(pages["index.html"], "has no structural data")
    finally:
        os.chdir(previous)
