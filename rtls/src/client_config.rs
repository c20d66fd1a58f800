//! `rtls_client_config`: how rtls talks to a TLS server (mod_tls: to a
//! mod_proxy backend). Built once at configuration time, shared by every
//! connection to the backends of one TLS setup, immutable afterwards.
//!
//! The server's certificate is always verified (webpki, against the trust
//! anchors added; there is no switch to skip it): a backend's own
//! self-signed certificate added as an anchor is accepted for that backend.
//! Sessions are resumed from rustls' in-memory client cache, one per
//! configuration and process, keyed by server name.

use std::sync::{Arc, Mutex};

use rustls::client::{ResolvesClientCert, WebPkiServerVerifier};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, SignatureScheme};

use crate::certkey::{parse_certs, rtls_certified_key};
use crate::config::Settings;
use crate::x509::cert_issuer;
use crate::error::rtls_result::{self, *};
use crate::ffi::{guard, set_out, try_mut, try_ref, try_slice};

/// The first of the client's keys that the server will accept is presented
/// (keys are tried in the order they were added): one the server's
/// signature schemes allow and, when the server names the issuers it
/// accepts, one whose chain has such an issuer; if no chain has, the first
/// key the schemes allow (the server may accept more than it names).
#[derive(Debug)]
struct FirstUsableClientKey {
    keys: Vec<Arc<CertifiedKey>>,
}

/// Is a certificate of `key`'s chain issued by one of `hints` (DER Names,
/// with or without their outer SEQUENCE)?
fn issued_by_hint(key: &CertifiedKey, hints: &[&[u8]]) -> bool {
    key.cert
        .iter()
        .filter_map(|c| cert_issuer(c.as_ref()))
        .any(|(encoded, contents)| hints.iter().any(|h| *h == encoded || *h == contents))
}

impl ResolvesClientCert for FirstUsableClientKey {
    fn resolve(&self, root_hint_subjects: &[&[u8]], sigschemes: &[SignatureScheme]) -> Option<Arc<CertifiedKey>> {
        let mut usable = self.keys.iter().filter(|k| k.key.choose_scheme(sigschemes).is_some());
        if !root_hint_subjects.is_empty() {
            if let Some(k) = usable.clone().find(|k| issued_by_hint(k, root_hint_subjects)) {
                return Some(Arc::clone(k));
            }
        }
        usable.next().map(Arc::clone)
    }

    fn has_certs(&self) -> bool {
        !self.keys.is_empty()
    }
}

/// Collects the settings of a client configuration (opaque): made by
/// rtls_client_config_builder_new, set by the rtls_client_config_builder_*
/// functions, turned into configurations by rtls_client_config_build and
/// freed by rtls_client_config_builder_free. Used by one thread at a time.
pub struct rtls_client_config_builder {
    roots: RootCertStore,
    settings: Settings,
}

/// How rtls talks to a TLS server (mod_tls: to a mod_proxy backend), built
/// once at config time and shared by every connection to the backends of
/// one TLS setup (opaque). Immutable, usable from any thread, reference
/// counted: every client connection holds its own reference.
/// The server's certificate is always verified (webpki, against the trust
/// anchors added; there is no switch to skip it): a backend's own
/// self-signed certificate added as an anchor is accepted for that backend.
/// Sessions are resumed from rustls' in-memory client cache, one per
/// configuration and process, keyed by server name.
pub struct rtls_client_config {
    base: Arc<ClientConfig>,
    /// Variants of `base` that offer one ALPN list each (rustls takes
    /// ALPN from the configuration), made on first use and kept; their
    /// session caches are their own.
    by_alpn: Mutex<Vec<(Vec<Vec<u8>>, Arc<ClientConfig>)>>,
}

/// Distinct ALPN lists kept per configuration; more are built per
/// connection (mod_proxy asks for very few).
const MAX_ALPN_VARIANTS: usize = 8;

