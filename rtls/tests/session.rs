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
use rustls::crypto::ring::ALL_CIPHER_SUITES;
use rustls::version::{TLS12 as V12, TLS13 as V13};
use rustls::{ClientConfig, HandshakeKind, SupportedProtocolVersion};

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

/// A client for `version` keeping its sessions in `cache` (TLS 1.2: session
/// ids and tickets, as rustls' client does by default).
fn client(version: &'static SupportedProtocolVersion, cache: &Arc<ClientCache>) -> Arc<ClientConfig> {
    let base = client_config(&[version], ALL_CIPHER_SUITES, &[]);
    // (rustls 0.23 keeps the setting private; its Debug text shows it)
    assert!(format!("{:?}", base.resumption).contains("SessionIdOrTickets"), "rustls clients ask for tickets by default");
    with_cache(&base, cache)
}

/// One complete handshake (and the TLS 1.3 tickets after it), checked to
/// carry data; the client and the server agree whether it resumed.
fn handshake_with(client: &Arc<ClientConfig>, cfg: *const rtls_server_config) -> Pair {
    let mut p = new_pair(Arc::clone(client), SNI);
    assert!(!rtls_conn_session_resumed(p.server));
    p.handshake(cfg, None).unwrap();
    p.pump().unwrap();
    // and the connection works
    p.server_write_all(b"hello");
    assert_eq!(p.client_read_all(), b"hello");
    let client_resumed = p.client.handshake_kind() == Some(HandshakeKind::Resumed);
    assert_eq!(rtls_conn_session_resumed(p.server), client_resumed, "client and server agree");
    p
}

/// [`handshake_with`]: true when the server says it resumed.
fn connect(client: &Arc<ClientConfig>, cfg: *const rtls_server_config) -> bool {
    rtls_conn_session_resumed(handshake_with(client, cfg).server)
}

/// The ticket (TLS 1.2 session ticket, first TLS 1.3 PSK identity) the
/// client offered in its first ClientHello, if any.
fn offered_ticket(p: &Pair) -> Option<Vec<u8>> {
    let hello = p.hello_bytes();
    if let Some(id) = psk_identities(hello).into_iter().next() {
        return Some(id);
    }
    client_hello_extension(hello, EXT_SESSION_TICKET).filter(|t| !t.is_empty())
}

