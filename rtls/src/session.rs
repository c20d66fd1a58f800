//! The stateful session store, reached through two C callbacks: mod_tls
//! implements them on Apache's socache, which all children (and, with a
//! networked provider, several servers) share. rustls stores TLS 1.2
//! sessions under their session id, and TLS 1.3 sessions under the ticket
//! id it gives the client when no ticketer is set; a TLS 1.3 session is
//! taken out as it is used (single use, RFC 8446 8.1).
//!
//! rustls calls the store from inside a handshake, on whichever thread is
//! driving the connection; the header states what that asks of C.

use std::os::raw::{c_int, c_void};

use rustls::server::StoresServerSessions;

/// Stores a session: 0 when stored (the non-NULL [`rtls_session_put_fn`]).
pub type PutFn =
    unsafe extern "C" fn(userdata: *mut c_void, key: *const u8, key_len: usize, value: *const u8, value_len: usize) -> c_int;

/// Looks a session up (and removes it when `remove` is non-zero): 0 when
/// found and copied into `buf` (the non-NULL [`rtls_session_get_fn`]).
pub type GetFn = unsafe extern "C" fn(
    userdata: *mut c_void,
    key: *const u8,
    key_len: usize,
    remove: c_int,
    buf: *mut u8,
    buf_len: usize,
    out_len: *mut usize,
) -> c_int;

// The C types spell the signatures out again: cbindgen cannot look through
// an alias inside Option (Option<PutFn> would become an opaque struct in
// rtls.h). They cannot drift apart: config.rs hands the unwrapped C
// callbacks to CallbackStore::new, which takes PutFn and GetFn.

/// The `put` callback of a session store (see
/// rtls_server_config_builder_set_session_store): store `value`
/// (`value_len` bytes, at most RTLS_SESSION_MAX_VALUE_LEN) under `key`
/// (`key_len` bytes, 1 to RTLS_SESSION_MAX_KEY_LEN), replacing an older
/// entry. Keys and values are binary and valid during the call only.
/// Return 0 when stored, non-zero otherwise (a failure only costs the
/// resumption).
/// Both callbacks run inside rtls_conn_accept and rtls_conn_process, on
/// whichever thread drives the connection, concurrently for many
/// connections: they must be thread-safe, must not call rtls functions for
/// the same connection, and should not block for long (a handshake waits).
pub type rtls_session_put_fn = Option<
    unsafe extern "C" fn(userdata: *mut c_void, key: *const u8, key_len: usize, value: *const u8, value_len: usize) -> c_int,
>;

/// The `get` callback of a session store (see
/// rtls_server_config_builder_set_session_store): look `key` up (`key_len`
/// bytes, 1 to RTLS_SESSION_MAX_KEY_LEN, binary). Return 0 when found with
/// value_len <= buf_len, after copying the value into `buf` and setting
/// `*out_len` = value_len; non-zero for a miss, an error, or a longer value
/// (buf_len is always RTLS_SESSION_MAX_VALUE_LEN). `remove` != 0: the entry
/// is single-use (a TLS 1.3 session): remove it as it is found, so that no
/// other get, concurrent or later, in this or another process, returns it
/// again. Key and buf are valid during the call only.
/// Runs like rtls_session_put_fn: inside rtls_conn_accept and
/// rtls_conn_process, on whichever thread drives the connection,
/// concurrently for many connections: thread-safe, not calling rtls
/// functions for the same connection, not blocking for long.
pub type rtls_session_get_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        key: *const u8,
        key_len: usize,
        remove: c_int,
        buf: *mut u8,
        buf_len: usize,
        out_len: *mut usize,
    ) -> c_int,
>;

/// Largest session key (RTLS_SESSION_MAX_KEY_LEN): keys are binary, 1 to
/// this many bytes, and other client-supplied ids are misses without a
/// call. rustls' keys are TLS 1.2 session ids (32 bytes) and the
/// 32-byte ids of TLS 1.3 stateful tickets; a TLS 1.3 lookup key comes
/// from the client and may be up to 64 KiB, so longer (or empty) keys are
/// misses without asking the store.
pub const MAX_KEY_LEN: usize = 64;

/// Largest session value rtls stores or reads back
/// (RTLS_SESSION_MAX_VALUE_LEN): values are binary, at most this many
/// bytes. rustls' session values are a few hundred bytes (more only with
/// client certificates, which they carry); a longer value is not stored,
/// and a lookup that would return one is a miss.
pub const MAX_VALUE_LEN: usize = 16 * 1024;

/// The C side's `userdata`. rtls.h makes it the caller's promise that the
/// callbacks may be called with it from any thread at any time while a
/// configuration using it lives.
struct Userdata(*mut c_void);

// SAFETY: see the contract above; rtls never dereferences the pointer.
unsafe impl Send for Userdata {}
unsafe impl Sync for Userdata {}

/// A [`StoresServerSessions`] that forwards to the C callbacks.
pub(crate) struct CallbackStore {
    put: PutFn,
    get: GetFn,
    userdata: Userdata,
}

impl CallbackStore {
    pub(crate) fn new(put: PutFn, get: GetFn, userdata: *mut c_void) -> CallbackStore {
        CallbackStore { put, get, userdata: Userdata(userdata) }
    }

