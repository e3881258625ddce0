# Chorus: `make demo` runs the app on its embedded default; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

# Worker tests need a real broker and a database a second process can open.
ifeq ($(strip $(REDIS_URL)),)
TEST_MARKERS ?= not worker
else
TEST_MARKERS ?=
endif

.PHONY: demo demo-setup demo-web demo-worker demo-beat demo-env test lint format messages vendor bench bench-submit bench-submit-django bench-page bench-channels bench-import bench-pool bench-outage bench-rewards bench-sentiment bench-webhooks bench-export bench-followup bench-cases bench-insights clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.base: requirements/base.lock | $(PY)
	$(BIN)/pip install --quiet -r requirements/base.lock
	touch $@

$(VENV)/.test: requirements/test.lock | $(PY)
	$(BIN)/pip install --quiet -r requirements/test.lock
	touch $@ $(VENV)/.base

# The demo is the whole system with nothing to install: the web server, a Celery worker
# and Celery beat (Procfile.demo, run together by honcho), over a broker that is a folder
# of files. The database (db.sqlite3) is kept; broker, emails and beat's state live in the
# git-ignored .demo/. Links in emails and the printed URLs follow HOST and PORT.
DEMO_TARGETS := demo demo-setup demo-web demo-worker demo-beat demo-env
$(DEMO_TARGETS): export DEBUG = true
$(DEMO_TARGETS): export HOST := $(HOST)
$(DEMO_TARGETS): export PORT := $(PORT)
$(DEMO_TARGETS): export SITE_URL ?= http://$(HOST):$(PORT)
$(DEMO_TARGETS): export CELERY_BROKER_URL = filesystem://localhost/
$(DEMO_TARGETS): export CELERY_BROKER_FOLDER = .demo/broker
$(DEMO_TARGETS): export EMAIL_URL = filemail:///.demo/emails
$(DEMO_TARGETS): export CELERY_BEAT_SCHEDULE_FILENAME = .demo/celerybeat-schedule
$(DEMO_TARGETS): export REMINDER_SWEEP_SECONDS = 15
$(DEMO_TARGETS): export PATH := $(abspath $(BIN)):$(PATH)
# honcho reads no .env of its own (-e /dev/null): settings read it, under what is set here.
DEMO_HONCHO = $(BIN)/honcho -f Procfile.demo -d . -e /dev/null start -p $(PORT)

demo: demo-setup
	@echo "Starting web, worker and beat (Ctrl-C stops them all); the addresses follow."
	exec $(DEMO_HONCHO)

demo-setup: $(VENV)/.base
	@mkdir -p .demo/emails
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_demo --summary .demo/welcome.txt

# One piece alone, e.g. each in its own terminal (demo-web loads the data first).
demo-web: demo-setup
	exec $(DEMO_HONCHO) web banner

demo-worker: $(VENV)/.base
	exec $(DEMO_HONCHO) worker

demo-beat: $(VENV)/.base
	exec $(DEMO_HONCHO) beat

# The demo's environment as shell lines: after `eval "$$(make -s demo-env)"`, a manage.py
# command (shell, a send) uses the demo's broker and email folder too.
DEMO_VARS := DEBUG SITE_URL CELERY_BROKER_URL CELERY_BROKER_FOLDER EMAIL_URL \
             CELERY_BEAT_SCHEDULE_FILENAME REMINDER_SWEEP_SECONDS
demo-env:
	@$(foreach v,$(DEMO_VARS),echo "export $(v)='$($(v))'";)
	@echo 'export PATH="$(abspath $(BIN)):$$PATH"'

test: $(VENV)/.test
	@bash scripts/ensure-chromium
	@bash scripts/ensure-dovecot
	$(BIN)/pytest -m "$(TEST_MARKERS)" $(PYTEST_ARGS)

# ruff, and the import-linter contracts in pyproject.toml (the app layering).
lint: $(VENV)/.test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Extract and compile translations (needs GNU gettext; the compiled .mo files are committed
# so a fresh machine without gettext still serves every language).
messages: $(VENV)/.base
	DEBUG=true $(PY) manage.py makemessages -l th -l he -l ja --ignore=.venv --ignore=node_modules --ignore=bench
	DEBUG=true $(PY) manage.py compilemessages --ignore=.venv

# Refresh static/vendor from the pinned npm packages (the copies are committed).
vendor:
	npm ci --no-audit --no-fund --ignore-scripts
	mkdir -p static/vendor/bootstrap
	cp node_modules/bootstrap/dist/css/bootstrap.min.css* node_modules/bootstrap/dist/css/bootstrap.rtl.min.css* \
	   node_modules/bootstrap/dist/js/bootstrap.bundle.min.js* node_modules/bootstrap/LICENSE static/vendor/bootstrap/
	mkdir -p static/vendor/swagger-ui
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js* node_modules/swagger-ui-dist/swagger-ui.css* \
	   node_modules/swagger-ui-dist/LICENSE node_modules/swagger-ui-dist/NOTICE static/vendor/swagger-ui/
	mkdir -p tests/e2e/vendor/axe-core
	cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE tests/e2e/vendor/axe-core/

bench: bench-submit bench-page bench-channels bench-import bench-pool bench-outage bench-rewards bench-sentiment bench-webhooks bench-export bench-followup bench-cases bench-insights

bench-submit: $(VENV)/.test
	$(PY) bench/submit.py

bench-submit-django: $(VENV)/.test
	$(PY) bench/submit_django.py

bench-page: $(VENV)/.test
	$(PY) bench/page.py

bench-channels: $(VENV)/.test
	$(PY) bench/channels.py

bench-import: $(VENV)/.test
	$(PY) bench/imports.py

bench-outage: $(VENV)/.test
	$(PY) bench/outage.py

bench-pool: $(VENV)/.test
	$(PY) bench/pool.py

bench-rewards: $(VENV)/.test
	$(PY) bench/rewards.py

# Sentiment accuracy per language on tests/data/sentiment/, beside bare TextBlob (offline).
bench-sentiment: $(VENV)/.test
	$(PY) bench/sentiment_accuracy.py

bench-webhooks: $(VENV)/.test
	$(PY) bench/webhooks.py

# Response exports at 100,000 and 1,000,000 responses (PostgreSQL), beside COPY of the same rows.
bench-export: $(VENV)/.test
	$(PY) bench/export.py

# Submit -> case -> email at the SMTP sink at 20/s across a worker restart, a 2,000-email
# burst beside one smtplib connection, a worker SIGKILLed mid-burst, sentiment per language;
# then the case inbox at 100,000 cases (bench-cases also measures it on SQLite).
bench-followup: $(VENV)/.test
	$(PY) bench/followup.py
	$(PY) bench/cases.py --db pg

# The case inbox at 100,000 cases beside the plain SQL for the same page of rows.
bench-cases: $(VENV)/.test
	$(PY) bench/cases.py --db pg
	$(PY) bench/cases.py --db sqlite

# The dashboard at 1,000,000 responses (roll-ups) beside the raw SQL aggregate.
bench-insights: $(VENV)/.test
	$(PY) bench/insights.py --db pg
	$(PY) bench/insights.py --db sqlite

clean:
	rm -rf $(VENV) staticfiles db.sqlite3* bench/results .demo
