//! Result codes. Stable numbers in categories (thousands digit), so C can
//! choose an `apr_status_t` and a log level from the category alone:
//! 1xxx the peer or the protocol, 2xxx configuration, 3xxx I/O state,
//! 4xxx internal errors and misuse of the API.

use std::ffi::CStr;
use std::io;
use std::os::raw::c_char;

use rustls::Error;

/// Result codes: stable numbers. The thousands digit is the category
/// (RTLS_RESULT_CATEGORY(rv), one of RTLS_CATEGORY_*), so the caller picks
/// an `apr_status_t` and a log level from the category alone:
/// 1 = caused by the peer / the protocol (log at info or below),
/// 2 = configuration, 3 = I/O state (not errors as such), 4 = internal
/// errors and misuse of the API. rtls_result_text() describes each code.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum rtls_result {
    RTLS_OK = 0,

    RTLS_PEER_CORRUPT_MESSAGE = 1001,
    RTLS_PEER_UNEXPECTED_MESSAGE = 1002,
    RTLS_PEER_INCOMPATIBLE = 1003,
    RTLS_PEER_MISBEHAVED = 1004,
    RTLS_PEER_ALERT = 1005,
    RTLS_PEER_DECRYPT_ERROR = 1006,
    RTLS_PEER_BAD_CERTIFICATE = 1007,
    RTLS_PEER_NO_CERTIFICATE = 1008,
    RTLS_PEER_OVERSIZED_RECORD = 1009,
    RTLS_PEER_NO_APPLICATION_PROTOCOL = 1010,
    RTLS_PEER_BAD_SERVER_NAME = 1011,
    RTLS_PEER_REJECTED = 1012,
    RTLS_PEER_ERROR = 1099,

    RTLS_CONF_NO_CERTIFICATE = 2001,
    RTLS_CONF_BAD_CERTIFICATE = 2002,
    RTLS_CONF_NO_KEY = 2003,
    RTLS_CONF_BAD_KEY = 2004,
    RTLS_CONF_ENCRYPTED_KEY = 2005,
    RTLS_CONF_UNSUPPORTED_KEY = 2006,
    RTLS_CONF_KEY_MISMATCH = 2007,
    RTLS_CONF_NO_CIPHER_SUITES = 2008,
    RTLS_CONF_UNSUPPORTED_VERSION = 2009,
    RTLS_CONF_NO_CERTIFIED_KEY = 2010,
    RTLS_CONF_BAD_PEM = 2011,
    RTLS_CONF_BAD_DER = 2012,
    RTLS_CONF_BAD_TICKET_KEY = 2013,
    RTLS_CONF_BAD_TICKET_LIFETIME = 2014,
    RTLS_CONF_NO_TRUST_ANCHORS = 2015,
    RTLS_CONF_BAD_CRL = 2031,
    RTLS_CONF_NO_CLIENT_CA = 2032,
    RTLS_CONF_ERROR = 2099,

    RTLS_IO_WOULD_BLOCK = 3001,
    RTLS_IO_EOF = 3002,
    RTLS_IO_UNCLEAN_EOF = 3003,
    RTLS_IO_BUFFER_FULL = 3004,
    RTLS_IO_NOT_FOUND = 3005,
    RTLS_IO_CALLBACK_FAILED = 3006,
    RTLS_IO_ERROR = 3099,

    RTLS_INTERNAL_PANIC = 4001,
    RTLS_INTERNAL_NULL_ARGUMENT = 4002,
    RTLS_INTERNAL_WRONG_STATE = 4003,
    RTLS_INTERNAL_CRYPTO = 4004,
    RTLS_INTERNAL_ERROR = 4099,
}

use rtls_result::*;

