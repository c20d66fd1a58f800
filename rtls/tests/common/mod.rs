//! Shared helpers: a rustls client talking to an rtls server connection
//! through in-memory byte vectors.
#![allow(dead_code)]

use std::convert::TryFrom;
use std::io::Read;
use std::io::Write;
use std::os::raw::c_void;
use std::ptr;
use std::sync::Arc;

use rtls::certkey::*;
use rtls::config::*;
use rtls::connection::*;
use rtls::error::rtls_result::{self, *};
use rustls::client::{ClientConfig, ClientConnection, ServerName};
use rustls::{Certificate, RootCertStore, SupportedCipherSuite, SupportedProtocolVersion};

pub fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{}", env!("CARGO_MANIFEST_DIR"), name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {}", path, e))
}

pub fn try_key(cert: &str, key: &str) -> Result<*const rtls_certified_key, rtls_result> {
    let c = data(cert);
    let k = data(key);
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

pub fn client_config(
    versions: &[&'static SupportedProtocolVersion],
    suites: &[SupportedCipherSuite],
    alpn: &[&str],
) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    let ca = data("ca.pem");
    let mut rd = &ca[..];
    for der in rustls_pemfile::certs(&mut rd).unwrap() {
        roots.add(&Certificate(der)).unwrap();
    }
    let mut cfg = ClientConfig::builder()
        .with_cipher_suites(suites)
        .with_safe_default_kx_groups()
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Arc::new(cfg)
}

pub fn default_client(alpn: &[&str]) -> Arc<ClientConfig> {
    client_config(rustls::ALL_VERSIONS, rustls::ALL_CIPHER_SUITES, alpn)
}

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

/// Feed all of `bytes` to the server, processing between chunks.
/// Returns the first error from processing, or RTLS_OK.
pub fn feed_server(s: *mut rtls_conn, bytes: &[u8], plain: &mut Vec<u8>) -> rtls_result {
    let mut off = 0;
    while off < bytes.len() {
        let mut n = 0;
        let rv = rtls_conn_read_tls(s, bytes[off..].as_ptr(), bytes.len() - off, &mut n);
        if rv != RTLS_OK {
            return rv;
        }
        off += n;
        let rv = rtls_conn_process(s, ptr::null_mut(), ptr::null_mut());
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
}

impl Drop for Pair {
    fn drop(&mut self) {
        rtls_conn_free(self.server);
    }
}

pub fn new_pair(client_cfg: Arc<ClientConfig>, sni: &str) -> Pair {
    let mut s = ptr::null_mut();
    assert_eq!(rtls_conn_server_new(&mut s), RTLS_OK);
    let name = ServerName::try_from(sni).unwrap();
    let client = ClientConnection::new(client_cfg, name).unwrap();
    Pair { server: s, client, server_plain: Vec::new(), client_plain: Vec::new() }
}

impl Pair {
    /// Send the ClientHello and let the server see it.
    pub fn send_hello(&mut self) {
        let hello = client_output(&mut self.client);
        assert_eq!(feed_server(self.server, &hello, &mut self.server_plain), RTLS_OK);
        assert!(rtls_conn_has_hello(self.server));
    }

    /// Pump bytes both ways until neither side has anything to say.
    pub fn pump(&mut self) -> Result<(), String> {
        for _ in 0..20 {
            let to_server = client_output(&mut self.client);
            if !to_server.is_empty() {
                let rv = feed_server(self.server, &to_server, &mut self.server_plain);
                if rv != RTLS_OK {
                    // deliver the alert the server queued
                    let alert = server_output(self.server);
                    let _ = feed_client(&mut self.client, &alert);
                    return Err(format!("server: {:?}", rv));
                }
            }
            let to_client = server_output(self.server);
            if !to_client.is_empty() {
                feed_client(&mut self.client, &to_client).map_err(|e| format!("client: {}", e))?;
            }
            if to_server.is_empty() && to_client.is_empty() {
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
            let alert = server_output(self.server);
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