impl rtls_client_config {
    pub(crate) fn for_alpn(&self, alpn: Vec<Vec<u8>>) -> Arc<ClientConfig> {
        if alpn.is_empty() {
            return Arc::clone(&self.base);
        }
        let mut variants = match self.by_alpn.lock() {
            Ok(v) => v,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((_, cfg)) = variants.iter().find(|(p, _)| *p == alpn) {
            return Arc::clone(cfg);
        }
        let mut cfg = (*self.base).clone();
        cfg.alpn_protocols = alpn.clone();
        let cfg = Arc::new(cfg);
        if variants.len() < MAX_ALPN_VARIANTS {
            variants.push((alpn, Arc::clone(&cfg)));
        }
        cfg
    }
}

impl rtls_client_config_builder {
    fn build(&self) -> Result<ClientConfig, rtls_result> {
        if self.roots.is_empty() {
            return Err(RTLS_CONF_NO_TRUST_ANCHORS);
        }
        let (provider, versions) = self.settings.provider()?;
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(self.roots.clone()), Arc::clone(&provider))
            .build()
            .map_err(|_| RTLS_CONF_NO_TRUST_ANCHORS)?;
        let cfg = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)
            .map_err(|_| RTLS_CONF_NO_CIPHER_SUITES)?
            .with_webpki_verifier(verifier)
            .with_client_cert_resolver(Arc::new(FirstUsableClientKey { keys: self.settings.keys.clone() }));
        Ok(cfg)
    }
}

/// A client configuration builder with rustls' defaults: TLS 1.2 and 1.3,
/// all implemented cipher suites in rustls' order, no trust anchors, no
/// client certificate. On success `*out` is a new builder owned by the
/// caller: free it with rtls_client_config_builder_free; building does not
/// consume it.
/// Errors: RTLS_INTERNAL_NULL_ARGUMENT (`out` NULL).
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_client_config_builder_new(out: *mut *mut rtls_client_config_builder) -> rtls_result {
    guard(|| {
        if out.is_null() {
            return RTLS_INTERNAL_NULL_ARGUMENT;
        }
        let b = Box::new(rtls_client_config_builder {
            roots: RootCertStore::empty(),
            settings: Settings::new(),
        });
        unsafe { set_out(out, Box::into_raw(b)) };
        RTLS_OK
    })
}

/// Free a builder; NULL is ignored. Configurations built from it are not
/// affected.
/// Phase: config time.
#[no_mangle]
pub extern "C" fn rtls_client_config_builder_free(b: *mut rtls_client_config_builder) {
    // SAFETY: b is NULL or came from Box::into_raw in rtls_client_config_builder_new.
    unsafe { crate::ffi::free_box(b) }
}

/// Add every certificate of `pem` (`pem_len` bytes of PEM text, read during
/// the call only) as a trust anchor for verifying servers; `*out_added`
/// gets how many were added (may be NULL).
/// Errors: RTLS_CONF_BAD_PEM, RTLS_CONF_NO_CERTIFICATE (no certificate in
/// the text), RTLS_CONF_BAD_CERTIFICATE (a certificate webpki cannot use as
/// an anchor; none of this call's certificates is added then),
/// RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_client_config_builder_add_trust_anchors_pem(
    b: *mut rtls_client_config_builder,
    pem: *const u8,
    pem_len: usize,
    out_added: *mut usize,
) -> rtls_result {
    guard(|| {
        let b = try_mut!(b);
        let pem = try_slice!(pem, pem_len);
        let certs = match parse_certs(pem) {
            Ok(c) => c,
            Err(rv) => return rv,
        };
        let mut roots = b.roots.clone();
        for cert in &certs {
            if roots.add(cert.clone()).is_err() {
                return RTLS_CONF_BAD_CERTIFICATE;
            }
        }
        b.roots = roots;
        unsafe { set_out(out_added, certs.len()) };
        RTLS_OK
    })
}

/// Add a client certificate and key, presented to servers that ask for one
/// (keys are tried in the order added: the first one the server's
/// signature schemes allow and whose chain has an issuer the server names
/// as acceptable is used; if the server names none of them, the first its
/// schemes allow). The builder keeps its own reference;
/// the caller still frees `key`.
/// Errors: RTLS_INTERNAL_NULL_ARGUMENT (`b` or `key` NULL).
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_client_config_builder_add_certified_key(
    b: *mut rtls_client_config_builder,
    key: *const rtls_certified_key,
) -> rtls_result {
    guard(|| {
        let b = try_mut!(b);
        b.settings.add_key(try_ref!(key));
        RTLS_OK
    })
}

