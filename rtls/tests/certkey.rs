//! Loading certified keys: every supported key form, and every way PEM
//! input can be wrong.
mod common;

use common::*;
use rtls::certkey::*;
use rtls::error::rtls_result::*;
use std::ptr;

#[test]
fn supported_key_types_load() {
    for (cert, key) in [
        ("p256.pem", "p256.key"),
        ("p256.pem", "p256-sec1.key"),
        ("p384.pem", "p384.key"),
        ("rsa2048.pem", "rsa2048.key"),
        ("rsa2048.pem", "rsa2048-pkcs1.key"),
        ("ed25519.pem", "ed25519.key"),
    ] {
        let k = try_key(cert, key).unwrap_or_else(|e| panic!("{} {}: {:?}", cert, key, e));
        assert_eq!(rtls_certified_key_chain_len(k), 1);
        let (mut der, mut len) = (ptr::null(), 0usize);
        assert_eq!(rtls_certified_key_cert_der(k, 0, &mut der, &mut len), RTLS_OK);
        assert!(len > 100 && !der.is_null());
        assert_eq!(rtls_certified_key_cert_der(k, 1, &mut der, &mut len), RTLS_IO_NOT_FOUND);
        rtls_certified_key_free(k);
    }
}

#[test]
fn key_in_the_certificate_file() {
    let mut both = data("rsa2048.pem");
    both.extend_from_slice(&data("rsa2048.key"));
    let mut out = ptr::null();
    assert_eq!(rtls_certified_key_new(both.as_ptr(), both.len(), both.as_ptr(), both.len(), &mut out), RTLS_OK);
    rtls_certified_key_free(out);
}

#[test]
fn chain_is_kept_in_order() {
    let mut chain = data("p256.pem");
    chain.extend_from_slice(&data("ca.pem"));
    let k = data("p256.key");
    let mut out = ptr::null();
    assert_eq!(rtls_certified_key_new(chain.as_ptr(), chain.len(), k.as_ptr(), k.len(), &mut out), RTLS_OK);
    assert_eq!(rtls_certified_key_chain_len(out), 2);
    rtls_certified_key_free(out);
}

#[test]
fn mismatched_key_is_refused() {
    assert_eq!(try_key("p256.pem", "p384.key"), Err(RTLS_CONF_KEY_MISMATCH).map(|_: ()| ptr::null()));
    assert_eq!(try_key("rsa2048.pem", "p256.key").err(), Some(RTLS_CONF_KEY_MISMATCH));
    assert_eq!(try_key("p256.pem", "ca.key").err(), Some(RTLS_CONF_KEY_MISMATCH));
    assert_eq!(try_key("ed25519.pem", "rsa2048.key").err(), Some(RTLS_CONF_KEY_MISMATCH));
}

#[test]
fn encrypted_keys_are_named_as_such() {
    assert_eq!(try_key("p256.pem", "p256-enc8.key").err(), Some(RTLS_CONF_ENCRYPTED_KEY));
    assert_eq!(try_key("rsa2048.pem", "rsa2048-enctrad.key").err(), Some(RTLS_CONF_ENCRYPTED_KEY));
    // certificate and encrypted key in one file (the PEM parser alone
    // would call that malformed)
    let mut combined = data("rsa2048.pem");
    combined.extend_from_slice(&data("rsa2048-enctrad.key"));
    assert_eq!(load_raw(&combined, &combined), RTLS_CONF_ENCRYPTED_KEY);
}

#[test]
fn unsupported_key_type() {
    assert_eq!(try_key("p521.pem", "p521.key").err(), Some(RTLS_CONF_UNSUPPORTED_KEY));
}

#[test]
fn missing_parts() {
    // a key file where the certificate should be, and the other way round
    assert_eq!(try_key("p256.key", "p256.key").err(), Some(RTLS_CONF_NO_CERTIFICATE));
    assert_eq!(try_key("p256.pem", "p256.pem").err(), Some(RTLS_CONF_NO_KEY));
}

fn load_raw(cert: &[u8], key: &[u8]) -> rtls::error::rtls_result {
    let mut out = ptr::null();
    let rv = rtls_certified_key_new(cert.as_ptr(), cert.len(), key.as_ptr(), key.len(), &mut out);
    rtls_certified_key_free(out);
    rv
}

#[test]
fn garbage_pem() {
    let key = data("p256.key");
    assert_eq!(load_raw(b"", &key), RTLS_CONF_NO_CERTIFICATE);
    assert_eq!(load_raw(b"hello world\n", &key), RTLS_CONF_NO_CERTIFICATE);
    assert_eq!(load_raw(b"-----BEGIN CERTIFICATE-----\n!!!notbase64\n-----END CERTIFICATE-----\n", &key), RTLS_CONF_BAD_PEM);
    assert_eq!(load_raw(b"-----BEGIN CERTIFICATE-----\nAAAA\n", &key), RTLS_CONF_BAD_PEM);
    // valid base64, but not a certificate
    assert_eq!(load_raw(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", &key), RTLS_CONF_BAD_CERTIFICATE);
    // bytes that are not UTF-8 (a UTF-16 byte order mark): rustls-pemfile 2
    // reads bytes and skips what lies outside PEM sections, so there is no
    // certificate (rustls-pemfile 1, with rustls 0.20: a PEM error)
    assert_eq!(load_raw(&[0xff, 0xfe, 0x00, 0x80], &key), RTLS_CONF_NO_CERTIFICATE);
    // inside a section they are a PEM error
    assert_eq!(load_raw(b"-----BEGIN CERTIFICATE-----\n\xff\xfe\x00\x80\n-----END CERTIFICATE-----\n", &key), RTLS_CONF_BAD_PEM);
    let cert = data("p256.pem");
    assert_eq!(load_raw(&cert, b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), RTLS_CONF_UNSUPPORTED_KEY);
    let mut rng = Rng(0x1234_5678);
    for i in 0..200 {
        let junk = rng.bytes(i * 7);
        let rv = load_raw(&junk, &junk);
        assert!(rv != RTLS_OK && rv != RTLS_INTERNAL_PANIC, "{:?}", rv);
    }
}

#[test]
fn null_arguments() {
    let mut out = ptr::null();
    assert_eq!(rtls_certified_key_new(ptr::null(), 5, ptr::null(), 0, &mut out), RTLS_INTERNAL_NULL_ARGUMENT);
    let c = data("p256.pem");
    assert_eq!(rtls_certified_key_new(c.as_ptr(), c.len(), c.as_ptr(), c.len(), ptr::null_mut()), RTLS_INTERNAL_NULL_ARGUMENT);
    assert_eq!(rtls_certified_key_chain_len(ptr::null()), 0);
    rtls_certified_key_free(ptr::null());
}
