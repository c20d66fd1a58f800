//! Session resumption across separately built configurations, as two httpd
//! children (or two servers) build them: shared ticket keys derived from one
//! secret, and a session store reached through C callbacks.
mod common;

use std::collections::HashMap;
use std::os::raw::{c_int, c_void};
use std::ptr;
use std::sync::{Arc, Mutex};

use common::*;
use rtls::certkey::rtls_certified_key_free;
use rtls::config::*;
use rtls::connection::*;
use rtls::error::rtls_result::*;
use rtls::ticket::*;
use rustls::client::{ClientConfig, StoresClientSessions};
use rustls::version::{TLS12 as V12, TLS13 as V13};
use rustls::SupportedProtocolVersion;

const SNI: &str = "p256.example.org";
const LIFETIME: u32 = 3600;

fn secret(seed: u8) -> Vec<u8> {
    (0..48u8).map(|i| i.wrapping_mul(31).wrapping_add(seed)).collect()
}

/// A ticketer of its own, as each process makes one from the shared secret.
fn ticketer(secret: &[u8], context: &[u8]) -> *const rtls_ticketer {
    let mut t = ptr::null();
    assert_eq!(
        rtls_ticketer_new(secret.as_ptr(), secret.len(), context.as_ptr(), context.len(), LIFETIME, &mut t),
        RTLS_OK
    );
    assert!(!t.is_null());
    t
}

/// A configuration issuing tickets with its own ticketer for secret and context.
fn ticket_config(secret: &[u8], context: &[u8]) -> *const rtls_server_config {
    let t = ticketer(secret, context);
    let cfg = server_config_with(&ServerSettings::default(), |b| {
        assert_eq!(rtls_server_config_builder_set_ticketer(b, t), RTLS_OK);
    });
    rtls_ticketer_free(t); // the configuration holds its own reference
    cfg
}

/// The client's session cache, which a test can copy to offer an old
/// session again.
#[derive(Default)]
struct ClientCache(Mutex<HashMap<Vec<u8>, Vec<u8>>>);

impl StoresClientSessions for ClientCache {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        self.0.lock().unwrap().insert(key, value);
        true
    }
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.lock().unwrap().get(key).cloned()
    }
}

impl ClientCache {
    fn copy(&self) -> Arc<ClientCache> {
        Arc::new(ClientCache(Mutex::new(self.0.lock().unwrap().clone())))
    }
}

fn client(version: &'static SupportedProtocolVersion, cache: &Arc<ClientCache>) -> Arc<ClientConfig> {
    let mut cfg = (*client_config(&[version], rustls::ALL_CIPHER_SUITES, &[])).clone();
    assert!(cfg.enable_tickets, "rustls clients ask for tickets by default");
    cfg.session_storage = Arc::clone(cache) as Arc<dyn StoresClientSessions>;
    Arc::new(cfg)
}

/// One complete handshake (and the TLS 1.3 tickets after it); true when
/// the server says it resumed.
fn connect(client: &Arc<ClientConfig>, cfg: *const rtls_server_config) -> bool {
    let mut p = new_pair(Arc::clone(client), SNI);
    assert!(!rtls_conn_session_resumed(p.server));
    p.handshake(cfg, None).unwrap();
    p.pump().unwrap();
    // and the connection works
    p.server_write_all(b"hello");
    assert_eq!(p.client_read_all(), b"hello");
    rtls_conn_session_resumed(p.server)
}

fn versions() -> [(&'static SupportedProtocolVersion, &'static str); 2] {
    [(&V13, "TLS 1.3"), (&V12, "TLS 1.2")]
}

// ---- tickets ----------------------------------------------------------------

