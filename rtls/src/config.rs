//! `rtls_server_config`: one rustls server configuration per TLS setup
//! (virtual host), built once at startup and shared by all connections.

use std::sync::{Arc, Mutex};

use rustls::crypto::ring::{default_provider, ALL_CIPHER_SUITES};
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, NoServerSessionStorage, ResolvesServerCert, StoresServerSessions};
use rustls::sign::CertifiedKey;
use rustls::{ServerConfig, SupportedCipherSuite, SupportedProtocolVersion};

use crate::certkey::rtls_certified_key;
use crate::client_auth::{self, rtls_client_auth, RTLS_CLIENT_AUTH_NONE, RTLS_CLIENT_AUTH_OPTIONAL, RTLS_CLIENT_AUTH_REQUIRED};
use crate::context;
use crate::error::rtls_result::{self, *};
use crate::ffi::{guard, guard_value, set_out, try_mut, try_ref};
use crate::session::{rtls_session_get_fn, rtls_session_put_fn, CallbackStore};
use crate::ticket::{self, rtls_ticketer};

/// TLS 1.2 (IANA number 0x0303): TLS 1.2 and 1.3 are the protocol versions
/// rustls implements. The *_set_min_version functions take these numbers;
/// rtls_conn_protocol_version and rtls_cipher_suite_version return them.
pub const TLS12: u16 = 0x0303;
/// TLS 1.3 (IANA number 0x0304).
pub const TLS13: u16 = 0x0304;

/// Picks the first key the client can use, in configured order. rustls has
/// already narrowed the client's signature schemes to those that fit the
/// cipher suites both sides share, so a key is only chosen if a suite for it
/// will be negotiated.
#[derive(Debug)]
struct FirstUsableKey {
    keys: Vec<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for FirstUsableKey {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let schemes = hello.signature_schemes();
        let (index, key) = self
            .keys
            .iter()
            .enumerate()
            .find(|(_, k)| k.key.choose_scheme(schemes).is_some())?;
        context::record_chosen_key(index);
        // A staple the connection was given for this key (rtls_conn_set_ocsp):
        // a copy of the key with it, for this handshake only. The shared key
        // never changes, so no configuration is rebuilt for a new response.
        if let Some(der) = context::ocsp_for(index) {
            let mut stapled = CertifiedKey::clone(key);
            stapled.ocsp = Some(der);
            return Some(Arc::new(stapled));
        }
        Some(Arc::clone(key))
    }
}

/// Collects the settings of a server configuration (opaque): made by
/// rtls_server_config_builder_new, set by the rtls_server_config_builder_*
/// functions, turned into configurations by rtls_server_config_build and
/// freed by rtls_server_config_builder_free. Used by one thread at a time.
pub struct rtls_server_config_builder {
    settings: Settings,
    ignore_client_order: bool,
    /// None: rustls' default, an in-memory cache per configuration.
    session_store: Option<Arc<dyn StoresServerSessions>>,
    /// None: no tickets (rustls' default).
    ticketer: Option<Arc<rtls_ticketer>>,
    /// None: client certificates are not asked for.
    client_auth: Option<(Arc<rtls_client_auth>, u32)>,
}

/// One rustls server configuration per TLS setup (virtual host), built once
/// at config time and shared by all connections (opaque). Immutable,
/// usable from any thread, reference counted: every connection bound to it
/// holds its own reference.
pub struct rtls_server_config {
    base: Arc<ServerConfig>,
    /// Copies of `base` that answer one ALPN protocol each, made on first
    /// use so connections never clone the configuration themselves.
    by_alpn: Mutex<Vec<(Vec<u8>, Arc<ServerConfig>)>>,
}

/// Most ALPN variants kept per configuration; protocols beyond this are
/// served by a fresh copy per connection (never seen in practice).
const MAX_ALPN_VARIANTS: usize = 8;

