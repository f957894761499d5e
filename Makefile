# Set-up and the two main jobs. Everything lands in .venv; nothing is installed system-wide
# except the Debian packages scripts/install-system-deps.sh lists (only when they are missing).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Torch on 2 busy cores: spinning OpenMP threads were measured 10-50x slower here.
export OMP_WAIT_POLICY := PASSIVE

.PHONY: demo voice test test-all bench lint install clean

demo: $(STAMP)
	$(BIN)/speechsynth say 'Hello! This is speechsynth, speaking on a plain CPU with its bundled demo voice.' -o demo.wav

# Rebuilds the bundled demo voice (hours on 2 cores; resumable): recipes/demo-voice/build.sh
voice: $(STAMP)
	bash recipes/demo-voice/build.sh

# CI's suite: everything but the long training runs marked `slow` (make test-all adds them).
test: $(STAMP)
	$(BIN)/ruff check speechsynth tests
	$(BIN)/ruff format --check speechsynth tests
	$(BIN)/pytest -q -m "not slow"

test-all: $(STAMP)
	$(BIN)/pytest -q

# The README's measured tables ("The seeds' tables, on this machine") and docs/bench/*.png,
# remeasured here: about 10 minutes on 2 cores; keep the machine otherwise idle. The README
# changes only when every run succeeded. Mixed-precision training is left out unless asked
# for (make bench BENCH_AMP=--amp): a CPU without native bfloat16 emulates it, >7x slower.
BENCH_OUT := build/bench
BENCH_AMP ?=
bench: $(STAMP)
	mkdir -p $(BENCH_OUT) docs/bench
	$(BIN)/speechsynth bench inference --generator bundled --vocoder griffin-lim \
		--batch-sizes 1,4,8 --runtime torch,onnx --precision fp32,auto --repeats 3 \
		--plot docs/bench/inference-bundled.png > $(BENCH_OUT)/1-inference.md
	$(BIN)/speechsynth bench train --model fastpitch --nproc 1,2 --batch-size 4 $(BENCH_AMP) \
		--epochs-worth 0.5 --markdown > $(BENCH_OUT)/2-train.md
	$(BIN)/python -m speechsynth.evaluate.readme_bench README.md \
		$(BENCH_OUT)/1-inference.md $(BENCH_OUT)/2-train.md

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
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
