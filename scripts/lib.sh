# Shared by scripts/*.sh: Debian packages and toolchain choice.
# Sourced, not run.

# Debian 12 packages the build, the demo and the tests need.
MODTLS_BUILD_PKGS="make gcc apache2 apache2-dev librust-rustls-dev librust-rustls-pemfile-dev cargo rustc openssl curl"
MODTLS_TEST_PKGS="python3 python3-pytest python3-cryptography nghttp2-client clang libclang-rt-14-dev libapr1-dev redis-server memcached"

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

# cargo: the one on PATH (rustup or Debian), else Debian's.
pick_cargo() {
    if command -v cargo >/dev/null 2>&1; then CARGO=$(command -v cargo); else CARGO=/usr/bin/cargo; fi
    export CARGO
}
