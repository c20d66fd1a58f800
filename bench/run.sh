#!/bin/sh
# bench/run.sh: mod_tls vs mod_ssl, side by side (see docs/benchmark.md).
#
#   bench/run.sh [--quick] [--json FILE] [--only REGEX] [--reps N] [--strict] [--help]
#
# Needs: build/mod_tls.so (`make`), Debian's apache2 with mod_ssl and mod_http2, h2load
# (nghttp2-client), curl, openssl, valgrind, cargo (builds bench/hsload and bench/callgrind
# offline), /usr/bin/python3. Uses loopback ports 21300-21302 and 21310-21312 and CPUs 0
# (servers) and 1 (clients). Everything it makes goes to bench/out/.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# 1000 idle connections (and the servers' side of them) need more descriptors than the usual 1024
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -ge 8192 ]; then
    ulimit -n 8192
else
    ulimit -n "$hard"
fi
export PYTHONDONTWRITEBYTECODE=1  # nothing generated outside bench/out/
exec /usr/bin/python3 "$here/bench.py" "$@"
