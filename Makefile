# The two commands that matter: `make demo` and `make test` (see README.md).
GO      ?= go
BIN     := bin/worker
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
DEMO_LAKE ?= ./lake/demo

.PHONY: build demo test lint bench image clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./worker

# Generates a small shop data set with bad rows in it and runs the pipeline on it.
demo: build
	$(BIN) --lake $(DEMO_LAKE) demo

# Every test: unit tests, CLI script tests, end-to-end pipeline tests (local lake
# and the GCS emulator), the generated DAGs (stale check, then the real Airflow
# 3.1.8 and 3.3.2, each in its own cached virtualenv), the BigQuery rendering of every mart checked with sqlglot
# against DuckDB, and the container build (static binary + smoke test, then run as
# the pod runs it: non-root, no capabilities, read-only root, writable /tmp only).
test: build lint
	$(GO) test -count=1 -timeout 30m ./...
	$(BIN) dags generate --out dags --check
	./docker/build.sh bin/worker-static
	./docker/harden.sh bin/worker-static
	./tests/airflow/run.sh
	./tests/sqlcheck/run.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# Performance at the reference scale (DESIGN section 8): rows/s and peak RSS.
bench: build
	./tests/bench.sh

# The image, where a Docker engine runs (CI builds its binary with docker/build.sh).
image:
	docker build --build-arg VERSION=$(VERSION) -t worker:$(VERSION) .

clean:
	rm -rf bin lake
