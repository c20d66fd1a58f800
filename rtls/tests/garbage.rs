//! Bad peer input: truncated, random and corrupted TLS bytes must give
//! error codes, never a panic or a crash.
mod common;

use common::*;
use rtls::config::*;
use rtls::connection::*;
use rtls::error::rtls_result::{self, *};
use std::ptr;

fn fresh() -> *mut rtls_conn {
    let mut s = ptr::null_mut();
    assert_eq!(rtls_conn_server_new(&mut s), RTLS_OK);
    s
}

fn category(rv: rtls_result) -> u32 {
    rv as u32 / 1000
}

#[test]
fn random_bytes_into_the_acceptor() {
    let mut rng = Rng(0xdead_beef);
    for round in 0..2000 {
        let s = fresh();
        let len = 1 + (rng.next() % 4000) as usize;
        let junk = rng.bytes(len);
        let mut plain = Vec::new();
        let rv = feed_server(s, &junk, &mut plain);
        assert_ne!(rv, RTLS_INTERNAL_PANIC, "round {}", round);
        if rv != RTLS_OK {
            assert_eq!(category(rv), 1, "round {}: {:?}", round, rv);
            // the alert we queue is a valid 7-byte record
            let out = server_output(s);
            assert!(out.is_empty() || out.len() == 7);
        }
        rtls_conn_free(s);
    }
}

#[test]
fn plain_http_is_not_tls() {
    let s = fresh();
    let mut plain = Vec::new();
    let rv = feed_server(s, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", &mut plain);
    assert_eq!(category(rv), 1, "{:?}", rv);
    rtls_conn_free(s);
}

#[test]
fn truncated_client_hello_waits_for_more() {
    let mut p = new_pair(default_client(&["h2"]), "p256.example.org");
    let hello = client_output(&mut p.client);
    for cut in [1usize, 5, 6, 40, hello.len() - 1] {
        let s = fresh();
        let mut plain = Vec::new();
        assert_eq!(feed_server(s, &hello[..cut], &mut plain), RTLS_OK);
        assert!(!rtls_conn_has_hello(s));
        assert_eq!(rtls_conn_read_tls_eof(s), RTLS_OK);
        rtls_conn_free(s);
    }
}

#[test]
fn corrupted_client_hellos() {
    let mut rng = Rng(99);
    let cfg = server_config(&ServerSettings::default());
    let mut p = new_pair(default_client(&["h2", "http/1.1"]), "p256.example.org");
    let hello = client_output(&mut p.client);
    for _ in 0..3000 {
        let mut h = hello.clone();
        for _ in 0..(1 + rng.next() % 4) {
            let i = (rng.next() as usize) % h.len();
            h[i] ^= (rng.next() as u8) | 1;
        }
        let s = fresh();
        let mut plain = Vec::new();
        let rv = feed_server(s, &h, &mut plain);
        assert_ne!(rv, RTLS_INTERNAL_PANIC);
        if rv == RTLS_OK && rtls_conn_has_hello(s) {
            let rv = rtls_conn_accept(s, cfg, ptr::null(), 0);
            assert_ne!(rv, RTLS_INTERNAL_PANIC);
            let _ = server_output(s);
        }
        rtls_conn_free(s);
    }
    rtls_server_config_free(cfg);
}

#[test]
fn random_records_after_the_handshake() {
    let cfg = server_config(&ServerSettings::default());
    let mut rng = Rng(5);
    for round in 0..300 {
        let mut p = new_pair(default_client(&[]), "p256.example.org");
        p.handshake(cfg, None).unwrap();
        let len = 1 + (rng.next() % 2000) as usize;
        let mut junk = rng.bytes(len);
        if round % 2 == 0 {
            // a plausible application-data record header with garbage inside
            let len = (junk.len() as u16).to_be_bytes();
            let mut rec = vec![0x17, 0x03, 0x03, len[0], len[1]];
            rec.append(&mut junk);
            junk = rec;
        }
        let mut plain = Vec::new();
        let rv = feed_server(p.server, &junk, &mut plain);
        assert_ne!(rv, RTLS_INTERNAL_PANIC);
        assert!(plain.is_empty());
        if rv != RTLS_OK {
            assert_eq!(category(rv), 1, "{:?}", rv);
            // once failed, it stays failed and says so
            let mut buf = [0u8; 128];
            let mut n = 0;
            assert_eq!(rtls_conn_error_text(p.server, buf.as_mut_ptr() as *mut _, buf.len(), &mut n), RTLS_OK);
            assert!(n > 0);
        }
    }
    rtls_server_config_free(cfg);
}

#[test]
fn null_and_misuse() {
    let mut n = 0;
    assert_eq!(rtls_conn_read_tls(ptr::null_mut(), b"x".as_ptr(), 1, &mut n), RTLS_INTERNAL_NULL_ARGUMENT);
    assert_eq!(rtls_conn_process(ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), ptr::null_mut()), RTLS_INTERNAL_NULL_ARGUMENT);
    let s = fresh();
    assert_eq!(rtls_conn_read_tls(s, ptr::null(), 10, &mut n), RTLS_INTERNAL_NULL_ARGUMENT);
    let mut buf = [0u8; 4];
    assert_eq!(rtls_conn_read(s, buf.as_mut_ptr(), 4, &mut n), RTLS_INTERNAL_WRONG_STATE);
    assert_eq!(rtls_conn_write(s, buf.as_ptr(), 4, &mut n), RTLS_INTERNAL_WRONG_STATE);
    assert_eq!(rtls_conn_accept(s, ptr::null(), ptr::null(), 0), RTLS_INTERNAL_NULL_ARGUMENT);
    assert_eq!(rtls_conn_write_tls(s, None, ptr::null_mut(), &mut n), RTLS_INTERNAL_NULL_ARGUMENT);
    assert!(rtls_conn_is_handshaking(s));
    assert_eq!(rtls_conn_protocol_version(s), 0);
    assert_eq!(rtls_conn_certified_key_index(s), -1);
    rtls_conn_free(s);
    rtls_conn_free(ptr::null_mut());
}
