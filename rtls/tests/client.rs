//! Client connections (rtls_client_config, rtls_conn_client_new) against rtls server
//! connections, both driven only through the C API: the same calls, the same event bits and
//! byte pump on either side; the client speaks first.

mod common;

use std::os::raw::c_void;
use std::ptr;

use common::*;
use rtls::client_config::*;
use rtls::config::*;
use rtls::connection::*;
use rtls::error::rtls_result::{self, *};

fn client_config(anchors: &[&str], keys: &[&str]) -> Result<*const rtls_client_config, rtls_result> {
    let mut b = ptr::null_mut();
    assert_eq!(rtls_client_config_builder_new(&mut b), RTLS_OK);
    for a in anchors {
        let pem = data(a);
        let mut added = 0;
        assert_eq!(rtls_client_config_builder_add_trust_anchors_pem(b, pem.as_ptr(), pem.len(), &mut added), RTLS_OK);
        assert!(added >= 1);
    }
    for k in keys {
        let ck = key(k);
        assert_eq!(rtls_client_config_builder_add_certified_key(b, ck), RTLS_OK);
        rtls::certkey::rtls_certified_key_free(ck);
    }
    let mut cfg = ptr::null();
    let rv = rtls_client_config_build(b, &mut cfg);
    rtls_client_config_builder_free(b);
    if rv == RTLS_OK {
        Ok(cfg)
    } else {
        Err(rv)
    }
}

fn client_conn(cfg: *const rtls_client_config, name: &str, alpn: &[u8]) -> Result<*mut rtls_conn, rtls_result> {
    let mut c = ptr::null_mut();
    match rtls_conn_client_new(cfg, name.as_ptr(), name.len(), alpn.as_ptr(), alpn.len(), &mut c) {
        RTLS_OK => Ok(c),
        rv => Err(rv),
    }
}

unsafe extern "C" fn collect_bytes(userdata: *mut c_void, buf: *const u8, len: usize) -> i32 {
    let v = &mut *(userdata as *mut Vec<u8>);
    v.extend_from_slice(std::slice::from_raw_parts(buf, len));
    0
}

/// What a side has to send.
fn output(conn: *mut rtls_conn) -> Vec<u8> {
    let mut out = Vec::new();
    let mut n = 0;
    assert_eq!(rtls_conn_write_tls(conn, Some(collect_bytes), &mut out as *mut Vec<u8> as *mut c_void, &mut n), RTLS_OK);
    out
}

/// One side takes `bytes`: fed, processed, the events added up; a HELLO is accepted with
/// `server_cfg` (server side). Returns the first error.
fn take(conn: *mut rtls_conn, bytes: &[u8], server_cfg: *const rtls_server_config, events: &mut u32) -> rtls_result {
    let mut off = 0;
    loop {
        let mut n = 0;
        if off < bytes.len() {
            let rv = rtls_conn_read_tls(conn, bytes[off..].as_ptr(), bytes.len() - off, &mut n);
            if rv != RTLS_OK {
                return rv;
            }
            off += n;
        }
        let mut ev = 0u32;
        let rv = rtls_conn_process(conn, ptr::null_mut(), ptr::null_mut(), &mut ev);
        *events |= ev;
        if rv != RTLS_OK {
            return rv;
        }
        if ev & RTLS_EVENT_HELLO != 0 {
            assert_eq!(rtls_conn_accept(conn, server_cfg, b"h2".as_ptr(), 2), RTLS_OK);
        }
        if off >= bytes.len() {
            return RTLS_OK;
        }
    }
}

struct Run {
    client_events: u32,
    server_events: u32,
    client_err: rtls_result,
    server_err: rtls_result,
}

/// Pump bytes both ways until neither side has anything to send (bounded).
fn pump(client: *mut rtls_conn, server: *mut rtls_conn, server_cfg: *const rtls_server_config) -> Run {
    let mut run = Run { client_events: 0, server_events: 0, client_err: RTLS_OK, server_err: RTLS_OK };
    for _ in 0..20 {
        let to_server = output(client);
        if !to_server.is_empty() && run.server_err == RTLS_OK {
            run.server_err = take(server, &to_server, server_cfg, &mut run.server_events);
        }
        let to_client = output(server);
        if !to_client.is_empty() && run.client_err == RTLS_OK {
            run.client_err = take(client, &to_client, ptr::null(), &mut run.client_events);
        }
        if to_server.is_empty() && to_client.is_empty() {
            break;
        }
    }
    run
}