const EXT_SESSION_TICKET: u16 = 35;

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
        let cache = ClientCache::new();
        let c = client(version, &cache);
        assert!(!connect(&c, a), "{}: first handshake is full", name);
        assert!(connect(&c, b), "{}: A's ticket resumes on B", name);
        assert!(connect(&c, a), "{}: B's ticket resumes on A", name);
        assert!(connect(&c, b), "{}: again on B", name);
        // only the ticket carries the session: a configuration without the
        // ticketer has no way to resume it
        assert!(!connect(&c, plain), "{}: no ticketer, no resumption", name);
        // a fresh client cannot resume
        assert!(!connect(&client(version, &ClientCache::new()), b), "{}", name);
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
            let cache = ClientCache::new();
            let c = client(version, &cache);
            assert!(!connect(&c, a), "{}", name);
            // one of A's tickets kept aside for later (TLS 1.2: a copy of
            // it; TLS 1.3: A sent two, one is moved)
            let offered = cache.set_aside();
            // the ticket does not decrypt: a full handshake, no error
            let p = handshake_with(&c, other);
            assert!(offered_ticket(&p).is_some(), "{}: the client offered A's ticket", name);
            assert!(!rtls_conn_session_resumed(p.server), "{}: must not resume", name);
            // the ticket the client got there does not work on A either
            let p = handshake_with(&c, a);
            assert!(offered_ticket(&p).is_some(), "{}: the client offered the other's ticket", name);
            assert!(!rtls_conn_session_resumed(p.server), "{}: must not resume", name);
            // while A's own ticket still does
            assert!(connect(&with_cache(&c, &offered), a), "{}", name);
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
        let cache = ClientCache::new();
        let c = client(version, &cache);
        assert!(!connect(&c, c1), "{}", name);
        assert!(connect(&c, with), "{}: c1 issued a ticket", name);
        let cache = ClientCache::new();
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
    let cache = ClientCache::new();
    let c = client(&V12, &cache);
    assert!(!connect(&c, a));
    let puts = store.puts();
    assert_eq!(puts.len(), 1, "the session was stored once");
    // rustls 0.23 keys it with the 32 bytes of the id (0.20: with the
    // length byte in front, 33)
    assert_eq!(puts[0].len(), 32, "under its session id");
    let p = handshake_with(&c, b);
    assert!(rtls_conn_session_resumed(p.server), "A's session id resumes on B");
    assert_eq!(hello_session_id(p.hello_bytes()), puts[0], "the id the client offered");
    // (rustls 0.20's client sent a random session id even on its first
    // hello, which the server looked up in vain; 0.23's TLS 1.2-only client
    // sends none)
    let gets = store.gets();
    assert_eq!(gets, vec![(puts[0].clone(), false, true)]);
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
    let cache = ClientCache::new();
    let c = client(&V13, &cache);
    assert!(!connect(&c, a));
    let first = store.puts();
    // rustls 0.23 sends two tickets per handshake (0.20: one)
    assert_eq!(first.len(), 2, "one session per ticket, each under its ticket id");
    assert_eq!(cache.tls13_inserted(), 2);
    let mut keys = store.keys();
    keys.sort();
    let mut sorted = first.clone();
    sorted.sort();
    assert_eq!(keys, sorted);

    let p = handshake_with(&c, b);
    assert!(rtls_conn_session_resumed(p.server), "A's session resumes on B");
    // keep the client's hello, to offer its ticket again later
    let replay = p.hello_bytes().to_vec();
    drop(p);
    let offered = psk_identities(&replay);
    assert_eq!(offered.len(), 1);
    let used = offered[0].clone();
    assert!(first.contains(&used), "the client offers a ticket id A stored");
    let gets = store.gets();
    assert_eq!(gets, vec![(used.clone(), true, true)], "taken with remove=1");
    assert!(!store.keys().contains(&used), "a used TLS 1.3 session is gone");
    // the resumed handshake issued fresh sessions (two), which work too
    assert_eq!(store.keys().len(), 3);
    assert_eq!(cache.tls13_inserted(), 4);
    assert!(connect(&c, a));

    // the old ticket again (the same ClientHello, binder and all): a full
    // handshake, no error
    let before = store.gets().len();
    let mut s = ptr::null_mut();
    assert_eq!(rtls_conn_server_new(&mut s), RTLS_OK);
    assert_eq!(feed_server(s, &replay, &mut Vec::new()), RTLS_OK);
    assert!(rtls_conn_has_hello(s));
    assert_eq!(rtls_conn_accept(s, a, ptr::null(), 0), RTLS_OK, "a TLS 1.3 session is single-use");
    assert!(!rtls_conn_session_resumed(s), "a TLS 1.3 session is single-use");
    let answer = plaintext_handshake(&server_output(s));
    assert_eq!(answer[0].0, HS_SERVER_HELLO, "a ServerHello, not an alert");
    let pre_shared_key = 41u16;
    assert!(hello_extensions(HS_SERVER_HELLO, &answer[0].1).iter().all(|(t, _)| *t != pre_shared_key));
    rtls_conn_free(s);
    let gets = store.gets();
    assert_eq!(gets[before..].to_vec(), vec![(used, true, false)]);
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
        let cache = ClientCache::new();
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
        let cache = ClientCache::new();
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
        let cache = ClientCache::new();
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
    let c = client(&V13, &ClientCache::new());
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
                        let c = client(version, &ClientCache::new());
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

