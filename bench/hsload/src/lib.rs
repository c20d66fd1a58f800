//! The rustls client configuration of the benchmark's Rust tools:
//!
//! - `hsload` (src/main.rs): the handshake load generator of bench/run.sh;
//! - `rtls-callgrind` (bench/callgrind): the in-process driver counted with callgrind.
//!
//! The client offers exactly one protocol version, one AEAD (for TLS 1.2 in its ECDSA and RSA
//! variants, so the server's certificate decides) and X25519 (plus P-256, see below), and accepts
//! any certificate: the benchmark measures servers, not certificate validation.

use std::sync::Arc;
use std::time::SystemTime;

use rustls::client::{ClientSessionMemoryCache, NoClientSessionStorage, ServerCertVerified, ServerCertVerifier};
use rustls::{Certificate, ClientConfig, ServerName, SupportedCipherSuite};

struct AcceptAnyCert;

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &Certificate,
        _intermediates: &[Certificate],
        _server_name: &ServerName,
        _scts: &mut dyn Iterator<Item = &[u8]>,
        _ocsp_response: &[u8],
        _now: SystemTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
}

/// How the client treats sessions.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Resume {
    /// Keeps no session: every handshake is a full one.
    Never,
    /// Keeps sessions and asks for tickets (TLS 1.3 always resumes by ticket).
    Tickets,
    /// Keeps sessions but sends no SessionTicket extension: TLS 1.2 resumes by session id.
    SessionIds,
}

impl Resume {
    pub fn parse(s: &str) -> Option<Resume> {
        match s {
            "never" | "none" => Some(Resume::Never),
            "tickets" => Some(Resume::Tickets),
            "ids" => Some(Resume::SessionIds),
            _ => None,
        }
    }
}

/// `tls` is 12 or 13; `aead` one of aes128gcm, aes256gcm, chacha20.
pub fn client_config(tls: u16, aead: &str, resume: Resume) -> Result<Arc<ClientConfig>, String> {
    use rustls::cipher_suite::*;
    let suites: Vec<SupportedCipherSuite> = match (tls, aead) {
        (13, "aes128gcm") => vec![TLS13_AES_128_GCM_SHA256],
        (13, "aes256gcm") => vec![TLS13_AES_256_GCM_SHA384],
        (13, "chacha20") => vec![TLS13_CHACHA20_POLY1305_SHA256],
        (12, "aes128gcm") => vec![
            TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ],
        (12, "aes256gcm") => vec![
            TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ],
        (12, "chacha20") => {
            vec![
                TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
                TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            ]
        }
        _ => return Err(format!("unsupported TLS version {} / suite {}", tls, aead)),
    };
    let version = if tls == 13 {
        &rustls::version::TLS13
    } else {
        &rustls::version::TLS12
    };
    let mut cfg = ClientConfig::builder()
        .with_cipher_suites(&suites)
        // X25519 is used; P-256 is offered too because in TLS 1.2 the groups extension also
        // says which ECDSA certificates the client takes (OpenSSL refuses a P-256 one otherwise)
        .with_kx_groups(&[&rustls::kx_group::X25519, &rustls::kx_group::SECP256R1])
        .with_protocol_versions(&[version])
        .map_err(|e| format!("client config: {}", e))?
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCert))
        .with_no_client_auth();
    match resume {
        Resume::Never => {
            cfg.session_storage = Arc::new(NoClientSessionStorage {});
            cfg.enable_tickets = false;
        }
        Resume::Tickets => {
            cfg.session_storage = ClientSessionMemoryCache::new(64);
            cfg.enable_tickets = true;
        }
        Resume::SessionIds => {
            cfg.session_storage = ClientSessionMemoryCache::new(64);
            cfg.enable_tickets = false;
        }
    }
    Ok(Arc::new(cfg))
}
