//! OCSP stapling per connection.
//!
//! The keys of a server configuration are shared and immutable; OCSP
//! responses change while the server runs (mod_md refreshes them). So a
//! response is not part of a configuration: C gives each connection, before
//! it binds (rtls_conn_accept), the current response of each key of the
//! configuration it will bind to (rtls_conn_set_ocsp). When rustls' resolver
//! picks a key during that handshake and the connection has a response for
//! it, the resolver presents a copy of the key carrying that response;
//! rustls staples it for clients that asked (status_request), TLS 1.2 and
//! 1.3 alike. Nothing is rebuilt and nothing is shared between connections.
//!
//! Ownership: rtls copies the response during the call; the connection owns
//! the copy and drops it when it is freed.

use std::sync::Arc;

use crate::connection::rtls_conn;
use crate::error::rtls_result::{self, *};
use crate::ffi::{guard, try_mut, try_slice};

/// Responses by key index (the configuration's key order); None: no staple.
pub(crate) type OcspSlots = Vec<Option<Vec<u8>>>;

/// Most key slots a connection takes (a configuration with more keys than
/// this staples only the first ones).
const MAX_OCSP_SLOTS: usize = 64;

/// Staple `der` (`der_len` bytes, a DER OCSPResponse as the responder sent
/// it; rtls does not parse it) for the key at `key_index` of the server
/// configuration this connection is about to bind to, in the order keys
/// were added to its builder. `der` is copied during the call. Calling again
/// for the same index replaces the response; `der_len` 0 removes it.
/// Call between RTLS_EVENT_HELLO and rtls_conn_accept; rustls sends the
/// response only to clients that asked for one.
/// A `key_index` of 64 or more is ignored (RTLS_OK, nothing stapled).
/// Errors: RTLS_INTERNAL_WRONG_STATE (no hello waiting: already bound, or a
/// client connection), RTLS_INTERNAL_NULL_ARGUMENT (`conn` NULL, or `der`
/// NULL with `der_len` > 0).
/// Phase: per connection (the hello).
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_set_ocsp(
    conn: *mut rtls_conn,
    key_index: usize,
    der: *const u8,
    der_len: usize,
) -> rtls_result {
    guard(|| {
        let c = try_mut!(conn);
        let der = try_slice!(der, der_len);
        if !c.awaits_accept() {
            return RTLS_INTERNAL_WRONG_STATE;
        }
        if key_index >= MAX_OCSP_SLOTS {
            return RTLS_OK;
        }
        let slots = Arc::make_mut(c.ocsp.get_or_insert_with(|| Arc::new(Vec::new())));
        if slots.len() <= key_index {
            slots.resize(key_index + 1, None);
        }
        slots[key_index] = if der.is_empty() { None } else { Some(der.to_vec()) };
        RTLS_OK
    })
}
