//! Shared helpers: a rustls client talking to an rtls server connection
//! through in-memory byte vectors, a client session cache tests can look
//! into, and a reader for the plaintext parts of TLS records.
#![allow(dead_code)]

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::io::Write;
use std::os::raw::c_void;
use std::ptr;
use std::sync::{Arc, Mutex};

use rtls::certkey::*;
use rtls::config::*;
use rtls::connection::*;
use rtls::error::rtls_result::{self, *};
use rustls::client::{ClientSessionStore, Resumption, Tls12ClientSessionValue, Tls12Resumption, Tls13ClientSessionValue};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, NamedGroup, RootCertStore, SupportedCipherSuite, SupportedProtocolVersion};

pub fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{}", env!("CARGO_MANIFEST_DIR"), name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {}", path, e))
}

pub fn try_key(cert: &str, key: &str) -> Result<*const rtls_certified_key, rtls_result> {
    let c = data(cert);
    let k = data(key);
    try_key_pem(&c, &k)
}

/// A certified key from PEM text.
pub fn try_key_pem(c: &[u8], k: &[u8]) -> Result<*const rtls_certified_key, rtls_result> {
    let mut out = ptr::null();
    let rv = rtls_certified_key_new(c.as_ptr(), c.len(), k.as_ptr(), k.len(), &mut out);
    if rv == RTLS_OK {
        Ok(out)
    } else {
        assert!(out.is_null());
        Err(rv)
    }
}

pub fn key(name: &str) -> *const rtls_certified_key {
    try_key(&format!("{}.pem", name), &format!("{}.key", name)).expect("key loads")
}

pub struct ServerSettings<'a> {
    pub keys: &'a [&'a str],
    pub min_version: u16,
    pub suites: Option<&'a [u16]>,
    pub ignore_client_order: bool,
}

impl<'a> Default for ServerSettings<'a> {
    fn default() -> Self {
        ServerSettings { keys: &["p256"], min_version: TLS12, suites: None, ignore_client_order: false }
    }
}

pub fn server_config(s: &ServerSettings) -> *const rtls_server_config {
    server_config_with(s, |_| {})
}

/// Like [`server_config`]; `extra` sets more on the builder before it builds.
pub fn server_config_with<F>(s: &ServerSettings, extra: F) -> *const rtls_server_config
where
    F: FnOnce(*mut rtls_server_config_builder),
{
    let mut b = ptr::null_mut();
    assert_eq!(rtls_server_config_builder_new(&mut b), RTLS_OK);
    for name in s.keys {
        let k = key(name);
        assert_eq!(rtls_server_config_builder_add_certified_key(b, k), RTLS_OK);
        rtls_certified_key_free(k); // the builder holds its own reference
    }
    assert_eq!(rtls_server_config_builder_set_min_version(b, s.min_version), RTLS_OK);
    if let Some(ids) = s.suites {
        assert_eq!(rtls_server_config_builder_set_cipher_suites(b, ids.as_ptr(), ids.len()), RTLS_OK);
    }
    assert_eq!(rtls_server_config_builder_set_ignore_client_order(b, s.ignore_client_order), RTLS_OK);
    extra(b);
    let mut cfg = ptr::null();
    assert_eq!(rtls_server_config_build(b, &mut cfg), RTLS_OK);
    rtls_server_config_builder_free(b);
    cfg
}

/// The test CA as the only root.
pub fn roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let ca = data("ca.pem");
    let mut rd = &ca[..];
    for der in rustls_pemfile::certs(&mut rd) {
        roots.add(der.unwrap()).unwrap();
    }
    roots
}

/// A rustls client (ring provider) limited to these versions and suites,
/// trusting the test CA, with its own in-memory session cache (rustls'
/// default: TLS 1.2 resumes by session id or ticket).
pub fn client_config(
    versions: &[&'static SupportedProtocolVersion],
    suites: &[SupportedCipherSuite],
    alpn: &[&str],
) -> Arc<ClientConfig> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = suites.to_vec();
    let mut cfg = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots())
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Arc::new(cfg)
}

