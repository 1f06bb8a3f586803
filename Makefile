# Two commands do everything on a fresh machine:
#   make test   installs what is missing, then runs every suite
#   make demo   installs what is missing, builds the package and serves the demo
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: test demo setup test-native test-js test-browsers test-chrome test-firefox test-webkit test-e2e test-apps check-core lint pkg bench mutants

test: setup
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory lint && \
	$(MAKE) --no-print-directory test-native && \
	$(MAKE) --no-print-directory test-js && \
	$(MAKE) --no-print-directory test-browsers && \
	$(MAKE) --no-print-directory test-e2e && \
	$(MAKE) --no-print-directory test-apps && \
	echo "make test: all suites passed in $$(( $$(date +%s) - start ))s"

setup:
	@scripts/setup

# Native: the sans-IO core (unit, scenario and property tests) and the reference server.
test-native: check-core
	@echo "== native tests (core + reference server) =="
	cargo test --workspace

# The drop-in check from the JS side: the existing client's scenarios and the new
# delivery rules, run by vitest in Node against the built package, imported by its npm
# name (the default entry: ESM, and CommonJS in entries.test.ts), with injected fake
# fetch/EventSource and fake timers; lifetime.test.ts forces garbage collections.
# tsc first: the typings must accept the existing client's usage (typecheck/usage.ts),
# each entry's the opt-in options it has and no others (typecheck/entries.ts), and
# under Node's typings alone (no DOM) the `eventsource` package, Node's fetch and
# plain fakes (typecheck/node.ts).
# attw then checks the packed package's typings under every TypeScript resolution
# mode; the subpaths are ESM by nature (the WebAssembly ESM integration, import.meta.url),
# so only for them is a CommonJS `require` resolving to ESM expected.
test-js: pkg
	@echo "== JS tests of the built package (vitest, node; attw; the build's JS tools) =="
	@ln -sfn ../../../pkg tests/js/node_modules/sse-courier
	@! grep -nE '(: |=> |\(|, )any\b' pkg/*.d.ts pkg/*/*.d.ts || { echo "the package typings say any (above)"; exit 1; }
	node --test tools/embed-wasm/ tools/wasm-rename/
	cd tests/js && npx tsc -p typecheck && npx tsc -p typecheck/tsconfig.node.json && npx tsc -p . && npx vitest run
	cd tests/js && npx attw --pack ../../pkg --entrypoints . ./persist ./tabs ./full && \
	  npx attw --pack ../../pkg --entrypoints ./web ./bundler --ignore-rules cjs-resolves-to-esm

# The app matrix: the packed tarball (npm pack of pkg/, what users install) installed
# into tiny apps with pinned bundlers (Vite 6 and 8 build and dev server, webpack,
# esbuild, Rollup, a page with no bundler, Web Workers, Node ESM and CJS, and the npm
# README's Node example in TypeScript, taken from the README and compiled by tsc), each
# loaded in Chromium, Firefox and WebKit (or run by Node) against the reference server
# (tests/apps/README.md).
test-apps: pkg
	@echo "== app matrix (packed package: bundlers, no bundler, workers, node; chromium, firefox, webkit) =="
	@cargo build -q -p sse-courier-server
	node --test --test-concurrency=1 --test-reporter=spec tests/apps/

# The core must stay sans-IO: a native build of the library must not reach any web crate.
check-core:
	@scripts/check-core

# Mutation testing of the delivery core (not part of `make test`): cargo-mutants
# (installed when missing) mutates src/core/ as .cargo/mutants.toml says and runs the
# core's native unit, scenario and property tests against each mutant. It fails on a
# missed mutant; the equivalent ones are excluded there, each with its reason
# (docs/mutants.md). A timeout is a mutant that loops for ever (cargo-mutants exits 3
# for it even with nothing missed): counted as caught. Results in target/mutants.out/.
# About 75 minutes with 2 jobs (925 mutants, 2026-12-07); MUTANTS_JOBS=1 on a busy machine.
MUTANTS_JOBS ?= 2
mutants:
	@command -v cargo-mutants >/dev/null 2>&1 || { echo "setup: cargo install cargo-mutants" >&2; cargo install -q cargo-mutants; }
	@CARGO_PROFILE_DEV_DEBUG=0 CARGO_PROFILE_TEST_DEBUG=0 cargo mutants --jobs $(MUTANTS_JOBS); status=$$?; \
	if [ $$status -eq 3 ] && [ ! -s target/mutants.out/missed.txt ]; then status=0; fi; exit $$status

