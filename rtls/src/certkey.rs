//! `rtls_certified_key`: a certificate chain with its private key, parsed
//! and checked once at configuration time and shared (reference counted)
//! by every server configuration that uses it.

use std::sync::Arc;

use pki_types::{CertificateDer, PrivateKeyDer};
use rustls::crypto::ring::sign::any_supported_type;
use rustls::pki_types::SignatureVerificationAlgorithm;
use rustls::sign::{CertifiedKey, SigningKey};
use rustls::SignatureScheme;

use crate::error::rtls_result::{self, *};
use crate::ffi::{guard, set_out, try_ref, try_slice};

/// A certificate chain with its private key, parsed and checked once at
/// config time (rtls_certified_key_new, freed by rtls_certified_key_free).
/// Opaque. Immutable, usable from any thread, and reference counted: the
/// configurations built with it keep their own reference.
pub struct rtls_certified_key {
    pub(crate) key: Arc<CertifiedKey>,
}

/// Private keys labelled as encrypted (PKCS#8 `ENCRYPTED PRIVATE KEY`, or a
/// traditional PEM with a `Proc-Type: 4,ENCRYPTED` header).
fn pem_has_encrypted_key(pem: &[u8]) -> bool {
    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }
    contains(pem, b"-----BEGIN ENCRYPTED PRIVATE KEY-----") || contains(pem, b"Proc-Type: 4,ENCRYPTED")
}

fn read_pem(pem: &[u8]) -> Result<Vec<rustls_pemfile::Item>, rtls_result> {
    let mut rd = pem;
    rustls_pemfile::read_all(&mut rd)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| RTLS_CONF_BAD_PEM)
}

pub(crate) fn parse_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, rtls_result> {
    let certs: Vec<CertificateDer<'static>> = read_pem(pem)?
        .into_iter()
        .filter_map(|item| match item {
            rustls_pemfile::Item::X509Certificate(der) => Some(der),
            _ => None,
        })
        .collect();
    if certs.is_empty() {
        return Err(RTLS_CONF_NO_CERTIFICATE);
    }
    Ok(certs)
}

fn parse_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, rtls_result> {
    if pem_has_encrypted_key(pem) {
        return Err(RTLS_CONF_ENCRYPTED_KEY);
    }
    read_pem(pem)?
        .into_iter()
        .find_map(|item| match item {
            rustls_pemfile::Item::Pkcs1Key(der) => Some(PrivateKeyDer::from(der)),
            rustls_pemfile::Item::Pkcs8Key(der) => Some(PrivateKeyDer::from(der)),
            rustls_pemfile::Item::Sec1Key(der) => Some(PrivateKeyDer::from(der)),
            _ => None,
        })
        .ok_or(RTLS_CONF_NO_KEY)
}

/// The schemes we probe a key with, each paired with the algorithm webpki
/// uses to check the signature against the certificate's public key.
fn probe_schemes() -> [(SignatureScheme, &'static dyn SignatureVerificationAlgorithm); 5] {
    use webpki::ring as alg;
    [
        (SignatureScheme::ECDSA_NISTP256_SHA256, alg::ECDSA_P256_SHA256),
        (SignatureScheme::ECDSA_NISTP384_SHA384, alg::ECDSA_P384_SHA384),
        (SignatureScheme::ED25519, alg::ED25519),
        (SignatureScheme::RSA_PSS_SHA256, alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY),
        (SignatureScheme::RSA_PKCS1_SHA256, alg::RSA_PKCS1_2048_8192_SHA256),
    ]
}

/// Sign a probe with `key` and verify it with the public key in `cert`.
fn check_key_matches(cert: &CertificateDer<'_>, key: &dyn SigningKey) -> Result<(), rtls_result> {
    let ee = webpki::EndEntityCert::try_from(cert).map_err(|_| RTLS_CONF_BAD_CERTIFICATE)?;
    let probes = probe_schemes();
    let offered: Vec<SignatureScheme> = probes.iter().map(|(s, _)| *s).collect();
    let signer = key.choose_scheme(&offered).ok_or(RTLS_CONF_UNSUPPORTED_KEY)?;
    let scheme = signer.scheme();
    let alg = probes
        .iter()
        .find(|(s, _)| *s == scheme)
        .map(|(_, a)| *a)
        .ok_or(RTLS_CONF_UNSUPPORTED_KEY)?;
    let msg = b"mod_tls: does this key belong to this certificate?";
    let sig = signer.sign(msg).map_err(|_| RTLS_INTERNAL_CRYPTO)?;
    ee.verify_signature(alg, msg, &sig).map_err(|_| RTLS_CONF_KEY_MISMATCH)
}

pub(crate) fn build_certified_key(cert_pem: &[u8], key_pem: &[u8]) -> Result<CertifiedKey, rtls_result> {
    build_key(cert_pem, key_pem, true)
}

fn build_key(cert_pem: &[u8], key_pem: &[u8], check: bool) -> Result<CertifiedKey, rtls_result> {
    // An encrypted key next to the certificate would make the PEM parser
    // fail first; say what is really wrong.
    if pem_has_encrypted_key(key_pem) {
        return Err(RTLS_CONF_ENCRYPTED_KEY);
    }
    let chain = parse_certs(cert_pem)?;
    let key = parse_key(key_pem)?;
    let signing_key = any_supported_type(&key).map_err(|_| {
        // Either garbage in a key-labelled section or a key type ring lacks.
        RTLS_CONF_UNSUPPORTED_KEY
    })?;
    if check {
        check_key_matches(&chain[0], signing_key.as_ref())?;
    }
    Ok(CertifiedKey::new(chain, signing_key))
}

/// Parse a certificate chain (`cert_pem`: PEM, the certificate first, then
/// its chain) and its private key (`key_pem`: PEM, RSA PKCS#1, PKCS#8 or
/// SEC1 EC; the first key found is used; it may be the same text as
/// `cert_pem`) and check that the key belongs to the leaf certificate. The
/// buffers are read during the call only.
/// On success `*out` is a new key owned by the caller (rtls_certified_key_free);
/// `*out` is untouched on error.
/// Errors: RTLS_CONF_BAD_PEM, RTLS_CONF_NO_CERTIFICATE, RTLS_CONF_NO_KEY,
/// RTLS_CONF_ENCRYPTED_KEY, RTLS_CONF_UNSUPPORTED_KEY,
/// RTLS_CONF_BAD_CERTIFICATE, RTLS_CONF_KEY_MISMATCH, RTLS_INTERNAL_CRYPTO
/// (signing the test message failed), RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_certified_key_new(
    cert_pem: *const u8,
    cert_pem_len: usize,
    key_pem: *const u8,
    key_pem_len: usize,
    out: *mut *const rtls_certified_key,
) -> rtls_result {
    guard(|| {
        let cert_pem = try_slice!(cert_pem, cert_pem_len);
        let key_pem = try_slice!(key_pem, key_pem_len);
        if out.is_null() {
            return RTLS_INTERNAL_NULL_ARGUMENT;
        }
        // Not shared with rtls_certified_key_new_acme_challenge on purpose: the
        // sanitizer run's LeakSanitizer suppression (test/lsan.supp) names this
        // function, whose keys live as long as httpd's configuration, and it
        // must stay on the stack of every allocation made for such a key (a
        // shared helper was tail-called and took its place). Challenge keys
        // are per connection and must never be suppressed.
        match build_certified_key(cert_pem, key_pem) {
            Ok(ck) => {
                let obj = Arc::new(rtls_certified_key { key: Arc::new(ck) });
                unsafe { set_out(out, Arc::into_raw(obj)) };
                RTLS_OK
            }
            Err(rv) => rv,
        }
    })
}