pub fn default_client(alpn: &[&str]) -> Arc<ClientConfig> {
    client_config(rustls::ALL_VERSIONS, rustls::crypto::ring::ALL_CIPHER_SUITES, alpn)
}

/// `base` with `cache` as its session store (TLS 1.2: session ids and
/// tickets). rustls' client resumes only sessions made with the same
/// certificate verifier and client certificate resolver, so configurations
/// that are to share sessions are made from one base this way.
pub fn with_cache(base: &Arc<ClientConfig>, cache: &Arc<ClientCache>) -> Arc<ClientConfig> {
    let mut cfg = (**base).clone();
    cfg.resumption = Resumption::store(Arc::clone(cache) as Arc<dyn ClientSessionStore>)
        .tls12_resumption(Tls12Resumption::SessionIdOrTickets);
    Arc::new(cfg)
}

// ---- the client's session cache ----------------------------------------------

/// A client session store that counts what rustls puts into it, can hand a
/// session to a second cache, and can insist on a key exchange group for the
/// first TLS 1.3 key share (to provoke a HelloRetryRequest).
#[derive(Debug, Default)]
pub struct ClientCache {
    inner: Mutex<CacheInner>,
    /// Returned as the kx hint for every server instead of what rustls noted.
    pub force_kx_hint: Option<NamedGroup>,
}

#[derive(Debug, Default)]
struct CacheInner {
    kx_hints: HashMap<ServerName<'static>, NamedGroup>,
    tls12: HashMap<ServerName<'static>, Tls12ClientSessionValue>,
    /// Oldest first; rustls takes the newest (as its own cache does).
    tls13: HashMap<ServerName<'static>, VecDeque<Tls13ClientSessionValue>>,
    tls12_saved: usize,
    tls13_inserted: usize,
    tls13_taken: usize,
}

impl ClientCache {
    pub fn new() -> Arc<ClientCache> {
        Arc::new(ClientCache::default())
    }

    /// A cache whose kx hint is always `group`.
    pub fn with_kx_hint(group: NamedGroup) -> Arc<ClientCache> {
        Arc::new(ClientCache { force_kx_hint: Some(group), ..Default::default() })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        self.inner.lock().unwrap()
    }

    /// Times rustls saved a TLS 1.2 session (after every TLS 1.2 handshake
    /// that gave it a session id or ticket, resumed ones too).
    pub fn tls12_saved(&self) -> usize {
        self.lock().tls12_saved
    }

    /// TLS 1.3 tickets received so far.
    pub fn tls13_inserted(&self) -> usize {
        self.lock().tls13_inserted
    }

    /// TLS 1.3 tickets held now.
    pub fn tls13_held(&self) -> usize {
        self.lock().tls13.values().map(|q| q.len()).sum()
    }

    /// A second cache holding what this one would offer a server again:
    /// a copy of each TLS 1.2 session, and the oldest TLS 1.3 ticket of each
    /// server, moved (rustls' TLS 1.3 tickets cannot be copied, and each is
    /// single-use; servers send two per handshake, so one stays here).
    pub fn set_aside(&self) -> Arc<ClientCache> {
        let mut me = self.lock();
        let mut other = CacheInner { tls12: me.tls12.clone(), ..Default::default() };
        for (name, queue) in me.tls13.iter_mut() {
            assert!(queue.len() >= 2, "set_aside wants two TLS 1.3 tickets for {:?}, has {}", name, queue.len());
            let oldest = queue.pop_front().unwrap();
            other.tls13.entry(name.clone()).or_default().push_back(oldest);
        }
        Arc::new(ClientCache { inner: Mutex::new(other), force_kx_hint: self.force_kx_hint })
    }
}

