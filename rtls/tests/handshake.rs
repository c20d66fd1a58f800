//! Handshakes between rustls' client and an rtls server connection.
mod common;

use common::*;
use rtls::certkey::*;
use rtls::config::*;
use rtls::connection::*;
use rtls::error::rtls_result::*;
use rustls::crypto::ring::cipher_suite::*;
use rustls::crypto::ring::ALL_CIPHER_SUITES;
use rustls::version::{TLS12 as V12, TLS13 as V13};
use rustls::{AlertDescription, Error};
use std::io::{Read, Write};
use std::ptr;

fn negotiated(p: &Pair) -> (u16, u16) {
    (rtls_conn_protocol_version(p.server), rtls_conn_cipher_suite(p.server))
}

#[test]
fn tls13_and_tls12_with_every_key_type() {
    for name in ["p256", "p384", "rsa2048", "ed25519"] {
        let keys = [name];
        let cfg = server_config(&ServerSettings { keys: &keys, ..Default::default() });
        for (versions, expect) in [(&[&V13][..], 0x0304u16), (&[&V12][..], 0x0303u16)] {
            let sni = format!("{}.example.org", name);
            let mut p = new_pair(client_config(versions, ALL_CIPHER_SUITES, &[]), &sni);
            p.handshake(cfg, None).unwrap_or_else(|e| panic!("{} {:x}: {}", name, expect, e));
            assert_eq!(negotiated(&p).0, expect);
            assert_eq!(rtls_conn_certified_key_index(p.server), 0);
            let (mut n, mut l) = (ptr::null(), 0);
            assert_eq!(rtls_conn_server_name(p.server, &mut n, &mut l), RTLS_OK);
            assert_eq!(unsafe { std::slice::from_raw_parts(n, l) }, sni.as_bytes());
        }
        rtls_server_config_free(cfg);
    }
}

#[test]
fn first_usable_key_wins() {
    let keys = ["p256", "rsa2048"];
    let cfg = server_config(&ServerSettings { keys: &keys, ..Default::default() });
    // A normal client can use the ECDSA key, listed first.
    let mut p = new_pair(default_client(&[]), "p256.example.org");
    p.handshake(cfg, None).unwrap();
    assert_eq!(rtls_conn_certified_key_index(p.server), 0);
    // A TLS 1.2 client with RSA suites only must get the RSA key.
    let rsa_only = [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256];
    let mut p = new_pair(client_config(&[&V12], &rsa_only, &[]), "rsa2048.example.org");
    p.handshake(cfg, None).unwrap();
    assert_eq!(rtls_conn_certified_key_index(p.server), 1);
    assert_eq!(negotiated(&p), (0x0303, 0xc02f));
    rtls_server_config_free(cfg);
}

#[test]
fn no_usable_key_fails_with_alert() {
    // ECDSA key only, client offers only RSA TLS 1.2 suites.
    let cfg = server_config(&ServerSettings::default());
    let mut p = new_pair(client_config(&[&V12], &[TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256], &[]), "p256.example.org");
    p.send_hello();
    assert_ne!(p.accept(cfg, None), RTLS_OK);
    let alert = server_output(p.server);
    assert_eq!(alert.len(), 7);
    // rustls 0.23 makes this alert itself: access_denied when no certificate
    // resolves (rtls' own alert with rustls 0.20 was handshake_failure)
    assert_eq!(feed_client(&mut p.client, &alert), Err(Error::AlertReceived(AlertDescription::AccessDenied)));
    rtls_server_config_free(cfg);
}

