# movitera — build, test and release from one file. `make` alone lists the targets.

SHELL        := /bin/bash
.SHELLFLAGS  := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO      ?= go
# Pinned Go tools (goreleaser, staticcheck) live in their own module so that
# the product's go.mod stays lean: see internal/tools/go.mod.
TOOL    := $(GO) tool -modfile=internal/tools/go.mod
BIN     := bin/movitera
PKG     := github.com/movitera/movitera/cmd

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS := -s -w -X $(PKG).version=$(VERSION) -X $(PKG).commit=$(COMMIT) -X $(PKG).date=$(DATE)

# Packages holding end-to-end tests: those with a `//go:build e2e` test file.
E2E_PKGS ?= $(shell grep -rlE --include='*_test.go' '^//go:build.*\be2e\b' . 2>/dev/null | xargs -r -n1 dirname | sort -u)
# The whole-process benchmark script (hyperfine, wrk), when present.
BENCH_SCRIPT ?= internal/bench/run.sh

.PHONY: help build test test-unit test-e2e lint docs demo bench release-snapshot clean

help: ## List the targets
	@echo "Usage: make <target>"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build bin/movitera (static, version/commit/date stamped)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) .

test: test-unit test-e2e ## Run every test: unit, handler, CLI scripts, stale docs, then end to end (what CI runs)

# Tests run inside a private D-Bus session with an unlocked gnome-keyring, in a
# throw-away HOME: the real Secret Service, never the person's own keyring (see
# /work/shared/design/TESTING.md). Go's caches stay where they were. Where
# dbus-run-session or gnome-keyring-daemon is missing (macOS, a bare laptop), the
# command runs as is and the tests that need the real keyring skip (outside CI).
define in_keyring_session
	if command -v dbus-run-session >/dev/null && command -v gnome-keyring-daemon >/dev/null; then \
	  export GOCACHE="$$($(GO) env GOCACHE)" GOMODCACHE="$$($(GO) env GOMODCACHE)" GOPATH="$$($(GO) env GOPATH)"; \
	  dbus-run-session -- sh -euc ' \
	    export HOME="$$(mktemp -d)"; \
	    trap "rm -rf \"$$HOME\"" EXIT; \
	    printf "any-password\n" | gnome-keyring-daemon --unlock --replace --components=secrets >/dev/null 2>&1; \
	    $(1)'; \
	elif [ "$${CI:-}" = true ]; then \
	  echo "dbus-run-session or gnome-keyring-daemon missing: apt-get install dbus gnome-keyring libsecret-tools" >&2; exit 1; \
	else \
	  echo "note: no dbus-run-session/gnome-keyring-daemon: tests needing the real keyring will skip" >&2; \
	  $(1); \
	fi
endef

test-unit: ## Run the unit, handler, CLI-script and stale-docs tests with the race detector
	@echo "$(GO) test -race ./..."
	@$(call in_keyring_session,$(GO) test -race ./...)

test-e2e: ## Run the end-to-end tests: real keyring, real browser, real terminal
	@if [ -z "$(strip $(E2E_PKGS))" ]; then echo "test-e2e: no end-to-end test packages yet"; exit 0; fi
	@echo "$(GO) test -tags e2e -count=1 $(E2E_PKGS)"
	@$(call in_keyring_session,$(GO) test -tags e2e -count=1 $(E2E_PKGS))

lint: ## gofmt, go vet and staticcheck (pinned)
	@out="$$(gofmt -l $$(find . -name '*.go' -not -path './.git/*' -not -path './dist/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt: these files need 'gofmt -w':"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./...
	$(TOOL) staticcheck -tags e2e ./...

docs: ## Regenerate docs/reference (markdown) and docs/man (man pages) from the command tree
	$(GO) run ./internal/docgen/gendocs -reference docs/reference -man docs/man

demo: build ## Start a throw-away dev server, log in to it, show status and tokens
	BIN=$(BIN) bash internal/demo/demo.sh

bench: ## Run the Go benchmarks, then the whole-process timings; writes docs/performance.md (not part of test or CI)
	@mkdir -p bin
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 200ms ./... | tee bin/go-bench.txt
	bash $(BENCH_SCRIPT) -go-bench bin/go-bench.txt

release-snapshot: ## Build every release archive and package into dist/ (no publishing)
	$(TOOL) goreleaser release --snapshot --clean

clean: ## Remove build outputs
	rm -rf bin dist