// ---- ticket renewal -------------------------------------------------------------

/// The current ticket slot (rtls.h: unix time / lifetime).
fn now_slot() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    now / u64::from(LIFETIME)
}

/// Tests that compare ticket slots need the slot not to change while they
/// run: close to a slot change, wait for it.
fn clear_of_slot_change() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let left = u64::from(LIFETIME) - now % u64::from(LIFETIME);
    if left < 20 {
        std::thread::sleep(std::time::Duration::from_secs(left + 1));
    }
}

/// The slot a ticket was made in (its first 8 bytes, rtls.h).
fn slot_of(ticket: &[u8]) -> u64 {
    u64::from_be_bytes(ticket[..8].try_into().unwrap())
}

/// The TLS 1.2 NewSessionTicket messages (lifetime hint, ticket) the server
/// sent in a pair's handshake (they go out before its ChangeCipherSpec).
fn tls12_tickets_sent(p: &Pair) -> Vec<(u32, Vec<u8>)> {
    let mut out = Vec::new();
    for flight in &p.server_sent {
        for (typ, body) in plaintext_handshake(flight) {
            if typ == HS_NEW_SESSION_TICKET {
                let mut c = Cursor(&body);
                let hint = u32::from_be_bytes(c.take(4).try_into().unwrap());
                out.push((hint, c.vec16().to_vec()));
                assert!(c.is_empty());
            }
        }
    }
    out
}

/// A TLS 1.2 resumption with a ticket of the current slot gets an empty
/// NewSessionTicket, and rustls' client goes on offering the ticket it has:
/// every reconnect resumes, on either of two configurations sharing the
/// secret (two httpd children).
#[test]
fn tls12_resumption_with_a_current_ticket_keeps_that_ticket() {
    clear_of_slot_change();
    let s = secret(9);
    let a = ticket_config(&s, b"ctx");
    let b = ticket_config(&s, b"ctx");
    let cache = ClientCache::new();
    let c = client(&V12, &cache);
    let p = handshake_with(&c, a);
    assert!(!rtls_conn_session_resumed(p.server));
    assert_eq!(p.client.handshake_kind(), Some(HandshakeKind::Full));
    let sent = tls12_tickets_sent(&p);
    assert_eq!(sent.len(), 1);
    let (hint, ticket) = sent[0].clone();
    assert_eq!(hint, LIFETIME);
    assert!(ticket.len() > 8 + 12 + 16, "slot, nonce, sealed session state and tag");
    assert_eq!(slot_of(&ticket), now_slot());
    assert_eq!(cache.tls12_saved(), 1);
    drop(p);
    for i in 1..=5 {
        let p = handshake_with(&c, if i % 2 == 0 { a } else { b });
        assert!(rtls_conn_session_resumed(p.server), "reconnect {} resumes", i);
        assert_eq!(p.client.handshake_kind(), Some(HandshakeKind::Resumed), "reconnect {}", i);
        assert_eq!(offered_ticket(&p), Some(ticket.clone()), "reconnect {}: the client offers its first ticket", i);
        assert_eq!(tls12_tickets_sent(&p), vec![(LIFETIME, Vec::new())], "reconnect {}: an empty NewSessionTicket", i);
        assert_eq!(cache.tls12_saved(), 1 + i, "the client saved the session again, with its ticket");
    }
    rtls_server_config_free(a);
    rtls_server_config_free(b);
}