fn server_conn() -> *mut rtls_conn {
    let mut s = ptr::null_mut();
    assert_eq!(rtls_conn_server_new(&mut s), RTLS_OK);
    s
}

#[test]
fn client_speaks_first_and_both_sides_report_the_same_events() {
    let ccfg = client_config(&["ca.pem"], &[]).unwrap();
    // TLS 1.3 with the defaults; TLS 1.2 with a server that has only a TLS 1.2 suite
    for (version, suites) in [(TLS13, None), (TLS12, Some(&[0xc02bu16][..]))] {
        let scfg = server_config(&ServerSettings { suites, ..ServerSettings::default() });
        let client = client_conn(ccfg, "p256.example.org", b"\x02h2\x08http/1.1").unwrap();
        let server = server_conn();
        // the ClientHello is ready before anything was read
        assert!(rtls_conn_wants_write(client));
        assert!(!rtls_conn_wants_write(server));
        let run = pump(client, server, scfg);
        assert_eq!((run.client_err, run.server_err), (RTLS_OK, RTLS_OK));
        assert_eq!(run.server_events, RTLS_EVENT_HELLO | RTLS_EVENT_HANDSHAKE_DONE);
        assert_eq!(run.client_events & RTLS_EVENT_HANDSHAKE_DONE, RTLS_EVENT_HANDSHAKE_DONE);
        assert_eq!(run.client_events & RTLS_EVENT_HELLO, 0, "a client never sees a hello event");
        assert_eq!(rtls_conn_protocol_version(client), version);
        assert_eq!(rtls_conn_protocol_version(server), version);
        assert_eq!(rtls_conn_cipher_suite(client), rtls_conn_cipher_suite(server));
        let (mut p, mut n) = (ptr::null(), 0);
        assert_eq!(rtls_conn_alpn_protocol(client, &mut p, &mut n), RTLS_OK);
        assert_eq!(unsafe { std::slice::from_raw_parts(p, n) }, b"h2");
        // the server saw the name the client was given (SNI)
        assert_eq!(rtls_conn_server_name(server, &mut p, &mut n), RTLS_OK);
        assert_eq!(unsafe { std::slice::from_raw_parts(p, n) }, b"p256.example.org");
        // data both ways, then the client closes
        let mut w = 0;
        assert_eq!(rtls_conn_write(client, b"ping".as_ptr(), 4, &mut w), RTLS_OK);
        assert_eq!(rtls_conn_send_close_notify(client), RTLS_OK);
        let run = pump(client, server, scfg);
        assert_eq!(run.server_events & RTLS_EVENT_PEER_CLOSED, RTLS_EVENT_PEER_CLOSED);
        let mut buf = [0u8; 16];
        assert_eq!(rtls_conn_read(server, buf.as_mut_ptr(), buf.len(), &mut n), RTLS_OK);
        assert_eq!(&buf[..n], b"ping");
        rtls_conn_free(client);
        rtls_conn_free(server);
        rtls_server_config_free(scfg);
    }
    rtls_client_config_free(ccfg);
}

#[test]
fn server_certificate_is_verified() {
    let scfg = server_config(&ServerSettings::default());
    // trusts only an unrelated CA: the server's chain does not verify
    let other = client_config(&["x509-p384ca.pem"], &[]).unwrap();
    let client = client_conn(other, "p256.example.org", b"").unwrap();
    let server = server_conn();
    let run = pump(client, server, scfg);
    assert_eq!(run.client_err, RTLS_PEER_BAD_CERTIFICATE);
    rtls_conn_free(client);
    rtls_conn_free(server);
    // the right CA but another name
    let ccfg = client_config(&["ca.pem"], &[]).unwrap();
    let client = client_conn(ccfg, "other.example.org", b"").unwrap();
    let server = server_conn();
    let run = pump(client, server, scfg);
    assert_eq!(run.client_err, RTLS_PEER_BAD_CERTIFICATE);
    let mut text = [0u8; 256];
    let mut n = 0;
    assert_eq!(rtls_conn_error_text(client, text.as_mut_ptr() as *mut _, text.len(), &mut n), RTLS_OK);
    let text = String::from_utf8_lossy(&text[..n]).to_string();
    assert!(text.contains("certificate"), "{}", text);
    rtls_conn_free(client);
    rtls_conn_free(server);
    rtls_client_config_free(other);
    rtls_client_config_free(ccfg);
    rtls_server_config_free(scfg);
}

