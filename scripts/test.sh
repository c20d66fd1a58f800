#!/bin/sh
# Run every test of mod_tls: the Rust crate (with the default toolchain and
# with Debian's rustc 1.63), the C unit tests, the fuzz targets (briefly) and
# the pytest suite against a real httpd. Installs missing Debian packages
# when run as root. Exit status 0 only if everything passed.
#
#   scripts/test.sh              everything
#   scripts/test.sh -k strict    extra arguments go to pytest
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_pkgs $MODTLS_BUILD_PKGS $MODTLS_TEST_PKGS
pick_cargo

log "build (make)"
make CARGO="$CARGO"

log "rtls: cargo test ($("$CARGO" --version))"
(cd rtls && "$CARGO" test --release --offline --locked -q)

if [ -x /usr/bin/rustc ] && [ "$(/usr/bin/rustc --version)" != "$(rustc --version 2>/dev/null)" ]; then
    log "rtls: cargo test with Debian's $(/usr/bin/rustc --version)"
    (cd rtls && RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc CARGO_TARGET_DIR=target/debian \
        /usr/bin/cargo test --release --offline --locked -q)
fi

if [ -f test/c/Makefile ]; then
    log "C unit tests"
    make -C test/c check
fi

if [ -f fuzz/Makefile ]; then
    log "fuzzing the configuration parsers (${FUZZ_SECONDS:-15}s)"
    make -C fuzz run FUZZ_SECONDS="${FUZZ_SECONDS:-15}"
fi

log "pytest (real httpd on loopback)"
/usr/bin/python3 -m pytest test -q "$@"
