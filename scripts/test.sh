#!/bin/sh
# Run every test of mod_tls: the Rust crate, the C unit tests, the fuzz
# targets (briefly) and the pytest suite against a real httpd. Installs
# missing Debian packages when run as root. Exit status 0 only if
# everything passed.
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

CRATES=$(scripts/crates.sh dir)
log "rtls: cargo test ($("$CARGO" --version))"
(cd rtls && "$CARGO" test --release --offline --locked -q --config "source.debian.directory=\"$CRATES\"")

if [ -f test/c/Makefile ]; then
    log "C unit tests"
    make -C test/c check
fi

if [ -f fuzz/Makefile ]; then
    log "fuzzing the configuration parsers and the rtls data path (${FUZZ_SECONDS:-12}s each)"
    make -C fuzz run FUZZ_SECONDS="${FUZZ_SECONDS:-12}"
fi

log "pytest (real httpd on loopback)"
/usr/bin/python3 -m pytest test -q "$@"
