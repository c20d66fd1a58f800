"""A minimal OCSP responder (RFC 6960) for the tests, bound to 127.0.0.1 only (`openssl ocsp`
of OpenSSL 3.0 binds every address). Run as a process of its own, stopped by its pid:

    python3 ocsp_responder.py PORT STATUS_FILE CA_CERT CA_KEY

STATUS_FILE is JSON, {"<serial in hex>": ["good" | "revoked", "<certificate PEM file>"]}, read
for every request; serials not in it get an "unauthorized" answer. Responses are signed by the CA itself, valid for a minute.
"""

import datetime
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp


def main() -> None:
    port, status_file, ca_cert_file, ca_key_file = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    with open(ca_cert_file, "rb") as f:
        ca_cert = x509.load_pem_x509_certificate(f.read())
    with open(ca_key_file, "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), password=None)

    class Handler(BaseHTTPRequestHandler):
        def answer(self, der: bytes) -> None:
            try:
                req = ocsp.load_der_ocsp_request(der)
            except ValueError:
                resp = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
            else:
                with open(status_file) as f:
                    statuses = json.load(f)
                state, cert_file = statuses.get(format(req.serial_number, "x"), ("unknown", None))
                if cert_file is None:
                    resp = ocsp.OCSPResponseBuilder.build_unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
                    return self.send_der(resp.public_bytes(serialization.Encoding.DER))
                with open(cert_file, "rb") as f:
                    cert = x509.load_pem_x509_certificate(f.read())
                now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
                cert_status = {"good": ocsp.OCSPCertStatus.GOOD, "revoked": ocsp.OCSPCertStatus.REVOKED}[state]
                builder = ocsp.OCSPResponseBuilder().add_response(
                    cert=cert, issuer=ca_cert, algorithm=req.hash_algorithm, cert_status=cert_status,
                    this_update=now - datetime.timedelta(seconds=5),
                    next_update=now + datetime.timedelta(minutes=1),
                    revocation_time=now - datetime.timedelta(hours=1) if state == "revoked" else None,
                    revocation_reason=None).responder_id(ocsp.OCSPResponderEncoding.HASH, ca_cert)
                resp = builder.sign(ca_key, hashes.SHA256())
            self.send_der(resp.public_bytes(serialization.Encoding.DER))

        def send_der(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/ocsp-response")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            self.answer(self.rfile.read(int(self.headers.get("Content-Length", "0"))))

        def do_GET(self):
            import base64
            import urllib.parse
            self.answer(base64.b64decode(urllib.parse.unquote(self.path.lstrip("/"))))

        def log_message(self, fmt, *args):
            sys.stderr.write("ocsp: " + (fmt % args) + "\n")

    HTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