# wasm-bindgen-test suites headless in the three engines, each against its own fresh server.
# WebKit: WebKitGTK's MiniBrowser through WebKitWebDriver, on an Xvfb display.
test-browsers: test-chrome test-firefox test-webkit

test-chrome:
	@scripts/with-server --sse-retry-ms 300 -- scripts/browser-tests chrome

test-firefox:
	@scripts/with-server --sse-retry-ms 300 -- scripts/browser-tests firefox

test-webkit:
	@scripts/with-server --sse-retry-ms 300 -- scripts/browser-tests webkit

# End-to-end: the demo page (www/, the built package bundled by esbuild, no plugin) driven over
# WebDriver in headless Chromium and Firefox and in WebKit (MiniBrowser on Xvfb); each
# scenario starts its own reference server on a free port, and every driver, browser and
# server is stopped afterwards.
test-e2e: pkg
	@echo "== end-to-end tests of the demo (WebDriver: chromium, firefox, webkit) =="
	@[ -x www/node_modules/.bin/esbuild ] && [ -x www/node_modules/.bin/tsc ] || npm ci --prefix www --no-audit --no-fund
	@npm run --silent --prefix www typecheck
	@npm run --silent --prefix www build
	@cargo build -q -p sse-courier-server
	node --test --test-concurrency=1 --test-reporter=spec tests/e2e/chromium.test.mjs tests/e2e/firefox.test.mjs tests/e2e/webkit.test.mjs

# fmt and clippy (native, wasm32 with its tests, and each shipped build's features) with warnings as errors.
lint:
	@echo "== lint (rustfmt, clippy) =="
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p sse-courier --target wasm32-unknown-unknown --all-targets -- -D warnings
	cargo clippy -p sse-courier --target wasm32-unknown-unknown --lib --features persist -- -D warnings
	cargo clippy -p sse-courier --target wasm32-unknown-unknown --lib --features share-tabs -- -D warnings
	cargo clippy -p sse-courier --target wasm32-unknown-unknown --lib --features persist,share-tabs -- -D warnings

# The npm package (wasm-pack output plus pkg-template/) into pkg/: rebuilt only when
# a source changed, so test-js and test-e2e share one build within a `make test`.
PKG_SOURCES := $(shell find src pkg-template tools/embed-wasm tools/wasm-rename -type f -not -path '*/target/*') Cargo.toml Cargo.lock scripts/build-pkg LICENSE-MIT LICENSE-APACHE
pkg: setup pkg/package.json

pkg/package.json: $(PKG_SOURCES)
	@scripts/build-pkg

demo: setup pkg
	@scripts/demo

# Benchmarks (not part of `make test`: timings are reported, never asserted): size,
# inbound/outbound throughput, recovery time and memory of the package beside plain
# JS, in headless Chromium and Firefox and in WebKit (MiniBrowser under Xvfb), against
# the reference server (built optimised, in its own `bench-server` profile so the
# server is not the bottleneck). Writes
# bench/results.json and the tables of BENCHMARKS.md (bench/README.md).
# `BENCH_BASELINE=<git ref> make bench`: that ref's build beside this one (before/after
# sizes and inbound/outbound runs; bench/build.mjs builds its package once).
BENCH_SERVER_PROFILE := --profile bench-server --config 'profile.bench-server.inherits="release"' \
	--config 'profile.bench-server.opt-level=2' --config 'profile.bench-server.lto=false' \
	--config 'profile.bench-server.codegen-units=16' --config 'profile.bench-server.panic="unwind"'
bench: pkg
	@[ -x www/node_modules/.bin/esbuild ] || npm ci --prefix www --no-audit --no-fund
	@node bench/build.mjs
	@cargo build -q -p sse-courier-server $(BENCH_SERVER_PROFILE)
	node bench/run.mjs
