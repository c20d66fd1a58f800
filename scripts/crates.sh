#!/bin/sh
# The Rust crate sources of rtls and the benchmark clients: exactly the
# versions the committed Cargo.lock files pin, all from Debian 13's
# librust-*-dev packages. Cargo builds offline from them through the source
# replacement in rtls/.cargo/config.toml.
#
#   scripts/crates.sh dir      print the registry directory cargo should use
#   scripts/crates.sh fetch    make sure every locked crate is there:
#       Debian 13: install the librust-*-dev packages (as root);
#       Debian 12: download the same .deb files from Debian 13's archive with
#       a private apt state under build/apt and unpack them into
#       build/crates. The system's apt sources, lists and installed
#       packages are never touched.
#   scripts/crates.sh packages print the Debian package of each locked crate
#
# MODTLS_CRATES=/dir overrides the choice (a registry directory that holds
# the locked crates already; nothing is fetched).
set -eu
cd "$(dirname "$0")/.."

LOCKS="rtls/Cargo.lock bench/hsload/Cargo.lock bench/callgrind/Cargo.lock"
SUITE=trixie                       # Debian 13, whose crate versions we build on
SYSTEM_REGISTRY=/usr/share/cargo/registry
PRIVATE=$(pwd)/build/crates
APT_DIR=$(pwd)/build/apt

# "name version" of every registry crate in the lock files, once each.
locked() {
    for f in $LOCKS; do
        [ -f "$f" ] || continue
        awk '/^\[\[package\]\]/ { n = ""; v = ""; s = 0 }
             /^name = /    { n = $3 }
             /^version = / { v = $3 }
             /^source = "registry/ { s = 1 }
             s && n != "" && v != "" { gsub(/"/, "", n); gsub(/"/, "", v); print n, v; n = "" }' "$f"
    done | sort -u
}

# Debian's package for a crate: librust-<name>-dev, '_' as '-'.
package_of() { printf 'librust-%s-dev\n' "$(printf %s "$1" | tr '_A-Z' '-a-z')"; }

is_trixie_or_later() {
    . /etc/os-release 2>/dev/null || return 1
    case "${VERSION_CODENAME:-}" in bookworm|bullseye|buster) return 1 ;; *) return 0 ;; esac
}

registry() {
    if [ -n "${MODTLS_CRATES:-}" ]; then echo "$MODTLS_CRATES"
    elif is_trixie_or_later; then echo "$SYSTEM_REGISTRY"
    else echo "$PRIVATE$SYSTEM_REGISTRY"
    fi
}

# The locked crates missing from registry directory $1, as "name version".
missing_in() {
    locked | while read -r n v; do
        [ -f "$1/$n-$v/Cargo.toml" ] || echo "$n $v"
    done
}

apt_private() {
    apt-get -q -o Dir::Etc::SourceList="$APT_DIR/sources.list" -o Dir::Etc::SourceParts=/dev/null \
        -o Dir::State::Lists="$APT_DIR/lists" -o Dir::Cache="$APT_DIR/cache" \
        -o Dir::State::status=/dev/null -o Debug::NoLocking=1 -o APT::Sandbox::User=root "$@"
}

fetch_private() {
    mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial" "$APT_DIR/debs" "$PRIVATE"
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -f "$keyring" ] || { echo "crates.sh: $keyring missing (package debian-archive-keyring)" >&2; exit 1; }
    mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p; s/^deb  *\(http[^ ]*\/debian\)\/* .*/\1/p' \
        /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n 1)
    echo "deb [signed-by=$keyring] ${mirror:-http://deb.debian.org/debian} $SUITE main" >"$APT_DIR/sources.list"
    echo "==> crates: Debian $SUITE package lists (private apt state in build/apt)" >&2
    apt_private update >/dev/null
    pkgs=$(missing_in "$(registry)" | while read -r n v; do package_of "$n"; done | sort -u)
    echo "==> crates: downloading" $pkgs >&2
    (cd "$APT_DIR/debs" && apt_private download $pkgs >/dev/null)
    for d in "$APT_DIR"/debs/*.deb; do dpkg-deb -x "$d" "$PRIVATE"; done
}

case "${1:-}" in
dir) registry ;;
packages) locked | while read -r n v; do package_of "$n"; done | sort -u ;;
fetch)
    reg=$(registry)
    if [ -z "$(missing_in "$reg")" ]; then exit 0; fi
    if [ -n "${MODTLS_CRATES:-}" ]; then
        :
    elif is_trixie_or_later; then
        . scripts/lib.sh
        ensure_pkgs $(locked | while read -r n v; do package_of "$n"; done | sort -u)
    else
        fetch_private
    fi
    left=$(missing_in "$reg")
    if [ -n "$left" ]; then
        echo "crates.sh: these locked crates are not in $reg:" >&2
        echo "$left" | sed 's/^/    /' >&2
        echo "Debian $SUITE no longer ships those versions: update the Cargo.lock files (cargo update --offline)." >&2
        exit 1
    fi
    ;;
*) echo "usage: scripts/crates.sh dir|fetch|packages" >&2; exit 2 ;;
esac