#[test]
fn a_self_signed_certificate_named_as_anchor_is_accepted() {
    // pinning: the server's own certificate as the only trust anchor
    let mut b = ptr::null_mut();
    assert_eq!(rtls_server_config_builder_new(&mut b), RTLS_OK);
    let ck = key("selfsigned");
    assert_eq!(rtls_server_config_builder_add_certified_key(b, ck), RTLS_OK);
    let mut scfg = ptr::null();
    assert_eq!(rtls_server_config_build(b, &mut scfg), RTLS_OK);
    rtls_server_config_builder_free(b);
    rtls::certkey::rtls_certified_key_free(ck);
    let ccfg = client_config(&["selfsigned.pem"], &[]).unwrap();
    let client = client_conn(ccfg, "selfsigned.example.org", b"").unwrap();
    let server = server_conn();
    let run = pump(client, server, scfg);
    assert_eq!((run.client_err, run.server_err), (RTLS_OK, RTLS_OK));
    assert!(!rtls_conn_is_handshaking(client));
    rtls_conn_free(client);
    rtls_conn_free(server);
    rtls_client_config_free(ccfg);
    rtls_server_config_free(scfg);
}

/// The SNI a connection sends (rtls_conn_server_name), None if it sends none.
fn sni_of(c: *mut rtls_conn) -> Option<Vec<u8>> {
    let (mut p, mut n) = (ptr::null(), 0usize);
    match rtls_conn_server_name(c, &mut p, &mut n) {
        RTLS_OK => Some(unsafe { std::slice::from_raw_parts(p, n) }.to_vec()),
        rr => {
            assert_eq!(rr, RTLS_IO_NOT_FOUND);
            None
        }
    }
}

#[test]
fn bad_names_and_alpn_lists_are_refused() {
    let ccfg = client_config(&["ca.pem"], &[]).unwrap();
    assert_eq!(client_conn(ccfg, "not a name", b"").err(), Some(RTLS_PEER_BAD_SERVER_NAME));
    assert_eq!(client_conn(ccfg, "", b"").err(), Some(RTLS_PEER_BAD_SERVER_NAME));
    assert_eq!(client_conn(ccfg, "p256.example.org", b"\x05h2").err(), Some(RTLS_CONF_ERROR));
    // an IP address is a valid name (verified against IP subjectAltNames; no SNI is sent)
    for ip in ["127.0.0.1", "::1"] {
        let c = client_conn(ccfg, ip, b"").unwrap();
        assert_eq!(sni_of(c), None, "{ip}");
        rtls_conn_free(c);
    }
    // a DNS name is the SNI sent, in lower case
    let c = client_conn(ccfg, "P256.Example.org", b"").unwrap();
    assert_eq!(sni_of(c).as_deref(), Some(&b"p256.example.org"[..]));
    rtls_conn_free(c);
    rtls_client_config_free(ccfg);
    assert_eq!(client_config(&[], &[]).err(), Some(RTLS_CONF_NO_TRUST_ANCHORS));
}

/// One client configuration shared by the connections to a backend resumes: the second
/// connection (same name) resumes the session of the first, TLS 1.3 and TLS 1.2.
#[test]
fn client_sessions_resume_with_a_shared_config() {
    for suites in [None, Some(&[0xc02bu16][..])] {
        let ccfg = client_config(&["ca.pem"], &[]).unwrap();
        let scfg = server_config(&ServerSettings { suites, ..ServerSettings::default() });
        for round in 0..2 {
            let client = client_conn(ccfg, "p256.example.org", b"").unwrap();
            let server = server_conn();
            let run = pump(client, server, scfg);
            assert_eq!((run.client_err, run.server_err), (RTLS_OK, RTLS_OK));
            // data both ways, so that the client sees what the server sends after the handshake
            let mut w = 0;
            assert_eq!(rtls_conn_write(server, b"pong".as_ptr(), 4, &mut w), RTLS_OK);
            assert_eq!(rtls_conn_write(client, b"ping".as_ptr(), 4, &mut w), RTLS_OK);
            let run = pump(client, server, scfg);
            assert_eq!((run.client_err, run.server_err), (RTLS_OK, RTLS_OK));
            assert_eq!(rtls_conn_session_resumed(client), round == 1, "{:?} round {}", suites, round);
            assert_eq!(rtls_conn_session_resumed(server), round == 1, "{:?} round {}", suites, round);
            rtls_conn_free(client);
            rtls_conn_free(server);
        }
        rtls_server_config_free(scfg);
        rtls_client_config_free(ccfg);
    }
}
