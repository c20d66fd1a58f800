//! OCSP staples per connection (rtls_conn_set_ocsp): stapled for the key
//! rustls picks, only on the connection that was given it, never in the
//! shared configuration.
mod common;

use common::*;
use rtls::config::*;
use rtls::connection::*;
use rtls::error::rtls_result::*;
use rtls::ocsp::*;
use rustls::crypto::ring::ALL_CIPHER_SUITES;
use rustls::version::TLS12 as V12;
use std::ptr;

const CERTIFICATE_STATUS: u8 = 22;
const RESPONSE: &[u8] = b"\x30\x03\x0a\x01\x00 not really DER, rtls does not parse it";

/// The server's first TLS 1.2 flight (plaintext) on `cfg` after giving the
/// connection `staples` (key index, response) before binding.
fn tls12_flight(cfg: *const rtls_server_config, staples: &[(usize, &[u8])]) -> Vec<(u8, Vec<u8>)> {
    let mut p = new_pair(client_config(&[&V12], ALL_CIPHER_SUITES, &[]), "p256.example.org");
    p.send_hello();
    for (index, der) in staples {
        assert_eq!(rtls_conn_set_ocsp(p.server, *index, der.as_ptr(), der.len()), RTLS_OK);
    }
    assert_eq!(p.accept(cfg, None), RTLS_OK);
    plaintext_handshake(&p.from_server())
}

fn staple_in(flight: &[(u8, Vec<u8>)]) -> Option<Vec<u8>> {
    let (_, body) = flight.iter().find(|(t, _)| *t == CERTIFICATE_STATUS)?;
    // status_type ocsp(1), then the response with a 24-bit length
    assert_eq!(body[0], 1);
    let len = ((body[1] as usize) << 16) | ((body[2] as usize) << 8) | body[3] as usize;
    Some(body[4..4 + len].to_vec())
}

#[test]
fn staple_of_the_chosen_key_is_sent_on_that_connection_only() {
    let keys = ["p256", "rsa2048"];
    let cfg = server_config(&ServerSettings { keys: &keys, ..Default::default() });
    // the ECDSA key (index 0) is chosen: its response goes out
    let flight = tls12_flight(cfg, &[(0, RESPONSE), (1, b"other")]);
    assert_eq!(staple_in(&flight).as_deref(), Some(RESPONSE));
    // a response for the other key only: nothing to staple
    assert_eq!(staple_in(&tls12_flight(cfg, &[(1, RESPONSE)])), None);
    // the configuration itself never got a response
    assert_eq!(staple_in(&tls12_flight(cfg, &[])), None);
    // a later call replaces, an empty one removes
    let flight = tls12_flight(cfg, &[(0, b"first"), (0, RESPONSE)]);
    assert_eq!(staple_in(&flight).as_deref(), Some(RESPONSE));
    assert_eq!(staple_in(&tls12_flight(cfg, &[(0, RESPONSE), (0, b"")])), None);
    rtls_server_config_free(cfg);
}

#[test]
fn staple_only_between_hello_and_accept() {
    let cfg = server_config(&ServerSettings::default());
    let mut p = new_pair(default_client(&[]), "p256.example.org");
    // no hello yet
    assert_eq!(rtls_conn_set_ocsp(p.server, 0, RESPONSE.as_ptr(), RESPONSE.len()), RTLS_INTERNAL_WRONG_STATE);
    p.send_hello();
    assert_eq!(rtls_conn_set_ocsp(p.server, 0, ptr::null(), 5), RTLS_INTERNAL_NULL_ARGUMENT);
    assert_eq!(rtls_conn_set_ocsp(ptr::null_mut(), 0, RESPONSE.as_ptr(), RESPONSE.len()), RTLS_INTERNAL_NULL_ARGUMENT);
    // an index past the slots a connection keeps is ignored
    assert_eq!(rtls_conn_set_ocsp(p.server, 1000, RESPONSE.as_ptr(), RESPONSE.len()), RTLS_OK);
    assert_eq!(rtls_conn_set_ocsp(p.server, 0, RESPONSE.as_ptr(), RESPONSE.len()), RTLS_OK);
    assert_eq!(p.accept(cfg, None), RTLS_OK);
    // bound: too late
    assert_eq!(rtls_conn_set_ocsp(p.server, 0, RESPONSE.as_ptr(), RESPONSE.len()), RTLS_INTERNAL_WRONG_STATE);
    // TLS 1.3 (the staple travels encrypted in the Certificate message) completes
    p.pump().unwrap();
    assert!(!rtls_conn_is_handshaking(p.server));
    rtls_server_config_free(cfg);
}