#[test]
fn tickets_resume_across_separately_built_configs() {
    let s = secret(1);
    // two children: each builds its own ticketer and configuration
    let a = ticket_config(&s, b"setup 1");
    let b = ticket_config(&s.clone(), b"setup 1");
    let plain = server_config(&ServerSettings::default());
    for (version, name) in versions() {
        let cache = Arc::new(ClientCache::default());
        let c = client(version, &cache);
        assert!(!connect(&c, a), "{}: first handshake is full", name);
        assert!(connect(&c, b), "{}: A's ticket resumes on B", name);
        assert!(connect(&c, a), "{}: B's ticket resumes on A", name);
        assert!(connect(&c, b), "{}: again on B", name);
        // only the ticket carries the session: a configuration without the
        // ticketer has no way to resume it
        assert!(!connect(&c, plain), "{}: no ticketer, no resumption", name);
        // a fresh client cannot resume
        assert!(!connect(&client(version, &Arc::new(ClientCache::default())), b), "{}", name);
    }
    for cfg in [a, b, plain] {
        rtls_server_config_free(cfg);
    }
}

#[test]
fn ticket_from_other_context_or_secret_means_full_handshake() {
    let s = secret(2);
    let a = ticket_config(&s, b"setup 1");
    let other_context = ticket_config(&s, b"setup 2");
    let other_secret = ticket_config(&secret(3), b"setup 1");
    for (version, name) in versions() {
        for other in [other_context, other_secret] {
            let cache = Arc::new(ClientCache::default());
            let c = client(version, &cache);
            assert!(!connect(&c, a), "{}", name);
            let offered = cache.copy();
            // the ticket does not decrypt: a full handshake, no error
            assert!(!connect(&c, other), "{}: must not resume", name);
            // the ticket the client got there does not work on A either
            assert!(!connect(&c, a), "{}: must not resume", name);
            // while A's own ticket still does
            assert!(connect(&client(version, &offered), a), "{}", name);
        }
    }
    for cfg in [a, other_context, other_secret] {
        rtls_server_config_free(cfg);
    }
}

#[test]
fn ticketer_outlives_its_handle_and_builder() {
    let s = secret(4);
    let t = ticketer(&s, b"ctx");
    let mut b = ptr::null_mut();
    assert_eq!(rtls_server_config_builder_new(&mut b), RTLS_OK);
    let k = key("p256");
    assert_eq!(rtls_server_config_builder_add_certified_key(b, k), RTLS_OK);
    rtls_certified_key_free(k);
    assert_eq!(rtls_server_config_builder_set_ticketer(b, t), RTLS_OK);
    rtls_ticketer_free(t);
    let (mut c1, mut c2) = (ptr::null(), ptr::null());
    assert_eq!(rtls_server_config_build(b, &mut c1), RTLS_OK);
    // NULL turns tickets off again for what is built next
    assert_eq!(rtls_server_config_builder_set_ticketer(b, ptr::null()), RTLS_OK);
    assert_eq!(rtls_server_config_build(b, &mut c2), RTLS_OK);
    rtls_server_config_builder_free(b);
    let with = ticket_config(&s, b"ctx");
    for (version, name) in versions() {
        let cache = Arc::new(ClientCache::default());
        let c = client(version, &cache);
        assert!(!connect(&c, c1), "{}", name);
        assert!(connect(&c, with), "{}: c1 issued a ticket", name);
        let cache = Arc::new(ClientCache::default());
        let c = client(version, &cache);
        assert!(!connect(&c, c2), "{}", name);
        assert!(!connect(&c, with), "{}: c2 issued no ticket", name);
    }
    for cfg in [c1, c2, with] {
        rtls_server_config_free(cfg);
    }
}

