//! The rustls client configuration of the benchmark's Rust tools:
//!
//! - `hsload` (src/main.rs): the handshake load generator of bench/run.sh;
//! - `rtls-callgrind` (bench/callgrind): the in-process driver counted with callgrind.
//!
//! The client offers exactly one protocol version, one AEAD (for TLS 1.2 in its ECDSA and RSA
//! variants, so the server's certificate decides) and X25519 (plus P-256, see below), and accepts
//! any certificate: the benchmark measures servers, not certificate validation.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{
    ClientSessionStore, Resumption, Tls12ClientSessionValue, Tls12Resumption, Tls13ClientSessionValue,
};
use rustls::crypto::{ring, CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, NamedGroup, SignatureScheme, SupportedCipherSuite};

/// Takes any certificate, but checks the handshake signature made with its key, so the client
/// still does the public-key work of a real one.
#[derive(Debug)]
struct AcceptAnyCert {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// TLS 1.3 tickets kept per server: enough for every thread of a run to hold one (each
/// resumption brings at least one new ticket), while tickets of a restarted server age out.
const TLS13_TICKETS: usize = 64;

#[derive(Default)]
struct ServerSessions {
    kx_hint: Option<NamedGroup>,
    tls12: Option<Tls12ClientSessionValue>,
    /// Oldest first.
    tls13: VecDeque<Tls13ClientSessionValue>,
}

/// The session store of a resuming client: it always offers the newest session, so that
/// every reconnect resumes whenever the server allows it. A TLS 1.2 session (ticket or id) is
/// replaced by each handshake's and may be offered again and again; a TLS 1.3 ticket is used
/// once (as rustls requires of a store), newest first, so concurrent connections never offer
/// the same one. rustls' ClientSessionMemoryCache happens to behave so too, but does not
/// promise the order.
#[derive(Default)]
struct NewestSession {
    servers: Mutex<HashMap<ServerName<'static>, ServerSessions>>,
}

impl NewestSession {
    fn servers(&self) -> MutexGuard<'_, HashMap<ServerName<'static>, ServerSessions>> {
        // a thread that panicked holding the lock left the map consistent: every edit is one step
        self.servers.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl fmt::Debug for NewestSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // not the sessions: they hold key material
        f.debug_struct("NewestSession").finish_non_exhaustive()
    }
}

impl ClientSessionStore for NewestSession {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.servers().entry(server_name).or_default().kx_hint = Some(group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.servers().get(server_name).and_then(|s| s.kx_hint)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.servers().entry(server_name).or_default().tls12 = Some(value);
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.servers().get(server_name).and_then(|s| s.tls12.clone())
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        if let Some(s) = self.servers().get_mut(server_name) {
            s.tls12 = None;
        }
    }

    fn insert_tls13_ticket(&self, server_name: ServerName<'static>, value: Tls13ClientSessionValue) {
        let mut servers = self.servers();
        let tickets = &mut servers.entry(server_name).or_default().tls13;
        if tickets.len() >= TLS13_TICKETS {
            tickets.pop_front();
        }
        tickets.push_back(value);
    }

    fn take_tls13_ticket(&self, server_name: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        self.servers().get_mut(server_name).and_then(|s| s.tls13.pop_back())
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
    use rustls::crypto::ring::cipher_suite::*;
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
    let provider = CryptoProvider {
        cipher_suites: suites,
        // X25519 is used; P-256 is offered too because in TLS 1.2 the groups extension also
        // says which ECDSA certificates the client takes (OpenSSL refuses a P-256 one otherwise)
        kx_groups: vec![ring::kx_group::X25519, ring::kx_group::SECP256R1],
        ..ring::default_provider()
    };
    let verifier = AcceptAnyCert {
        algorithms: provider.signature_verification_algorithms,
    };
    let mut cfg = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[version])
        .map_err(|e| format!("client config: {}", e))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    cfg.resumption = match resume {
        Resume::Never => Resumption::disabled(),
        Resume::Tickets => Resumption::store(Arc::new(NewestSession::default())),
        Resume::SessionIds => {
            Resumption::store(Arc::new(NewestSession::default())).tls12_resumption(Tls12Resumption::SessionIdOnly)
        }
    };
    Ok(Arc::new(cfg))
}
