# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SCENARIO ?= scenarios/default.toml

.PHONY: run test install lint bench clean experiments viz viz-assets system-deps fuzz

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/adoptsim run $(SCENARIO)

# one pytest worker per core (up to 4), each test file on one worker (its module
# fixtures built once); `pytest tests/test_x.py` alone runs in one process as usual
test: $(STAMP) viz-assets
	$(BIN)/python -m pytest -q --numprocesses auto --maxprocesses 4 --dist loadfile

# The browser view (issue #5) needs Debian's chromium (its end-to-end test) and npm (once,
# to fill Solara's front-end cache .cache/solara-cdn so the page works offline).
# apt-get installs only the missing ones (a machine whose Node.js came from elsewhere
# already has npm, and Debian's npm would conflict with that Node.js).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; fi

viz-assets: $(STAMP) system-deps
	$(BIN)/python -m sim.viz.assets

viz: viz-assets
	$(BIN)/adoptsim viz $(SCENARIO)

lint: $(STAMP)
	$(BIN)/ruff check sim tests experiments

clean:
	rm -rf $(VENV) .pytest_cache

# Generated bad scenarios thrown at `check` and `run` (hypothesis): exit 2, one message,
# no traceback, nothing outside results/<name> touched.
fuzz: $(STAMP)
	$(BIN)/python -m pytest -q -m fuzz tests/test_fuzz.py

bench: $(STAMP)
	$(BIN)/python experiments/bench_engines.py

# Reproducible studies (issue #6): each writes results/<study>/ (data, figures, findings.md).
EXPERIMENTS := validation plans freemium_trap seeding sensitivity shadow_it sunset calibration

experiments: $(STAMP)
	for e in $(EXPERIMENTS); do PYTHONPATH=experiments $(BIN)/python experiments/$$e.py || exit 1; done
