//! `rtls_client_auth`: what a server needs to ask clients for certificates
//! and verify them: the CAs it trusts (their names go into the
//! CertificateRequest), the CRLs it checks, and whether a client may go
//! without a certificate. A server configuration builder takes one
//! (rtls_server_config_builder_set_client_auth) and builds rustls'
//! `WebPkiClientVerifier` from it with the configuration's crypto provider.
//!
//! Revocation policy (rustls-webpki 0.102): every certificate of the
//! client's chain below the trust anchor is looked up in the CRL its issuer
//! signed; a certificate whose issuer has no CRL here is accepted (unknown
//! status allowed), so CRLs may be given for some CAs only. An expired CRL
//! (nextUpdate in the past) is still used: webpki ignores nextUpdate unless
//! told otherwise, and refusing every client because a CRL was not renewed
//! in time would take the service down. The caller warns about expired CRLs
//! at startup (rtls_client_auth_add_crl reports nextUpdate).

use std::sync::Arc;

use pki_types::{CertificateDer, CertificateRevocationListDer};
use rustls::crypto::CryptoProvider;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;

use crate::error::rtls_result::{self, *};
use crate::ffi::{guard, set_out, try_mut, try_slice};

/// Client certificates are not asked for.
pub const RTLS_CLIENT_AUTH_NONE: u32 = 0;
/// Asked for; a client without one is accepted, an invalid one refused.
pub const RTLS_CLIENT_AUTH_OPTIONAL: u32 = 1;
/// Asked for; a client without a valid one fails the handshake.
pub const RTLS_CLIENT_AUTH_REQUIRED: u32 = 2;

/// Trusted CAs and CRLs for verifying client certificates (opaque), made by
/// rtls_client_auth_new, filled by rtls_client_auth_add_ca and
/// rtls_client_auth_add_crl, freed by rtls_client_auth_free. Used by one
/// thread at a time (config time).
pub struct rtls_client_auth {
    roots: RootCertStore,
    crls: Vec<CertificateRevocationListDer<'static>>,
}

impl rtls_client_auth {
    pub(crate) fn ca_count(&self) -> usize {
        self.roots.len()
    }

    /// The verifier for `mode` with `provider`'s signature algorithms.
    pub(crate) fn verifier(&self, mode: u32, provider: Arc<CryptoProvider>) -> Result<Arc<dyn ClientCertVerifier>, rtls_result> {
        if self.roots.is_empty() {
            return Err(RTLS_CONF_NO_CLIENT_CA);
        }
        let mut b = WebPkiClientVerifier::builder_with_provider(Arc::new(self.roots.clone()), provider)
            .with_crls(self.crls.iter().cloned())
            .allow_unknown_revocation_status();
        if mode == RTLS_CLIENT_AUTH_OPTIONAL {
            b = b.allow_unauthenticated();
        }
        b.build().map_err(|_| RTLS_CONF_BAD_CRL)
    }
}

/// What a file holds: PEM items of the kind `pick` takes, or, when it is
/// not PEM (starts with a DER SEQUENCE), the whole file as one DER object.
fn items<T>(data: &[u8], pick: impl Fn(rustls_pemfile::Item) -> Option<T>, from_der: impl Fn(Vec<u8>) -> T) -> Result<Vec<T>, rtls_result> {
    if data.first() == Some(&0x30) {
        return Ok(vec![from_der(data.to_vec())]);
    }
    let mut out = Vec::new();
    let mut rd = data;
    for item in rustls_pemfile::read_all(&mut rd) {
        match item {
            Ok(i) => {
                if let Some(t) = pick(i) {
                    out.push(t);
                }
            }
            Err(_) => return Err(RTLS_CONF_BAD_PEM),
        }
    }
    Ok(out)
}

/// Seconds since the epoch of a CRL's nextUpdate (0 when it has none).
fn crl_next_update(der: &[u8]) -> Result<u64, rtls_result> {
    crate::x509::crl_next_update(der).map_err(|_| RTLS_CONF_BAD_CRL)
}

/// A new, empty set (no CAs, no CRLs). On success `*out` is owned by the
/// caller: free it with rtls_client_auth_free. Builders that take it keep
/// what they need.
/// Errors: RTLS_INTERNAL_NULL_ARGUMENT (`out` NULL).
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_client_auth_new(out: *mut *mut rtls_client_auth) -> rtls_result {
    guard(|| {
        if out.is_null() {
            return RTLS_INTERNAL_NULL_ARGUMENT;
        }
        let a = Box::new(rtls_client_auth { roots: RootCertStore::empty(), crls: Vec::new() });
        unsafe { set_out(out, Box::into_raw(a)) };
        RTLS_OK
    })
}

