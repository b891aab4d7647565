# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test eval lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/egov-bot start

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/egov-bot kb lint

eval: $(STAMP)
	$(BIN)/egov-bot eval tests/data/eval.yaml
	test ! -f ../shared/eval/dev.yaml || $(BIN)/egov-bot eval ../shared/eval/dev.yaml

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_match.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
