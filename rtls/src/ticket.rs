//! `rtls_ticketer`: session tickets that every httpd child, and every server
//! given the same secret, can decrypt.
//!
//! rustls' own ticketer makes random keys in each process and rotates them
//! there, so after a fork (and after every rotation) children cannot read
//! each other's tickets. Here no process makes or rotates a key: the key of
//! a time slot is *derived* from a shared secret, so every process that has
//! the secret computes the same key for the same slot:
//!
//! ```text
//! slot      = unix_time / lifetime_secs
//! prk       = HKDF-SHA256-Extract(salt = context, ikm = secret)
//! key(slot) = HKDF-Expand(prk, info = "rtls ticket key v1" || slot (u64 BE), 32)
//! ticket    = slot (u64 BE) || nonce (12 random bytes)
//!             || ChaCha20-Poly1305(key(slot), nonce, aad = slot bytes, session)
//! ```
//!
//! Tickets are made with the current slot's key; the current and the
//! previous slot are accepted, so a ticket stays valid for at least
//! `lifetime_secs` (what clients are told) and at most twice that. The
//! context (C passes an identity of the TLS setup) goes into every key, so
//! one setup's tickets do not decrypt under another's.
//!
//! The two keys in use (current and previous slot) are cached. Deriving a
//! key costs about 1 µs (HKDF-Expand: HMAC-SHA256 over the precomputed PRK
//! state; `derivation_cost` below), a cached key about 10 ns. A TLS 1.2
//! ticket resumption needs two keys (open the ticket, seal a new one), and
//! a whole resumed TLS 1.2 handshake, client and server together, took about
//! 60 µs in the same measurement: deriving per call would add some 5% to the
//! server's share. The cache is a `RwLock`: every call takes the read side
//! only (no waiting on other readers); the write side is taken once per slot
//! change, by the first thread that needs the new slot, with both keys
//! derived before it locks. Peers cannot make it churn: only the current
//! and the previous slot are ever looked up, and the cache only moves
//! forward. A key the cache lacks (a clock reading from just before the
//! cache moved on) is derived without caching it.

use std::convert::TryFrom;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::hkdf::{Prk, Salt, HKDF_SHA256};
use ring::rand::{SecureRandom, SystemRandom};
use rustls::server::ProducesTickets;

use crate::error::rtls_result::{self, *};
use crate::ffi::{guard, set_out, try_slice};

/// Shortest secret accepted: 256 bits.
pub const MIN_SECRET_LEN: usize = 32;
/// Ticket lifetime bounds, in seconds (one minute to one day).
pub const MIN_LIFETIME: u32 = 60;
pub const MAX_LIFETIME: u32 = 86400;

/// Versioned label of the key derivation; a new scheme gets a new label.
const KEY_LABEL: &[u8] = b"rtls ticket key v1";
const SLOT_LEN: usize = 8;
const TAG_LEN: usize = 16;

/// Makes and opens session tickets (opaque): rtls_ticketer_new,
/// rtls_ticketer_free. Immutable, usable from any thread, reference
/// counted: builders and configurations using it hold their own references.
pub struct rtls_ticketer {
    prk: Prk,
    lifetime: u32,
    rng: SystemRandom,
    keys: RwLock<Option<SlotKeys>>,
}

/// The keys of slot `slot` and of the one before (none before slot 0).
struct SlotKeys {
    slot: u64,
    current: LessSafeKey,
    previous: Option<LessSafeKey>,
}

impl SlotKeys {
    fn get(&self, slot: u64) -> Option<&LessSafeKey> {
        if slot == self.slot {
            Some(&self.current)
        } else if Some(slot) == self.slot.checked_sub(1) {
            self.previous.as_ref()
        } else {
            None
        }
    }
}