/// TLS 1.3 tickets are single-use: every resumption is handed fresh ones
/// (two, rustls 0.23's default), and the client never offers one twice.
#[test]
fn tls13_resumptions_always_get_fresh_tickets() {
    clear_of_slot_change();
    let s = secret(10);
    let a = ticket_config(&s, b"ctx");
    let b = ticket_config(&s, b"ctx");
    let cache = ClientCache::new();
    let c = client(&V13, &cache);
    assert!(!connect(&c, a));
    assert_eq!(cache.tls13_inserted(), 2);
    let mut offered = std::collections::HashSet::new();
    for i in 1..=5 {
        let p = handshake_with(&c, if i % 2 == 0 { a } else { b });
        assert!(rtls_conn_session_resumed(p.server), "resumption {}", i);
        assert_eq!(p.client.handshake_kind(), Some(HandshakeKind::Resumed));
        let id = offered_ticket(&p).unwrap();
        assert_eq!(slot_of(&id), now_slot(), "a ticket of rtls' ticketer");
        assert!(offered.insert(id), "resumption {}: a ticket offered before", i);
        assert_eq!(cache.tls13_inserted(), 2 + 2 * i, "resumption {}: two new tickets", i);
    }
    rtls_server_config_free(a);
    rtls_server_config_free(b);
}

/// The ticket key of `slot` as rtls.h documents it.
fn documented_key(secret: &[u8], context: &[u8], slot: u64) -> ring::aead::LessSafeKey {
    use ring::hkdf::{Salt, HKDF_SHA256};
    let prk = Salt::new(HKDF_SHA256, context).extract(secret);
    let slot_bytes = slot.to_be_bytes();
    let info: [&[u8]; 2] = [b"rtls ticket key v1", &slot_bytes];
    let okm = prk.expand(&info, &ring::aead::CHACHA20_POLY1305).unwrap();
    ring::aead::LessSafeKey::new(ring::aead::UnboundKey::from(okm))
}

/// Open a ticket with the documented format and key.
fn open_ticket(secret: &[u8], context: &[u8], ticket: &[u8]) -> Option<Vec<u8>> {
    let slot = slot_of(ticket);
    let nonce = ring::aead::Nonce::try_assume_unique_for_key(&ticket[8..20]).ok()?;
    let mut sealed = ticket[20..].to_vec();
    let plain = documented_key(secret, context, slot)
        .open_in_place(nonce, ring::aead::Aad::from(slot.to_be_bytes()), &mut sealed)
        .ok()?;
    Some(plain.to_vec())
}

/// Seal session state into a ticket of `slot`, as rtls' ticketer would.
fn seal_ticket(secret: &[u8], context: &[u8], slot: u64, plain: &[u8]) -> Vec<u8> {
    let nonce = [0x5au8; 12];
    let mut sealed = plain.to_vec();
    documented_key(secret, context, slot)
        .seal_in_place_append_tag(
            ring::aead::Nonce::assume_unique_for_key(nonce),
            ring::aead::Aad::from(slot.to_be_bytes()),
            &mut sealed,
        )
        .unwrap();
    let mut ticket = slot.to_be_bytes().to_vec();
    ticket.extend_from_slice(&nonce);
    ticket.extend_from_slice(&sealed);
    ticket
}

