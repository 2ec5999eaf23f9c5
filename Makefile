# eocic: the two commands of the README are `make study` and `make test`.
# Everything installs into .venv from pinned versions (requirements.lock), offline-safe after that.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SOURCE ?= demo
YEAR   ?= 2020
RUN_ID ?=
SHOW_CODE ?=
PYTEST_ARGS ?=

STAMP := $(VENV)/.installed

.PHONY: study test bench lab install lock clean-reports help explore

help:
	@echo "make study   run the whole study on the demo economy (SOURCE=, YEAR=, RUN_ID=, SHOW_CODE=1)"
	@echo "make test    run the test suite (unit, notebooks, end to end)"
	@echo "make bench   run every bench/*.py on data it makes itself (or ../shared/data, EOCIC_SHARED_DATA=)"
	@echo "make lab     open JupyterLab on the notebooks"
	@echo "make explore serve the region explorer with voila on 127.0.0.1 (RUN_ID= to pick a run)"
	@echo "make lock    re-pin requirements.lock from the current environment"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[test]"
	$(BIN)/python -c "from eocic.study import ensure_kernel; ensure_kernel('eocic')"
	@touch $(STAMP)

install: $(STAMP)

study: $(STAMP)
	$(BIN)/eocic study --source $(SOURCE) --year $(YEAR) $(if $(RUN_ID),--run-id $(RUN_ID)) $(if $(SHOW_CODE),--show-code)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every benchmark makes its own input (the demo economy, processed in a temporary folder, or a
# synthetic table) or reads ../shared/data (EOCIC_SHARED_DATA=); none needs an earlier run, none
# skips. bench/demo_runs/ is the package they share, not a benchmark.
bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# The region explorer (notebook 05) served by voila on http://127.0.0.1:8866 for the newest
# run, or RUN_ID=; the URL also takes ?run_id=...&region=FR10&peers=FR71,ITC4.
explore: $(STAMP)
	EOCIC_RUN_ID=$(RUN_ID) $(BIN)/voila notebooks/05_region_explorer.ipynb --no-browser \
		--Voila.ip=127.0.0.1 --port=$(or $(EXPLORE_PORT),8866)

lock: $(BIN)/python
	# freeze a fresh environment, so the lock holds what pyproject needs and nothing else
	rm -rf build/lockenv && $(PYTHON) -m venv build/lockenv
	build/lockenv/bin/python -m pip install --quiet --upgrade pip
	build/lockenv/bin/python -m pip install --quiet -e ".[test]"
	build/lockenv/bin/python -m pip freeze --exclude-editable | grep -v '^-e ' | LC_ALL=C sort > requirements.lock
	rm -rf build/lockenv

clean-reports:
	rm -rf reports/ data/processed/*/
