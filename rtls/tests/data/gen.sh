#!/bin/sh
# Regenerate the crate's test certificates (run from this directory).
# "./gen.sh x509" only remakes what tests/x509.rs reads: the x509-* certificates
# and the *.expect files (see the end of this file).
set -e
days=36500
if [ "${1:-all}" = all ]; then
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
  -days $days -subj "/CN=rtls test CA" -addext basicConstraints=critical,CA:TRUE \
  -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
leaf() { # name keyopts...
  name=$1; shift
  openssl req -new -newkey "$@" -nodes -keyout $name.key -out $name.csr -subj "/CN=$name.example.org" 2>/dev/null
  printf 'subjectAltName=DNS:%s.example.org\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n' $name > ext.cnf
  openssl x509 -req -in $name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days $days -extfile ext.cnf -out $name.pem 2>/dev/null
  rm -f $name.csr ext.cnf
}
leaf p256 ec -pkeyopt ec_paramgen_curve:P-256
leaf p384 ec -pkeyopt ec_paramgen_curve:P-384
leaf rsa2048 rsa:2048
leaf ed25519 ed25519
# the same P-256 key in SEC1 ("EC PRIVATE KEY") form
openssl ec -in p256.key -out p256-sec1.key 2>/dev/null
# the RSA key in PKCS#1 ("RSA PRIVATE KEY") form
openssl rsa -in rsa2048.key -traditional -out rsa2048-pkcs1.key 2>/dev/null
# encrypted keys: PKCS#8 and traditional PEM
openssl pkcs8 -topk8 -in p256.key -passout pass:secret -out p256-enc8.key
openssl rsa -in rsa2048.key -traditional -aes128 -passout pass:secret -out rsa2048-enctrad.key 2>/dev/null
# a self-signed leaf (not a CA), for pinning a server's own certificate
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout selfsigned.key -out selfsigned.pem \
  -days $days -subj "/CN=selfsigned.example.org" -addext "subjectAltName=DNS:selfsigned.example.org" \
  -addext "basicConstraints=critical,CA:FALSE" 2>/dev/null
# P-521 is not supported by ring
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-521 -nodes -keyout p521.key -out p521.pem \
  -days $days -subj "/CN=p521.example.org" 2>/dev/null
rm -f ca.srl
fi

# ---- tests/x509.rs: the SSL_SERVER_*/SSL_CLIENT_* certificate variables ----
# Certificates showing what those variables format (name escapes, string types,
# repeated attributes, serials, times, algorithms, subjectAltNames), and for
# every certificate here a <name>.expect with the values mod_ssl would set. The
# values come from the openssl CLI, which formats with the functions mod_ssl
# calls (X509_NAME_print_ex, ASN1_STRING_print_ex, i2a_ASN1_INTEGER,
# ASN1_TIME_print, OBJ_nid2ln, PEM_write_bio_X509). mod_ssl's own rules are
# applied here, each where it is used.
export LC_ALL=C
rm -f x509-*.pem *.expect

# x509_ca name subject sign-options key-options...: a self-signed CA
x509_ca() {
  name=$1 subj=$2 sign=$3; shift 3
  openssl req -x509 -newkey "$@" -nodes -keyout $name.key -out $name.pem -days $days -utf8 -subj "$subj" \
    $sign -set_serial 1 -addext basicConstraints=critical,CA:TRUE 2>/dev/null
}
# x509_leaf name ca serial subject subjectAltName sign-options key-options...
# ($reqconf, if set, is the openssl req configuration to use)
x509_leaf() {
  name=$1 ca=$2 serial=$3 subj=$4 san=$5 sign=$6; shift 6
  openssl req -new -newkey "$@" -nodes -keyout $name.key -out $name.csr -utf8 -subj "$subj" \
    ${reqconf:+-config "$reqconf"} 2>/dev/null
  { if [ -n "$san" ]; then echo "subjectAltName=$san"; fi; echo basicConstraints=CA:FALSE; } > ext.cnf
  openssl x509 -req -in $name.csr -CA $ca.pem -CAkey $ca.key -set_serial $serial -days $days \
    -extfile ext.cnf $sign -out $name.pem 2>/dev/null
  rm -f $name.csr $name.key ext.cnf
}
# x509_gen name: a certificate written in ASN1_generate_nconf syntax (stdin),
# for what the req command cannot make; its signature is not valid (nothing
# here checks it)
x509_gen() {
  cat > $1.cnf
  openssl asn1parse -genconf $1.cnf -out $1.der -noout
  openssl x509 -inform DER -in $1.der -out $1.pem
  rm -f $1.cnf $1.der
}

