# Two commands do all the set-up: `make run` and `make test` (see README.md).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
FLASK := FLASK_APP=admin_app $(VENV)/bin/flask
HOST ?= 127.0.0.1
PORT ?= 5000
# `make run` runs the periodic work (reminders, monthly survey, outbox retries) beside the web server.
RUN_PERIODIC_WORK ?= true

# The demo practice `make run` serves: lima (the default) or vancouver. The Vancouver network gets
# its settings and a database of its own, so both demos live side by side in instance/; a variable
# already set in the environment wins.
DEMO ?= lima
ifeq ($(DEMO),vancouver)
export CLINIC_TIMEZONE ?= America/Vancouver
export CURRENCIES ?= CAD
export DEFAULT_LOCALE ?= en
export PHONE_REGION ?= CA
export PRACTICE_NAME ?= Coast Counselling Network
export PRACTICE_ADDRESS ?= 1055 West Georgia Street, Suite 1200, Vancouver, BC V6E 3P3
export DATABASE_URL ?= sqlite:///$(CURDIR)/instance/vancouver.sqlite3
endif

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
	$(FLASK) seed-demo --practice $(DEMO)

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