#[test]
fn hello_exposes_alpn_and_answer_is_ours() {
    let cfg = server_config(&ServerSettings::default());
    let mut p = new_pair(default_client(&["h2", "http/1.1"]), "p256.example.org");
    p.send_hello();
    let (mut a, mut l) = (ptr::null(), 0);
    assert_eq!(rtls_conn_hello_alpn(p.server, 0, &mut a, &mut l), RTLS_OK);
    assert_eq!(unsafe { std::slice::from_raw_parts(a, l) }, b"h2");
    assert_eq!(rtls_conn_hello_alpn(p.server, 1, &mut a, &mut l), RTLS_OK);
    assert_eq!(unsafe { std::slice::from_raw_parts(a, l) }, b"http/1.1");
    assert_eq!(rtls_conn_hello_alpn(p.server, 2, &mut a, &mut l), RTLS_IO_NOT_FOUND);
    assert_eq!(p.accept(cfg, Some("http/1.1")), RTLS_OK);
    p.pump().unwrap();
    assert_eq!(p.client.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(rtls_conn_alpn_protocol(p.server, &mut a, &mut l), RTLS_OK);
    assert_eq!(unsafe { std::slice::from_raw_parts(a, l) }, b"http/1.1");
    // the next connection on the same config can answer h2
    let mut p2 = new_pair(default_client(&["h2", "http/1.1"]), "p256.example.org");
    p2.handshake(cfg, Some("h2")).unwrap();
    assert_eq!(p2.client.alpn_protocol(), Some(&b"h2"[..]));
    // and one without ALPN answer
    let mut p3 = new_pair(default_client(&["h2"]), "p256.example.org");
    p3.handshake(cfg, None).unwrap();
    assert_eq!(p3.client.alpn_protocol(), None);
    assert_eq!(rtls_conn_alpn_protocol(p3.server, &mut a, &mut l), RTLS_IO_NOT_FOUND);
    rtls_server_config_free(cfg);
}

#[test]
fn no_sni() {
    let cfg = server_config(&ServerSettings::default());
    // rustls' client sends no SNI for an IP address
    let mut p = new_pair(default_client(&[]), "127.0.0.1");
    p.send_hello();
    let (mut n, mut l) = (ptr::null(), 0);
    assert_eq!(rtls_conn_server_name(p.server, &mut n, &mut l), RTLS_IO_NOT_FOUND);
    rtls_server_config_free(cfg);
}

#[test]
fn minimum_version_applies() {
    let cfg = server_config(&ServerSettings { min_version: TLS13, ..Default::default() });
    let mut p = new_pair(client_config(&[&V12], ALL_CIPHER_SUITES, &[]), "p256.example.org");
    assert!(p.handshake(cfg, None).is_err());
    assert!(matches!(p.client.process_new_packets(), Err(Error::AlertReceived(AlertDescription::ProtocolVersion))));
    let mut p = new_pair(default_client(&[]), "p256.example.org");
    p.handshake(cfg, None).unwrap();
    assert_eq!(negotiated(&p).0, 0x0304);
    rtls_server_config_free(cfg);
}

#[test]
fn cipher_suites_and_order() {
    let only_chacha = [0x1303u16, 0xcca9];
    let cfg = server_config(&ServerSettings { suites: Some(&only_chacha), ..Default::default() });
    let mut p = new_pair(default_client(&[]), "p256.example.org");
    p.handshake(cfg, None).unwrap();
    assert_eq!(negotiated(&p), (0x0304, 0x1303));
    let mut p = new_pair(client_config(&[&V12], ALL_CIPHER_SUITES, &[]), "p256.example.org");
    p.handshake(cfg, None).unwrap();
    assert_eq!(negotiated(&p), (0x0303, 0xcca9));
    rtls_server_config_free(cfg);

    // The client prefers AES-128; with the server's order AES-256 wins.
    let client = client_config(&[&V13], &[TLS13_AES_128_GCM_SHA256, TLS13_AES_256_GCM_SHA384], &[]);
    let order = [0x1302u16, 0x1301];
    for (ignore, expect) in [(false, 0x1301u16), (true, 0x1302u16)] {
        let cfg = server_config(&ServerSettings { suites: Some(&order), ignore_client_order: ignore, ..Default::default() });
        let mut p = new_pair(client.clone(), "p256.example.org");
        p.handshake(cfg, None).unwrap();
        assert_eq!(negotiated(&p).1, expect);
        rtls_server_config_free(cfg);
    }
}

#[test]
fn version_without_suites_is_not_offered() {
    // Only TLS 1.2 suites configured: a client offering TLS 1.3 and 1.2
    // must get TLS 1.2, not a TLS 1.3 handshake without a usable suite.
    let tls12_only = [0xc02bu16, 0xc02c];
    let cfg = server_config(&ServerSettings { suites: Some(&tls12_only), ..Default::default() });
    let mut p = new_pair(default_client(&[]), "p256.example.org");
    p.handshake(cfg, None).unwrap();
    let (version, suite) = negotiated(&p);
    assert_eq!(version, 0x0303);
    assert!(tls12_only.contains(&suite), "suite {:#06x}", suite);
    rtls_server_config_free(cfg);
}

#[test]
fn builder_refuses_bad_settings() {
    let mut b = ptr::null_mut();
    assert_eq!(rtls_server_config_builder_new(&mut b), RTLS_OK);
    let mut cfg = ptr::null();
    assert_eq!(rtls_server_config_build(b, &mut cfg), RTLS_CONF_NO_CERTIFIED_KEY);
    let k = key("p256");
    assert_eq!(rtls_server_config_builder_add_certified_key(b, k), RTLS_OK);
    rtls_certified_key_free(k);
    assert_eq!(rtls_server_config_builder_set_min_version(b, 0x0305), RTLS_CONF_UNSUPPORTED_VERSION);
    let unknown = [0x0005u16, 0xc02b_u16.wrapping_add(0x1000)];
    assert_eq!(rtls_server_config_builder_set_cipher_suites(b, unknown.as_ptr(), 2), RTLS_CONF_NO_CIPHER_SUITES);
    // TLS 1.3 only, with only TLS 1.2 suites: nothing usable
    let tls12 = [0xc02bu16];
    assert_eq!(rtls_server_config_builder_set_cipher_suites(b, tls12.as_ptr(), 1), RTLS_OK);
    assert_eq!(rtls_server_config_builder_set_min_version(b, TLS13), RTLS_OK);
    assert_eq!(rtls_server_config_build(b, &mut cfg), RTLS_CONF_NO_CIPHER_SUITES);
    assert!(cfg.is_null());
    rtls_server_config_builder_free(b);
}

#[test]
fn reject_sends_the_alert() {
    let mut p = new_pair(default_client(&[]), "unknown.example.org");
    p.send_hello();
    assert_eq!(rtls_conn_reject(p.server, 112), RTLS_OK);
    let alert = server_output(p.server);
    assert_eq!(feed_client(&mut p.client, &alert), Err(Error::AlertReceived(AlertDescription::UnrecognisedName)));
    let mut n = 0;
    assert_eq!(rtls_conn_read_tls(p.server, b"x".as_ptr(), 1, &mut n), RTLS_INTERNAL_WRONG_STATE);
}

#[test]
fn data_both_ways_and_close_notify() {
    let cfg = server_config(&ServerSettings::default());
    let mut p = new_pair(default_client(&[]), "p256.example.org");
    p.handshake(cfg, None).unwrap();
    let mut rng = Rng(7);
    let up = rng.bytes(1 << 20);
    p.client_write_all(&up);
    assert_eq!(p.server_plain.len(), up.len());
    assert!(p.server_plain == up);
    let down = rng.bytes(3 << 20);
    p.server_write_all(&down);
    assert!(p.client_read_all() == down);
    // close_notify from the client: server sees a clean EOF
    p.client.send_close_notify();
    let bytes = client_output(&mut p.client);
    let mut plain = Vec::new();
    assert_eq!(feed_server(p.server, &bytes, &mut plain), RTLS_OK);
    let mut buf = [0u8; 16];
    let mut n = 0;
    assert_eq!(rtls_conn_read(p.server, buf.as_mut_ptr(), 16, &mut n), RTLS_IO_EOF);
    // and our close_notify reaches the client
    assert_eq!(rtls_conn_send_close_notify(p.server), RTLS_OK);
    let out = server_output(p.server);
    feed_client(&mut p.client, &out).unwrap();
    assert_eq!(p.client.reader().read(&mut buf).unwrap(), 0);
    rtls_server_config_free(cfg);
}

#[test]
fn stream_end_without_close_notify() {
    let cfg = server_config(&ServerSettings::default());
    let mut p = new_pair(default_client(&[]), "p256.example.org");
    p.handshake(cfg, None).unwrap();
    let mut buf = [0u8; 16];
    let mut n = 0;
    assert_eq!(rtls_conn_read(p.server, buf.as_mut_ptr(), 16, &mut n), RTLS_IO_WOULD_BLOCK);
    assert_eq!(rtls_conn_read_tls_eof(p.server), RTLS_OK);
    assert_eq!(rtls_conn_read(p.server, buf.as_mut_ptr(), 16, &mut n), RTLS_IO_UNCLEAN_EOF);
    rtls_server_config_free(cfg);
}

#[test]
fn plaintext_buffer_full_is_reported_not_lost() {
    let cfg = server_config(&ServerSettings::default());
    let mut p = new_pair(default_client(&[]), "p256.example.org");
    p.handshake(cfg, None).unwrap();
    let data = Rng(3).bytes(256 * 1024);
    p.client.set_buffer_limit(None);
    p.client.writer().write_all(&data).unwrap();
    let tls = client_output(&mut p.client);
    // Feed without draining plaintext until rustls refuses more input.
    let mut off = 0;
    let mut refused = false;
    while off < tls.len() {
        let mut n = 0;
        let rv = rtls_conn_read_tls(p.server, tls[off..].as_ptr(), tls.len() - off, &mut n);
        if rv == RTLS_IO_BUFFER_FULL {
            refused = true;
            break;
        }
        assert_eq!(rv, RTLS_OK);
        off += n;
        assert_eq!(rtls_conn_process(p.server, ptr::null_mut(), ptr::null_mut(), ptr::null_mut()), RTLS_OK);
    }
    assert!(refused);
    // Now drain and feed the rest: every byte arrives.
    let mut plain = Vec::new();
    drain_plain(p.server, &mut plain);
    assert_eq!(feed_server(p.server, &tls[off..], &mut plain), RTLS_OK);
    drain_plain(p.server, &mut plain);
    assert!(plain == data);
    rtls_server_config_free(cfg);
}

#[test]
fn resumption_is_reported() {
    // The same client config (with its session cache) connects twice: the
    // second handshake resumes, for TLS 1.3 and for TLS 1.2 (session id).
    let cfg = server_config(&ServerSettings::default());
    for version in [&V13, &V12] {
        let client = client_config(&[version], ALL_CIPHER_SUITES, &[]);
        let mut first = new_pair(client.clone(), "p256.example.org");
        assert!(!rtls_conn_session_resumed(first.server));
        first.handshake(cfg, None).unwrap();
        assert!(!rtls_conn_session_resumed(first.server), "first handshake is full");
        // TLS 1.3 tickets come after the handshake: let the client read them
        first.pump().unwrap();
        let mut second = new_pair(client.clone(), "p256.example.org");
        second.handshake(cfg, None).unwrap();
        assert!(rtls_conn_session_resumed(second.server), "second handshake resumes");
        // a fresh client cannot resume
        let fresh = client_config(&[version], ALL_CIPHER_SUITES, &[]);
        let mut third = new_pair(fresh, "p256.example.org");
        third.handshake(cfg, None).unwrap();
        assert!(!rtls_conn_session_resumed(third.server));
    }
    rtls_server_config_free(cfg);
}

/// A ClientHello split over two records and fed at once: one process call notices it (rustls'
/// Acceptor takes one record per call; rtls goes on while records are there).
#[test]
fn hello_split_over_records_fed_at_once() {
    let cfg = server_config(&ServerSettings::default());
    let mut p = new_pair(default_client(&[]), "p256.example.org");
    let hello = client_output(&mut p.client);
    assert_eq!(hello[0], 0x16, "one handshake record");
    let body = &hello[5..];
    let mut split = Vec::new();
    for part in [&body[..body.len() / 3], &body[body.len() / 3..body.len() / 2], &body[body.len() / 2..]] {
        split.extend_from_slice(&[0x16, hello[1], hello[2], (part.len() >> 8) as u8, part.len() as u8]);
        split.extend_from_slice(part);
    }
    let mut n = 0;
    assert_eq!(rtls_conn_read_tls(p.server, split.as_ptr(), split.len(), &mut n), RTLS_OK);
    assert_eq!(n, split.len());
    assert_eq!(rtls_conn_process(p.server, ptr::null_mut(), ptr::null_mut(), ptr::null_mut()), RTLS_OK);
    assert!(rtls_conn_has_hello(p.server), "the hello was not noticed after one process call");
    assert_eq!(p.accept(cfg, None), RTLS_OK);
    p.pump().unwrap();
    assert!(!rtls_conn_is_handshaking(p.server) && !p.client.is_handshaking());
    rtls_server_config_free(cfg);
}

struct FailAfter {
    out: Vec<u8>,
    calls: usize,
    ok_calls: usize,
}

unsafe extern "C" fn fail_after(userdata: *mut std::ffi::c_void, buf: *const u8, len: usize) -> i32 {
    let st = &mut *(userdata as *mut FailAfter);
    st.calls += 1;
    if st.calls > st.ok_calls {
        return -1;
    }
    st.out.extend_from_slice(std::slice::from_raw_parts(buf, len));
    0
}

/// A write callback that fails after taking some records: what it took is counted and not
/// handed over again (a repeated record would break the client's decryption).
#[test]
fn failing_write_callback_repeats_nothing() {
    let cfg = server_config(&ServerSettings::default());
    let mut p = new_pair(default_client(&[]), "p256.example.org");
    p.handshake(cfg, None).unwrap();
    let mut written = Vec::new();
    for chunk in [&b"first record "[..], b"second record ", b"third record"] {
        let mut n = 0;
        assert_eq!(rtls_conn_write(p.server, chunk.as_ptr(), chunk.len(), &mut n), RTLS_OK);
        assert_eq!(n, chunk.len());
        written.extend_from_slice(chunk);
    }
    let mut st = FailAfter { out: Vec::new(), calls: 0, ok_calls: 1 };
    let mut n = usize::MAX;
    let rv = rtls_conn_write_tls(p.server, Some(fail_after), &mut st as *mut FailAfter as *mut std::ffi::c_void, &mut n);
    assert_eq!(rv, RTLS_IO_CALLBACK_FAILED);
    assert!(!st.out.is_empty());
    assert_eq!(n, st.out.len(), "out_n is what the callback took");
    let mut wire = st.out;
    wire.extend_from_slice(&server_output(p.server));
    let mut plain = Vec::new();
    feed_client_into(&mut p.client, &wire, &mut plain).expect("the client reads every record once");
    assert_eq!(plain, written);
    rtls_server_config_free(cfg);
}

// ---- events -------------------------------------------------------------------

/// The steps (index, event bits) that reported something.
fn reported(steps: &[Step]) -> Vec<(usize, u32)> {
    steps.iter().enumerate().filter(|(_, s)| s.events != 0).map(|(i, s)| (i, s.events)).collect()
}

/// How many steps reported `event`.
fn times(steps: &[Step], event: u32) -> usize {
    steps.iter().filter(|s| s.events & event != 0).count()
}

/// A handshake through the C API, full and then resumed, TLS 1.3 and 1.2:
/// HELLO once (in the step that completed the hello), HANDSHAKE_DONE once
/// (in the step that completed the handshake), PEER_CLOSED once (in the step
/// that took the client's close_notify), and nothing else, ever.
#[test]
fn events_are_reported_once_by_the_step_they_happen_in() {
    let cfg = server_config(&ServerSettings::default());
    let all = RTLS_EVENT_HELLO | RTLS_EVENT_HANDSHAKE_DONE | RTLS_EVENT_PEER_CLOSED;
    assert_eq!((RTLS_EVENT_HELLO, RTLS_EVENT_HANDSHAKE_DONE, RTLS_EVENT_PEER_CLOSED), (1, 2, 4), "rtls.h's values");
    for (version, name) in [(&V13, "TLS 1.3"), (&V12, "TLS 1.2")] {
        let client = client_config(&[version], ALL_CIPHER_SUITES, &[]);
        for resume in [false, true] {
            let what = format!("{} {}", name, if resume { "resumed" } else { "full" });
            let mut p = new_pair(client.clone(), "p256.example.org");
            p.send_hello();
            assert_eq!(reported(&p.steps), vec![(p.steps.len() - 1, RTLS_EVENT_HELLO)], "{}", what);
            // waiting for accept: nothing new
            assert_eq!(process_step(p.server, &mut p.steps), RTLS_OK);
            assert_eq!(p.steps.last().unwrap().events, 0, "{}", what);
            assert_eq!(p.accept(cfg, None), RTLS_OK);
            assert_eq!(rtls_conn_session_resumed(p.server), resume, "{}", what);
            let before = p.steps.len();
            p.pump().unwrap();
            assert!(!rtls_conn_is_handshaking(p.server) && !p.client.is_handshaking(), "{}", what);
            let done: Vec<usize> = (before..p.steps.len()).filter(|i| p.steps[*i].events != 0).collect();
            assert_eq!(done.len(), 1, "{}: {:?}", what, reported(&p.steps));
            let step = p.steps[done[0]];
            assert_eq!(step.events, RTLS_EVENT_HANDSHAKE_DONE, "{}", what);
            assert!(step.handshaking_before && !step.handshaking_after, "{}: the step that completed it: {:?}", what, step);
            assert!(p.steps[before..done[0]].iter().all(|s| s.handshaking_after), "{}", what);
            // data both ways, idle steps: nothing new
            p.client_write_all(b"GET / HTTP/1.1\r\n\r\n");
            assert_eq!(p.server_plain, b"GET / HTTP/1.1\r\n\r\n");
            p.server_write_all(b"HTTP/1.1 204 No Content\r\n\r\n");
            assert_eq!(p.client_read_all(), b"HTTP/1.1 204 No Content\r\n\r\n");
            for _ in 0..3 {
                assert_eq!(process_step(p.server, &mut p.steps), RTLS_OK);
            }
            assert_eq!(times(&p.steps, all), 2, "{}: {:?}", what, reported(&p.steps));
            // the client's close_notify
            p.client.send_close_notify();
            let bytes = p.from_client();
            let before = p.steps.len();
            assert_eq!(p.to_server(&bytes), RTLS_OK);
            let closed: Vec<(usize, u32)> = reported(&p.steps).into_iter().filter(|(i, _)| *i >= before).collect();
            assert_eq!(closed, vec![(p.steps.len() - 1, RTLS_EVENT_PEER_CLOSED)], "{}", what);
            let mut buf = [0u8; 16];
            let mut n = 0;
            assert_eq!(rtls_conn_read(p.server, buf.as_mut_ptr(), buf.len(), &mut n), RTLS_IO_EOF);
            // nothing repeats: more steps, our own close_notify, more steps
            for _ in 0..3 {
                assert_eq!(process_step(p.server, &mut p.steps), RTLS_OK);
            }
            assert_eq!(rtls_conn_send_close_notify(p.server), RTLS_OK);
            let out = p.from_server();
            feed_client(&mut p.client, &out).unwrap();
            assert_eq!(process_step(p.server, &mut p.steps), RTLS_OK);
            for event in [RTLS_EVENT_HELLO, RTLS_EVENT_HANDSHAKE_DONE, RTLS_EVENT_PEER_CLOSED] {
                assert_eq!(times(&p.steps, event), 1, "{}: event {}: {:?}", what, event, reported(&p.steps));
            }
            assert!(p.steps.iter().all(|s| s.events & !all == 0 && s.rv == RTLS_OK), "{}", what);
        }
    }
    rtls_server_config_free(cfg);
}

/// A hello fed one byte at a time is reported by the step that took its
/// last byte, once; an event is not held back for a caller that passed no
/// out_events (it is simply not seen).
#[test]
fn hello_event_with_the_last_byte() {
    let mut p = new_pair(default_client(&[]), "p256.example.org");
    let hello = p.from_client();
    for (i, b) in hello.iter().enumerate() {
        let mut n = 0;
        assert_eq!(rtls_conn_read_tls(p.server, b, 1, &mut n), RTLS_OK);
        assert_eq!(n, 1);
        assert_eq!(process_step(p.server, &mut p.steps), RTLS_OK);
        let last = i == hello.len() - 1;
        assert_eq!(p.steps[i].events, if last { RTLS_EVENT_HELLO } else { 0 }, "byte {}", i);
        assert_eq!(rtls_conn_has_hello(p.server), last);
    }
    // NULL out-parameters are allowed; the step still happens once
    let cfg = server_config(&ServerSettings::default());
    let mut q = new_pair(default_client(&[]), "p256.example.org");
    let hello = q.from_client();
    let mut n = 0;
    assert_eq!(rtls_conn_read_tls(q.server, hello.as_ptr(), hello.len(), &mut n), RTLS_OK);
    assert_eq!(rtls_conn_process(q.server, ptr::null_mut(), ptr::null_mut(), ptr::null_mut()), RTLS_OK);
    assert!(rtls_conn_has_hello(q.server));
    assert_eq!(process_step(q.server, &mut q.steps), RTLS_OK);
    assert_eq!(q.steps[0].events, 0, "HELLO was reported by the first step");
    assert_eq!(q.accept(cfg, None), RTLS_OK);
    q.pump().unwrap();
    assert_eq!(times(&q.steps, RTLS_EVENT_HANDSHAKE_DONE), 1);
    rtls_server_config_free(cfg);
}

// ---- hand-made hellos -----------------------------------------------------------

fn push_ext(out: &mut Vec<u8>, typ: u16, body: &[u8]) {
    out.extend_from_slice(&typ.to_be_bytes());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
}

fn vec16(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

/// A TLS 1.2 ClientHello as older clients send it (ECDHE suites, SNI,
/// groups, signature algorithms, extended master secret, renegotiation_info),
/// with an ec_point_formats extension listing `formats`, or without one.
fn tls12_hello(sni: &str, formats: Option<&[u8]>) -> Vec<u8> {
    let mut exts = Vec::new();
    let mut name = vec![0u8]; // host_name
    name.extend_from_slice(&vec16(sni.as_bytes()));
    push_ext(&mut exts, 0x0000, &vec16(&name));
    push_ext(&mut exts, 0x000a, &vec16(&[0x00, 0x1d, 0x00, 0x17, 0x00, 0x18])); // x25519, P-256, P-384
    push_ext(&mut exts, 0x000d, &vec16(&[0x04, 0x03, 0x08, 0x04, 0x04, 0x01])); // ecdsa_p256_sha256, rsa_pss, rsa_pkcs1
    push_ext(&mut exts, 0x0017, &[]); // extended_master_secret
    push_ext(&mut exts, 0xff01, &[0x00]); // renegotiation_info, empty
    if let Some(f) = formats {
        let mut body = vec![f.len() as u8];
        body.extend_from_slice(f);
        push_ext(&mut exts, 0x000b, &body);
    }
    let mut hello = vec![0x03, 0x03];
    hello.extend((0..32u8).map(|i| i.wrapping_mul(37)));
    hello.push(0); // no session id
    hello.extend_from_slice(&vec16(&[0xc0, 0x2b, 0xc0, 0x2f, 0xcc, 0xa9, 0xcc, 0xa8]));
    hello.extend_from_slice(&[1, 0]); // compression: null
    hello.extend_from_slice(&vec16(&exts));
    let mut hs = vec![HS_CLIENT_HELLO, 0, (hello.len() >> 8) as u8, hello.len() as u8];
    hs.extend_from_slice(&hello);
    let mut record = vec![CT_HANDSHAKE, 0x03, 0x01];
    record.extend_from_slice(&vec16(&hs));
    record
}

/// RFC 8422 5.1.2: a client without ec_point_formats supports the
/// uncompressed form. rustls 0.20 refused such hellos; 0.23 answers them.
#[test]
fn tls12_hello_without_ec_point_formats_is_answered() {
    let cfg = server_config(&ServerSettings::default());
    for formats in [None, Some(&[0u8][..]), Some(&[0u8, 1, 2][..])] {
        let mut s = ptr::null_mut();
        assert_eq!(rtls_conn_server_new(&mut s), RTLS_OK);
        let mut steps = Vec::new();
        assert_eq!(feed_server_steps(s, &tls12_hello("p256.example.org", formats), &mut Vec::new(), &mut steps), RTLS_OK);
        assert_eq!(steps.last().unwrap().events, RTLS_EVENT_HELLO);
        let (mut n, mut l) = (ptr::null(), 0);
        assert_eq!(rtls_conn_server_name(s, &mut n, &mut l), RTLS_OK);
        assert_eq!(unsafe { std::slice::from_raw_parts(n, l) }, b"p256.example.org");
        assert_eq!(rtls_conn_accept(s, cfg, ptr::null(), 0), RTLS_OK, "{:?}", formats);
        let out = server_output(s);
        assert_eq!(records(&out)[0].typ, CT_HANDSHAKE, "{:?}: not an alert", formats);
        let msgs = plaintext_handshake(&out);
        let types: Vec<u8> = msgs.iter().map(|m| m.0).collect();
        assert_eq!(types, vec![HS_SERVER_HELLO, HS_CERTIFICATE, HS_SERVER_KEY_EXCHANGE, HS_SERVER_HELLO_DONE], "{:?}", formats);
        let mut sh = Cursor(&msgs[0].1);
        assert_eq!(sh.u16(), 0x0303);
        sh.take(32);
        sh.vec8();
        assert_eq!(sh.u16(), 0xc02b, "the ECDSA suite the client listed first");
        assert_eq!((rtls_conn_protocol_version(s), rtls_conn_cipher_suite(s)), (0x0303, 0xc02b));
        assert_eq!(rtls_conn_certified_key_index(s), 0);
        rtls_conn_free(s);
    }
    // the control: a client that lists only compressed points is refused
    // (rustls: illegal_parameter)
    let mut s = ptr::null_mut();
    assert_eq!(rtls_conn_server_new(&mut s), RTLS_OK);
    assert_eq!(feed_server(s, &tls12_hello("p256.example.org", Some(&[1u8])), &mut Vec::new()), RTLS_OK);
    assert_eq!(rtls_conn_accept(s, cfg, ptr::null(), 0), RTLS_PEER_INCOMPATIBLE);
    assert_eq!(server_output(s), vec![CT_ALERT, 0x03, 0x03, 0x00, 0x02, 0x02, 47]);
    rtls_conn_free(s);
    rtls_server_config_free(cfg);
}