x509_ca x509-rsaca "/C=DE/O=rtls tests/CN=rtls RSA test CA" -sha256 rsa:2048
x509_ca x509-edca "/O=rtls tests/CN=rtls Ed25519 test CA" "" ed25519
x509_ca x509-p384ca "/O=rtls tests/CN=rtls P-384 test CA" -sha384 ec -pkeyopt ec_paramgen_curve:P-384
# every attribute mod_ssl exports, repeated ones, more than mod_ssl exports;
# a serial with the high bit set (DER adds a zero byte)
x509_leaf x509-names x509-rsaca 0x8FEDCBA9876543210FEDCBA9876543210FEDCBA9 \
  "/C=DE/ST=Nordrhein-Westfalen/L=Münster/O=Example GmbH/OU=Web/OU=Operations/OU=Security/CN=www.example.org/emailAddress=webmaster@example.org/title=Dr./GN=Ada/SN=Lovelace/initials=AL/description=rtls test certificate/UID=u1234/DC=example/DC=org/street=Domplatz 1/postalCode=48143/serialNumber=HRB 4711" \
  "DNS:www.example.org" -sha384 ec -pkeyopt ec_paramgen_curve:P-256
# RFC 2253 escapes, UTF-8, a multi-valued RDN; a serial whose first byte is
# below 0x10
x509_leaf x509-tricky ca 0x0A0B0C \
  "/C=US/ST=#hash/L= spaces around /O=Acme, Inc. \+ Partners/OU=say \"hi\"/OU=back\\\\slash;semi<lt>gt=eq/CN=日本語 Ünïcødé+UID=multi+emailAddress=a@example.org" \
  "DNS:tricky.example.org" "" ed25519
# T61String (Latin-1) and BMPString values (openssl's "default" string mask)
cat > x509-req.cnf <<'EOF'
[req]
distinguished_name = dn
string_mask = default
[dn]
EOF
reqconf=x509-req.cnf
x509_leaf x509-legacy x509-rsaca 1 "/C=FR/O=Société Générale/OU=東京/CN=legacy.example.org" \
  "DNS:legacy.example.org" "-sha256 -sigopt rsa_padding_mode:pss" ec -pkeyopt ec_paramgen_curve:P-384
reqconf=
rm -f x509-req.cnf
# several DNS and email subjectAltNames between entries mod_ssl skips
x509_leaf x509-san x509-edca 0x7F "/CN=san.example.org" \
  "DNS:www.example.org,DNS:example.org,email:admin@example.org,IP:192.0.2.1,DNS:*.example.net,URI:https://example.org/,email:second@example.org,DNS:xn--bcher-kva.example,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:upn@example.org" \
  "" rsa:2048