impl rtls_ticketer {
    pub(crate) fn new(secret: &[u8], context: &[u8], lifetime: u32) -> Result<rtls_ticketer, rtls_result> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(RTLS_CONF_BAD_TICKET_KEY);
        }
        if !(MIN_LIFETIME..=MAX_LIFETIME).contains(&lifetime) {
            return Err(RTLS_CONF_BAD_TICKET_LIFETIME);
        }
        Ok(rtls_ticketer {
            prk: Salt::new(HKDF_SHA256, context).extract(secret),
            lifetime,
            rng: SystemRandom::new(),
            keys: RwLock::new(None),
        })
    }

    fn slot_at(&self, now: u64) -> u64 {
        // lifetime >= MIN_LIFETIME > 0, checked in new()
        now / u64::from(self.lifetime)
    }

    fn key(&self, slot: u64) -> Option<LessSafeKey> {
        let slot_bytes = slot.to_be_bytes();
        let info = [KEY_LABEL, &slot_bytes[..]];
        let okm = self.prk.expand(&info, &CHACHA20_POLY1305).ok()?;
        Some(LessSafeKey::new(UnboundKey::from(okm)))
    }

    fn read_keys(&self) -> RwLockReadGuard<'_, Option<SlotKeys>> {
        // Only whole values are ever stored: a poisoned lock holds a
        // consistent one.
        self.keys.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_keys(&self) -> RwLockWriteGuard<'_, Option<SlotKeys>> {
        self.keys.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Run `f` with the key of `slot`, at a time in slot `now_slot`
    /// (`slot` is `now_slot` or the one before).
    fn with_key<R, F>(&self, now_slot: u64, slot: u64, f: F) -> Option<R>
    where
        F: FnOnce(&LessSafeKey) -> R,
    {
        {
            let cached = self.read_keys();
            if let Some(key) = cached.as_ref().and_then(|k| k.get(slot)) {
                return Some(f(key));
            }
            if cached.as_ref().map_or(false, |k| k.slot >= now_slot) {
                // The cache is ahead of this caller's clock reading.
                return self.key(slot).map(|key| f(&key));
            }
        }
        // A new slot began: derive its keys once for every thread.
        let fresh = SlotKeys {
            slot: now_slot,
            current: self.key(now_slot)?,
            previous: match now_slot.checked_sub(1) {
                Some(p) => Some(self.key(p)?),
                None => None,
            },
        };
        let mut cached = self.write_keys();
        if cached.as_ref().map_or(true, |k| k.slot < now_slot) {
            *cached = Some(fresh);
        }
        match cached.as_ref().and_then(|k| k.get(slot)) {
            Some(key) => Some(f(key)),
            None => self.key(slot).map(|key| f(&key)),
        }
    }

    /// Seal `plain` with the key of the slot `now` falls in.
    pub(crate) fn encrypt_at(&self, now: u64, plain: &[u8]) -> Option<Vec<u8>> {
        let slot = self.slot_at(now);
        let slot_bytes = slot.to_be_bytes();
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).ok()?;
        let mut sealed = plain.to_vec();
        self.with_key(slot, slot, |key| {
            key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(slot_bytes), &mut sealed)
        })?
        .ok()?;
        let mut ticket = Vec::with_capacity(SLOT_LEN + NONCE_LEN + sealed.len());
        ticket.extend_from_slice(&slot_bytes);
        ticket.extend_from_slice(&nonce);
        ticket.extend_from_slice(&sealed);
        Some(ticket)
    }

    /// Open a ticket (attacker-controlled bytes) at time `now`: only the
    /// current and the previous slot's keys are tried.
    pub(crate) fn decrypt_at(&self, now: u64, ticket: &[u8]) -> Option<Vec<u8>> {
        if ticket.len() < SLOT_LEN + NONCE_LEN + TAG_LEN {
            return None;
        }
        let (slot_bytes, rest) = ticket.split_at(SLOT_LEN);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let slot_bytes = <[u8; SLOT_LEN]>::try_from(slot_bytes).ok()?;
        let slot = u64::from_be_bytes(slot_bytes);
        let current = self.slot_at(now);
        if slot != current && Some(slot) != current.checked_sub(1) {
            return None;
        }
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = sealed.to_vec();
        let plain_len = self
            .with_key(current, slot, |key| key.open_in_place(nonce, Aad::from(slot_bytes), &mut buf).map(|p| p.len()))?
            .ok()?;
        buf.truncate(plain_len);
        Some(buf)
    }
}