#[test]
fn ticketer_arguments() {
    let s = secret(5);
    let ctx = b"ctx";
    let sentinel = 0x55 as *const rtls_ticketer;
    let mut t = sentinel;
    let new = |secret: &[u8], len: usize, lifetime: u32, out: *mut *const rtls_ticketer| {
        rtls_ticketer_new(secret.as_ptr(), len, ctx.as_ptr(), ctx.len(), lifetime, out)
    };
    assert_eq!(new(&s, 31, LIFETIME, &mut t), RTLS_CONF_BAD_TICKET_KEY);
    assert_eq!(new(&s, 0, LIFETIME, &mut t), RTLS_CONF_BAD_TICKET_KEY);
    assert_eq!(new(&s, 32, 59, &mut t), RTLS_CONF_BAD_TICKET_LIFETIME);
    assert_eq!(new(&s, 32, 86401, &mut t), RTLS_CONF_BAD_TICKET_LIFETIME);
    assert_eq!(new(&s, 32, 0, &mut t), RTLS_CONF_BAD_TICKET_LIFETIME);
    assert_eq!(new(&s, 32, LIFETIME, ptr::null_mut()), RTLS_INTERNAL_NULL_ARGUMENT);
    assert_eq!(
        rtls_ticketer_new(ptr::null(), 32, ctx.as_ptr(), ctx.len(), LIFETIME, &mut t),
        RTLS_INTERNAL_NULL_ARGUMENT
    );
    assert_eq!(rtls_ticketer_new(s.as_ptr(), 32, ptr::null(), 3, LIFETIME, &mut t), RTLS_INTERNAL_NULL_ARGUMENT);
    assert_eq!(t, sentinel, "out-parameter untouched on errors");
    // an empty context may be NULL
    assert_eq!(rtls_ticketer_new(s.as_ptr(), 32, ptr::null(), 0, 60, &mut t), RTLS_OK);
    assert!(!t.is_null() && t != sentinel);
    assert_eq!(rtls_server_config_builder_set_ticketer(ptr::null_mut(), t), RTLS_INTERNAL_NULL_ARGUMENT);
    rtls_ticketer_free(t);
    rtls_ticketer_free(ptr::null());
    for code in [RTLS_CONF_BAD_TICKET_KEY, RTLS_CONF_BAD_TICKET_LIFETIME] {
        assert_eq!(code as u32 / 1000, 2, "configuration errors");
    }
}

// ---- the session store ------------------------------------------------------

/// What C will do on socache, in memory; it records every call.
#[derive(Default)]
struct Store {
    map: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
    calls: Mutex<Vec<Call>>,
    /// put fails and get misses
    broken: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Call {
    Put(Vec<u8>),
    Get { key: Vec<u8>, remove: bool, found: bool },
}

impl Store {
    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
    fn keys(&self) -> Vec<Vec<u8>> {
        self.map.lock().unwrap().keys().cloned().collect()
    }
    fn puts(&self) -> Vec<Vec<u8>> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Put(k) => Some(k),
                _ => None,
            })
            .collect()
    }
    fn gets(&self) -> Vec<(Vec<u8>, bool, bool)> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Get { key, remove, found } => Some((key, remove, found)),
                _ => None,
            })
            .collect()
    }
}

unsafe extern "C" fn store_put(ud: *mut c_void, k: *const u8, kl: usize, v: *const u8, vl: usize) -> c_int {
    let s = &*(ud as *const Store);
    let key = std::slice::from_raw_parts(k, kl).to_vec();
    s.calls.lock().unwrap().push(Call::Put(key.clone()));
    if s.broken {
        return -1;
    }
    s.map.lock().unwrap().insert(key, std::slice::from_raw_parts(v, vl).to_vec());
    0
}

unsafe extern "C" fn store_get(
    ud: *mut c_void,
    k: *const u8,
    kl: usize,
    remove: c_int,
    buf: *mut u8,
    bl: usize,
    out: *mut usize,
) -> c_int {
    let s = &*(ud as *const Store);
    let key = std::slice::from_raw_parts(k, kl).to_vec();
    let value = if s.broken {
        None
    } else {
        let mut map = s.map.lock().unwrap();
        if remove != 0 {
            map.remove(&key)
        } else {
            map.get(&key).cloned()
        }
    };
    let found = matches!(&value, Some(v) if v.len() <= bl);
    s.calls.lock().unwrap().push(Call::Get { key, remove: remove != 0, found });
    match value {
        Some(v) if v.len() <= bl => {
            std::ptr::copy_nonoverlapping(v.as_ptr(), buf, v.len());
            *out = v.len();
            0
        }
        _ => 1,
    }
}