x509_leaf x509-sha1 x509-rsaca 2 "/CN=sha1.example.org" "" -sha1 ec -pkeyopt ec_paramgen_curve:P-256
x509_leaf x509-sha512 x509-rsaca 3 "/CN=sha512.example.org" "" -sha512 ed25519
x509_leaf x509-ecdsa384 x509-p384ca 4 "/CN=ecdsa384.example.org" "" -sha384 rsa:2048
rm -f x509-rsaca.key x509-edca.key x509-p384ca.key
# A version 1 certificate, serial 0, UTCTime in both centuries.
x509_gen x509-v1 <<'EOF'
asn1 = SEQUENCE:cert
[cert]
tbs = SEQUENCE:tbs
alg = SEQUENCE:alg
sig = FORMAT:HEX,BITSTRING:00
[alg]
oid = OID:sha256WithRSAEncryption
null = NULL
[tbs]
serial = INTEGER:0
alg = SEQUENCE:alg
issuer = SEQUENCE:issuer
validity = SEQUENCE:validity
subject = SEQUENCE:subject
spki = SEQUENCE:spki
[issuer]
rdn = SET:cn
[cn]
atv = SEQUENCE:cn_atv
[cn_atv]
type = OID:commonName
value = PRINTABLESTRING:v1 CA
[validity]
from = UTCTIME:991231235959Z
to = UTCTIME:491231235959Z
[subject]
[spki]
alg = SEQUENCE:keyalg
key = FORMAT:HEX,BITSTRING:0000000000000000000000000000000000000000000000000000000000000000
[keyalg]
oid = OID:ED25519
EOF
# String types and values OpenSSL formats in unusual ways, an unknown
# attribute type, OIDs with large arcs, one longer than OpenSSL prints (79
# characters), an empty value, an empty RDN; a negative serial, dates
# before 2050 in both time types, fractional seconds; subjectAltName types
# mod_ssl skips and an empty DNS name (skipped, not counted).
x509_gen x509-exotic <<'EOF'
asn1 = SEQUENCE:cert
[cert]
tbs = SEQUENCE:tbs
alg = SEQUENCE:alg
sig = FORMAT:HEX,BITSTRING:3006020101020101
[alg]
oid = OID:ecdsa-with-SHA384
[tbs]
version = EXPLICIT:0,INTEGER:2
serial = INTEGER:-0x0102
alg = SEQUENCE:alg
issuer = SEQUENCE:issuer
validity = SEQUENCE:validity
subject = SEQUENCE:subject
spki = SEQUENCE:spki
extensions = EXPLICIT:3,SEQUENCE:extensions
[issuer]
empty = SET:empty
o = SET:o
mv = SET:mv
uuid = SET:uuid
arc = SET:arc
long = SET:long
[empty]
[uuid]
atv = SEQUENCE:uuid_atv
[uuid_atv]
type = OID:2.25.329800735698586629295641978511506172918
value = PRINTABLESTRING:uuid
[arc]
atv = SEQUENCE:arc_atv
[arc_atv]
type = OID:2.999.3
value = PRINTABLESTRING:arc
[long]
atv = SEQUENCE:long_atv
[long_atv]
type = OID:1.3.6.1.4.1.55555.1234567890.1234567890.1234567890.1234567890.1234567890.1234567890.42
value = PRINTABLESTRING:long
[o]
atv = SEQUENCE:o_atv
[o_atv]
type = OID:organizationName
value = UTF8:exotic issuer
[mv]
a = SEQUENCE:mv_a
b = SEQUENCE:mv_b
c = SEQUENCE:mv_c
[mv_a]
type = OID:commonName
value = IMPLICIT:19U,FORMAT:HEX,OCTETSTRING:2331
[mv_b]
type = OID:organizationalUnitName
value = IMPLICIT:19U,FORMAT:HEX,OCTETSTRING:23
[mv_c]
type = OID:organizationalUnitName
value = IMPLICIT:19U,FORMAT:HEX,OCTETSTRING:20
[validity]
from = UTCTIME:500101000000Z
to = GENTIME:20520229120000.25Z
[subject]
univ = SET:univ
bmp = SET:bmp
t61 = SET:t61
utf8 = SET:utf8
ctrl = SET:ctrl
bits = SET:bits
seq = SET:seq
desc = SET:desc
unknown = SET:unknown
empty = SET:emptycn
cn = SET:cn
[univ]
atv = SEQUENCE:univ_atv
[univ_atv]
type = OID:organizationName
value = IMPLICIT:28U,FORMAT:HEX,OCTETSTRING:000000550000006E0000002C0001034800000020
[bmp]
atv = SEQUENCE:bmp_atv
[bmp_atv]
type = OID:organizationalUnitName
value = IMPLICIT:30U,FORMAT:HEX,OCTETSTRING:002300E9002B65E50020
[t61]
atv = SEQUENCE:t61_atv
[t61_atv]
type = OID:localityName
value = IMPLICIT:20U,FORMAT:HEX,OCTETSTRING:20E95C3B
[utf8]
atv = SEQUENCE:utf8_atv
[utf8_atv]
type = OID:title
value = IMPLICIT:12U,FORMAT:HEX,OCTETSTRING:C3A9223C3E3D7F20
[ctrl]
atv = SEQUENCE:ctrl_atv
[ctrl_atv]
type = OID:givenName
value = IMPLICIT:12U,FORMAT:HEX,OCTETSTRING:00410A421B5C
[bits]
atv = SEQUENCE:bits_atv
[bits_atv]
type = OID:surname
value = IMPLICIT:3U,FORMAT:HEX,OCTETSTRING:00414243
[seq]
atv = SEQUENCE:seq_atv
[seq_atv]
type = OID:initials
value = SEQUENCE:seq_value
[seq_value]
a = IA5:in
b = INTEGER:7
[desc]
atv = SEQUENCE:desc_atv
[desc_atv]
type = OID:description
value = IMPLICIT:7U,FORMAT:HEX,OCTETSTRING:41E9
[unknown]
atv = SEQUENCE:unknown_atv
[unknown_atv]
type = OID:1.3.6.1.4.1.55555.1.2
value = UTF8:unknown, type
[emptycn]
atv = SEQUENCE:emptycn_atv
[emptycn_atv]
type = OID:commonName
value = UTF8:
[cn]
atv = SEQUENCE:cn_atv
[cn_atv]
type = OID:commonName
value = UTF8:second cn
[spki]
alg = SEQUENCE:keyalg
key = FORMAT:HEX,BITSTRING:0000000000000000000000000000000000000000000000000000000000000000
[keyalg]
oid = OID:ED25519
[extensions]
san = SEQUENCE:san
bc = SEQUENCE:bc
[san]
oid = OID:subjectAltName
critical = BOOLEAN:TRUE
value = OCTWRAP,SEQUENCE:san_names
[san_names]
dns1 = IMPLICIT:2,IA5:first.example
dns2 = IMPLICIT:2,IA5:
dir = EXPLICIT:4,SEQUENCE:issuer
rid = IMPLICIT:8,OID:1.2.3.4
ip = IMPLICIT:7,FORMAT:HEX,OCTETSTRING:20010DB8000000000000000000000001
email = IMPLICIT:1,IA5:x@example.org
dns3 = IMPLICIT:2,IA5:third.example
[bc]
oid = OID:basicConstraints
value = OCTWRAP,SEQUENCE:bc_value
[bc_value]
EOF
# Every attribute type the OID table in src/x509.rs names, in the issuer, to
# learn OpenSSL's short and long names for them; algorithms OpenSSL does not
# know; a serial longer than 35 bytes (i2a_ASN1_INTEGER breaks the line).
oids=$(sed -n '/BEGIN OID TABLE/,/END OID TABLE/s/^    ("\([0-9.]*\)".*/\1/p' ../../src/x509.rs)
{
  cat <<'EOF'
asn1 = SEQUENCE:cert
[cert]
tbs = SEQUENCE:tbs
alg = SEQUENCE:alg
sig = FORMAT:HEX,BITSTRING:00
[alg]
oid = OID:1.3.6.1.4.1.55555.3
[tbs]
version = EXPLICIT:0,INTEGER:2
serial = INTEGER:0x0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728
alg = SEQUENCE:alg
issuer = SEQUENCE:issuer
validity = SEQUENCE:validity
subject = SEQUENCE:subject
spki = SEQUENCE:spki
[validity]
from = UTCTIME:260101000000Z
to = GENTIME:20991231235959Z
[subject]
rdn = SET:cn
[cn]
atv = SEQUENCE:cn_atv
[cn_atv]
type = OID:commonName
value = UTF8:oids.example.org
[spki]
alg = SEQUENCE:keyalg
key = FORMAT:HEX,BITSTRING:00
[keyalg]
oid = OID:1.3.6.1.4.1.55555.4
[issuer]
EOF
  i=0
  for oid in $oids; do i=$((i + 1)); echo "rdn$i = SET:rdn$i"; done
  i=0
  for oid in $oids; do
    i=$((i + 1))
    printf '[rdn%s]\natv = SEQUENCE:atv%s\n[atv%s]\ntype = OID:%s\nvalue = UTF8:v\n' $i $i $i $oid
  done
} | x509_gen x509-oids
# oids.expect: "OID<tab>short name<tab>long name", as OpenSSL has them
openssl x509 -in x509-oids.pem -noout -issuer -nameopt sep_multiline,sname | sed '1d; s/^    //; s/=v$//' > sn.tmp
openssl x509 -in x509-oids.pem -noout -issuer -nameopt sep_multiline,lname | sed '1d; s/^    //; s/=v$//' > ln.tmp
echo "$oids" | paste - sn.tmp ln.tmp > oids.expect
rm -f sn.tmp ln.tmp

