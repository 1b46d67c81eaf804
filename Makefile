# The two commands of README.md: `make demo` and `make test`. Everything lands in a git-ignored .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.polynb-installed
export NODE_EXTRA_CA_CERTS ?= /etc/ssl/certs/ca-certificates.crt

.PHONY: setup demo test clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --notebook-dir=notebooks

test: setup
	$(BIN)/python -m pytest tests notebooks --nbval-lax -p no:cacheprovider -q

clean:
	rm -rf $(VENV) .polynb notebooks/.polynb