impl rtls_server_config {
    /// The configuration to hand to a connection that answers ALPN with
    /// `alpn` (no ALPN extension at all when `None`).
    pub(crate) fn for_alpn(&self, alpn: Option<&[u8]>) -> Arc<ServerConfig> {
        let alpn = match alpn {
            None => return Arc::clone(&self.base),
            Some(a) => a,
        };
        let mut variants = match self.by_alpn.lock() {
            Ok(v) => v,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((_, cfg)) = variants.iter().find(|(p, _)| p.as_slice() == alpn) {
            return Arc::clone(cfg);
        }
        let mut cfg = (*self.base).clone();
        cfg.alpn_protocols = vec![alpn.to_vec()];
        let cfg = Arc::new(cfg);
        if variants.len() < MAX_ALPN_VARIANTS {
            variants.push((alpn.to_vec(), Arc::clone(&cfg)));
        }
        cfg
    }
}

pub(crate) fn versions_from(min: u16) -> Result<Vec<&'static SupportedProtocolVersion>, rtls_result> {
    match min {
        0..=TLS12 => Ok(vec![&rustls::version::TLS13, &rustls::version::TLS12]),
        TLS13 => Ok(vec![&rustls::version::TLS13]),
        _ => Err(RTLS_CONF_UNSUPPORTED_VERSION),
    }
}

/// What server and client configuration builders share: the keys to
/// present, the lowest protocol version and the cipher suites.
pub(crate) struct Settings {
    pub(crate) keys: Vec<Arc<CertifiedKey>>,
    min_version: u16,
    suites: Option<Vec<SupportedCipherSuite>>,
}

impl Settings {
    pub(crate) fn new() -> Settings {
        Settings { keys: Vec::new(), min_version: TLS12, suites: None }
    }

    pub(crate) fn add_key(&mut self, key: &rtls_certified_key) {
        self.keys.push(Arc::clone(&key.key));
    }

    pub(crate) fn set_min_version(&mut self, version: u16) -> rtls_result {
        if version > TLS13 {
            return RTLS_CONF_UNSUPPORTED_VERSION;
        }
        self.min_version = version;
        RTLS_OK
    }

    pub(crate) fn set_cipher_suites(&mut self, ids: *const u16, count: usize) -> rtls_result {
        match suites_by_ids(ids, count) {
            Ok(s) => {
                self.suites = Some(s);
                RTLS_OK
            }
            Err(rv) => rv,
        }
    }

    /// The crypto provider with the configured suites, and the versions
    /// to enable. Errors: RTLS_CONF_NO_CIPHER_SUITES (none for the
    /// enabled versions), RTLS_CONF_UNSUPPORTED_VERSION.
    pub(crate) fn provider(&self) -> Result<(Arc<CryptoProvider>, Vec<&'static SupportedProtocolVersion>), rtls_result> {
        let mut versions = versions_from(self.min_version)?;
        let suites: Vec<SupportedCipherSuite> = match &self.suites {
            Some(s) => s.clone(),
            None => ALL_CIPHER_SUITES.to_vec(),
        };
        // A version without any suite left would be negotiated and then
        // fail the handshake: leave it out instead.
        versions.retain(|v| suites.iter().any(|s| s.version() == *v));
        if versions.is_empty() {
            return Err(RTLS_CONF_NO_CIPHER_SUITES);
        }
        let mut provider = default_provider();
        provider.cipher_suites = suites;
        Ok((Arc::new(provider), versions))
    }
}

impl rtls_server_config_builder {
    fn build(&self) -> Result<ServerConfig, rtls_result> {
        if self.settings.keys.is_empty() {
            return Err(RTLS_CONF_NO_CERTIFIED_KEY);
        }
        let (provider, versions) = self.settings.provider()?;
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_protocol_versions(&versions)
            .map_err(|_| RTLS_CONF_NO_CIPHER_SUITES)?;
        let builder = match &self.client_auth {
            Some((auth, mode)) => builder.with_client_cert_verifier(auth.verifier(*mode, provider)?),
            None => builder.with_no_client_auth(),
        };
        let mut cfg = builder
            .with_cert_resolver(Arc::new(FirstUsableKey {
                keys: self.settings.keys.clone(),
            }));
        cfg.ignore_client_order = self.ignore_client_order;
        if let Some(store) = &self.session_store {
            cfg.session_storage = Arc::clone(store);
        }
        if let Some(t) = &self.ticketer {
            cfg.ticketer = Arc::clone(t) as Arc<dyn rustls::server::ProducesTickets>;
        }
        Ok(cfg)
    }
}