impl ClientSessionStore for ClientCache {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.lock().kx_hints.insert(server_name, group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.force_kx_hint.or_else(|| self.lock().kx_hints.get(&server_name.to_owned()).copied())
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        let mut me = self.lock();
        me.tls12_saved += 1;
        me.tls12.insert(server_name, value);
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.lock().tls12.get(&server_name.to_owned()).cloned()
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.lock().tls12.remove(server_name);
    }

    fn insert_tls13_ticket(&self, server_name: ServerName<'static>, value: Tls13ClientSessionValue) {
        let mut me = self.lock();
        me.tls13_inserted += 1;
        me.tls13.entry(server_name).or_default().push_back(value);
    }

    fn take_tls13_ticket(&self, server_name: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        let mut me = self.lock();
        let t = me.tls13.get_mut(server_name).and_then(|q| q.pop_back());
        if t.is_some() {
            me.tls13_taken += 1;
        }
        t
    }
}

// ---- moving bytes -------------------------------------------------------------

unsafe extern "C" fn collect(userdata: *mut c_void, buf: *const u8, len: usize) -> i32 {
    let v = &mut *(userdata as *mut Vec<u8>);
    v.extend_from_slice(std::slice::from_raw_parts(buf, len));
    0
}

/// Everything the server has to send.
pub fn server_output(s: *mut rtls_conn) -> Vec<u8> {
    let mut out = Vec::new();
    let mut n = 0;
    assert_eq!(rtls_conn_write_tls(s, Some(collect), &mut out as *mut Vec<u8> as *mut c_void, &mut n), RTLS_OK);
    assert_eq!(n, out.len());
    out
}

/// One rtls_conn_process call as the tests see it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    pub events: u32,
    pub handshaking_before: bool,
    pub handshaking_after: bool,
    pub rv: rtls_result,
}

/// rtls_conn_process, noting what it reported.
pub fn process_step(s: *mut rtls_conn, steps: &mut Vec<Step>) -> rtls_result {
    let handshaking_before = rtls_conn_is_handshaking(s);
    // a value process must overwrite
    let mut events = 0xdead_beef_u32;
    let rv = rtls_conn_process(s, ptr::null_mut(), ptr::null_mut(), &mut events);
    assert_ne!(events, 0xdead_beef, "out_events written on every call");
    steps.push(Step { events, handshaking_before, handshaking_after: rtls_conn_is_handshaking(s), rv });
    rv
}

/// Feed all of `bytes` to the server, processing between chunks.
/// Returns the first error from processing, or RTLS_OK.
pub fn feed_server(s: *mut rtls_conn, bytes: &[u8], plain: &mut Vec<u8>) -> rtls_result {
    feed_server_steps(s, bytes, plain, &mut Vec::new())
}

/// [`feed_server`], noting every process step in `steps`.
pub fn feed_server_steps(s: *mut rtls_conn, bytes: &[u8], plain: &mut Vec<u8>, steps: &mut Vec<Step>) -> rtls_result {
    let mut off = 0;
    while off < bytes.len() {
        let mut n = 0;
        let rv = rtls_conn_read_tls(s, bytes[off..].as_ptr(), bytes.len() - off, &mut n);
        if rv != RTLS_OK {
            return rv;
        }
        off += n;
        let rv = process_step(s, steps);
        if rv != RTLS_OK {
            return rv;
        }
        drain_plain(s, plain);
    }
    RTLS_OK
}

pub fn drain_plain(s: *mut rtls_conn, plain: &mut Vec<u8>) -> rtls_result {
    loop {
        let mut buf = [0u8; 4096];
        let mut n = 0;
        let rv = rtls_conn_read(s, buf.as_mut_ptr(), buf.len(), &mut n);
        match rv {
            RTLS_OK => plain.extend_from_slice(&buf[..n]),
            RTLS_INTERNAL_WRONG_STATE => return RTLS_OK,
            other => return other,
        }
    }
}

pub fn client_output(c: &mut ClientConnection) -> Vec<u8> {
    let mut out = Vec::new();
    while c.wants_write() {
        c.write_tls(&mut out).unwrap();
    }
    out
}