impl rtls_result {
    /// Every code (for `from_u32` and the tests).
    pub const ALL: &'static [rtls_result] = &[
        RTLS_OK,
        RTLS_PEER_CORRUPT_MESSAGE,
        RTLS_PEER_UNEXPECTED_MESSAGE,
        RTLS_PEER_INCOMPATIBLE,
        RTLS_PEER_MISBEHAVED,
        RTLS_PEER_ALERT,
        RTLS_PEER_DECRYPT_ERROR,
        RTLS_PEER_BAD_CERTIFICATE,
        RTLS_PEER_NO_CERTIFICATE,
        RTLS_PEER_OVERSIZED_RECORD,
        RTLS_PEER_NO_APPLICATION_PROTOCOL,
        RTLS_PEER_BAD_SERVER_NAME,
        RTLS_PEER_REJECTED,
        RTLS_PEER_ERROR,
        RTLS_CONF_NO_CERTIFICATE,
        RTLS_CONF_BAD_CERTIFICATE,
        RTLS_CONF_NO_KEY,
        RTLS_CONF_BAD_KEY,
        RTLS_CONF_ENCRYPTED_KEY,
        RTLS_CONF_UNSUPPORTED_KEY,
        RTLS_CONF_KEY_MISMATCH,
        RTLS_CONF_NO_CIPHER_SUITES,
        RTLS_CONF_UNSUPPORTED_VERSION,
        RTLS_CONF_NO_CERTIFIED_KEY,
        RTLS_CONF_BAD_PEM,
        RTLS_CONF_BAD_DER,
        RTLS_CONF_BAD_TICKET_KEY,
        RTLS_CONF_BAD_TICKET_LIFETIME,
        RTLS_CONF_NO_TRUST_ANCHORS,
        RTLS_CONF_BAD_CRL,
        RTLS_CONF_NO_CLIENT_CA,
        RTLS_CONF_ERROR,
        RTLS_IO_WOULD_BLOCK,
        RTLS_IO_EOF,
        RTLS_IO_UNCLEAN_EOF,
        RTLS_IO_BUFFER_FULL,
        RTLS_IO_NOT_FOUND,
        RTLS_IO_CALLBACK_FAILED,
        RTLS_IO_ERROR,
        RTLS_INTERNAL_PANIC,
        RTLS_INTERNAL_NULL_ARGUMENT,
        RTLS_INTERNAL_WRONG_STATE,
        RTLS_INTERNAL_CRYPTO,
        RTLS_INTERNAL_ERROR,
    ];

    /// A NUL-terminated description; static storage.
    pub fn text(self) -> &'static CStr {
        let s: &'static [u8] = match self {
            RTLS_OK => b"success\0",
            RTLS_PEER_CORRUPT_MESSAGE => b"peer sent a malformed TLS message (not TLS?)\0",
            RTLS_PEER_UNEXPECTED_MESSAGE => b"peer sent an unexpected TLS message\0",
            RTLS_PEER_INCOMPATIBLE => b"peer shares no protocol version, cipher suite or signature scheme with us\0",
            RTLS_PEER_MISBEHAVED => b"peer violated the TLS protocol\0",
            RTLS_PEER_ALERT => b"peer sent a fatal alert\0",
            RTLS_PEER_DECRYPT_ERROR => b"a record from the peer failed to decrypt\0",
            RTLS_PEER_BAD_CERTIFICATE => b"peer certificate is invalid\0",
            RTLS_PEER_NO_CERTIFICATE => b"peer sent no certificate\0",
            RTLS_PEER_OVERSIZED_RECORD => b"peer sent an oversized record\0",
            RTLS_PEER_NO_APPLICATION_PROTOCOL => b"no common application protocol (ALPN)\0",
            RTLS_PEER_BAD_SERVER_NAME => b"peer sent an invalid server name (SNI)\0",
            RTLS_PEER_REJECTED => b"connection rejected before the handshake\0",
            RTLS_PEER_ERROR => b"TLS error caused by the peer\0",
            RTLS_CONF_NO_CERTIFICATE => b"no certificate found in PEM data\0",
            RTLS_CONF_BAD_CERTIFICATE => b"certificate cannot be parsed\0",
            RTLS_CONF_NO_KEY => b"no private key found in PEM data\0",
            RTLS_CONF_BAD_KEY => b"private key cannot be parsed\0",
            RTLS_CONF_ENCRYPTED_KEY => b"private key is encrypted; encrypted keys are not supported\0",
            RTLS_CONF_UNSUPPORTED_KEY => b"private key type is not supported (use RSA 2048-8192, ECDSA P-256/P-384 or Ed25519)\0",
            RTLS_CONF_KEY_MISMATCH => b"private key does not match the certificate\0",
            RTLS_CONF_NO_CIPHER_SUITES => b"no usable cipher suite for the enabled protocol versions\0",
            RTLS_CONF_UNSUPPORTED_VERSION => b"protocol version not supported\0",
            RTLS_CONF_NO_CERTIFIED_KEY => b"server configuration has no certificate\0",
            RTLS_CONF_BAD_PEM => b"PEM data is malformed\0",
            RTLS_CONF_BAD_DER => b"certificate DER is malformed or breaks RFC 5280\0",
            RTLS_CONF_BAD_TICKET_KEY => b"session ticket secret too short (at least 32 bytes)\0",
            RTLS_CONF_BAD_TICKET_LIFETIME => b"session ticket lifetime out of range (60 to 86400 seconds)\0",
            RTLS_CONF_NO_TRUST_ANCHORS => b"no trust anchors to verify servers with\0",
            RTLS_CONF_BAD_CRL => b"certificate revocation list (CRL) cannot be parsed or is not supported (rustls-webpki takes RFC 5280 version 2 CRLs with extensions, e.g. a CRL number; no delta or indirect CRLs)\0",
            RTLS_CONF_NO_CLIENT_CA => b"no CA certificates to verify clients with\0",
            RTLS_CONF_ERROR => b"configuration error\0",
            RTLS_IO_WOULD_BLOCK => b"no data available now\0",
            RTLS_IO_EOF => b"peer closed the connection (close_notify)\0",
            RTLS_IO_UNCLEAN_EOF => b"peer closed the connection without close_notify\0",
            RTLS_IO_BUFFER_FULL => b"buffer full, drain before adding more\0",
            RTLS_IO_NOT_FOUND => b"not found\0",
            RTLS_IO_CALLBACK_FAILED => b"I/O callback failed\0",
            RTLS_IO_ERROR => b"I/O error\0",
            RTLS_INTERNAL_PANIC => b"internal error: panic caught at the binding boundary\0",
            RTLS_INTERNAL_NULL_ARGUMENT => b"internal error: NULL argument\0",
            RTLS_INTERNAL_WRONG_STATE => b"internal error: call not valid in this state\0",
            RTLS_INTERNAL_CRYPTO => b"internal error: crypto failure (randomness, time or encryption)\0",
            RTLS_INTERNAL_ERROR => b"internal error\0",
        };
        // Every literal above ends in exactly one NUL.
        match CStr::from_bytes_with_nul(s) {
            Ok(c) => c,
            Err(_) => unreachable_text(),
        }
    }

    pub fn from_u32(v: u32) -> Option<rtls_result> {
        rtls_result::ALL.iter().copied().find(|r| *r as u32 == v)
    }
}