/// A builder with rustls' defaults: TLS 1.2 + 1.3, all implemented suites
/// in rustls' order, the client's suite order honoured, no keys, rustls'
/// session cache, no tickets. On success `*out` is a new builder owned by
/// the caller: free it with rtls_server_config_builder_free; building does
/// not consume it.
/// Errors: RTLS_INTERNAL_NULL_ARGUMENT (`out` NULL).
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_server_config_builder_new(out: *mut *mut rtls_server_config_builder) -> rtls_result {
    guard(|| {
        if out.is_null() {
            return RTLS_INTERNAL_NULL_ARGUMENT;
        }
        let b = Box::new(rtls_server_config_builder {
            settings: Settings::new(),
            ignore_client_order: false,
            session_store: None,
            ticketer: None,
            client_auth: None,
        });
        unsafe { set_out(out, Box::into_raw(b)) };
        RTLS_OK
    })
}

/// Free a builder; NULL is ignored. Configurations built from it are not
/// affected.
/// Phase: config time.
#[no_mangle]
pub extern "C" fn rtls_server_config_builder_free(b: *mut rtls_server_config_builder) {
    // SAFETY: b is NULL or came from Box::into_raw in rtls_server_config_builder_new.
    unsafe { crate::ffi::free_box(b) }
}

/// Append a key (tried in the order added: the first one the client's
/// signature schemes and the shared cipher suites allow is presented). The
/// builder keeps its own reference; the caller still frees `key`.
/// Errors: RTLS_INTERNAL_NULL_ARGUMENT (`b` or `key` NULL).
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_server_config_builder_add_certified_key(
    b: *mut rtls_server_config_builder,
    key: *const rtls_certified_key,
) -> rtls_result {
    guard(|| {
        let b = try_mut!(b);
        b.settings.add_key(try_ref!(key));
        RTLS_OK
    })
}

/// Minimum version: RTLS_TLS12 or RTLS_TLS13 (IANA numbers; lower values
/// mean TLS 1.2, as rustls has nothing older).
/// Errors: RTLS_CONF_UNSUPPORTED_VERSION above TLS 1.3 (the setting is
/// unchanged then), RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_server_config_builder_set_min_version(
    b: *mut rtls_server_config_builder,
    version: u16,
) -> rtls_result {
    guard(|| {
        try_mut!(b).settings.set_min_version(version)
    })
}

/// Exactly these suites (`count` IANA ids at `ids`) in this preference
/// order; ids rustls lacks are skipped.
/// Errors: RTLS_CONF_NO_CIPHER_SUITES if none remains (the setting is
/// unchanged then), RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_server_config_builder_set_cipher_suites(
    b: *mut rtls_server_config_builder,
    ids: *const u16,
    count: usize,
) -> rtls_result {
    guard(|| try_mut!(b).settings.set_cipher_suites(ids, count))
}

/// true: the server's suite order decides; false (default): the client's.
/// Errors: RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_server_config_builder_set_ignore_client_order(
    b: *mut rtls_server_config_builder,
    ignore: bool,
) -> rtls_result {
    guard(|| {
        let b = try_mut!(b);
        b.ignore_client_order = ignore;
        RTLS_OK
    })
}

