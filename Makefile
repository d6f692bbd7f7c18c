# lvsd — see README.md. `make test` and `make demo` set up a fresh Debian
# machine themselves (as root): apt packages, Go modules, the VM kernel.

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

# Build tags of the test tiers: lab (namespaces, root), vm (qemu + IPVS
# kernel), vmguest (code that runs inside the VM).
TAGS := lab vm vmguest bench

.PHONY: all build deps lint test test-unit test-fuzz test-lab test-soak test-vm test-demo bench soak demo clean lab-sweep

all: build

build: bin/lvsd

bin/lvsd: $(shell find . -name '*.go' -not -path './.cache/*') go.mod go.sum
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./cmd/lvsd

# Installs what the tiers need on Debian; fails clearly elsewhere.
deps:
	@bash test/setup.sh
	$(GO) mod download

lint:
	$(GO) vet ./...
	@for t in $(TAGS); do echo "go vet -tags $$t ./..."; $(GO) vet -tags $$t ./... || exit 1; done
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# Every tier, in order; CI runs this (.ci/run).
test: deps lint test-unit test-fuzz test-lab test-soak test-vm test-demo

test-unit:
	$(GO) test -race -count=1 ./...

# A short run of each fuzz target beyond its seed corpus, about 15 s each
# here. Budgets are counts, not durations: a duration races Go's fuzzing
# coordinator at its deadline (golang/go#75804, fixed in Go 1.27) and
# fails a run that found nothing.
test-fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime 120000x ./conf
	$(GO) test -run '^$$' -fuzz '^FuzzParseAdvert$$' -fuzztime 600000x ./vrrp

test-lab: lab-sweep
	$(GO) test -tags lab -count=1 -p 1 -v -timeout 20m ./test/lab/... ./test/e2e/...

# The chaos soak (test/soak) on a fixed seed: 3 minutes of an lvsd pair,
# every fault kind. LVSD_SOAK_FAULTS, LVSD_SOAK_STEPS and the two below
# replay a violation (its log line gives them). The keepalived variant
# runs with `make soak SOAK_TEST=TestSoakKeepalived`: a keepalived master
# that yields after a partition heals does so silently, so nothing tells
# lvsd to re-announce, and the segment can keep keepalived's MAC for the
# VIP (see test/soak's doc).
SOAK_DURATION ?= 3m
SOAK_SEED ?= 1
test-soak: lab-sweep
	LVSD_SOAK_DURATION=$(SOAK_DURATION) LVSD_SOAK_SEED=$(SOAK_SEED) \
	  $(GO) test -tags lab -count=1 -p 1 -v -timeout 15m -run 'TestSoak$$' ./test/soak/

test-vm:
	$(GO) test -tags vm -count=1 -p 1 -v -timeout 40m ./test/vm/... ./test/director/...

# The demo is part of the tests: every step of it is checked.
test-demo:
	$(GO) run ./test/demo

# Removes namespaces left by an interrupted lab run.
lab-sweep:
	$(GO) run ./test/lab/labsweep

# Figures side by side in one run (DESIGN.md, "Benchmarks"): each
# benchmark adds its rows to one table, printed at the end; their own
# detailed output stays in .cache/bench.log.
BENCH_PKGS := ./test/e2e/ ./healthcheck/ ./test/director/ ./test/vm/
bench: deps
	@mkdir -p .cache && rm -f .cache/bench-rows.jsonl .cache/bench.log
	@set -o pipefail; for p in $(BENCH_PKGS); do \
	  echo "bench: $$p" >&2; \
	  LVSD_BENCH_TABLE=$(CURDIR)/.cache/bench-rows.jsonl $(GO) test -tags bench -count=1 -run 'Bench' -v -timeout 60m $$p \
	    >> .cache/bench.log 2>&1 || { tail -40 .cache/bench.log; exit 1; }; \
	done
	@echo
	@$(GO) run ./test/benchtab/print .cache/bench-rows.jsonl
	@echo
	@echo "details: .cache/bench.log"

# The long chaos run: the lvsd pair for 30 minutes on a random seed,
# printed first (LVSD_SOAK_SEED, LVSD_SOAK_DURATION, LVSD_SOAK_FAULTS and
# SOAK_TEST=TestSoakKeepalived override). Prints the soak's table and any
# violation with its replay; the whole log stays in .cache/soak.log.
SOAK_TEST ?= TestSoak$$
soak: deps lab-sweep
	@mkdir -p .cache
	@seed=$${LVSD_SOAK_SEED:-$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}; \
	  dur=$${LVSD_SOAK_DURATION:-30m}; \
	  echo "soak: $(SOAK_TEST), seed $$seed, $$dur (log: .cache/soak.log)"; \
	  LVSD_SOAK_SEED=$$seed LVSD_SOAK_DURATION=$$dur $(GO) test -tags lab -count=1 -v -timeout 24h \
	    -run '$(SOAK_TEST)' ./test/soak/ > .cache/soak.log 2>&1; rc=$$?; \
	  awk '/VIOLATION after/{v=1} v&&/replay:/{print; v=0; next} v' .cache/soak.log; \
	  awk '/^soak: /{t=1} t&&/^$$/{t=0} t' .cache/soak.log; \
	  [ $$rc -eq 0 ] || { echo "soak failed (exit $$rc): see .cache/soak.log"; tail -5 .cache/soak.log; }; \
	  exit $$rc

# The main job: a narrated director pair on an embedded lab, a few minutes.
demo: deps
	$(GO) run ./test/demo

clean:
	rm -rf bin
