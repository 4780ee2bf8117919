# Two commands do all the set-up: `make run` and `make test` (see README.md).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
FLASK := FLASK_APP=admin_app $(VENV)/bin/flask
HOST ?= 127.0.0.1
PORT ?= 5000
# `make run` runs the periodic work (reminders, monthly survey, outbox retries) beside the web server.
RUN_PERIODIC_WORK ?= true

.PHONY: run test screenshots install system-deps migrate seed lint format translations

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

system-deps:
	@scripts/system-deps.sh

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo

run: install system-deps seed
	HOST=$(HOST) PORT=$(PORT) RUN_PERIODIC_WORK=$(RUN_PERIODIC_WORK) $(VENV)/bin/gunicorn -c gunicorn.conf.py --reload "admin_app:create_app()"

test: install
	@WITH_BROWSER=1 scripts/system-deps.sh
	PY=$(PY) scripts/test.sh

# The README's pictures (docs/screenshots/), taken by the end-to-end suite on a fresh demo practice.
screenshots: install
	@WITH_BROWSER=1 scripts/system-deps.sh
	PY=$(PY) scripts/screenshots.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

translations: install
	PYBABEL=$(VENV)/bin/pybabel scripts/translations.sh