/// Keep stateful sessions of configurations built from now on in the store
/// behind `put`/`get` instead of rustls' default, a memory cache of 256
/// sessions private to each configuration and process. put and get both
/// NULL: keep no stateful sessions at all (TLS 1.2 then resumes by ticket
/// only, TLS 1.3 without a ticketer does not resume).
///
/// The store is outside rtls (mod_tls: Apache's socache, shared by all
/// children), reached through the two callbacks (rtls_session_put_fn,
/// rtls_session_get_fn: what they must do is said there). rustls stores
/// TLS 1.2 sessions under their session id and, when no ticketer is set,
/// TLS 1.3 sessions under the ticket id it hands the client; a TLS 1.3
/// session is taken out as it is used (single use, RFC 8446 8.1). Keys are
/// random, so one store can serve several configurations, but give each TLS
/// setup its own namespace (e.g. through userdata) so sessions never cross
/// setups. The store decides how long an entry lives: rustls resumes any
/// session handed back to it (it checks only cipher suite, SNI and extended
/// master secret), so give entries a bounded lifetime (mod_ssl: 300 s).
///
/// userdata is passed to every call, from any thread; it must stay valid,
/// and the callbacks callable, until every configuration built with it, and
/// every connection using one, is freed.
/// Errors: RTLS_INTERNAL_NULL_ARGUMENT (b NULL, or one of put/get NULL and
/// the other not).
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_server_config_builder_set_session_store(
    b: *mut rtls_server_config_builder,
    put: rtls_session_put_fn,
    get: rtls_session_get_fn,
    userdata: *mut std::os::raw::c_void,
) -> rtls_result {
    guard(|| {
        let b = try_mut!(b);
        b.session_store = match (put, get) {
            (Some(put), Some(get)) => Some(Arc::new(CallbackStore::new(put, get, userdata))),
            (None, None) => Some(Arc::new(NoServerSessionStorage {})),
            _ => return RTLS_INTERNAL_NULL_ARGUMENT,
        };
        RTLS_OK
    })
}

/// Issue and accept tickets made by t in configurations built from now on
/// (the builder keeps its own reference; the caller still frees t). NULL:
/// no tickets (the default). With a ticketer, TLS 1.3 resumes by ticket
/// only and the session store serves TLS 1.2 session ids (clients that ask
/// for a ticket get one and a session id).
/// Errors: RTLS_INTERNAL_NULL_ARGUMENT (b NULL).
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_server_config_builder_set_ticketer(
    b: *mut rtls_server_config_builder,
    t: *const rtls_ticketer,
) -> rtls_result {
    guard(|| {
        let b = try_mut!(b);
        // SAFETY: a non-NULL t is a live handle from rtls_ticketer_new.
        b.ticketer = unsafe { t.as_ref() }.map(|t| unsafe { ticket::clone_handle(t) });
        RTLS_OK
    })
}

/// Ask clients for certificates in configurations built from now on:
/// `mode` RTLS_CLIENT_AUTH_NONE (the default; `auth` may be NULL),
/// RTLS_CLIENT_AUTH_OPTIONAL or RTLS_CLIENT_AUTH_REQUIRED, verified against
/// the CAs and CRLs of `auth` (the builder keeps a copy; the caller still
/// frees `auth`). The CAs' subjects are sent as hints in the
/// CertificateRequest. A client without a certificate fails the handshake
/// with `required` (TLS 1.3 alert certificate_required); an invalid
/// certificate fails it with either (bad_certificate, unknown_ca,
/// certificate_revoked, certificate_expired... as rustls maps the cause).
/// Errors: RTLS_CONF_NO_CLIENT_CA (optional/required without any CA; the
/// setting is unchanged then), RTLS_CONF_ERROR (unknown mode),
/// RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_server_config_builder_set_client_auth(
    b: *mut rtls_server_config_builder,
    auth: *const rtls_client_auth,
    mode: u32,
) -> rtls_result {
    guard(|| {
        let b = try_mut!(b);
        match mode {
            RTLS_CLIENT_AUTH_NONE => {
                b.client_auth = None;
                RTLS_OK
            }
            RTLS_CLIENT_AUTH_OPTIONAL | RTLS_CLIENT_AUTH_REQUIRED => {
                let auth = try_ref!(auth);
                if auth.ca_count() == 0 {
                    return RTLS_CONF_NO_CLIENT_CA;
                }
                b.client_auth = Some((client_auth::snapshot(auth), mode));
                RTLS_OK
            }
            _ => RTLS_CONF_ERROR,
        }
    })
}

