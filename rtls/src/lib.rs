//! rtls: the thin C binding mod_tls uses to reach rustls.
//!
//! One module per object C sees (`certkey`, `config`, `connection`,
//! `session` stores, `ticket`ers, `x509` fields), one for
//! result codes (`error`) and one for the boundary helpers (`ffi`). The C
//! contract is `include/rtls.h`; every exported function catches panics and
//! returns an [`error::rtls_result`].

#![allow(non_camel_case_types)]

mod ffi;

pub mod certkey;
pub mod client_config;
pub mod config;
pub mod connection;
mod context;
pub mod error;
pub mod session;
pub mod ticket;
pub mod x509;

use std::os::raw::c_char;

/// The version of rustls this crate is built against; a test checks it
/// against Cargo.lock.
pub const RUSTLS_VERSION: &str = "0.23.26";

const VERSION_TEXT: &[u8] = b"rtls/0.1.0/rustls/0.23.26\0";

/// "rtls/<crate version>/rustls/<rustls version>", static, NUL-terminated.
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

    /// Every exported function is declared in the header, and the header
    /// declares nothing the crate lacks.
    #[test]
    fn header_declares_exactly_the_exports() {
        let sources = [
            include_str!("certkey.rs"),
            include_str!("client_config.rs"),
            include_str!("config.rs"),
            include_str!("connection.rs"),
            include_str!("error.rs"),
            include_str!("lib.rs"),
            include_str!("session.rs"),
            include_str!("ticket.rs"),
            include_str!("x509.rs"),
        ];
        let header = include_str!("../include/rtls.h");
        let marker = concat!("pub extern ", "\"C\" fn ");
        let mut exported = Vec::new();
        for src in sources.iter() {
            for part in src.split(marker).skip(1) {
                let name: String = part.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                exported.push(name);
            }
        }
        assert!(exported.len() > 20);
        for name in &exported {
            assert!(header.contains(&format!(" {}(", name)) || header.contains(&format!("*{}(", name)),
                    "rtls.h does not declare {}", name);
        }
        for word in header.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            if word.starts_with("rtls_") && header.contains(&format!("{}(", word)) && !word.ends_with("_fn") {
                assert!(exported.iter().any(|e| e == word), "rtls.h declares {} but the crate lacks it", word);
            }
        }
    }
}
