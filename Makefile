# keepalived-rs: every entry point a newcomer or CI needs. `make deps` installs what is missing
# from Debian (CI has no stdin, so apt runs non-interactively).

CARGO ?= cargo
# ipvsadm: keepalived recommends it, and the corpus verdicts were made with it installed (a
# notify_up of `/sbin/ipvsadm ...` passes keepalived's script check only where it exists).
APT_PACKAGES := keepalived ipvsadm iproute2 nftables procps tcpdump python3 openssl
# Lowest accept/reject agreement with keepalived -t on the shared corpus that may land (percent).
CORPUS_MIN_AGREEMENT ?= 99.9
# A one-shot build (CI, a fresh checkout) gains nothing from incremental caches, which double the
# disk a test build needs. Set CARGO_INCREMENTAL=1 to keep them.
CARGO_INCREMENTAL ?= 0
export CARGO_INCREMENTAL
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build run demo test lint unit integration bench soak fmt clean

all: build

deps:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (rustup) first"; exit 1; }
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	$(CARGO) build --release --bin keepalived-rs

# Parse the sample configuration and print the typed model.
run: build
	./target/release/keepalived-rs --config-test -f etc/keepalived.conf --dump-conf-json

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

unit:
	$(CARGO) test --workspace --locked

# Tests that run real binaries as root: keepalived 2.2 and keepalived-rs side by side.
integration: build
	bash integration/corpus-live.sh target/release/keepalived-rs $(CORPUS_MIN_AGREEMENT)
	$(CARGO) test --locked -p keepalived-sys -- --include-ignored
	$(CARGO) test --locked -p keepalived-rs --test daemon -- --include-ignored --test-threads=1
	$(CARGO) test --locked -p keepalived-vrrpd -- --include-ignored --test-threads=1
	$(CARGO) test --locked -p keepalived-checker --test vs_more -- --include-ignored
	$(CARGO) test --locked -p keepalived-supervisor --lib tuning -- --include-ignored --test-threads=1
	KRS_DAEMON=1 KEEPALIVED_RS_BIN=$(CURDIR)/target/release/keepalived-rs \
	  $(CARGO) test --locked -p keepalived-integration -- --include-ignored --test-threads=1

# Two namespaces, keepalived-rs in each: who holds the VIP, kill the master, watch it move.
demo: build
	bash integration/demo.sh target/release/keepalived-rs

# Every test: formatting, lints, unit/property/simulation tests, corpus comparison with keepalived.
test: deps lint unit integration package-test

# Every measure of issue 7's table, keepalived 2.2 beside keepalived-rs in one run (35-55 min;
# needs a quiet machine for meaningful figures): writes integration/bench/results.md.
bench: build
	$(CARGO) build --release -p keepalived-config --example parse_bench
	bash integration/bench/run-all.sh target/release/keepalived-rs target/release/examples/parse_bench

# 30 minutes: 500 VRRPv3 instances at 0.1 s, a link flap every 10 s, a reload every minute;
# RSS and fd curves per process (DURATION=seconds to shorten).
soak: build
	bash integration/bench/soak.sh target/release/keepalived-rs

# Debian package: target/debian/keepalived-rs_<version>_<arch>.deb from the release binary
# `make build` made (cargo-deb --no-build), with keepalived-rs(8) rendered from the clap CLI.
# cargo-deb is installed when missing (`cargo install cargo-deb --locked`, a few minutes).
DEB_TARGET_DIR = $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)
.PHONY: deb package-test
deb: build
	@command -v cargo-deb >/dev/null || $(CARGO) install cargo-deb --locked
	$(CARGO) build --release -p keepalived-rs --example manpage
	mkdir -p $(DEB_TARGET_DIR)/release/man
	$(DEB_TARGET_DIR)/release/examples/manpage $(DEB_TARGET_DIR)/release/man/keepalived-rs.8
	gzip -9nf $(DEB_TARGET_DIR)/release/man/keepalived-rs.8
	$(CARGO) deb -p keepalived-rs --no-build --strip

# Installs the .deb into scratch roots (dpkg-deb -x, dpkg --root) and runs it from there.
package-test: deb
	bash packaging/test-deb.sh

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