/// Build a configuration from the builder's current settings. On success
/// `*out` is a new configuration owned by the caller (rtls_server_config_free);
/// connections hold their own references; the builder stays usable.
/// Errors: RTLS_CONF_NO_CERTIFIED_KEY, RTLS_CONF_NO_CIPHER_SUITES (none for
/// the enabled versions), RTLS_CONF_UNSUPPORTED_VERSION,
/// RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_server_config_build(
    b: *const rtls_server_config_builder,
    out: *mut *const rtls_server_config,
) -> rtls_result {
    guard(|| {
        let b = try_ref!(b);
        if out.is_null() {
            return RTLS_INTERNAL_NULL_ARGUMENT;
        }
        match b.build() {
            Ok(cfg) => {
                let obj = Arc::new(rtls_server_config {
                    base: Arc::new(cfg),
                    by_alpn: Mutex::new(Vec::new()),
                });
                unsafe { set_out(out, Arc::into_raw(obj)) };
                RTLS_OK
            }
            Err(rv) => rv,
        }
    })
}

/// Release the caller's reference to a configuration. Connections bound to
/// it keep it alive as long as they need it. NULL is ignored.
/// Phase: config time (or a cleanup of the pool owning the configuration).
#[no_mangle]
pub extern "C" fn rtls_server_config_free(cfg: *const rtls_server_config) {
    // SAFETY: cfg is NULL or came from Arc::into_raw in rtls_server_config_build.
    unsafe { crate::ffi::free_arc(cfg) }
}

/// The suites of `ids` (`count` IANA ids, NULL only with 0) that rustls
/// implements, in that order. Errors: `RTLS_CONF_NO_CIPHER_SUITES` if none
/// remains, `RTLS_INTERNAL_NULL_ARGUMENT`.
pub(crate) fn suites_by_ids(ids: *const u16, count: usize) -> Result<Vec<SupportedCipherSuite>, rtls_result> {
    if ids.is_null() && count > 0 {
        return Err(RTLS_INTERNAL_NULL_ARGUMENT);
    }
    // SAFETY: C passes `count` readable ids (the header's contract).
    let ids: &[u16] = if count == 0 { &[] } else { unsafe { std::slice::from_raw_parts(ids, count) } };
    let suites: Vec<SupportedCipherSuite> = ids.iter().filter_map(|id| suite_by_id(*id)).collect();
    if suites.is_empty() {
        return Err(RTLS_CONF_NO_CIPHER_SUITES);
    }
    Ok(suites)
}

pub(crate) fn suite_by_id(id: u16) -> Option<SupportedCipherSuite> {
    ALL_CIPHER_SUITES.iter().copied().find(|s| u16::from(s.suite()) == id)
}

/// The cipher suites rustls implements, in its default preference order:
/// their count (see rtls_supported_cipher_suite_id).
/// Phase: any time.
#[no_mangle]
pub extern "C" fn rtls_supported_cipher_suite_count() -> usize {
    guard_value(0, || ALL_CIPHER_SUITES.len())
}

/// The IANA id of implemented suite `index` (in rustls' default preference
/// order), 0 past the end.
/// Phase: any time.
#[no_mangle]
pub extern "C" fn rtls_supported_cipher_suite_id(index: usize) -> u16 {
    guard_value(0, || ALL_CIPHER_SUITES.get(index).map(|s| u16::from(s.suite())).unwrap_or(0))
}

/// Protocol version a suite (IANA id) belongs to (RTLS_TLS12/RTLS_TLS13), 0
/// when rustls does not implement the suite.
/// Phase: any time.
#[no_mangle]
pub extern "C" fn rtls_cipher_suite_version(id: u16) -> u16 {
    guard_value(0, || suite_by_id(id).map(|s| u16::from(s.version().version)).unwrap_or(0))
}
