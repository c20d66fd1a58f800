#!/bin/sh
# Run every test of mod_tls: the Rust crate, the C unit tests, the fuzz
# targets (briefly) and the pytest suite against a real httpd, twice: with
# the module, then with its sanitizer build (ASan, LeakSanitizer, UBSan;
# docs/reliability.md), where any sanitizer report fails the run. Installs
# missing Debian packages when run as root. Exit status 0 only if
# everything passed.
#
#   scripts/test.sh              everything
#   scripts/test.sh -k strict    extra arguments go to pytest (both runs)
#   SANITIZE=0 scripts/test.sh   without the sanitizer build and its run
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_pkgs $MODTLS_BUILD_PKGS $MODTLS_TEST_PKGS
pick_cargo

SANITIZE=${SANITIZE:-1}
if [ "$SANITIZE" != 0 ]; then
    log "build (make, make sanitize)"
    make CARGO="$CARGO" all sanitize
else
    log "build (make)"
    make CARGO="$CARGO"
fi

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

if [ "$SANITIZE" != 0 ]; then
    log "pytest against the sanitizer build (apache2 preloads $(basename "$(cat build/asan/preload)"))"
    MOD_TLS_SO="$PWD/build/asan/mod_tls.so" MODTLS_TEST_PRELOAD="$(cat build/asan/preload)" \
        /usr/bin/python3 -m pytest test -q "$@"
fi
