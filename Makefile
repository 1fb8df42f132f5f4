# Everything here works from a fresh clone; CI runs `make test` (see .ci/run).
GO      ?= go
PYTHON3 ?= python3
VENV    := .venv
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/expt-logger/expt.Version=$(VERSION)
GOFILES  = $(shell find . -name '*.go' -not -path './.venv/*' -not -path './ui/node_modules/*')
# The Python SDK is optional until python/ exists, so early clones still build and test.
HAVE_PY := $(wildcard python/pyproject.toml)
# Pinned and fetched through the Go module proxy, so lint needs nothing preinstalled.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build ui test test-go test-python test-frameworks frameworks-venv test-ui test-faults test-schemathesis fuzz lint venv compat-venv demo bench bench-load bench-peers bench-quick bench-ui bench-reading bench-export bench-history clean

all: build

## build: the web UI (ui/dist), then the static binary bin/expt embedding it
build: ui
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/expt ./cmd/expt

## ui: npm packages (when the lock file changed) and the built UI in ui/dist
UI_SRC := $(shell find ui/src ui/public -type f 2>/dev/null) ui/index.html ui/vite.config.ts ui/tsconfig.json
ui: ui/dist/index.html

ui/node_modules/.installed: ui/package.json ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund
	touch $@

ui/dist/index.html: ui/node_modules/.installed $(UI_SRC)
	cd ui && npm run --silent build

## test: go vet, Go tests (unit + e2e against the real binary), Python tests, the framework
## integrations on real TRL and transformers (their own venv),
## UI unit tests (Vitest), UI end-to-end tests (Chromium), fault scenarios,
## schemathesis against the OpenAPI document, and a bounded run of every fuzz target
test: test-go test-python test-frameworks test-ui test-faults test-schemathesis fuzz

# The Go tests run every store test against PostgreSQL too, and the HTTP tests
# a second time on it: scripts/with-pg.sh starts a throwaway cluster when
# EXPT_TEST_POSTGRES_URL is not set and a server is installed. Without one the
# Postgres tests skip, except under CI=true.
test-go: compat-venv
	$(GO) vet ./...
	scripts/with-pg.sh sh -c '$(GO) test -count=1 ./... && \
		if [ -n "$$EXPT_TEST_POSTGRES_URL" ]; then EXPT_TEST_STORE=postgres $(GO) test -count=1 ./http/; fi'

## test-faults: the Python SDK against the real server through a fault proxy,
## server SIGKILLs, a full spool disk and a SIGKILLed trainer (faults/README.md)
test-faults: build venv
	EXPT_BIN=$(CURDIR)/bin/expt $(VENV)/bin/python -m pytest faults -q

## test-schemathesis: api/openapi.yaml fuzzed against the real server, on
## SQLite and on PostgreSQL (tests/schemathesis/run.sh; its own venv)
test-schemathesis: build
	tests/schemathesis/run.sh
	scripts/with-pg.sh sh -c 'if [ -n "$$EXPT_TEST_POSTGRES_URL" ]; then \
		EXPT_DB="$$EXPT_TEST_POSTGRES_URL" tests/schemathesis/run.sh; fi'

test-python:
ifeq ($(HAVE_PY),)
	@echo "python/ does not exist yet: skipping the Python tests"
else
	@$(MAKE) --no-print-directory venv
	scripts/with-pg.sh sh -c 'cd python && ../$(VENV)/bin/python -m pytest'
endif

## test-frameworks: ExptLoggerCallback and the watcher against real TRL (GRPOTrainer) and transformers on
## tiny models made in the test, into the real binary (python/frameworks)
test-frameworks: build frameworks-venv
	cd python && EXPT_BIN=$(CURDIR)/bin/expt ../$(FW_VENV)/bin/python -m pytest -c frameworks/pytest.ini --rootdir frameworks frameworks -q

## frameworks-venv: .venv-frameworks with torch, transformers, trl and the SDK (python/frameworks/requirements.txt;
## about 6 GB with the CUDA wheels PyPI serves, 3 minutes fresh; reinstalled only when the requirements change)
FW_VENV := .venv-frameworks
frameworks-venv:
	@test -x $(FW_VENV)/bin/python || $(PYTHON3) -m venv $(FW_VENV)
	@if [ ! -f $(FW_VENV)/.installed ] || [ python/frameworks/requirements.txt -nt $(FW_VENV)/.installed ]; then \
		$(FW_VENV)/bin/pip install --quiet --upgrade pip && \
		$(FW_VENV)/bin/pip install --quiet -r python/frameworks/requirements.txt && \
		$(FW_VENV)/bin/pip install --quiet --no-deps -e ./python && touch $(FW_VENV)/.installed; \
	fi