/// The slot a ticket says it was made in (checked by decrypt_at).
fn ticket_slot(ticket: &[u8]) -> Option<u64> {
    let bytes = ticket.get(..SLOT_LEN)?;
    Some(u64::from_be_bytes(<[u8; SLOT_LEN]>::try_from(bytes).ok()?))
}

impl std::fmt::Debug for rtls_ticketer {
    // Never shows key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("rtls_ticketer").field("lifetime", &self.lifetime).finish_non_exhaustive()
    }
}

/// Seconds since the epoch; None if the clock is before 1970.
fn now_secs() -> Option<u64> {
    SystemTime::now().duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

impl ProducesTickets for rtls_ticketer {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        self.lifetime
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        // A TLS 1.2 resumption with a ticket of the current slot needs no
        // new ticket: None makes rustls send an empty NewSessionTicket,
        // which clients answer by keeping the ticket they have (RFC 5077
        // 3.3; OpenSSL and rustls do). A new ticket here would cost the
        // sealing and, worse, OpenSSL clients that keep sessions in an
        // external cache (curl) drop the session they offered and are not
        // handed the new one: every other reconnect was a full handshake.
        // A ticket of the previous slot is renewed, as mod_ssl renews one
        // whose key is about to retire.
        if crate::context::current_ticket_opened() {
            return None;
        }
        self.encrypt_at(now_secs()?, plain)
    }

    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        // None: a full handshake.
        let now = now_secs()?;
        let plain = self.decrypt_at(now, cipher)?;
        if ticket_slot(cipher) == Some(self.slot_at(now)) {
            crate::context::record_current_ticket();
        }
        Some(plain)
    }
}

/// Session tickets (TLS 1.2 tickets, TLS 1.3 stateless resumption) that every
/// process holding the same secret and context can decrypt: the parent makes
/// the secret once before forking (random, or read from a key file that
/// several servers share), every child builds its ticketer from it. No
/// process stores or rotates keys: the key of a time slot is derived,
///   slot      = unix time / lifetime_secs
///   key(slot) = HKDF-SHA256(salt = context, ikm = secret,
///                           info = "rtls ticket key v1" || slot as u64 BE)
/// and a ticket is slot (8 bytes BE) || random nonce (12 bytes) ||
/// ChaCha20-Poly1305(key(slot), aad = slot bytes, session). Tickets are made
/// with the current slot's key and accepted while their slot or the one after
/// it is current: a ticket stays valid for lifetime_secs at least (what
/// clients are told) and 2 * lifetime_secs at most. Servers sharing a
/// secret need clocks that agree to well within lifetime_secs (a ticket
/// from a slot that has not begun here is refused). Forward secrecy: anyone
/// who learns the secret can decrypt every ticket (and so the sessions) made
/// with it, past ones included; make a new secret regularly (e.g. at each
/// restart) unless servers must share it.
/// context separates TLS setups: tickets made with one context never
/// decrypt with another (a full handshake follows), so pass an identity of
/// the setup (certificates and TLS settings) that may resume sessions.
///
/// secret: at least 32 bytes of high entropy. context: any bytes, may be
/// empty. Both are read during the call only. lifetime_secs: 60 to 86400.
/// On success `*out` is a new ticketer owned by the caller (rtls_ticketer_free);
/// it is immutable and may be shared by any number of builders and threads.
/// Errors: RTLS_CONF_BAD_TICKET_KEY (secret shorter than 32 bytes),
/// RTLS_CONF_BAD_TICKET_LIFETIME, RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: config time.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_ticketer_new(
    secret: *const u8,
    secret_len: usize,
    context: *const u8,
    context_len: usize,
    lifetime_secs: u32,
    out: *mut *const rtls_ticketer,
) -> rtls_result {
    guard(|| {
        let secret = try_slice!(secret, secret_len);
        let context = try_slice!(context, context_len);
        if out.is_null() {
            return RTLS_INTERNAL_NULL_ARGUMENT;
        }
        match rtls_ticketer::new(secret, context, lifetime_secs) {
            Ok(t) => {
                unsafe { set_out(out, Arc::into_raw(Arc::new(t))) };
                RTLS_OK
            }
            Err(rv) => rv,
        }
    })
}