/// Like rtls_certified_key_new, for an ACME tls-alpn-01 challenge
/// certificate (RFC 8737) another module just made: the certificate is not
/// parsed as X.509 and not checked against the key, because its critical
/// acmeIdentifier extension makes webpki refuse it (rustls itself never
/// parses the certificates it presents). Only for such certificates, which
/// serve one handshake with an ACME server: the certificate must not be
/// used as a normal server certificate. Same ownership and errors as
/// rtls_certified_key_new, without RTLS_CONF_BAD_CERTIFICATE and
/// RTLS_CONF_KEY_MISMATCH.
/// Phase: per connection (the hello of an acme-tls/1 connection).
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_certified_key_new_acme_challenge(
    cert_pem: *const u8,
    cert_pem_len: usize,
    key_pem: *const u8,
    key_pem_len: usize,
    out: *mut *const rtls_certified_key,
) -> rtls_result {
    guard(|| {
        let cert_pem = try_slice!(cert_pem, cert_pem_len);
        let key_pem = try_slice!(key_pem, key_pem_len);
        if out.is_null() {
            return RTLS_INTERNAL_NULL_ARGUMENT;
        }
        match build_key(cert_pem, key_pem, false) {
            Ok(ck) => {
                let obj = Arc::new(rtls_certified_key { key: Arc::new(ck) });
                unsafe { set_out(out, Arc::into_raw(obj)) };
                RTLS_OK
            }
            Err(rv) => rv,
        }
    })
}

/// Release the caller's reference to a certified key. Builders and
/// configurations using it keep their own, so this may be called right
/// after they are built. NULL is ignored.
/// Phase: config time (or a cleanup of the pool owning the key).
#[no_mangle]
pub extern "C" fn rtls_certified_key_free(key: *const rtls_certified_key) {
    // SAFETY: key is NULL or came from Arc::into_raw in rtls_certified_key_new.
    unsafe { crate::ffi::free_arc(key) }
}

/// Certificates in the chain, leaf included (0 for NULL).
/// Phase: any time.
#[no_mangle]
pub extern "C" fn rtls_certified_key_chain_len(key: *const rtls_certified_key) -> usize {
    crate::ffi::guard_value(0, || match unsafe { key.as_ref() } {
        Some(k) => k.key.cert.len(),
        None => 0,
    })
}

/// DER of chain certificate `index` (0 = leaf) in `*out_der`, `*out_len`;
/// the bytes belong to `key` and stay valid as long as it does.
/// Errors: RTLS_IO_NOT_FOUND past the end, RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: any time (mod_tls: config time).
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_certified_key_cert_der(
    key: *const rtls_certified_key,
    index: usize,
    out_der: *mut *const u8,
    out_len: *mut usize,
) -> rtls_result {
    guard(|| {
        let key = try_ref!(key);
        match key.key.cert.get(index) {
            Some(c) => {
                unsafe {
                    set_out(out_der, c.as_ptr());
                    set_out(out_len, c.len());
                }
                RTLS_OK
            }
            None => RTLS_IO_NOT_FOUND,
        }
    })
}
