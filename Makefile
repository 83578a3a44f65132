# Two commands on a fresh machine: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
HOST ?= 127.0.0.1
PORT ?= 8000
MANAGE := $(BIN)/python manage.py

.PHONY: help install run serve migrate demo superuser test test-browser screenshots test-postgres lint format schema check-deploy scale-test backup-test realworld fuzz chaos background-test worker beat mailserver bench bench-imports clean

help:  ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(STAMP): requirements/base.txt requirements/dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $(STAMP)

install: $(STAMP)  ## Create .venv and install the pinned development requirements

migrate: install  ## Apply migrations (SQLite unless DATABASE_URL says otherwise)
	$(MANAGE) migrate --noinput

demo: migrate  ## Load the small demo data set if the database has no posts yet
	$(MANAGE) seed_blog --if-empty --users 12 --posts 60 --seed 1

run: demo  ## Install, migrate, load demo data once, serve on http://127.0.0.1:8000
	@echo ""
	@echo "  Site:      http://$(HOST):$(PORT)/"
	@echo "  API:       http://$(HOST):$(PORT)/api/v1/"
	@echo "  API docs:  http://$(HOST):$(PORT)/api/v1/docs/   (ReDoc: /api/v1/redoc/)"
	@echo "  Admin:     http://$(HOST):$(PORT)/admin/   (demo login: admin / demo-password-123)"
	@echo ""
	$(MANAGE) runserver $(HOST):$(PORT)

worker: install  ## A Celery worker (broker: CELERY_BROKER_URL, else REDIS_URL; run `make run` with the same)
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-config.settings.local} $(BIN)/celery -A config worker --loglevel INFO

beat: install  ## Celery beat: the outbox sweep and scheduled posts' announcements
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-config.settings.local} $(BIN)/celery -A config beat --loglevel INFO --schedule $${TMPDIR:-/tmp}/blog-celerybeat-schedule

mailserver: install  ## An SMTP server on 127.0.0.1:1025 that prints every mail (DJANGO_EMAIL_URL=smtp://127.0.0.1:1025)
	$(BIN)/python -m aiosmtpd -n -l 127.0.0.1:1025 -c aiosmtpd.handlers.Debugging stdout

superuser: migrate  ## Create an admin account interactively
	$(MANAGE) createsuperuser

test: install  ## Run the whole suite (SQLite unless DATABASE_URL is set; browser tests when /usr/bin/chromium exists)
	$(BIN)/pytest

screenshots: install  ## Run the browser tests and write their screenshots to docs/ for the README
	BLOG_REQUIRE_BROWSER=1 BLOG_SCREENSHOT_DIR=$(CURDIR)/docs $(BIN)/pytest -m browser web

test-browser: install  ## Only the headless-Chromium tests of the web pages (needs /usr/bin/chromium)
	BLOG_REQUIRE_BROWSER=1 $(BIN)/pytest -m browser web

test-postgres: install  ## Run the suite on the local PostgreSQL (throwaway test database)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/blog} $(BIN)/pytest

lint: install  ## ruff check and ruff format --check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install  ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: install  ## Validate the OpenAPI schema and write it to schema.yml
	$(MANAGE) spectacular --validate --fail-on-warn --file schema.yml

check-deploy: install  ## Django's deployment checks with production settings
	DJANGO_SETTINGS_MODULE=config.settings.production \
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')} \
	DJANGO_ALLOWED_HOSTS=$${DJANGO_ALLOWED_HOSTS:-blog.example.com} \
	$(MANAGE) check --deploy --fail-level WARNING

scale-test: install  ## Two gunicorn servers (one via pgbouncer) behind nginx's micro-cache, a PostgreSQL primary and lagging replica, Redis
	@scripts/debian_packages.sh nginx pgbouncer
	timeout 300 scripts/scale_test.sh

backup-test: install  ## pg_dump a seeded database, restore it into another, compare row counts
	timeout 300 scripts/backup_test.sh

realworld: install  ## The RealWorld (Conduit) API suite (../shared/realworld, Bruno CLI) against gunicorn on PostgreSQL
	timeout 900 scripts/realworld.sh

fuzz: install  ## Schemathesis (schemathesis.toml) against the schema on gunicorn + PostgreSQL, two users
	timeout 1200 scripts/fuzz.sh

chaos: install  ## PostgreSQL stopped under a write load (503s, no lost 201); the broker stopped during writes (no lost mail or event)
	timeout 300 $(BIN)/python scripts/chaos.py
	timeout 300 $(BIN)/python scripts/background_e2e.py broker-outage

background-test: install  ## Mail, webhooks and scheduled posts end to end: gunicorn, Celery worker and beat, Redis, SMTP, a receiver
	timeout 300 $(BIN)/python scripts/background_e2e.py flows

bench: install  ## Seed 1k and 100k posts in a throwaway PostgreSQL database, load gunicorn with wrk, print the table
	@scripts/debian_packages.sh wrk nginx
	timeout 1800 $(BIN)/python -m bench.run

bench-imports: install  ## Import and export 10k and 100k generated posts (WordPress, Ghost) in a throwaway PostgreSQL database: time and peak memory
	timeout 1800 $(BIN)/python -m bench.imports

clean:  ## Remove the virtualenv, caches and the local SQLite database
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles db.sqlite3*
