# The two commands of README.md: `make demo` and `make test`. Everything lands in a git-ignored .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.polynb-installed
LAB_BUILT := polynb/labextension/package.json
LAB_SOURCES := $(wildcard labextension/src/*.ts labextension/src/*.tsx labextension/style/*) labextension/package.json
export NODE_EXTRA_CA_CERTS ?= /etc/ssl/certs/ca-certificates.crt
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup system chromium demo test test-fast bench clean

# What a fresh Debian lacks for the setup: venv support and Node.js (the lab extension's build), from apt.
system:
	@$(PYTHON) -c "import ensurepip" 2>/dev/null || (apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null)
	@command -v node >/dev/null || (apt-get update -qq && apt-get install -y -qq nodejs >/dev/null)

# pip builds the lab extension too (hatch-jupyter-builder runs jlpm); `develop` links it for JupyterLab.
$(STAMP): pyproject.toml | system
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/jupyter labextension develop --overwrite .
	touch $(STAMP)

$(LAB_BUILT): $(STAMP) $(LAB_SOURCES)
	cd labextension && jlpm install && jlpm run build:prod
	touch $(LAB_BUILT)

setup: $(STAMP) $(LAB_BUILT)

# The local platforms run once for the session (binder/start, as on Binder); Ctrl-C stops them and the lab.
demo: setup
	binder/start $(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=notebooks \
		$$([ "$$(id -u)" = 0 ] && echo --allow-root)

# The browser test drives Debian's Chromium (never a downloaded browser build).
chromium:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# Lint and types first (seconds), then every test (unit, platforms against the real peers, journeys, the browser)
# on two workers (most tests wait on servers and peers), a file's tests on one (a notebook's cells stay together).
test: setup chromium
	$(BIN)/ruff check polynb tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest tests notebooks --nbval-lax -p no:cacheprovider -q -n 2 --dist loadfile

# The developer's loop (about a minute): lint, types and every test that runs in this process: not the slow walks,
# the real peers, the browser, the replicas, or the platforms' servers and the polynb command in processes of their own.
test-fast: setup
	$(BIN)/ruff check polynb tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest tests -m "not (slow or peers or browser or scaleout or servers)" -p no:cacheprovider -q -n 2 --dist loadfile

# Every benchmark in one run (under 15 minutes on 2 cores): the figures as JSON and the chart of docs/benchmarks.md.
bench: setup
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run.py --json --chart docs/images/benchmarks.png

clean:
	rm -rf $(VENV) .peers .polynb notebooks/.polynb polynb/labextension labextension/node_modules labextension/lib