# <name>.expect: NAME=value lines, NAME without "SSL_SERVER_"; in a value a
# backslash is written "\\" and a newline "\n". mod_ssl leaves a variable
# unset when its value is empty: such lines are left out.
x509_enc() {
  sed 's/\\/\\\\/g' | awk 'NR > 1 { printf "\\n" } { printf "%s", $0 }'
}
x509_put() { # name; the value on stdin
  v=$(x509_enc)
  if [ -n "$v" ]; then printf '%s=%s\n' "$1" "$v"; fi
}
x509_expect() {
  c=$1.pem
  openssl x509 -in $c -noout -text | sed -n 's/^ *Version: \([0-9]*\) .*/\1/p' | x509_put M_VERSION
  openssl x509 -in $c -noout -serial | sed '1s/^serial=//' | x509_put M_SERIAL
  openssl x509 -in $c -noout -startdate | sed 's/^notBefore=//' | x509_put V_START
  openssl x509 -in $c -noout -enddate | sed 's/^notAfter=//' | x509_put V_END
  for which in subject:S issuer:I; do
    part=${which%:*} p=${which#*:}
    openssl x509 -in $c -noout -$part -nameopt RFC2253,-esc_msb | sed "1s/^$part=//" | x509_put ${p}_DN
    # mod_ssl's modssl_var_extract_dns: the attributes of its table, in
    # order; the 2nd of a kind gets "_1", and so on. Values as
    # ASN1_STRING_print_ex(ESC_CTRL|UTF8_CONVERT) prints them. An RDN line
    # holds its attributes separated by " + ".
    openssl x509 -in $c -noout -$part -nameopt sep_multiline,sname,esc_ctrl,utf8 | sed '1d; s/^    //' |
      awk -v p=${p}_DN_ '
        BEGIN {
          n = split("C C ST ST L L O O OU OU CN CN title T initials I GN G SN S description D UID UID emailAddress Email", t, " ")
          for (i = 1; i < n; i += 2) name[t[i]] = t[i + 1]
        }
        function emit(ava,   k, v, var) {
          k = substr(ava, 1, index(ava, "=") - 1)
          v = substr(ava, index(ava, "=") + 1)
          if (!(k in name)) return
          var = p name[k]
          if (k in seen) var = var "_" seen[k]
          seen[k]++
          if (v != "") print var "=" v
        }
        {
          n = split($0, part, " [+] ")
          ava = part[1]
          for (i = 2; i <= n; i++) {
            if (part[i] ~ /^[A-Za-z0-9.]+=/) { emit(ava); ava = part[i] } else ava = ava " + " part[i]
          }
          emit(ava)
        }' | sed 's/\\/\\\\/g'
  done
  # mod_ssl prints UNKNOWN for algorithms OpenSSL has no name for, which
  # openssl x509 -text shows as a dotted OID
  for which in "Signature Algorithm:A_SIG" "Public Key Algorithm:A_KEY"; do
    openssl x509 -in $c -noout -text | sed -n "s/^ *${which%:*}: //p" | head -n 1 |
      sed 's/ *$//; s/^[0-9][0-9.]*$/UNKNOWN/' | x509_put ${which#*:}
  done
  # modssl_var_extract_san_entries: rfc822Name, dNSName and msUPN otherName
  # entries with text, numbered from 0 (our test names need no escapes: -ext
  # prints them raw)
  openssl x509 -in $c -noout -ext subjectAltName 2>/dev/null | sed -n '2s/^ *//p' | sed 's/, /\n/g' |
    awk '/^email:./ { print "SAN_Email_" e++ "=" substr($0, 7) }
         /^DNS:./ { print "SAN_DNS_" d++ "=" substr($0, 5) }
         /^othername: UPN::./ { print "SAN_OTHER_msUPN_" u++ "=" substr($0, 17) }'
  printf 'CERT=%s\\n\n' "$(openssl x509 -in $c | x509_enc)"
}
for c in *.pem; do
  x509_expect ${c%.pem} > ${c%.pem}.expect
done