/// Lowest protocol version offered: RTLS_TLS12 or RTLS_TLS13 (lower values
/// mean TLS 1.2).
/// Errors: RTLS_CONF_UNSUPPORTED_VERSION above TLS 1.3 (the setting is
/// unchanged then), RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_client_config_builder_set_min_version(
    b: *mut rtls_client_config_builder,
    version: u16,
) -> rtls_result {
    guard(|| {
        try_mut!(b).settings.set_min_version(version)
    })
}

/// Offer exactly these cipher suites (`count` IANA ids at `ids`) in this
/// order; ids rustls lacks are skipped.
/// Errors: RTLS_CONF_NO_CIPHER_SUITES if none remains (the setting is
/// unchanged then), RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_client_config_builder_set_cipher_suites(
    b: *mut rtls_client_config_builder,
    ids: *const u16,
    count: usize,
) -> rtls_result {
    guard(|| try_mut!(b).settings.set_cipher_suites(ids, count))
}

/// Build a configuration from the builder's current settings. On success
/// `*out` is a new configuration owned by the caller (rtls_client_config_free);
/// connections hold their own references; the builder stays usable.
/// Errors: RTLS_CONF_NO_TRUST_ANCHORS, RTLS_CONF_NO_CIPHER_SUITES (none for
/// the enabled versions), RTLS_CONF_UNSUPPORTED_VERSION,
/// RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_client_config_build(
    b: *const rtls_client_config_builder,
    out: *mut *const rtls_client_config,
) -> rtls_result {
    guard(|| {
        let b = try_ref!(b);
        if out.is_null() {
            return RTLS_INTERNAL_NULL_ARGUMENT;
        }
        match b.build() {
            Ok(cfg) => {
                let obj = Arc::new(rtls_client_config { base: Arc::new(cfg), by_alpn: Mutex::new(Vec::new()) });
                unsafe { set_out(out, Arc::into_raw(obj)) };
                RTLS_OK
            }
            Err(rv) => rv,
        }
    })
}

/// Release the caller's reference to a configuration. Connections made with
/// it keep it alive as long as they need it. NULL is ignored.
/// Phase: config time (or a cleanup of the pool owning the configuration).
#[no_mangle]
pub extern "C" fn rtls_client_config_free(cfg: *const rtls_client_config) {
    // SAFETY: cfg is NULL or came from Arc::into_raw in rtls_client_config_build.
    unsafe { crate::ffi::free_arc(cfg) }
}

/// Parse an ALPN list in wire format (each name preceded by its length
/// byte, as in RFC 7301's ProtocolNameList without the outer length).
pub(crate) fn parse_alpn_wire(mut wire: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    while let Some((&len, rest)) = wire.split_first() {
        let len = len as usize;
        if len == 0 || rest.len() < len {
            return None;
        }
        out.push(rest[..len].to_vec());
        wire = &rest[len..];
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn_wire_format() {
        assert_eq!(parse_alpn_wire(b"").unwrap(), Vec::<Vec<u8>>::new());
        assert_eq!(parse_alpn_wire(b"\x02h2\x08http/1.1").unwrap(), vec![b"h2".to_vec(), b"http/1.1".to_vec()]);
        assert!(parse_alpn_wire(b"\x03h2").is_none());
        assert!(parse_alpn_wire(b"\x00").is_none());
    }

    #[test]
    fn no_anchors_is_a_config_error() {
        let mut b = std::ptr::null_mut();
        assert_eq!(rtls_client_config_builder_new(&mut b), RTLS_OK);
        let mut cfg = std::ptr::null();
        assert_eq!(rtls_client_config_build(b, &mut cfg), RTLS_CONF_NO_TRUST_ANCHORS);
        assert!(cfg.is_null());
        rtls_client_config_builder_free(b);
    }
}