/// Release the caller's reference: builders and configurations using the
/// ticketer keep it alive. NULL is ignored.
/// Phase: config time (or a cleanup of the pool owning the ticketer).
#[no_mangle]
pub extern "C" fn rtls_ticketer_free(t: *const rtls_ticketer) {
    // SAFETY: t is NULL or came from Arc::into_raw in rtls_ticketer_new.
    unsafe { crate::ffi::free_arc(t) }
}

/// A new reference to the ticketer behind a C handle, for a builder.
///
/// # Safety
/// `t` is a live handle from [`rtls_ticketer_new`].
pub(crate) unsafe fn clone_handle(t: &rtls_ticketer) -> Arc<rtls_ticketer> {
    let raw = t as *const rtls_ticketer;
    Arc::increment_strong_count(raw);
    Arc::from_raw(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: [u8; 32] = [7u8; 32];
    const HOUR: u32 = 3600;
    // Some time well inside a slot.
    const NOW: u64 = 1_700_000_000 / 3600 * 3600 + 1800;

    fn ticketer(secret: &[u8], context: &[u8]) -> rtls_ticketer {
        rtls_ticketer::new(secret, context, HOUR).unwrap()
    }

    #[test]
    fn roundtrip_and_lifetime() {
        let t = ticketer(&SECRET, b"vhost group 1");
        assert!(t.enabled());
        assert_eq!(t.lifetime(), HOUR);
        for len in [0usize, 1, 100, 5000] {
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let ticket = t.encrypt_at(NOW, &plain).unwrap();
            assert_eq!(ticket.len(), plain.len() + 8 + 12 + 16);
            assert_eq!(t.decrypt_at(NOW, &ticket).unwrap(), plain);
            // the rest of the slot too
            assert_eq!(t.decrypt_at(NOW + 1799, &ticket).unwrap(), plain);
        }
        // nonces are random: the same plaintext twice gives two tickets
        assert_ne!(t.encrypt_at(NOW, b"x"), t.encrypt_at(NOW, b"x"));
        // the wall clock works through the trait
        let ticket = t.encrypt(b"session").unwrap();
        assert_eq!(t.decrypt(&ticket).unwrap(), b"session");
    }

    #[test]
    fn same_secret_and_context_means_same_keys() {
        // Two processes (or servers) each make their own ticketer.
        let a = ticketer(&SECRET, b"ctx");
        let b = ticketer(&SECRET, b"ctx");
        let ticket = a.encrypt_at(NOW, b"session").unwrap();
        assert_eq!(b.decrypt_at(NOW, &ticket).unwrap(), b"session");
    }

    #[test]
    fn previous_slot_accepted_older_and_future_rejected() {
        let t = ticketer(&SECRET, b"ctx");
        let ticket = t.encrypt_at(NOW, b"session").unwrap();
        let next = NOW + u64::from(HOUR);
        assert_eq!(t.decrypt_at(next, &ticket).unwrap(), b"session");
        assert_eq!(t.decrypt_at(NOW + 1800 + u64::from(HOUR) - 1, &ticket).unwrap(), b"session");
        // two slots on: the key is gone
        assert!(t.decrypt_at(NOW + 1800 + u64::from(HOUR), &ticket).is_none());
        assert!(t.decrypt_at(NOW + 2 * u64::from(HOUR), &ticket).is_none());
        assert!(t.decrypt_at(NOW + 1000 * u64::from(HOUR), &ticket).is_none());
        // a ticket from the future (a clock ahead elsewhere) is not accepted
        assert!(t.decrypt_at(NOW - u64::from(HOUR), &ticket).is_none());
        // slot 0 has no previous slot; nothing underflows
        let early = t.encrypt_at(5, b"s").unwrap();
        assert_eq!(t.decrypt_at(5, &early).unwrap(), b"s");
        assert!(t.decrypt_at(0, &t.encrypt_at(u64::from(HOUR), b"s").unwrap()).is_none());
        // the slot number is authenticated: relabelling to the current slot fails
        let mut relabelled = t.encrypt_at(NOW - u64::from(HOUR), b"session").unwrap();
        relabelled[..8].copy_from_slice(&t.slot_at(NOW).to_be_bytes());
        assert!(t.decrypt_at(NOW, &relabelled).is_none());
    }

    #[test]
    fn other_context_or_secret_rejected() {
        let t = ticketer(&SECRET, b"ctx");
        let ticket = t.encrypt_at(NOW, b"session").unwrap();
        assert!(ticketer(&SECRET, b"ctx2").decrypt_at(NOW, &ticket).is_none());
        assert!(ticketer(&SECRET, b"").decrypt_at(NOW, &ticket).is_none());
        let mut other = SECRET;
        other[31] ^= 1;
        assert!(ticketer(&other, b"ctx").decrypt_at(NOW, &ticket).is_none());
        // a longer secret with the same prefix is another secret
        let mut longer = SECRET.to_vec();
        longer.push(0);
        assert!(ticketer(&longer, b"ctx").decrypt_at(NOW, &ticket).is_none());
    }

    #[test]
    fn tampered_truncated_and_random_input_rejected() {
        let t = ticketer(&SECRET, b"ctx");
        let ticket = t.encrypt_at(NOW, b"some session state").unwrap();
        for i in 0..ticket.len() {
            for bit in [0x01u8, 0x80] {
                let mut bad = ticket.clone();
                bad[i] ^= bit;
                assert!(t.decrypt_at(NOW, &bad).is_none(), "byte {} bit {:x}", i, bit);
            }
        }
        for len in 0..ticket.len() {
            assert!(t.decrypt_at(NOW, &ticket[..len]).is_none(), "truncated to {}", len);
        }
        let mut longer = ticket.clone();
        longer.push(0);
        assert!(t.decrypt_at(NOW, &longer).is_none());
        // random bytes, also with a valid current slot in front
        let mut x: u64 = 0x1234_5678_9abc_def1;
        for round in 0..2000 {
            let len = (round * 7) % 300;
            let mut junk: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            if round % 2 == 0 && junk.len() >= 8 {
                junk[..8].copy_from_slice(&t.slot_at(NOW).to_be_bytes());
            }
            assert!(t.decrypt_at(NOW, &junk).is_none());
        }
        // an empty plaintext seals to a valid minimal ticket
        let empty = t.encrypt_at(NOW, b"").unwrap();
        assert_eq!(t.decrypt_at(NOW, &empty).unwrap(), b"");
    }

    #[test]
    fn key_cache_follows_the_clock() {
        let t = ticketer(&SECRET, b"ctx");
        let uncached = ticketer(&SECRET, b"ctx");
        let h = u64::from(HOUR);
        let cached_slot = |t: &rtls_ticketer| t.read_keys().as_ref().map(|k| k.slot);
        assert_eq!(cached_slot(&t), None);
        let ticket = t.encrypt_at(NOW, b"s").unwrap();
        assert_eq!(cached_slot(&t), Some(NOW / h));
        // next slot: a key the cache holds needs no change
        assert_eq!(t.decrypt_at(NOW + h, &ticket).unwrap(), b"s");
        assert_eq!(cached_slot(&t), Some(NOW / h));
        // a new ticket moves the cache on, the previous key comes along
        let next = t.encrypt_at(NOW + h, b"n").unwrap();
        assert_eq!(cached_slot(&t), Some(NOW / h + 1));
        assert_eq!(t.decrypt_at(NOW + h, &ticket).unwrap(), b"s");
        assert_eq!(t.decrypt_at(NOW + h, &next).unwrap(), b"n");
        assert_eq!(cached_slot(&t), Some(NOW / h + 1));
        // a clock that steps back is served without moving the cache back
        let old = t.encrypt_at(NOW - h, b"old").unwrap();
        assert_eq!(cached_slot(&t), Some(NOW / h + 1));
        assert_eq!(t.decrypt_at(NOW - h, &old).unwrap(), b"old");
        assert_eq!(uncached.decrypt_at(NOW, &old).unwrap(), b"old");
        assert_eq!(t.decrypt_at(NOW, &ticket).unwrap(), b"s");
        assert_eq!(cached_slot(&t), Some(NOW / h + 1));
        // a jump of many slots
        let far = NOW + 1000 * h;
        assert!(t.decrypt_at(far, &ticket).is_none());
        let ticket = t.encrypt_at(far, b"far").unwrap();
        assert_eq!(cached_slot(&t), Some(far / h));
        assert_eq!(uncached.decrypt_at(far + h, &ticket).unwrap(), b"far");
        // slot 0 has no previous key
        assert_eq!(t.decrypt_at(5, &uncached.encrypt_at(5, b"0").unwrap()).unwrap(), b"0");
        let fresh = ticketer(&SECRET, b"ctx");
        assert_eq!(fresh.decrypt_at(5, &uncached.encrypt_at(5, b"0").unwrap()).unwrap(), b"0");
        assert_eq!(cached_slot(&fresh), Some(0));
        // cached and freshly derived keys agree
        for now in [NOW, NOW + h, NOW + 5 * h] {
            let a = t.encrypt_at(now, b"x").unwrap();
            assert_eq!(ticketer(&SECRET, b"ctx").decrypt_at(now, &a).unwrap(), b"x");
        }
    }

    #[test]
    fn bad_parameters() {
        assert_eq!(rtls_ticketer::new(&[1u8; 31], b"", HOUR).err(), Some(RTLS_CONF_BAD_TICKET_KEY));
        assert_eq!(rtls_ticketer::new(&[], b"", HOUR).err(), Some(RTLS_CONF_BAD_TICKET_KEY));
        assert_eq!(rtls_ticketer::new(&SECRET, b"", 59).err(), Some(RTLS_CONF_BAD_TICKET_LIFETIME));
        assert_eq!(rtls_ticketer::new(&SECRET, b"", 0).err(), Some(RTLS_CONF_BAD_TICKET_LIFETIME));
        assert_eq!(rtls_ticketer::new(&SECRET, b"", 86401).err(), Some(RTLS_CONF_BAD_TICKET_LIFETIME));
        assert!(rtls_ticketer::new(&SECRET, b"", 60).is_ok());
        assert!(rtls_ticketer::new(&SECRET, b"", 86400).is_ok());
    }

    /// The numbers behind not caching keys (`cargo test --release --
    /// --ignored --nocapture derivation_cost`).
    #[test]
    #[ignore]
    fn derivation_cost() {
        let t = ticketer(&SECRET, b"ctx");
        let n = 200_000u32;
        let start = std::time::Instant::now();
        for i in 0..n {
            assert!(t.key(u64::from(i)).is_some());
        }
        let derive = start.elapsed() / n;
        let start = std::time::Instant::now();
        for _ in 0..n {
            assert!(t.with_key(1, 1, |_| ()).is_some());
        }
        let cached = start.elapsed() / n;
        let plain = [0u8; 200];
        let start = std::time::Instant::now();
        for _ in 0..n {
            assert!(t.encrypt_at(NOW, &plain).is_some());
        }
        let encrypt = start.elapsed() / n;
        let ticket = t.encrypt_at(NOW, &plain).unwrap();
        let start = std::time::Instant::now();
        for _ in 0..n {
            assert!(t.decrypt_at(NOW, &ticket).is_some());
        }
        let decrypt = start.elapsed() / n;
        println!("derive {:?}, cached key {:?}, encrypt {:?} and decrypt {:?} of 200 bytes", derive, cached,
                 encrypt, decrypt);
    }
}