/// Feed bytes to the client; returns rustls' error if processing fails.
/// Plaintext that arrives is left in the client's buffer (small amounts).
pub fn feed_client(c: &mut ClientConnection, bytes: &[u8]) -> Result<(), rustls::Error> {
    feed_client_into(c, bytes, &mut Vec::new())
}

/// Feed bytes to the client, moving plaintext into `plain` as it comes.
pub fn feed_client_into(c: &mut ClientConnection, bytes: &[u8], plain: &mut Vec<u8>) -> Result<(), rustls::Error> {
    let mut rd = bytes;
    while !rd.is_empty() {
        c.read_tls(&mut rd).unwrap();
        c.process_new_packets()?;
        let mut buf = [0u8; 8192];
        while let Ok(n) = c.reader().read(&mut buf) {
            if n == 0 {
                break;
            }
            plain.extend_from_slice(&buf[..n]);
        }
    }
    Ok(())
}

pub struct Pair {
    pub server: *mut rtls_conn,
    pub client: ClientConnection,
    pub server_plain: Vec<u8>,
    pub client_plain: Vec<u8>,
    /// Every rtls_conn_process call the helpers made, in order.
    pub steps: Vec<Step>,
    /// What each side sent, flight by flight (non-empty ones only).
    pub client_sent: Vec<Vec<u8>>,
    pub server_sent: Vec<Vec<u8>>,
}

impl Drop for Pair {
    fn drop(&mut self) {
        rtls_conn_free(self.server);
    }
}

pub fn new_pair(client_cfg: Arc<ClientConfig>, sni: &str) -> Pair {
    let mut s = ptr::null_mut();
    assert_eq!(rtls_conn_server_new(&mut s), RTLS_OK);
    let name = ServerName::try_from(sni.to_string()).unwrap();
    let client = ClientConnection::new(client_cfg, name).unwrap();
    Pair {
        server: s,
        client,
        server_plain: Vec::new(),
        client_plain: Vec::new(),
        steps: Vec::new(),
        client_sent: Vec::new(),
        server_sent: Vec::new(),
    }
}

impl Pair {
    /// What the client has to send now (noted in `client_sent`).
    pub fn from_client(&mut self) -> Vec<u8> {
        let out = client_output(&mut self.client);
        if !out.is_empty() {
            self.client_sent.push(out.clone());
        }
        out
    }

    /// What the server has to send now (noted in `server_sent`).
    pub fn from_server(&mut self) -> Vec<u8> {
        let out = server_output(self.server);
        if !out.is_empty() {
            self.server_sent.push(out.clone());
        }
        out
    }

    /// Feed the server, noting the process steps.
    pub fn to_server(&mut self, bytes: &[u8]) -> rtls_result {
        feed_server_steps(self.server, bytes, &mut self.server_plain, &mut self.steps)
    }

    /// Send the ClientHello and let the server see it.
    pub fn send_hello(&mut self) {
        let hello = self.from_client();
        assert_eq!(self.to_server(&hello), RTLS_OK);
        assert!(rtls_conn_has_hello(self.server));
    }

    /// The first ClientHello's bytes, as sent.
    pub fn hello_bytes(&self) -> &[u8] {
        &self.client_sent[0]
    }

    /// One round: the client's bytes to the server, the server's to the
    /// client. Ok(true) when something moved.
    pub fn round(&mut self) -> Result<bool, String> {
        let to_server = self.from_client();
        if !to_server.is_empty() {
            let rv = self.to_server(&to_server);
            if rv != RTLS_OK {
                // deliver the alert the server queued
                let alert = self.from_server();
                let _ = feed_client(&mut self.client, &alert);
                return Err(format!("server: {:?}", rv));
            }
        }
        let to_client = self.from_server();
        if !to_client.is_empty() {
            feed_client_into(&mut self.client, &to_client, &mut self.client_plain)
                .map_err(|e| format!("client: {}", e))?;
        }
        Ok(!to_server.is_empty() || !to_client.is_empty())
    }

