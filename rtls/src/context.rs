//! Per-thread record of what rustls decided inside a call we made on one
//! connection. rustls calls our resolver (and, later, session stores)
//! synchronously from `into_connection` / `process_new_packets` on the
//! calling thread, so a thread-local slot set before and read after the
//! call ties those decisions to the connection without any locking.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use crate::ocsp::OcspSlots;

thread_local! {
    static CHOSEN_KEY: Cell<Option<usize>> = const { Cell::new(None) };
    static TICKET_CURRENT: Cell<bool> = const { Cell::new(false) };
    static OCSP: RefCell<Option<Arc<OcspSlots>>> = const { RefCell::new(None) };
}

/// Forget any earlier choice; call before handing control to rustls.
pub(crate) fn reset() {
    CHOSEN_KEY.with(|c| c.set(None));
    TICKET_CURRENT.with(|c| c.set(false));
    OCSP.with(|o| o.borrow_mut().take());
}

/// The OCSP responses of the connection rustls is about to work on (see
/// ocsp.rs); call after [`reset`], before handing control to rustls.
pub(crate) fn set_ocsp(slots: Option<Arc<OcspSlots>>) {
    OCSP.with(|o| *o.borrow_mut() = slots);
}

/// The OCSP response the current connection has for key `index`, if any.
pub(crate) fn ocsp_for(index: usize) -> Option<Vec<u8>> {
    OCSP.with(|o| o.borrow().as_ref().and_then(|s| s.get(index).cloned().flatten()))
}

/// Called by the certificate resolver with the index it picked.
pub(crate) fn record_chosen_key(index: usize) {
    CHOSEN_KEY.with(|c| c.set(Some(index)));
}

/// The index picked since the last [`reset`], if the resolver ran.
pub(crate) fn take_chosen_key() -> Option<usize> {
    CHOSEN_KEY.with(|c| c.take())
}

/// Called by the ticketer when it opened a ticket made under the key of
/// the current time slot.
pub(crate) fn record_current_ticket() {
    TICKET_CURRENT.with(|c| c.set(true));
}

/// Whether, since the last [`reset`], a ticket of the current slot was
/// opened. rustls opens a TLS 1.2 ticket and seals its replacement while
/// handling the same ClientHello (one call of ours); a TLS 1.3 ticket is
/// opened with the ClientHello and new ones are sealed only when the
/// client's Finished arrives, always in a later call.
pub(crate) fn current_ticket_opened() -> bool {
    TICKET_CURRENT.with(|c| c.get())
}
