//! rtls: the thin C binding mod_tls uses to reach rustls.
//!
//! One module per object C sees (`certkey`, `config`, `connection`,
//! `session` stores, `ticket`ers, `x509` fields, per-connection `ocsp`
//! staples), one for
//! result codes (`error`) and one for the boundary helpers (`ffi`). The C
//! contract is `include/rtls.h`; every exported function catches panics and
//! returns an [`error::rtls_result`].
//!
//! `include/rtls.h` is generated from this crate by cbindgen (`make header`,
//! configured by `cbindgen.toml`): the doc comments of the exported functions,
//! types and constants are the C documentation, so they are written for C
//! readers (who owns what, what NULL means, which errors, in which phase
//! mod_tls calls a function). The rules that hold for every function are in
//! the preamble in `cbindgen.toml`. test/test_00_source.py checks that the
//! committed header is what cbindgen makes of the code.

#![allow(non_camel_case_types)]

mod ffi;

pub mod certkey;
pub mod client_auth;
pub mod client_config;
pub mod config;
pub mod connection;
mod context;
pub mod error;
pub mod ocsp;
pub mod session;
pub mod ticket;
pub mod x509;

use std::os::raw::c_char;

/// The version of rustls this crate is built against; a test checks it
/// against Cargo.lock.
pub const RUSTLS_VERSION: &str = "0.23.26";

const VERSION_TEXT: &[u8] = b"rtls/0.1.0/rustls/0.23.26\0";

/// "rtls/V/rustls/W", V being this crate's version and W rustls': static,
/// NUL-terminated, never NULL.
/// Phase: any time.
#[no_mangle]
pub extern "C" fn rtls_version() -> *const c_char {
    VERSION_TEXT.as_ptr() as *const c_char
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_text_matches_crate_and_lockfile() {
        let expect = format!("rtls/{}/rustls/{}\0", env!("CARGO_PKG_VERSION"), RUSTLS_VERSION);
        assert_eq!(VERSION_TEXT, expect.as_bytes());
        let lock = include_str!("../Cargo.lock");
        let rustls_entry = format!("name = \"rustls\"\nversion = \"{}\"", RUSTLS_VERSION);
        assert!(lock.contains(&rustls_entry), "Cargo.lock does not pin rustls {}", RUSTLS_VERSION);
    }
}
