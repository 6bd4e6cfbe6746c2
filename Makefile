# The two commands of the README: `make demo` and `make test`. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STUDIO_ENV := .cache/label-studio/venv
STUDIO_PORT ?= 8080
BACKEND_PORT ?= 9090

.PHONY: setup demo test lint studio-env studio browser sample-export benchmarks pictures

$(BIN)/framestance: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: this machine holds its CPU build; an unpinned torch pulls GBs of CUDA packages
	$(BIN)/python -m pip install --quiet "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[test,crowd,embeddings,notebooks,dask]"
	touch $@

setup: $(BIN)/framestance

demo: setup
	$(BIN)/framestance demo -o demo-output

# The Label Studio server used by the tests lives in its own environment (it pins old packages).
studio-env: setup
	$(BIN)/python -c "from annotation.studio_server import ensure_server_env; ensure_server_env('$(STUDIO_ENV)')"

# A local Label Studio with the demo project, the demo model's suggestions and its ML backend, until Ctrl-C.
studio: studio-env
	$(BIN)/python scripts/studio_demo.py --env $(STUDIO_ENV) --port $(STUDIO_PORT) --backend-port $(BACKEND_PORT)

# Headless Chromium for the browser test, from Debian's packages.
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	chromium --version

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint studio-env browser
	FRAMESTANCE_STUDIO_ENV=$(STUDIO_ENV) $(BIN)/python -m pytest

# Re-label the bundled sample on a real server and save its export (after changing the sample or splitter).
sample-export: studio-env
	$(BIN)/python scripts/label_sample.py --env $(STUDIO_ENV)

benchmarks: setup
	$(BIN)/python benchmarks/cli_startup.py

# The README's pictures, rendered from the bundled sample by the two notebooks.
pictures: setup
	mkdir -p .work/pictures docs
	cd notebooks && ../$(BIN)/papermill --no-progress-bar score_new_articles.ipynb ../.work/pictures/score.ipynb \
		-p demo_folder ../.work/pictures/demo -p out ../.work/pictures/score
	cd notebooks && ../$(BIN)/papermill --no-progress-bar compare_sources.ipynb ../.work/pictures/compare.ipynb \
		-p demo_folder ../.work/pictures/demo -p out ../.work/pictures/compare \
		-y "sources: [The Harbor Ledger, Restraint Review]"
	cp .work/pictures/score/stance.png docs/stance-by-article.png
	cp .work/pictures/compare/log_odds.png docs/log-odds-ledger-restraint.png