fn unreachable_text() -> &'static CStr {
    // SAFETY: literal with a single trailing NUL.
    unsafe { CStr::from_bytes_with_nul_unchecked(b"unknown result code\0") }
}

/// Map a rustls error to a result code (the detail text is kept apart).
pub(crate) fn map_rustls_error(e: &Error) -> rtls_result {
    match e {
        Error::InappropriateMessage { .. } | Error::InappropriateHandshakeMessage { .. } => {
            RTLS_PEER_UNEXPECTED_MESSAGE
        }
        Error::InvalidMessage(_) | Error::InvalidEncryptedClientHello(_) => RTLS_PEER_CORRUPT_MESSAGE,
        Error::NoCertificatesPresented => RTLS_PEER_NO_CERTIFICATE,
        Error::UnsupportedNameType => RTLS_PEER_BAD_SERVER_NAME,
        Error::DecryptError => RTLS_PEER_DECRYPT_ERROR,
        Error::PeerIncompatible(_) => RTLS_PEER_INCOMPATIBLE,
        Error::PeerMisbehaved(_) => RTLS_PEER_MISBEHAVED,
        Error::AlertReceived(_) => RTLS_PEER_ALERT,
        Error::InvalidCertificate(_) | Error::InvalidCertRevocationList(_) => RTLS_PEER_BAD_CERTIFICATE,
        Error::PeerSentOversizedRecord => RTLS_PEER_OVERSIZED_RECORD,
        Error::NoApplicationProtocol => RTLS_PEER_NO_APPLICATION_PROTOCOL,
        Error::General(_) => RTLS_PEER_ERROR,
        Error::EncryptError | Error::FailedToGetCurrentTime | Error::FailedToGetRandomBytes => {
            RTLS_INTERNAL_CRYPTO
        }
        Error::HandshakeNotComplete => RTLS_INTERNAL_WRONG_STATE,
        Error::BadMaxFragmentSize => RTLS_CONF_ERROR,
        Error::InconsistentKeys(_) => RTLS_CONF_KEY_MISMATCH,
        // rustls' Error is non-exhaustive; `Other` comes from a crypto
        // provider or a callback of ours.
        _ => RTLS_INTERNAL_ERROR,
    }
}

/// Map an I/O error from `read_tls` to a result code.
pub(crate) fn map_io_error(e: &io::Error) -> rtls_result {
    match e.kind() {
        io::ErrorKind::WouldBlock => RTLS_IO_WOULD_BLOCK,
        io::ErrorKind::UnexpectedEof => RTLS_IO_UNCLEAN_EOF,
        // rustls refuses input while too much plaintext is unread.
        io::ErrorKind::Other => RTLS_IO_BUFFER_FULL,
        _ => RTLS_IO_ERROR,
    }
}

/// A short English description of a result code (an rtls_result, passed as
/// an unsigned number): static, NUL-terminated, never NULL; "unknown result
/// code" for a number that is not one.
/// Phase: any time.
#[no_mangle]
pub extern "C" fn rtls_result_text(rv: u32) -> *const c_char {
    crate::ffi::guard_value(unreachable_text().as_ptr(), || {
        match rtls_result::from_u32(rv) {
            Some(r) => r.text().as_ptr(),
            None => unreachable_text().as_ptr(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_text_and_category() {
        for r in rtls_result::ALL {
            let t = r.text().to_str().unwrap();
            assert!(!t.is_empty());
            assert_ne!(t, "unknown result code");
            let cat = *r as u32 / 1000;
            assert!(cat <= 4, "{:?}", r);
        }
        let p = rtls_result_text(12345);
        let s = unsafe { CStr::from_ptr(p) }.to_str().unwrap();
        assert_eq!(s, "unknown result code");
    }
}
