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

.PHONY: demo test lint format messages vendor bench bench-submit bench-page bench-channels bench-import bench-pool clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.base: requirements/base.lock | $(PY)
	$(BIN)/pip install --quiet -r requirements/base.lock
	touch $@

$(VENV)/.test: requirements/test.lock | $(PY)
	$(BIN)/pip install --quiet -r requirements/test.lock
	touch $@ $(VENV)/.base

# Links in emails and the URLs printed by seed_demo follow HOST and PORT.
demo: export DEBUG = true
demo: export SITE_URL ?= http://$(HOST):$(PORT)
demo: $(VENV)/.base
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_demo
	@echo ""
	@echo "Chorus is starting on $$SITE_URL/ (Ctrl-C to stop)"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(VENV)/.test
	@bash scripts/ensure-chromium
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
	mkdir -p tests/e2e/vendor/axe-core
	cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE tests/e2e/vendor/axe-core/

bench: bench-submit bench-page bench-channels bench-import bench-pool

bench-submit: $(VENV)/.test
	$(PY) bench/submit.py

bench-page: $(VENV)/.test
	$(PY) bench/page.py

bench-channels: $(VENV)/.test
	$(PY) bench/channels.py

bench-import: $(VENV)/.test
	$(PY) bench/imports.py

bench-pool: $(VENV)/.test
	$(PY) bench/pool.py

clean:
	rm -rf $(VENV) staticfiles db.sqlite3* bench/results
