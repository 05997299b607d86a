# SmartGov — the two commands: `make run` and `make test`.
VENV    := .venv
PY      := $(VENV)/bin/python
SG      := $(VENV)/bin/smartgov
STAMP   := $(VENV)/.installed
HOST    ?= 127.0.0.1
PORT    ?= 8000

.PHONY: run test lint install demo worker clean

# the CJK font the OCR tests and benchmark draw documents with (Debian package; ADR 0021)
OCR_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

$(STAMP): pyproject.toml $(OCR_FONT)
	@test -x $(PY) || $$(scripts/find-python) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

$(OCR_FONT):
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-wqy-microhei \
	  || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-wqy-microhei)

## make run: set everything up (venv, install, keys, migrations, demo data) and serve on http://127.0.0.1:8000
run: $(STAMP)
	$(SG) setup
	$(SG) demo
	SMARTGOV_DEMO_MODE=true $(SG) serve --bind $(HOST):$(PORT)

## make test: install what is needed and run the tests (SQLite unless DATABASE_URL is set) and ruff
test: $(STAMP)
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

worker: $(STAMP)
	$(SG) worker

clean:
	rm -rf $(VENV) var/*.sqlite3* staticfiles
