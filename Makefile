# FastAPI in Production: two commands, `make lab` and `make test`.
# Both create .venv on first use (Python 3.11+), install the locked set, register the kernel.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST := $(BIN)/python -m pytest

.PHONY: lab test doctor setup lint test-app test-notebooks notebooks labs lock clean help

help:
	@echo "make lab    open the course in JupyterLab (sets up .venv on first use)"
	@echo "make test   run every test: app, checkers, pairs, site, notebooks (nbval)"
	@echo "make doctor check this machine for the workshop"

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required, found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[course,dev,docs]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (FastAPI course)" >/dev/null
	@touch $(STAMP)
	@echo "set-up complete: $(VENV)"

setup: $(STAMP)

LAB_ARGS ?=
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
ROOT_FLAG := $(shell [ "$$(id -u 2>/dev/null)" = 0 ] && echo --allow-root)

lab: setup
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" $(ROOT_FLAG) $(LAB_ARGS) notebooks/01_architecture.ipynb

# The image's dependency list (the Dockerfile copies it), derived from pyproject.toml.
deploy/requirements-app.txt: pyproject.toml deploy/requirements_app.py
	$(PYTHON) deploy/requirements_app.py

doctor: setup
	$(BIN)/course doctor

lint: setup
	$(BIN)/ruff check course_app exercises/coursekit tests docs/hooks.py
	$(BIN)/ruff format --check course_app exercises/coursekit tests docs/hooks.py
	$(BIN)/mypy

test-app: setup
	$(PYTEST) tests --cov --cov-report=term --cov-fail-under=90

test-notebooks: setup
	$(PYTEST) --nbval --nbval-current-env --nbval-sanitize-with .nbval-sanitize.cfg \
		-p no:cacheprovider --ignore-glob='*/.ipynb_checkpoints/*' \
		notebooks exercises solutions

test: lint test-app test-notebooks

# Maintainers: re-execute lessons and solved labs, then regenerate and execute the labs.
notebooks: setup
	$(BIN)/course execute notebooks/[0-9][0-9]_*.ipynb solutions/[0-9][0-9]_*.ipynb
	$(BIN)/course generate

labs: setup
	$(BIN)/course generate

lock: setup
	$(BIN)/python -m pip freeze --exclude-editable | grep -viE '^(pip|setuptools|wheel)==' \
		| sed '1i # Locked versions for every workshop machine (Python 3.11+). Regenerate with `make lock`.' > requirements.lock

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache .coverage
