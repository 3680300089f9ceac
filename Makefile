# Everything runs from a project-local virtualenv created on first use, so a fresh machine
# needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean docs-images

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(PY) -m controller demo desired/

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check controller tests bench deploy
	$(VENV)/bin/ruff format --check controller tests bench deploy
	$(VENV)/bin/mypy
	$(VENV)/bin/mypy --strict deploy/lint.py
	$(VENV)/bin/lint-imports --no-cache  # .importlinter: the layers of the README's module table
	$(PY) deploy/lint.py

# The README's status-page screenshot and simulate chart (needs chromium and chromium-driver).
docs-images: $(STAMP)
	$(PY) -m tests.status.docs_images

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
