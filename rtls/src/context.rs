//! Per-thread record of what rustls decided inside a call we made on one
//! connection. rustls calls our resolver (and, later, session stores)
//! synchronously from `into_connection` / `process_new_packets` on the
//! calling thread, so a thread-local slot set before and read after the
//! call ties those decisions to the connection without any locking.

use std::cell::Cell;

thread_local! {
    static CHOSEN_KEY: Cell<Option<usize>> = Cell::new(None);
}

/// Forget any earlier choice; call before handing control to rustls.
pub(crate) fn reset() {
    CHOSEN_KEY.with(|c| c.set(None));
}

/// Called by the certificate resolver with the index it picked.
pub(crate) fn record_chosen_key(index: usize) {
    CHOSEN_KEY.with(|c| c.set(Some(index)));
}

/// The index picked since the last [`reset`], if the resolver ran.
pub(crate) fn take_chosen_key() -> Option<usize> {
    CHOSEN_KEY.with(|c| c.take())
}
