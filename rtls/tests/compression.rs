//! TLS 1.3 certificate compression (RFC 8879): rustls 0.23 servers compress
//! their Certificate message with brotli for clients that offer it. The
//! server's encrypted first flight is opened here with the handshake secret
//! the client logs, to show the CompressedCertificate message itself.
mod common;

use std::ptr;
use std::sync::{Arc, Mutex};

use common::*;
use rtls::certkey::{rtls_certified_key_chain_len, rtls_certified_key_free};
use rtls::config::*;
use rtls::connection::*;
use rtls::error::rtls_result::*;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
use ring::hkdf;
use rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256;
use rustls::version::TLS13 as V13;
use rustls::ClientConfig;

/// RFC 8879's code point for brotli.
const BROTLI: u16 = 2;

/// Secrets the client logs (NSS key log labels).
#[derive(Debug, Default)]
struct Secrets(Mutex<Vec<(String, Vec<u8>)>>);

impl rustls::KeyLog for Secrets {
    fn log(&self, label: &str, _client_random: &[u8], secret: &[u8]) {
        self.0.lock().unwrap().push((label.to_string(), secret.to_vec()));
    }
}

impl Secrets {
    fn get(&self, label: &str) -> Vec<u8> {
        let all = self.0.lock().unwrap();
        all.iter().find(|(l, _)| l == label).map(|(_, s)| s.clone()).unwrap_or_else(|| panic!("no {}", label))
    }
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// HKDF-Expand-Label (RFC 8446 7.1) with SHA-256 and an empty context.
fn expand_label(secret: &[u8], label: &[u8], len: usize) -> Vec<u8> {
    let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, secret);
    let full = [&b"tls13 "[..], label].concat();
    let out_len = (len as u16).to_be_bytes();
    let full_len = [full.len() as u8];
    let info: [&[u8]; 4] = [&out_len, &full_len, &full, &[0u8]];
    let mut out = vec![0u8; len];
    prk.expand(&info, Len(len)).unwrap().fill(&mut out).unwrap();
    out
}

/// The handshake messages of a server's first TLS 1.3 flight: the
/// ServerHello in the clear, the rest opened with the server handshake
/// traffic secret (TLS_AES_128_GCM_SHA256).
fn open_first_flight(flight: &[u8], secret: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_128_GCM, &expand_label(secret, b"key", 16)).unwrap());
    let iv = expand_label(secret, b"iv", 12);
    let mut clear = Vec::new();
    let mut inner = Vec::new();
    let mut seq = 0u64;
    for r in records(flight) {
        match r.typ {
            CT_HANDSHAKE => clear.extend_from_slice(&r.body),
            CT_CHANGE_CIPHER_SPEC => {}
            CT_APPLICATION_DATA => {
                let mut nonce = [0u8; 12];
                nonce.copy_from_slice(&iv);
                for (n, s) in nonce[4..].iter_mut().zip(seq.to_be_bytes()) {
                    *n ^= s;
                }
                seq += 1;
                let mut body = r.body.clone();
                let plain = key
                    .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(r.header), &mut body)
                    .expect("the record opens with the logged secret");
                let end = plain.iter().rposition(|b| *b != 0).unwrap();
                assert_eq!(plain[end], CT_HANDSHAKE, "inner content type");
                inner.extend_from_slice(&plain[..end]);
            }
            other => panic!("record type {}", other),
        }
    }
    let mut msgs = split_handshake(&clear);
    msgs.extend(split_handshake(&inner));
    msgs
}

/// A TLS 1.3 client (AES-128-GCM, so the flight can be opened here) that
/// logs its secrets; `compression`: whether it offers to decompress
/// certificates (rustls' default with the brotli feature: brotli).
fn client(compression: bool) -> (Arc<ClientConfig>, Arc<Secrets>) {
    let secrets = Arc::new(Secrets::default());
    let mut cfg = (*client_config(&[&V13], &[TLS13_AES_128_GCM_SHA256], &[])).clone();
    assert!(!cfg.cert_decompressors.is_empty(), "rustls' default client decompresses certificates");
    assert!(cfg.cert_decompressors.iter().any(|d| u16::from(d.algorithm()) == BROTLI));
    if !compression {
        cfg.cert_decompressors = vec![];
    }
    cfg.key_log = Arc::clone(&secrets) as Arc<dyn rustls::KeyLog>;
    (Arc::new(cfg), secrets)
}

struct Flight {
    bytes: usize,
    msgs: Vec<(u8, Vec<u8>)>,
}

/// One full handshake; the server's first flight, opened.
fn first_flight(cfg: *const rtls_server_config, compression: bool) -> Flight {
    let (c, secrets) = client(compression);
    let mut p = new_pair(c, "p256.example.org");
    p.send_hello();
    let offered = client_hello_extension(p.hello_bytes(), 27);
    assert_eq!(offered.is_some(), compression, "compress_certificate offered");
    if let Some(o) = offered {
        assert_eq!(o, vec![2, 0, BROTLI as u8], "brotli only");
    }
    assert_eq!(p.accept(cfg, None), RTLS_OK);
    assert!(p.round().unwrap());
    let flight = p.server_sent[0].clone();
    let msgs = open_first_flight(&flight, &secrets.get("SERVER_HANDSHAKE_TRAFFIC_SECRET"));
    p.pump().unwrap();
    assert!(!p.client.is_handshaking() && !rtls_conn_is_handshaking(p.server), "the client verified the chain");
    p.server_write_all(b"hello");
    assert_eq!(p.client_read_all(), b"hello");
    Flight { bytes: flight.len(), msgs }
}