    /// Pump bytes both ways until neither side has anything to say.
    pub fn pump(&mut self) -> Result<(), String> {
        for _ in 0..20 {
            if !self.round()? {
                return Ok(());
            }
        }
        Err("no progress after 20 rounds".into())
    }

    pub fn accept(&mut self, cfg: *const rtls_server_config, alpn: Option<&str>) -> rtls_result {
        let (p, l) = match alpn {
            Some(a) => (a.as_ptr(), a.len()),
            None => (ptr::null(), 0),
        };
        rtls_conn_accept(self.server, cfg, p, l)
    }

    /// Full handshake: hello, accept with cfg, pump.
    pub fn handshake(&mut self, cfg: *const rtls_server_config, alpn: Option<&str>) -> Result<(), String> {
        self.send_hello();
        let rv = self.accept(cfg, alpn);
        if rv != RTLS_OK {
            let alert = self.from_server();
            let _ = feed_client(&mut self.client, &alert);
            return Err(format!("accept: {:?}", rv));
        }
        self.pump()?;
        if rtls_conn_is_handshaking(self.server) || self.client.is_handshaking() {
            return Err("handshake did not complete".into());
        }
        Ok(())
    }

    pub fn client_read_all(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.client_plain)
    }

    pub fn server_write_all(&mut self, data: &[u8]) {
        let mut off = 0;
        while off < data.len() {
            let mut n = 0;
            assert_eq!(rtls_conn_write(self.server, data[off..].as_ptr(), data.len() - off, &mut n), RTLS_OK);
            off += n;
            let out = server_output(self.server);
            feed_client_into(&mut self.client, &out, &mut self.client_plain).unwrap();
        }
    }

    pub fn client_write_all(&mut self, data: &[u8]) {
        for chunk in data.chunks(16 * 1024) {
            self.client.writer().write_all(chunk).unwrap();
            self.pump().unwrap();
        }
    }
}

// ---- reading TLS records --------------------------------------------------------

pub const CT_CHANGE_CIPHER_SPEC: u8 = 20;
pub const CT_ALERT: u8 = 21;
pub const CT_HANDSHAKE: u8 = 22;
pub const CT_APPLICATION_DATA: u8 = 23;

pub const HS_CLIENT_HELLO: u8 = 1;
pub const HS_SERVER_HELLO: u8 = 2;
pub const HS_NEW_SESSION_TICKET: u8 = 4;
pub const HS_ENCRYPTED_EXTENSIONS: u8 = 8;
pub const HS_CERTIFICATE: u8 = 11;
pub const HS_SERVER_KEY_EXCHANGE: u8 = 12;
pub const HS_CERTIFICATE_VERIFY: u8 = 15;
pub const HS_SERVER_HELLO_DONE: u8 = 14;
pub const HS_FINISHED: u8 = 20;
pub const HS_COMPRESSED_CERTIFICATE: u8 = 25;

/// A TLS record: content type, the 5-byte header, and the body.
#[derive(Clone, Debug)]
pub struct Record {
    pub typ: u8,
    pub header: [u8; 5],
    pub body: Vec<u8>,
}

/// Split a byte stream into whole records (panics on a partial one).
pub fn records(mut bytes: &[u8]) -> Vec<Record> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 5, "partial record header");
        let len = u16::from_be_bytes([bytes[3], bytes[4]]) as usize;
        assert!(bytes.len() >= 5 + len, "partial record");
        let mut header = [0u8; 5];
        header.copy_from_slice(&bytes[..5]);
        out.push(Record { typ: bytes[0], header, body: bytes[5..5 + len].to_vec() });
        bytes = &bytes[5 + len..];
    }
    out
}

