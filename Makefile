# Virtual Smart Factory: two commands, `make book` and `make test`.
# Both create the virtual environment first; everything else is in there.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NBTEST := .nbtest

.PHONY: help venv book test test-fast lint check format bench slo-alarms clean

help:
	@echo "make book   build the book into _build/html, executing every notebook"
	@echo "make test   run the tests, every notebook included, with fast parameters"
	@echo "make lint   ruff and mypy;  make check   security and governance gates"
	@echo "make bench  all benchmarks;  make clean"

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# The book: a fresh Sphinx environment each time (so a notebook that fails is
# read again and fails the build), executed notebooks cached by jupyter-cache.
book: $(STAMP)
	rm -rf _build/html _build/.doctrees _build/jupyter_execute
	mkdir -p _static
	$(BIN)/python -c "import plotly, pathlib, shutil; shutil.copy(pathlib.Path(plotly.__file__).parent / 'package_data/plotly.min.js', '_static/')"
	$(BIN)/jupyter-book build . -W -n --keep-going
	chmod -R a+rX _build
	$(BIN)/python -m pytest -q tests/site
	$(BIN)/linkchecker --no-status --no-warnings _build/html/index.html
	@echo "Book built: _build/html/index.html"

# Tests: everything under tests/ but the notebooks, then every notebook under
# papermill with its fast parameters, then nbval in lax mode over the executed
# notebooks, which re-runs them and compares the outputs of cells marked
# NBVAL_CHECK_OUTPUT. Notebooks run two at a time (one per core; nbval keeps
# each notebook's cells on one worker), which keeps them within five minutes.
test: $(STAMP)
	rm -rf $(NBTEST)
	$(BIN)/python -m pytest --ignore=tests/notebooks
	$(BIN)/python -m pytest -n 2 tests/notebooks
	$(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env $(NBTEST)/*.ipynb

test-fast: $(STAMP)
	$(BIN)/python -m pytest --ignore=tests/notebooks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Governance and security gates: checkov from its own venv (scripts/checkov.sh),
# then every check of `smartfactory check`, which exits non-zero on a violation.
check: $(STAMP)
	bash scripts/checkov.sh
	$(BIN)/smartfactory check --require-all

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/smartfactory bench

# The SLOs' burn-rate alarms in Terraform are generated from governance/slos.yaml;
# a test fails until they are regenerated after the file changes.
slo-alarms: $(STAMP)
	$(BIN)/python -c "from smartfactory_lib.operations.slo import burn_rate_alarms_hcl, load_slos; print(burn_rate_alarms_hcl(load_slos()), end='')" > terraform/modules/cloudwatch/slo_alarms.tf

clean:
	rm -rf _build .pytest_cache .mypy_cache .ruff_cache