/// Free a set; NULL is ignored.
/// Phase: config time.
#[no_mangle]
pub extern "C" fn rtls_client_auth_free(a: *mut rtls_client_auth) {
    // SAFETY: a is NULL or came from Box::into_raw in rtls_client_auth_new.
    unsafe { crate::ffi::free_box(a) }
}

/// Trust the CA certificates in `len` bytes at `data`: the contents of a
/// file, PEM (every CERTIFICATE block; other blocks, e.g. CRLs, are
/// skipped) or one DER certificate. `*out_count` (if not NULL) is the
/// number of certificates added, which may be 0 for a PEM file without
/// certificates (the caller decides whether that is an error).
/// Errors: RTLS_CONF_BAD_PEM (malformed PEM), RTLS_CONF_BAD_CERTIFICATE (a
/// certificate webpki cannot use as a trust anchor; nothing of this call
/// is added then), RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_client_auth_add_ca(a: *mut rtls_client_auth, data: *const u8, len: usize, out_count: *mut usize) -> rtls_result {
    guard(|| {
        let a = try_mut!(a);
        let data = try_slice!(data, len);
        let certs = match items(
            data,
            |i| match i {
                rustls_pemfile::Item::X509Certificate(c) => Some(c),
                _ => None,
            },
            CertificateDer::from,
        ) {
            Ok(c) => c,
            Err(rv) => return rv,
        };
        let mut roots = a.roots.clone();
        for c in &certs {
            if roots.add(c.clone()).is_err() {
                return RTLS_CONF_BAD_CERTIFICATE;
            }
        }
        a.roots = roots;
        unsafe { set_out(out_count, certs.len()) };
        RTLS_OK
    })
}

/// Check client certificates against the CRLs in `len` bytes at `data`: the
/// contents of a file, PEM (every X509 CRL block; others are skipped) or one
/// DER CRL. `*out_count` (if not NULL) is the number of CRLs added (0 for a
/// PEM file without CRLs); `*out_next_update` (if not NULL) the earliest
/// nextUpdate among them in seconds since 1970 (0 when none has one, or
/// none was added), for the caller to warn about expired CRLs: they are
/// still applied. Revocation is checked for every certificate of a
/// client's chain whose issuer has a CRL here; certificates of issuers
/// without one are accepted.
/// Errors: RTLS_CONF_BAD_PEM, RTLS_CONF_BAD_CRL (a CRL webpki cannot parse;
/// nothing of this call is added then), RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_client_auth_add_crl(
    a: *mut rtls_client_auth,
    data: *const u8,
    len: usize,
    out_count: *mut usize,
    out_next_update: *mut u64,
) -> rtls_result {
    guard(|| {
        let a = try_mut!(a);
        let data = try_slice!(data, len);
        let crls = match items(
            data,
            |i| match i {
                rustls_pemfile::Item::Crl(c) => Some(c),
                _ => None,
            },
            CertificateRevocationListDer::from,
        ) {
            Ok(c) => c,
            Err(rv) => return rv,
        };
        let mut earliest = 0u64;
        for c in &crls {
            if webpki::OwnedCertRevocationList::from_der(c.as_ref()).is_err() {
                return RTLS_CONF_BAD_CRL;
            }
            let next = match crl_next_update(c.as_ref()) {
                Ok(n) => n,
                Err(rv) => return rv,
            };
            if next != 0 && (earliest == 0 || next < earliest) {
                earliest = next;
            }
        }
        unsafe {
            set_out(out_count, crls.len());
            set_out(out_next_update, earliest);
        }
        a.crls.extend(crls);
        RTLS_OK
    })
}

/// The number of CAs trusted so far (for messages and tests).
/// Errors: none; 0 for NULL.
/// Phase: config time.
#[no_mangle]
pub extern "C" fn rtls_client_auth_ca_count(a: *const rtls_client_auth) -> usize {
    crate::ffi::guard_value(0, || unsafe { a.as_ref() }.map(|a| a.ca_count()).unwrap_or(0))
}

/// What a builder keeps of `a` (a copy: the caller may change or free `a`).
pub(crate) fn snapshot(a: &rtls_client_auth) -> Arc<rtls_client_auth> {
    Arc::new(rtls_client_auth { roots: a.roots.clone(), crls: a.crls.clone() })
}
