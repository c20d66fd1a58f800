# Shared by scripts/*.sh: Debian packages and toolchain choice.
# Sourced, not run.

# Debian packages the build, the demo and the tests need. The Rust crates
# themselves (Debian 13's librust-*-dev) come through scripts/crates.sh.
# Rust: Debian 12's rustc-web/cargo-web (1.96, bookworm-security), Debian
# 13's rustc/cargo (1.85); rustls 0.23.26 needs 1.71 or newer.
MODTLS_BUILD_PKGS="make gcc apache2 apache2-dev openssl curl debian-archive-keyring"
if . /etc/os-release 2>/dev/null && [ "${VERSION_CODENAME:-}" = bookworm ]; then
    MODTLS_RUST_PKGS="rustc-web cargo-web"
else
    MODTLS_RUST_PKGS="rustc cargo"
fi
# clang and libclang-rt-dev (the runtimes of Debian's default clang: 14 on
# Debian 12, 19 on Debian 13): the fuzz targets and the sanitizer build (its
# ASan runtime, which apache2 preloads; docs/reliability.md).
MODTLS_TEST_PKGS="python3 python3-pytest python3-cryptography nghttp2-client clang libclang-rt-dev libapr1-dev redis-server memcached libssl-dev cbindgen pebble python3-websockets"

log() { printf '==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Install the packages of $* that are missing (as root), or say which are.
ensure_pkgs() {
    missing=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" != 0 ]; then
        die "missing Debian packages:$missing (run as root, or: apt-get install$missing)"
    fi
    log "installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y --no-install-recommends $missing >/dev/null; } \
        || die "apt-get install$missing failed"
}

# cargo: $CARGO if set, else Debian's (installed if missing). A newer
# toolchain on PATH is used only when asked for (CARGO=$(command -v cargo)),
# so that the build is the same on every Debian machine.
pick_cargo() {
    if [ -z "${CARGO:-}" ]; then
        ensure_pkgs $MODTLS_RUST_PKGS
        CARGO=/usr/bin/cargo
        # Debian's compiler with Debian's cargo, whatever else is on PATH
        # (a rustup toolchain first on PATH would otherwise be used)
        RUSTC=${RUSTC:-/usr/bin/rustc}
        RUSTDOC=${RUSTDOC:-/usr/bin/rustdoc}
        export RUSTC RUSTDOC
    fi
    export CARGO
}
