# The two commands: `make run` (the whole stack, locally) and `make test` (every test, a real browser included).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test test-pure bench-gate lint setup litellm-versions browser clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed

# The older LiteLLM releases the proxy-facing tests also run against, each in .venv-litellm-<version>/ from
# tests/support/requirements-litellm-<version>.txt (tests/support/litellm_versions.py). About a minute and a half
# on a fresh machine; nothing to do when already installed.
litellm-versions: setup
	$(PY) -m tests.support.litellm_versions

# Debian's Chromium, for the browser tests (Playwright's own browser download does not work offline).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" != 0 ]; then echo "Install Debian's chromium first: sudo apt-get install chromium" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The proxy on PROXY_PORT (4000) and the app on APP_PORT (8501): `make run APP_PORT=8502`; more flags: ARGS="--help".
run: setup
	$(PY) -m scripts.run_stack $(ARGS)

# ruff (style, imports, likely bugs) and mypy (types) over the code, with the settings in pyproject.toml.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: setup litellm-versions browser lint
	$(PY) -m pytest

# The pure tests alone, for a quick loop: no proxy, browser, PostgreSQL or other process, no test that waits on real
# time by design, a quarter of the property tests' examples (tests/support/properties.py). `make test` runs them all.
test-pure: setup
	$(PY) -m pytest -m "not proxy and not browser and not postgres and not processes and not realtime" \
	  --hypothesis-profile=quick $(ARGS)

# The speed gate (bench/gate.py): the app and the floor page (bench/floor_app.py) under the same loads at the same
# moment, in one run; fails when a ratio to the floor passes its limit (README, Load). About three minutes; .ci/run
# runs it after `make test`. ARGS="--rounds 5" etc.
bench-gate: setup
	$(PY) -m bench.gate $(ARGS)

clean:
	rm -rf $(VENV) .venv-litellm-* .pytest_cache artifacts .run