    fn lookup(&self, key: &[u8], remove: bool) -> Option<Vec<u8>> {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return None;
        }
        let mut buf = vec![0u8; MAX_VALUE_LEN];
        let mut len = 0usize;
        // SAFETY: key and buf are valid for their lengths during the call;
        // the callback contract is in rtls.h.
        let rv = unsafe {
            (self.get)(self.userdata.0, key.as_ptr(), key.len(), remove as c_int, buf.as_mut_ptr(), buf.len(), &mut len)
        };
        if rv != 0 || len > buf.len() {
            return None;
        }
        buf.truncate(len);
        Some(buf)
    }
}

impl std::fmt::Debug for CallbackStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallbackStore")
    }
}

impl StoresServerSessions for CallbackStore {
    fn put(&self, key: Vec<u8>, value: Vec<u8>) -> bool {
        if key.is_empty() || key.len() > MAX_KEY_LEN || value.len() > MAX_VALUE_LEN {
            return false;
        }
        // SAFETY: both buffers are valid during the call.
        let rv = unsafe { (self.put)(self.userdata.0, key.as_ptr(), key.len(), value.as_ptr(), value.len()) };
        rv == 0
    }

    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.lookup(key, false)
    }

    fn take(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.lookup(key, true)
    }

    fn can_cache(&self) -> bool {
        // Whether a put will succeed only the store knows; a failed put
        // costs nothing but the resumption.
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Fake {
        map: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
        /// what get reports as the value length, instead of the real one
        claim_len: Option<usize>,
        calls: Mutex<Vec<(&'static str, usize, i32)>>,
    }

    unsafe extern "C" fn fake_put(ud: *mut c_void, k: *const u8, kl: usize, v: *const u8, vl: usize) -> c_int {
        let f = &*(ud as *const Fake);
        f.calls.lock().unwrap().push(("put", kl, 0));
        let k = std::slice::from_raw_parts(k, kl).to_vec();
        f.map.lock().unwrap().insert(k, std::slice::from_raw_parts(v, vl).to_vec());
        0
    }

    unsafe extern "C" fn fake_get(
        ud: *mut c_void,
        k: *const u8,
        kl: usize,
        remove: c_int,
        buf: *mut u8,
        bl: usize,
        out: *mut usize,
    ) -> c_int {
        let f = &*(ud as *const Fake);
        f.calls.lock().unwrap().push(("get", kl, remove));
        let k = std::slice::from_raw_parts(k, kl);
        let mut map = f.map.lock().unwrap();
        let v = match if remove != 0 { map.remove(k) } else { map.get(k).cloned() } {
            Some(v) => v,
            None => return 1,
        };
        if let Some(claim) = f.claim_len {
            *out = claim;
            return 0;
        }
        if v.len() > bl {
            return 1;
        }
        std::ptr::copy_nonoverlapping(v.as_ptr(), buf, v.len());
        *out = v.len();
        0
    }

    fn store(f: &Fake) -> CallbackStore {
        CallbackStore::new(fake_put, fake_get, f as *const Fake as *mut c_void)
    }

    #[test]
    fn put_get_take() {
        let f = Fake::default();
        let s = store(&f);
        assert!(s.can_cache());
        assert!(s.put(b"k1".to_vec(), b"v1".to_vec()));
        assert!(s.put(b"empty".to_vec(), Vec::new()));
        assert_eq!(s.get(b"k1").unwrap(), b"v1");
        assert_eq!(s.get(b"k1").unwrap(), b"v1");
        assert_eq!(s.get(b"empty").unwrap(), b"");
        assert_eq!(s.take(b"k1").unwrap(), b"v1");
        assert!(s.take(b"k1").is_none());
        assert!(s.get(b"k1").is_none());
        assert!(s.get(b"never").is_none());
        let calls = f.calls.lock().unwrap();
        let removes: Vec<i32> = calls.iter().filter(|c| c.0 == "get").map(|c| c.2).collect();
        assert_eq!(removes, vec![0, 0, 0, 1, 1, 0, 0]);
    }

    #[test]
    fn size_limits() {
        let f = Fake::default();
        let s = store(&f);
        let max_key = vec![1u8; MAX_KEY_LEN];
        assert!(s.put(max_key.clone(), vec![2u8; MAX_VALUE_LEN]));
        assert_eq!(s.get(&max_key).unwrap().len(), MAX_VALUE_LEN);
        // too big to store: the store is not even asked
        let before = f.calls.lock().unwrap().len();
        assert!(!s.put(b"k".to_vec(), vec![0u8; MAX_VALUE_LEN + 1]));
        assert!(!s.put(vec![0u8; MAX_KEY_LEN + 1], b"v".to_vec()));
        // a client-chosen long key is a miss without a call
        assert!(s.get(&[0u8; MAX_KEY_LEN + 1]).is_none());
        assert!(s.take(&vec![0u8; 65535]).is_none());
        assert!(s.get(b"").is_none());
        assert!(!s.put(Vec::new(), b"v".to_vec()));
        assert_eq!(f.calls.lock().unwrap().len(), before);
    }

    #[test]
    fn store_claiming_too_long_a_value_is_a_miss() {
        let f = Fake { claim_len: Some(MAX_VALUE_LEN + 1), ..Default::default() };
        let s = store(&f);
        assert!(s.put(b"k".to_vec(), b"v".to_vec()));
        assert!(s.get(b"k").is_none());
        let f = Fake { claim_len: Some(usize::MAX), ..Default::default() };
        let s = store(&f);
        assert!(s.put(b"k".to_vec(), b"v".to_vec()));
        assert!(s.get(b"k").is_none());
    }
}