fn set_store(b: *mut rtls_server_config_builder, store: &Store) {
    let ud = store as *const Store as *mut c_void;
    assert_eq!(rtls_server_config_builder_set_session_store(b, Some(store_put), Some(store_get), ud), RTLS_OK);
}

/// A configuration (no tickets) using `store`.
fn store_config(store: &Store) -> *const rtls_server_config {
    server_config_with(&ServerSettings::default(), |b| set_store(b, store))
}

#[test]
fn tls12_session_ids_resume_across_configs_sharing_a_store() {
    let store = Store::default();
    let a = store_config(&store);
    let b = store_config(&store);
    let cache = Arc::new(ClientCache::default());
    let c = client(&V12, &cache);
    assert!(!connect(&c, a));
    let puts = store.puts();
    assert_eq!(puts.len(), 1, "the session was stored once");
    assert_eq!(puts[0].len(), 33, "under its session id (length byte + 32)");
    assert!(connect(&c, b), "A's session id resumes on B");
    // (rustls' client sends a random session id even on its first hello,
    // which the server looks up in vain)
    let gets = store.gets();
    assert_eq!(gets.last(), Some(&(puts[0].clone(), false, true)), "{:?}", gets);
    assert!(gets.iter().all(|g| !g.1), "TLS 1.2 sessions are looked up, not taken");
    assert!(connect(&c, a), "and again on A");
    assert_eq!(store.keys(), puts, "still there: TLS 1.2 sessions may be reused");
    // a configuration with its own (default) cache cannot resume it
    let own = server_config(&ServerSettings::default());
    assert!(!connect(&c, own));
    for cfg in [a, b, own] {
        rtls_server_config_free(cfg);
    }
}

#[test]
fn tls13_sessions_resume_across_configs_and_only_once() {
    let store = Store::default();
    let a = store_config(&store);
    let b = store_config(&store);
    let cache = Arc::new(ClientCache::default());
    let c = client(&V13, &cache);
    assert!(!connect(&c, a));
    let first = store.puts();
    assert_eq!(first.len(), 1, "one session, one ticket id");
    assert_eq!(store.keys(), first);
    // keep the client's ticket to offer it again later
    let replay = cache.copy();

    assert!(connect(&c, b), "A's session resumes on B");
    let gets = store.gets();
    assert_eq!(gets, vec![(first[0].clone(), true, true)], "taken with remove=1");
    assert!(!store.keys().contains(&first[0]), "a used TLS 1.3 session is gone");
    // the resumed handshake issued a fresh session, which works too
    assert_eq!(store.keys().len(), 1);
    assert!(connect(&c, a));

    // the old ticket again: a full handshake, no error
    let before = store.gets().len();
    assert!(!connect(&client(&V13, &replay), a), "a TLS 1.3 session is single-use");
    let gets = store.gets();
    assert_eq!(gets[before..].to_vec(), vec![(first[0].clone(), true, false)]);
    for cfg in [a, b] {
        rtls_server_config_free(cfg);
    }
}

#[test]
fn failing_store_costs_only_resumption() {
    let store = Store { broken: true, ..Default::default() };
    let a = store_config(&store);
    let b = store_config(&store);
    for (version, name) in versions() {
        let cache = Arc::new(ClientCache::default());
        let c = client(version, &cache);
        for cfg in [a, b, a, b] {
            assert!(!connect(&c, cfg), "{}: nothing to resume", name);
        }
    }
    // both versions tried to store; the TLS 1.2 client offered its session
    // id and the lookups missed (TLS 1.3 issued no ticket, so had no lookups)
    assert!(store.puts().len() >= 8);
    let gets = store.gets();
    assert!(gets.len() >= 3 && gets.iter().all(|(_, remove, found)| !remove && !found), "{:?}", gets);
    for cfg in [a, b] {
        rtls_server_config_free(cfg);
    }
}

