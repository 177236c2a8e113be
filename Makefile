# cplan: the two commands of the quick start are `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed-stamp
CATALOGUES := $(wildcard cplan/translations/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)

.PHONY: run test install translations extract-messages lint bench clean worker

PORT ?= 5000
run: install translations  ## create .venv, migrate, load the Baghpat demo once, serve on :$(PORT)
	$(FLASK) db upgrade
	$(FLASK) cplan demo --if-empty --sign-in-url http://127.0.0.1:$(PORT)/auth/sign-in
	$(FLASK) cplan sms-worker & worker=$$!; trap 'kill $$worker' EXIT INT TERM; \
		$(FLASK) run --host 127.0.0.1 --port $(PORT)

worker: install  ## the SMS worker: sends the broadcast outbox and opens statewide drives until stopped (production: systemd, README)
	$(FLASK) cplan sms-worker

# The browser tests (tests/e2e) need Chromium (Debian package) and axe-core from npm; pytest
# skips them, saying why, when either is missing.
AXE := tests/e2e/node_modules/axe-core/axe.min.js
NPM := $(shell command -v npm 2>/dev/null)

test: install translations $(if $(NPM),$(AXE))  ## the import contracts, then the whole test suite (set CPLAN_TEST_DATABASE_URL for PostgreSQL)
	$(BIN)/lint-imports --no-logo
	$(BIN)/pytest $(PYTEST_ARGS)

$(AXE): tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error \
		|| echo "make: npm ci failed in tests/e2e: the accessibility checks will be skipped"
	touch -c $@

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

translations: install $(COMPILED)

%.mo: %.po
	$(BIN)/pybabel compile --statistics -i $< -o $@

extract-messages: install  ## refresh the catalogue after adding strings
	# --ignore-dirs: without it Babel skips every directory starting with "_" (templates/_macros, _partials).
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --ignore-dirs '.* __pycache__' \
		-o cplan/translations/messages.pot .
	$(BIN)/pybabel update -i cplan/translations/messages.pot -d cplan/translations --no-fuzzy-matching

lint: install  ## ruff's rules (lines of at most 100 characters), the formatting, the import contracts (README "Layout")
	$(BIN)/ruff check cplan tests bench
	$(BIN)/ruff format --check cplan tests bench
	$(BIN)/lint-imports --no-logo

# BENCH_SCALE=1.0 for the whole state; CPLAN_BENCH_DATABASE_URL=postgresql://... adds PostgreSQL;
# BENCH=web (or subtree) runs one benchmark. Results: bench/RESULTS.md.
BENCH_SCALE ?= 0.1
BENCH_SECONDS ?= 10
bench: install translations  ## scope queries, then the pages over HTTP against the bare-Flask ceiling (needs wrk)
	CPLAN_BENCH_SCALE=$(BENCH_SCALE) CPLAN_BENCH_SECONDS=$(BENCH_SECONDS) $(BIN)/python bench/run.py $(BENCH)

.PHONY: sealer
sealer: install  ## chain committed audit events every second (README "The audit trail at scale")
	$(FLASK) cplan audit-sealer

.PHONY: two-servers
two-servers: install translations  ## two gunicorn servers, one PostgreSQL database (CPLAN_TWO_SERVERS_DATABASE_URL): sign-in across them, one decision from two approvals, audit verify
	$(BIN)/python .ci/two_servers.py

clean:
	rm -rf $(VENV) .pytest_cache
