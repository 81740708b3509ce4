PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench docs clean sysdeps

# system tools the tests and reports use: Chromium (HTML -> PDF/PNG), LibreOffice (XLSX recalculation
# and rendering), poppler (PDF -> PNG), PostgreSQL (Chatwoot connector), CJK and Thai fonts
SYSPKGS := chromium chromium-driver libreoffice-calc-nogui poppler-utils postgresql fonts-noto-cjk fonts-thai-tlwg
sysdeps:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null && command -v soffice >/dev/null && command -v pdftoppm >/dev/null \
	  && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && fc-list | grep -qi "noto sans cjk" \
	  && fc-list | grep -qi "tlwg"; then true; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(SYSPKGS); \
	else echo "missing system packages; as root run: apt-get update && apt-get install -y $(SYSPKGS)"; exit 1; fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP) sysdeps
	$(BIN)/servicekpi demo --out demo

test: $(STAMP) sysdeps
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py

docs: $(STAMP)
	$(BIN)/servicekpi docs docs/kpis.md

clean:
	rm -rf $(VENV) demo *.duckdb
