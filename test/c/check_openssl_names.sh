#!/bin/sh
# Compare the OpenSSL column of the cipher-suite table with what the
# installed openssl says, both ways: every suite openssl knows (with its
# legacy provider, at security level 0) must be in the table under the same
# IANA and OpenSSL names, and every OpenSSL name in the table must be one
# openssl knows. TLS 1.3 suites are left out: OpenSSL names them by their
# IANA names, which the table does not repeat.
#
#   check_openssl_names.sh build/unit_tests
set -eu
tool=${1:?usage: $0 path/to/unit_tests}

if ! command -v openssl >/dev/null 2>&1; then
    echo "OpenSSL names: skipped (no openssl command)"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! openssl ciphers -provider legacy -provider default -stdname -V 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' \
        >"$tmp/openssl.raw" 2>"$tmp/openssl.err"; then
    echo "OpenSSL names: skipped (openssl ciphers failed: $(head -n 1 "$tmp/openssl.err"))"
    exit 0
fi
# "0xC0,0x2F - TLS_ECDHE_... - ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ..." -> "0xC0,0x2F IANA OPENSSL"
awk '$2 == "-" && $4 == "-" && $1 !~ /^0x13,/ { print $1, $3, $5 }' "$tmp/openssl.raw" | sort >"$tmp/openssl"
"$tool" --dump-suites | awk '$3 != "-"' | sort >"$tmp/table"

if [ ! -s "$tmp/openssl" ]; then
    echo "OpenSSL names: FAIL (could not read the output of openssl ciphers)"
    exit 1
fi
if ! diff -u "$tmp/openssl" "$tmp/table" >"$tmp/diff"; then
    echo "OpenSSL names: FAIL (- openssl $(openssl version | cut -d' ' -f2), + our table):"
    grep '^[-+]0x' "$tmp/diff"
    exit 1
fi
echo "OpenSSL names: $(wc -l <"$tmp/table") suites agree with $(openssl version | cut -d' ' -f1,2)"