test-ui: build venv
	cd ui && npm run --silent test
	cd ui && npm run --silent test:e2e

## fuzz: every Go fuzz target for FUZZTIME each (seed corpora in */testdata/fuzz;
## a crasher is saved there by go test and must be kept once fixed). A target that fails with
## "context deadline exceeded" and writes no failing input is run once more: that is Go's
## fuzz coordinator racing its own -fuzztime deadline (go.dev/issue/75804, fixed in Go 1.27; we
## build with 1.26), not an input of ours. Counts (-fuzztime Nx) would dodge it, but these
## targets run from 15 to 7,000 inputs a second.
FUZZTIME ?= 8s
FUZZ_PKGS := ./http/
fuzz:
	@for pkg in $(FUZZ_PKGS); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "go test -fuzz $$t -fuzztime $(FUZZTIME) $$pkg"; \
			for try in 1 2; do \
				if $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $$pkg >/tmp/expt-fuzz.log 2>&1; then break; fi; \
				if [ $$try = 1 ] && grep -q 'context deadline exceeded' /tmp/expt-fuzz.log && ! grep -q 'Failing input written' /tmp/expt-fuzz.log; then \
					echo "  (go.dev/issue/75804: the coordinator's own deadline, no failing input; once more)"; continue; \
				fi; \
				cat /tmp/expt-fuzz.log; exit 1; \
			done; \
		done; \
	done

## venv: .venv with the Python SDK installed editable, with its dev tools
venv:
ifeq ($(HAVE_PY),)
	@echo "python/ does not exist yet: no venv to make"
else
	@test -x $(VENV)/bin/python || $(PYTHON3) -m venv $(VENV)
	@# Reinstall only when the package definition changed since the last install.
	@if [ ! -f $(VENV)/.installed ] || [ python/pyproject.toml -nt $(VENV)/.installed ]; then \
		$(VENV)/bin/pip install --quiet --upgrade pip && \
		$(VENV)/bin/pip install --quiet -e './python[dev]' && touch $(VENV)/.installed; \
	fi
endif

## compat-venv: the already-published expt-logger client, unchanged, for the
## end-to-end test that it works against our server (e2e/published_client_test.go)
PUBLISHED_CLIENT := expt-logger==0.1.0.dev22
compat-venv:
	@test -x .venv-compat/bin/python || $(PYTHON3) -m venv .venv-compat
	@.venv-compat/bin/python -c 'import expt_logger' 2>/dev/null || \
		.venv-compat/bin/pip install --quiet --pre '$(PUBLISHED_CLIENT)'

## lint: go vet, gofmt, staticcheck, ruff, mypy, tsc, and the UI's API types current with api/openapi.yaml
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(STATICCHECK) ./...
ifneq ($(HAVE_PY),)
	@$(MAKE) --no-print-directory venv
	$(VENV)/bin/ruff check python
	cd python && ../$(VENV)/bin/mypy
	$(VENV)/bin/ruff check --config python/pyproject.toml faults
	$(VENV)/bin/mypy --strict faults
endif
	cd ui && npx tsc --noEmit
	cd ui && npm run --silent check:api

## demo: serve .demo/, log a demo run with the Python SDK, keep serving until Ctrl+C
demo: build venv
	scripts/demo.sh

## bench: the load generator at full sizes (1M points, 1M rollouts; minutes), then
## expt-logger side by side with wandb, trackio and mlflow (bench-peers)
bench: bench-load bench-peers

bench-load:
	$(GO) run ./bench/load

## bench-peers: caller cost, server ingestion and exit time against wandb, trackio and
## mlflow, in their own venv (.venv-bench); writes bench/results/<date>-peers.md (~5 min; not in CI)
bench-peers: build
	bash bench/peers/run.sh

## bench-export: the export of 2M points and 4,000 rollouts of 20 KB from SQLite in each format, with
## speed and peak memory (bench/results/2026-12-08-export.md)
bench-export:
	$(GO) run ./bench/export

## bench-history: expt_logger.Api's history() of 1M points against the real binary
bench-history: build venv
	$(VENV)/bin/python python/bench/bench_history.py

## bench-quick: the same at small sizes (seconds)
bench-quick:
	$(GO) run ./bench/load --quick

## bench-ui: time to an interactive experiment page and a rollout step switch in Chromium
bench-ui: build
	cd ui && node bench/open.mjs

## bench-reading: opening a 30 KB math rollout, its reasoning, and a step of 1,024 rollouts of 20 KB, in Chromium
bench-reading: build
	cd ui && node bench/reading.mjs

clean:
	rm -rf bin .demo .venv-compat ui/test-output
	find ui/dist -mindepth 1 ! -name .gitkeep -delete 2>/dev/null || true
