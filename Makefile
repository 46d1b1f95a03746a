# Marquee: `make run` to try it, `make test` to test it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
VENV := .venv
UV := $(TOOLS)/bin/uv
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(VENV)
# Setup uses the machine's Python and never downloads one; CI syncs with UV_SYNC=--locked (a lock
# that no longer matches pyproject.toml fails) instead of --frozen (the lock as it is).
export UV_PYTHON_DOWNLOADS := never
UV_SYNC ?= --frozen

# The test suite runs on real PostgreSQL and Redis (override to point elsewhere).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/marquee
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
TEST_BROKER_URL ?= redis://127.0.0.1:6379/14
PYTEST_WORKERS ?= 2
HOST ?= 127.0.0.1
PORT ?= 8000
PUSH_PORT ?= 8001

.PHONY: help setup run test lint fmt worker beat bench bench-promo bench-pages bench-waiting bench-onsale bench-push push migrate demo schema clean prod-smoke

# Local commands run in development: with DJANGO_DEBUG off Marquee is production and refuses to
# start without a secret key of its own (docs/operations.md, "Refusals").
migrate demo run worker beat push schema: export DJANGO_DEBUG ?= 1

help:
	@echo "make run     set up and serve on http://$(HOST):$(PORT) (SQLite unless DATABASE_URL/REDIS_URL)"
	@echo "make test    set up and run the whole suite on PostgreSQL and Redis"
	@echo "make prod-smoke  the docker-compose shape run here (DEBUG off), a ticket bought through it"
	@echo "make bench   the onsale rush benchmark (gunicorn, PostgreSQL, Redis)"
	@echo "make bench-promo  the rush without promo codes, then with 30% of buyers using one"
	@echo "make bench-pages  server time and queries of the storefront pages"
	@echo "make bench-push   open push connections one push process holds, hold -> every map"
	@echo "make bench-waiting  the onsale waiting page and its status poll under load (< 60 s)"
	@echo "make bench-onsale  a whole onsale: 3,000 buyers through the waiting room until sold out (~2 min)"
	@echo "make worker  a Celery worker;  make beat  the Celery beat scheduler"
	@echo "make push    the seat maps' push server (uvicorn, ASGI) on port $(PUSH_PORT); needs REDIS_URL"
	@echo "make lint    ruff, and the layering (lint-imports, see docs/architecture.md)"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync $(UV_SYNC) --python $(PYTHON) --quiet
	@touch $@

setup: $(VENV)/.synced

migrate: setup
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo
	$(PY) manage.py collectstatic --noinput -v0
	@echo "Marquee on http://$(HOST):$(PORT)/  (admin: /admin/, API docs: /api/docs/)"
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} MARQUEE_SITE_URL=$${MARQUEE_SITE_URL:-http://$(HOST):$(PORT)} \
		$(PY) manage.py runserver $(HOST):$(PORT)

test: setup
	@bash scripts/services.sh
	@bash scripts/browser.sh
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
		$(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

fmt: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

worker: setup
	$(VENV)/bin/celery -A ticketing worker --loglevel=INFO --concurrency=2

beat: setup
	$(VENV)/bin/celery -A ticketing beat --loglevel=INFO --schedule=var/celerybeat-schedule

# The push server for live seat maps (ticketing/storefront/live.py): a proxy sends /live/ to it.
push: setup
	$(VENV)/bin/uvicorn ticketing.asgi:application --host $(HOST) --port $(PUSH_PORT) \
		--no-access-log --timeout-graceful-shutdown 5

prod-smoke: setup
	@bash scripts/services.sh
	$(PY) scripts/prod_smoke.py

bench: setup
	@bash scripts/services.sh
	$(PY) -m bench.onsale $(BENCH_ARGS)

bench-promo: setup
	@bash scripts/services.sh
	$(PY) -m bench.onsale --compare-promo 0.3 $(BENCH_ARGS)

bench-pages: setup
	@bash scripts/services.sh
	$(PY) -m bench.pages $(BENCH_ARGS)

bench-waiting: setup
	@bash scripts/services.sh
	$(PY) -m bench.waiting $(BENCH_ARGS)

bench-onsale: setup
	@bash scripts/services.sh
	$(PY) -m bench.onsale_room $(BENCH_ARGS)

bench-push: setup
	@bash scripts/services.sh
	$(PY) -m bench.push $(BENCH_ARGS)

# PostgreSQL's integer ranges, as in production and in the test that compares (no query is made).
schema: setup
	DATABASE_URL=$(TEST_DATABASE_URL) $(PY) manage.py spectacular --file docs/openapi.yaml --validate

clean:
	rm -rf $(VENV) $(TOOLS) var staticfiles .pytest_cache
