# agentcore-identity build and test entry points.
GO ?= go
STATICCHECK_VERSION ?= v0.8.2

.PHONY: run build test check lint fmt-check vet bench fuzz

run: ## run the server (embedded SQLite in ./.agentcore)
	$(GO) run ./cmd/agentcore server

build:
	$(GO) build -o agentcore ./cmd/agentcore

# The test command. PostgreSQL suites run when AGENTCORE_TEST_POSTGRES_URL is
# set (.ci/run always sets it); without it they skip with a message.
test: fmt-check vet
	$(GO) test -race -count=1 -timeout 20m ./...
	cd sdk && $(GO) test -race -count=1 ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

check: test lint

fuzz: ## every fuzz target for FUZZTIME (default 10s) each
	./scripts/fuzz.sh

# Benchmarks and the load harness; not part of CI. The Go benchmarks run
# first, then bench/load loads an in-process server (SQLite in a temporary
# file, 1M stored tokens) and prints a Markdown report. Quicker:
# make bench BENCH_FLAGS='-rows 100000 -d 5s'; every flag: go run ./bench/load -h
BENCH_FLAGS ?=
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./bench/...
	$(GO) run ./bench/load $(BENCH_FLAGS)