/// A TLS 1.2 ticket of the previous slot is renewed (a non-empty
/// NewSessionTicket of the current slot), one of two slots ago is not
/// accepted. The client's hello is rewritten on the way to carry an older
/// copy of its ticket (made with the documented key derivation), so only
/// the server's answer is looked at: the client would notice the change
/// when it checks the server's Finished.
#[test]
fn tls12_ticket_of_the_previous_slot_is_renewed() {
    clear_of_slot_change();
    let (s, ctx) = (secret(11), b"ctx");
    let cfg = ticket_config(&s, ctx);
    let c = client(&V12, &ClientCache::new());
    let p = handshake_with(&c, cfg);
    let ticket = tls12_tickets_sent(&p)[0].1.clone();
    let state = open_ticket(&s, ctx, &ticket).expect("the ticket has the documented format");
    let slot = slot_of(&ticket);
    assert_eq!(slot, now_slot());
    for age in 0..=2u64 {
        let older = seal_ticket(&s, ctx, slot - age, &state);
        assert_eq!(older.len(), ticket.len());
        let mut q = new_pair(c.clone(), SNI);
        let mut hello = q.from_client();
        let at = hello.windows(ticket.len()).position(|w| w == &ticket[..]).expect("the hello offers the ticket");
        hello[at..at + ticket.len()].copy_from_slice(&older);
        let mut server = ptr::null_mut();
        assert_eq!(rtls_conn_server_new(&mut server), RTLS_OK);
        assert_eq!(feed_server(server, &hello, &mut Vec::new()), RTLS_OK);
        assert_eq!(rtls_conn_accept(server, cfg, ptr::null(), 0), RTLS_OK);
        let answer = plaintext_handshake(&server_output(server));
        let types: Vec<u8> = answer.iter().map(|m| m.0).collect();
        match age {
            0 | 1 => {
                assert!(rtls_conn_session_resumed(server), "age {}", age);
                assert_eq!(types, vec![HS_SERVER_HELLO, HS_NEW_SESSION_TICKET], "age {}", age);
                let mut nst = Cursor(&answer[1].1);
                assert_eq!(nst.take(4), LIFETIME.to_be_bytes());
                let new = nst.vec16().to_vec();
                if age == 0 {
                    assert!(new.is_empty(), "a current ticket is kept");
                } else {
                    assert!(!new.is_empty(), "a ticket of the previous slot is renewed");
                    assert_eq!(slot_of(&new), slot, "with the current slot's key");
                    assert!(open_ticket(&s, ctx, &new).is_some());
                }
            }
            _ => {
                assert!(!rtls_conn_session_resumed(server), "two slots old: not accepted");
                assert_eq!(types[..2], [HS_SERVER_HELLO, HS_CERTIFICATE], "a full handshake");
            }
        }
        rtls_conn_free(server);
    }
    rtls_server_config_free(cfg);
}

// ---- SSL_SESSION_RESUMED ------------------------------------------------------------

/// rtls_conn_session_resumed against rustls' handshake kind on the client:
/// false before binding and for full handshakes, true for resumed ones; TLS
/// 1.2 and TLS 1.3 without a HelloRetryRequest know it once accept returns.
#[test]
fn session_resumed_follows_the_handshake() {
    let stateful = server_config(&ServerSettings::default());
    let tickets = ticket_config(&secret(12), b"ctx");
    for (cfg, how) in [(stateful, "session cache"), (tickets, "tickets")] {
        for (version, name) in versions() {
            let c = client(version, &ClientCache::new());
            for (round, resume) in [(0, false), (1, true), (2, true)] {
                let what = format!("{} {} round {}", name, how, round);
                let mut p = new_pair(c.clone(), SNI);
                p.send_hello();
                assert!(!rtls_conn_session_resumed(p.server), "{}: not before accept", what);
                assert_eq!(p.accept(cfg, None), RTLS_OK);
                assert_eq!(rtls_conn_session_resumed(p.server), resume, "{}: after accept", what);
                p.pump().unwrap();
                assert!(!p.client.is_handshaking());
                assert_eq!(rtls_conn_session_resumed(p.server), resume, "{}", what);
                let kind = if resume { HandshakeKind::Resumed } else { HandshakeKind::Full };
                assert_eq!(p.client.handshake_kind(), Some(kind), "{}", what);
            }
        }
    }
    rtls_server_config_free(stateful);
    rtls_server_config_free(tickets);
}

/// RFC 8446's HelloRetryRequest marker (the ServerHello random).
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11,
    0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// The groups of a ClientHello's key shares.
fn key_share_groups(hello: &[u8]) -> Vec<u16> {
    let ext = client_hello_extension(hello, 51).unwrap();
    let mut c = Cursor(&ext);
    let mut shares = Cursor(c.vec16());
    let mut groups = Vec::new();
    while !shares.is_empty() {
        groups.push(shares.u16());
        shares.vec16();
    }
    groups
}