fn types(f: &Flight) -> Vec<u8> {
    f.msgs.iter().map(|m| m.0).collect()
}

/// A server key with the chain in these PEM files (leaf first).
fn chain_config(files: &[&str]) -> *const rtls_server_config {
    let mut chain = Vec::new();
    for f in files {
        chain.extend_from_slice(&data(f));
    }
    let k = try_key_pem(&chain, &data("p256.key")).unwrap();
    assert_eq!(rtls_certified_key_chain_len(k), files.len());
    let mut b = ptr::null_mut();
    assert_eq!(rtls_server_config_builder_new(&mut b), RTLS_OK);
    assert_eq!(rtls_server_config_builder_add_certified_key(b, k), RTLS_OK);
    rtls_certified_key_free(k);
    let mut cfg = ptr::null();
    assert_eq!(rtls_server_config_build(b, &mut cfg), RTLS_OK);
    rtls_server_config_builder_free(b);
    cfg
}

#[test]
fn certificate_is_compressed_for_clients_that_offer_it() {
    let chains: [&[&str]; 3] = [
        &["p256.pem"],
        &["p256.pem", "ca.pem"],
        // as a server with two intermediates sends it (the extra CA
        // certificates are not needed to verify p256.pem; the client skips them)
        &["p256.pem", "ca.pem", "x509-p384ca.pem", "x509-rsaca.pem"],
    ];
    let mut savings = Vec::new();
    for files in chains {
        let cfg = chain_config(files);
        let plain = first_flight(cfg, false);
        let compressed = first_flight(cfg, true);
        assert_eq!(
            types(&plain),
            vec![HS_SERVER_HELLO, HS_ENCRYPTED_EXTENSIONS, HS_CERTIFICATE, HS_CERTIFICATE_VERIFY, HS_FINISHED]
        );
        assert_eq!(
            types(&compressed),
            vec![HS_SERVER_HELLO, HS_ENCRYPTED_EXTENSIONS, HS_COMPRESSED_CERTIFICATE, HS_CERTIFICATE_VERIFY, HS_FINISHED],
            "{:?}",
            files
        );
        // CompressedCertificate: algorithm, uncompressed length, compressed
        // bytes; what it stands for is the Certificate message the other
        // client got
        let certificate = &plain.msgs[2].1;
        let mut cc = Cursor(&compressed.msgs[2].1);
        assert_eq!(cc.u16(), BROTLI);
        assert_eq!(cc.u24() as usize, certificate.len(), "{:?}", files);
        let n = cc.u24() as usize;
        assert_eq!(cc.0.len(), n);
        assert!(cc.is_empty() || n > 0);
        // the message saves this; the flight as much (one record either way)
        // give or take the ECDSA signature in CertificateVerify, whose DER
        // length varies by a byte or two
        let saved = certificate.len() as i64 - compressed.msgs[2].1.len() as i64;
        let flight_saved = plain.bytes as i64 - compressed.bytes as i64;
        let signature_diff = plain.msgs[3].1.len() as i64 - compressed.msgs[3].1.len() as i64;
        assert_eq!(flight_saved - signature_diff, saved, "{:?}", files);
        println!(
            "{} certificate(s) {:?}: Certificate message {} bytes, CompressedCertificate {} ({} of brotli): {} bytes \
             ({:.1}%) saved; server's first flight {} -> {} bytes",
            files.len(),
            files,
            certificate.len(),
            compressed.msgs[2].1.len(),
            n,
            saved,
            100.0 * saved as f64 / certificate.len() as f64,
            plain.bytes,
            compressed.bytes,
        );
        savings.push((files.len(), certificate.len(), saved));
        rtls_server_config_free(cfg);
    }
    // a chain of several certificates repeats names, OIDs and extensions:
    // brotli takes a good part of it away (measured: 2 certificates 245 of
    // 877 bytes, 4 certificates 637 of 2222 bytes)
    for (count, cert_len, saved) in savings {
        assert!(saved > 0, "{} certificate(s): compression saves bytes", count);
        if count > 1 {
            assert!(saved as usize * 100 >= cert_len * 20, "{} certificates: {} of {} bytes saved", count, saved, cert_len);
        }
    }
}

/// Resumed TLS 1.3 handshakes send no certificate at all, compressed or not.
#[test]
fn resumption_sends_no_certificate() {
    let cfg = chain_config(&["p256.pem", "ca.pem"]);
    let (c, _) = client(true);
    let mut p = new_pair(Arc::clone(&c), "p256.example.org");
    p.handshake(cfg, None).unwrap();
    p.pump().unwrap();
    let secrets = Arc::new(Secrets::default());
    let mut again = (*c).clone();
    again.key_log = Arc::clone(&secrets) as Arc<dyn rustls::KeyLog>;
    let mut p = new_pair(Arc::new(again), "p256.example.org");
    p.send_hello();
    assert_eq!(p.accept(cfg, None), RTLS_OK);
    assert!(rtls_conn_session_resumed(p.server));
    assert!(p.round().unwrap());
    let msgs = open_first_flight(&p.server_sent[0], &secrets.get("SERVER_HANDSHAKE_TRAFFIC_SECRET"));
    let types: Vec<u8> = msgs.iter().map(|m| m.0).collect();
    assert_eq!(types, vec![HS_SERVER_HELLO, HS_ENCRYPTED_EXTENSIONS, HS_FINISHED]);
    p.pump().unwrap();
    assert!(!p.client.is_handshaking());
    rtls_server_config_free(cfg);
}