/// Handshake messages (type, body) in a byte string of handshake content.
pub fn split_handshake(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 4, "partial handshake header");
        let len = u32::from_be_bytes([0, bytes[1], bytes[2], bytes[3]]) as usize;
        assert!(bytes.len() >= 4 + len, "partial handshake message");
        out.push((bytes[0], bytes[4..4 + len].to_vec()));
        bytes = &bytes[4 + len..];
    }
    out
}

/// The plaintext handshake messages in a stream of records: those before
/// the first ChangeCipherSpec that follows handshake data (TLS 1.2:
/// everything up to the switch to encryption; TLS 1.3: the hellos, also a
/// second ClientHello after the compatibility ChangeCipherSpec).
pub fn plaintext_handshake(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut content = Vec::new();
    for r in records(bytes) {
        match r.typ {
            CT_CHANGE_CIPHER_SPEC if content.is_empty() => {}
            CT_CHANGE_CIPHER_SPEC | CT_APPLICATION_DATA => break,
            CT_HANDSHAKE => content.extend_from_slice(&r.body),
            _ => {}
        }
    }
    split_handshake(&content)
}

/// Big-endian reader over a message body.
pub struct Cursor<'a>(pub &'a [u8]);

impl<'a> Cursor<'a> {
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        assert!(self.0.len() >= n, "message too short");
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    pub fn u8(&mut self) -> u8 {
        self.take(1)[0]
    }
    pub fn u16(&mut self) -> u16 {
        let b = self.take(2);
        u16::from_be_bytes([b[0], b[1]])
    }
    pub fn u24(&mut self) -> u32 {
        let b = self.take(3);
        u32::from_be_bytes([0, b[0], b[1], b[2]])
    }
    pub fn vec8(&mut self) -> &'a [u8] {
        let n = self.u8() as usize;
        self.take(n)
    }
    pub fn vec16(&mut self) -> &'a [u8] {
        let n = self.u16() as usize;
        self.take(n)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Extensions (type, body) of a ClientHello or ServerHello body.
pub fn hello_extensions(typ: u8, body: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let mut c = Cursor(body);
    c.take(2 + 32); // version, random
    c.vec8(); // session id
    if typ == HS_CLIENT_HELLO {
        c.vec16(); // cipher suites
        c.vec8(); // compression methods
    } else {
        c.take(2 + 1); // cipher suite, compression method
    }
    let mut out = Vec::new();
    if c.is_empty() {
        return out;
    }
    let mut exts = Cursor(c.vec16());
    while !exts.is_empty() {
        let t = exts.u16();
        out.push((t, exts.vec16().to_vec()));
    }
    out
}

/// The legacy session id of the ClientHello in `flight`.
pub fn hello_session_id(flight: &[u8]) -> Vec<u8> {
    let msgs = plaintext_handshake(flight);
    assert_eq!(msgs[0].0, HS_CLIENT_HELLO);
    let mut c = Cursor(&msgs[0].1);
    c.take(2 + 32);
    c.vec8().to_vec()
}

/// Body of extension `ext` of the ClientHello in `flight`.
pub fn client_hello_extension(flight: &[u8], ext: u16) -> Option<Vec<u8>> {
    let msgs = plaintext_handshake(flight);
    assert_eq!(msgs[0].0, HS_CLIENT_HELLO);
    hello_extensions(HS_CLIENT_HELLO, &msgs[0].1).into_iter().find(|(t, _)| *t == ext).map(|(_, b)| b)
}

/// The PSK identities a TLS 1.3 ClientHello offers.
pub fn psk_identities(flight: &[u8]) -> Vec<Vec<u8>> {
    let ext = match client_hello_extension(flight, 41) {
        Some(e) => e,
        None => return Vec::new(),
    };
    let mut c = Cursor(&ext);
    let mut ids = Cursor(c.vec16());
    let mut out = Vec::new();
    while !ids.is_empty() {
        out.push(ids.vec16().to_vec());
        ids.take(4); // obfuscated ticket age
    }
    out
}

/// Small deterministic PRNG (xorshift64*) for garbage input.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}
