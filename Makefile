# Set-up and the two main jobs. Everything lands in .venv; nothing is installed system-wide
# except the Debian packages scripts/install-system-deps.sh lists (only when they are missing).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Torch on 2 busy cores: spinning OpenMP threads were measured 10-50x slower here.
export OMP_WAIT_POLICY := PASSIVE

.PHONY: demo test lint install clean

demo: $(STAMP)
	$(BIN)/speechsynth text 'Dr. Smith paid $$3.50 for 2 coffees at 3:30 pm on May 1st, 2021.'

test: $(STAMP)
	$(BIN)/ruff check speechsynth tests
	$(BIN)/ruff format --check speechsynth tests
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check speechsynth tests && $(BIN)/ruff format --check speechsynth tests

install: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