/// One TLS 1.3 handshake through a HelloRetryRequest: the client's cache
/// hints P-384 for its first key share while it lists X25519 first, and
/// rustls' server picks the client's first group it supports. Checks
/// rtls_conn_session_resumed after the first hello (not known yet: false),
/// after the second and at the end (`resume`); returns whether the first
/// hello offered a ticket.
fn handshake_through_hrr(c: &Arc<ClientConfig>, cfg: *const rtls_server_config, resume: bool, what: &str) -> bool {
    let mut p = new_pair(Arc::clone(c), SNI);
    p.send_hello();
    let hello1 = p.hello_bytes().to_vec();
    assert_eq!(key_share_groups(&hello1), vec![0x0018], "{}: a P-384 share first", what);
    let offered = !psk_identities(&hello1).is_empty();
    assert_eq!(p.accept(cfg, None), RTLS_OK);
    assert!(!rtls_conn_session_resumed(p.server), "{}: unknown until the second hello", what);
    let hrr = p.from_server();
    let msgs = plaintext_handshake(&hrr);
    assert_eq!(msgs.len(), 1, "{}", what);
    let mut sh = Cursor(&msgs[0].1);
    sh.take(2);
    assert_eq!(sh.take(32), HRR_RANDOM, "{}: a HelloRetryRequest", what);
    // rustls 0.20 left the session id echo empty (rustls issue 1373)
    assert_eq!(sh.vec8(), hello_session_id(&hello1), "{}: the session id is echoed", what);
    feed_client(&mut p.client, &hrr).unwrap();
    let hello2 = p.from_client();
    assert_eq!(key_share_groups(&hello2), vec![0x001d], "{}: X25519 as asked", what);
    assert_eq!(!psk_identities(&hello2).is_empty(), offered, "{}", what);
    assert_eq!(p.to_server(&hello2), RTLS_OK);
    assert_eq!(rtls_conn_session_resumed(p.server), resume, "{}: with the second hello", what);
    p.pump().unwrap();
    assert!(!p.client.is_handshaking() && !rtls_conn_is_handshaking(p.server), "{}", what);
    assert_eq!(rtls_conn_session_resumed(p.server), resume, "{}", what);
    let kind = if resume { HandshakeKind::Resumed } else { HandshakeKind::FullWithHelloRetryRequest };
    assert_eq!(p.client.handshake_kind(), Some(kind), "{}", what);
    p.server_write_all(b"hello");
    assert_eq!(p.client_read_all(), b"hello");
    offered
}

/// TLS 1.3 after a HelloRetryRequest: a full handshake is not resumed, a
/// resumed one is (from the second hello on), and a ticket offered but not
/// accepted makes a full handshake.
#[test]
fn session_resumed_after_hello_retry_request() {
    let stateful = server_config(&ServerSettings::default());
    let stateful_other = server_config(&ServerSettings::default());
    let tickets = ticket_config(&secret(13), b"ctx");
    let tickets_other = ticket_config(&secret(14), b"ctx");
    for (cfg, other, how) in [(stateful, stateful_other, "session cache"), (tickets, tickets_other, "tickets")] {
        let cache = ClientCache::with_kx_hint(rustls::NamedGroup::secp384r1);
        let c = client(&V13, &cache);
        assert!(!handshake_through_hrr(&c, cfg, false, &format!("{}: HRR, full", how)));
        assert!(cache.tls13_held() >= 2);
        for round in 1..=2 {
            let what = format!("{}: HRR, resumed ({})", how, round);
            assert!(handshake_through_hrr(&c, cfg, true, &what), "{}: a ticket was offered", what);
        }
        // the ticket is offered in both hellos, and the server cannot use it
        let what = format!("{}: HRR, a ticket not accepted", how);
        assert!(handshake_through_hrr(&c, other, false, &what), "{}: a ticket was offered", what);
    }
    for cfg in [stateful, stateful_other, tickets, tickets_other] {
        rtls_server_config_free(cfg);
    }
}
