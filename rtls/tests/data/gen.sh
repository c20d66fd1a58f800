#!/bin/sh
# Regenerate the crate's test certificates (run from this directory).
set -e
days=36500
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
# P-521 is not supported by ring 0.16
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-521 -nodes -keyout p521.key -out p521.pem \
  -days $days -subj "/CN=p521.example.org" 2>/dev/null
rm -f ca.srl