#[test]
fn store_off_means_no_stateful_sessions() {
    let off = server_config_with(&ServerSettings::default(), |b| {
        assert_eq!(rtls_server_config_builder_set_session_store(b, None, None, ptr::null_mut()), RTLS_OK);
    });
    for (version, name) in versions() {
        let cache = Arc::new(ClientCache::default());
        let c = client(version, &cache);
        for _ in 0..3 {
            assert!(!connect(&c, off), "{}", name);
        }
    }
    // tickets still work without a store (TLS 1.2 and 1.3)
    let s = secret(6);
    let t = ticketer(&s, b"ctx");
    let tickets_only = server_config_with(&ServerSettings::default(), |b| {
        assert_eq!(rtls_server_config_builder_set_session_store(b, None, None, ptr::null_mut()), RTLS_OK);
        assert_eq!(rtls_server_config_builder_set_ticketer(b, t), RTLS_OK);
    });
    rtls_ticketer_free(t);
    for (version, name) in versions() {
        let cache = Arc::new(ClientCache::default());
        let c = client(version, &cache);
        assert!(!connect(&c, tickets_only), "{}", name);
        assert!(connect(&c, tickets_only), "{}", name);
    }
    rtls_server_config_free(off);
    rtls_server_config_free(tickets_only);
}

#[test]
fn tickets_take_precedence_over_the_store_for_tls13() {
    let store = Store::default();
    let s = secret(7);
    let t = ticketer(&s, b"ctx");
    let cfg = server_config_with(&ServerSettings::default(), |b| {
        set_store(b, &store);
        assert_eq!(rtls_server_config_builder_set_ticketer(b, t), RTLS_OK);
    });
    rtls_ticketer_free(t);
    let c = client(&V13, &Arc::new(ClientCache::default()));
    assert!(!connect(&c, cfg));
    assert!(connect(&c, cfg));
    assert!(store.calls().is_empty(), "TLS 1.3 used tickets only: {:?}", store.calls());
    rtls_server_config_free(cfg);
}

#[test]
fn session_store_arguments() {
    let store = Store::default();
    let ud = &store as *const Store as *mut c_void;
    assert_eq!(
        rtls_server_config_builder_set_session_store(ptr::null_mut(), Some(store_put), Some(store_get), ud),
        RTLS_INTERNAL_NULL_ARGUMENT
    );
    let mut b = ptr::null_mut();
    assert_eq!(rtls_server_config_builder_new(&mut b), RTLS_OK);
    assert_eq!(rtls_server_config_builder_set_session_store(b, Some(store_put), None, ud), RTLS_INTERNAL_NULL_ARGUMENT);
    assert_eq!(rtls_server_config_builder_set_session_store(b, None, Some(store_get), ud), RTLS_INTERNAL_NULL_ARGUMENT);
    assert_eq!(rtls_server_config_builder_set_session_store(b, Some(store_put), Some(store_get), ud), RTLS_OK);
    rtls_server_config_builder_free(b);
}

/// Many threads resume through one store and one ticketer at once, as the
/// threads of httpd children do.
#[test]
fn concurrent_resumption() {
    struct Shared(*const rtls_server_config);
    // SAFETY: configurations are thread-safe (rtls.h).
    unsafe impl Send for Shared {}
    unsafe impl Sync for Shared {}

    let store = Store::default();
    let s = secret(8);
    let stateful = Arc::new(Shared(store_config(&store)));
    let tickets = Arc::new(Shared(ticket_config(&s, b"ctx")));
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let (stateful, tickets) = (Arc::clone(&stateful), Arc::clone(&tickets));
            std::thread::spawn(move || {
                for round in 0..10 {
                    let version = if (i + round) % 2 == 0 { &V13 } else { &V12 };
                    for cfg in [stateful.0, tickets.0] {
                        let c = client(version, &Arc::new(ClientCache::default()));
                        assert!(!connect(&c, cfg));
                        assert!(connect(&c, cfg));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    rtls_server_config_free(stateful.0);
    rtls_server_config_free(tickets.0);
}
