# The two commands: `make run` (the whole stack, locally) and `make test` (every test, a real browser included).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test setup browser clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

# Debian's Chromium, for the browser tests (Playwright's own browser download does not work offline).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

run: setup
	$(PY) -m scripts.run_stack

test: setup browser
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache artifacts
