PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# keep bytecode caches even where the environment says not to (PYTHONDONTWRITEBYTECODE=1): otherwise every
# process of the suite (xdist workers, CLI and server subprocesses) compiles servicekpi and the tests again
unexport PYTHONDONTWRITEBYTECODE

.PHONY: demo test test-parallel test-spark test-serial test-fast webtest vitest lint bench docs clean sysdeps

# system tools the tests and reports use: Chromium (HTML -> PDF/PNG), LibreOffice (XLSX recalculation
# and rendering), poppler (PDF -> PNG), PostgreSQL (Chatwoot connector), CJK and Thai fonts, Java 17 (Spark)
SYSPKGS := openjdk-17-jre-headless chromium chromium-driver libreoffice-calc-nogui poppler-utils postgresql fonts-noto-cjk fonts-thai-tlwg
sysdeps:
	@if command -v java >/dev/null && command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v soffice >/dev/null && command -v pdftoppm >/dev/null \
	  && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && fc-list | grep -qi "noto sans cjk" \
	  && fc-list | grep -qi "tlwg"; then true; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(SYSPKGS); \
	else echo "missing system packages; as root run: apt-get update && apt-get install -y $(SYSPKGS)"; exit 1; fi

# uv resolves and downloads in parallel (measured here: 1 min 19 s against pip's 2 min 26 s for a
# fresh venv, no cache); pip installs the same requirements if uv cannot be had. uv tries its cache
# alone first: the registry here sends no cache headers, so online uv downloads pyspark's 434 MB
# source again and builds its wheel every time (28 s of a clean clone's setup; 3 s from the cache).
# A machine without the packages cached (CI) fails that at once and installs online.
UV := $(BIN)/python -m uv pip install -q --python $(BIN)/python -e '.[test]'
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv && { $(UV) --offline 2>/dev/null || $(UV); } \
	  || $(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP) sysdeps
	$(BIN)/servicekpi demo --out demo

# the whole suite. The downloads (Python packages, Debian packages, npm packages) run side by side,
# and the dashboard's Vitest suite (no Python) runs beside the Python install (on a machine without
# uv's cache that builds pyspark's wheel on one core); then three processes side by side, each target's output printed when it ends:
# the parallel pass (2 workers; a module's tests stay together when they share a module-scoped
# fixture), the Spark cluster tests and the other serial tests (servers under load, the browser
# session). The serial ones wait on JVMs, servers and Chromium more than they compute, so they
# fill the parallel pass's gaps instead of running after it. Each serial test runs alone in its process.
SYNC := --no-print-directory -j3 --output-sync=target
test:
	$(MAKE) $(SYNC) $(STAMP) sysdeps vitest
	$(BIN)/ruff check src tests bench
	$(MAKE) $(SYNC) test-parallel test-spark test-serial

test-parallel: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not serial"

test-spark: $(STAMP)
	$(BIN)/python -m pytest -p no:xdist -m "serial and spark"

test-serial: $(STAMP)
	$(BIN)/python -m pytest -p no:xdist -m "serial and not spark"

# a fast local loop: no browser, LibreOffice, PostgreSQL or slow tests
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not serial and not browser and not office and not postgres and not slow and not spark"

web/node_modules/.installed: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

vitest: web/node_modules/.installed
	cd web && npx vitest run

webtest: vitest

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

bench: $(STAMP)
	$(BIN)/python bench/run.py

docs: $(STAMP)
	$(BIN)/servicekpi docs docs/kpis.md

clean:
	rm -rf $(VENV) demo *.duckdb
