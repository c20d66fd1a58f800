//! `rtls_conn`: one TLS connection, from the first ClientHello byte to
//! close_notify.
//!
//! A server connection starts in the *accepting* phase (rustls' `Acceptor`):
//! TLS bytes are fed until the ClientHello is complete. C then looks at the
//! hello (SNI, ALPN), picks the virtual host, and binds the connection to
//! that host's configuration with [`rtls_conn_accept`]; from then on it is a
//! normal rustls connection. If C refuses the hello, or binding fails, a
//! fatal alert is queued so the peer learns why.

use std::io::{self, Read, Write};
use std::os::raw::{c_char, c_void};
use std::sync::Arc;

use pki_types::ServerName;
use rustls::server::{Accepted, AcceptedAlert, Acceptor};
use rustls::{ClientConnection, Connection, Error, HandshakeKind};

use crate::client_config::{parse_alpn_wire, rtls_client_config};
use crate::config::rtls_server_config;
use crate::context;
use crate::error::rtls_result::{self, *};
use crate::error::{map_io_error, map_rustls_error};
use crate::ffi::{guard, set_out, slice_out, try_mut, try_ref, try_slice};

/// What one rtls_conn_process step changed, as bits of `*out_events`; each
/// is reported once, by the step in which it happened.
/// RTLS_EVENT_HELLO: a complete ClientHello waits for rtls_conn_accept or
/// rtls_conn_reject.
pub const RTLS_EVENT_HELLO: u32 = 1;
/// RTLS_EVENT_HANDSHAKE_DONE: the handshake completed.
pub const RTLS_EVENT_HANDSHAKE_DONE: u32 = 2;
/// RTLS_EVENT_PEER_CLOSED: the peer's close_notify arrived: no more
/// plaintext will follow what is readable now.
pub const RTLS_EVENT_PEER_CLOSED: u32 = 4;

enum Phase {
    Accepting(Acceptor),
    Hello(Box<Accepted>),
    Active(Connection),
    Failed,
}

/// One TLS connection, server or client, from the first ClientHello byte to
/// close_notify (opaque). Not thread-safe: one thread at a time may call
/// functions on a connection (httpd gives a connection to one thread at a
/// time); the connections of one configuration may run on any threads.
///
/// A server connection (rtls_conn_server_new) starts in the accepting
/// phase: TLS bytes are fed (rtls_conn_read_tls, rtls_conn_process) until
/// the ClientHello is complete (RTLS_EVENT_HELLO). C then looks at the hello
/// (rtls_conn_server_name, rtls_conn_hello_alpn), picks the virtual host,
/// and binds the connection to that host's configuration with
/// rtls_conn_accept; from then on it is a normal rustls connection. If C
/// refuses the hello (rtls_conn_reject), or binding fails, a fatal alert is
/// queued so the peer learns why. A client connection (rtls_conn_client_new)
/// is bound from the start and speaks first.
///
/// The byte pump, the same for both: feed what the peer sent with
/// rtls_conn_read_tls, run rtls_conn_process, take plaintext with
/// rtls_conn_read, give plaintext with rtls_conn_write, and send whatever
/// rtls_conn_write_tls hands over whenever rtls_conn_wants_write says so.
pub struct rtls_conn {
    phase: Phase,
    /// TLS bytes to send that no rustls connection holds: the alert of an
    /// Acceptor or an Accepted that failed, or of our own refusal.
    pending: Vec<u8>,
    server_name: Option<Vec<u8>>,
    chosen_key: Option<usize>,
    last_error: String,
    poisoned: bool,
    handshake_reported: bool,
    close_reported: bool,
    /// Where the ClientHello ends in its records (accepting phase only).
    framing: HelloFraming,
    /// OCSP responses per key index of the configuration to bind to
    /// (rtls_conn_set_ocsp); handed to the resolver while handshaking.
    pub(crate) ocsp: Option<std::sync::Arc<crate::ocsp::OcspSlots>>,
}

/// Follows the record framing of what the client sends until its
/// ClientHello is complete, to see whether more handshake data shares the
/// ClientHello's last record. RFC 8446 5.1: handshake messages that
/// precede a key change must end at a record boundary, and the ClientHello
/// does (the server's keys follow it); a peer that appends its Finished
/// or anything else is refused with unexpected_message, as OpenSSL does.
/// rustls 0.23 refuses only a message left partial there. In TLS 1.2 the
/// client has nothing to send after its hello before the server answers,
/// so the same rule holds.
#[derive(Default)]
struct HelloFraming {
    hdr: [u8; 5],
    hdr_len: usize,
    /// payload bytes of the current record still to come
    rec_left: usize,
    rec_is_handshake: bool,
    /// handshake bytes seen, and the first four (the message header)
    hs_seen: usize,
    hs_hdr: [u8; 4],
    /// the ClientHello's whole length (header included), once known
    hello_len: Option<usize>,
    /// the record holding the hello's last byte has ended
    done: bool,
    misaligned: bool,
}

impl HelloFraming {
    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() && !self.done {
            if self.rec_left == 0 {
                self.hdr[self.hdr_len] = data[0];
                self.hdr_len += 1;
                data = &data[1..];
                if self.hdr_len == self.hdr.len() {
                    self.rec_left = ((self.hdr[3] as usize) << 8) | self.hdr[4] as usize;
                    self.rec_is_handshake = self.hdr[0] == 22;
                    self.hdr_len = 0;
                }
                continue;
            }
            let n = self.rec_left.min(data.len());
            if self.rec_is_handshake {
                for (i, b) in data[..n].iter().enumerate() {
                    if self.hs_seen + i < 4 {
                        self.hs_hdr[self.hs_seen + i] = *b;
                    }
                }
                self.hs_seen += n;
                if self.hello_len.is_none() && self.hs_seen >= 4 {
                    let h = &self.hs_hdr;
                    self.hello_len = Some(4 + ((h[1] as usize) << 16 | (h[2] as usize) << 8 | h[3] as usize));
                }
            }
            self.rec_left -= n;
            data = &data[n..];
            if self.rec_left == 0 && self.rec_is_handshake {
                if let Some(len) = self.hello_len {
                    if self.hs_seen >= len {
                        self.done = true;
                        self.misaligned = self.hs_seen > len;
                    }
                }
            }
        }
    }
}

/// How many records one `process` call takes while accepting (rustls'
/// `Acceptor::accept` takes one per call): more than a ClientHello is
/// split into in practice; the rest waits for the next call.
const ACCEPT_RECORDS_MAX: usize = 64;

/// `Acceptor::accept` over the records fed so far (up to ACCEPT_RECORDS_MAX).
fn accept_fed(acc: &mut Acceptor) -> Result<Option<Accepted>, (Error, AcceptedAlert)> {
    for _ in 0..ACCEPT_RECORDS_MAX {
        if let Some(accepted) = acc.accept()? {
            return Ok(Some(accepted));
        }
    }
    Ok(None)
}

/// A fatal alert in a plaintext record, for refusals rustls has no call
/// for (an unknown server name is the virtual host choice's business, not
/// rustls'; a ClientHello not on a record boundary, see HelloFraming).
/// Before the server's first flight alerts are never encrypted.
fn alert_record(description: u8) -> [u8; 7] {
    [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, description]
}

const ALERT_UNEXPECTED_MESSAGE: u8 = 10;

impl rtls_conn {
    fn new_server() -> rtls_conn {
        rtls_conn::with_phase(Phase::Accepting(Acceptor::default()))
    }

    fn with_phase(phase: Phase) -> rtls_conn {
        rtls_conn {
            phase,
            pending: Vec::new(),
            server_name: None,
            chosen_key: None,
            last_error: String::new(),
            poisoned: false,
            handshake_reported: false,
            close_reported: false,
            framing: HelloFraming::default(),
            ocsp: None,
        }
    }

    fn fail(&mut self, e: &Error) -> rtls_result {
        self.last_error = e.to_string();
        map_rustls_error(e)
    }

    /// rustls failed before a connection existed: keep the alert it made.
    fn fail_accepting(&mut self, e: &Error, mut alert: AcceptedAlert) -> rtls_result {
        // Writing into a Vec cannot fail.
        let _ = alert.write_all(&mut self.pending);
        self.phase = Phase::Failed;
        self.fail(e)
    }

    fn note_chosen_key(&mut self) {
        context::set_ocsp(None);
        if let Some(i) = context::take_chosen_key() {
            self.chosen_key = Some(i);
        }
    }

    fn read_tls(&mut self, data: &[u8]) -> Result<usize, rtls_result> {
        let mut rd = data;
        let res = match &mut self.phase {
            Phase::Accepting(acc) => {
                let res = acc.read_tls(&mut rd);
                if let Ok(n) = res {
                    self.framing.feed(&data[..n]);
                }
                res
            }
            Phase::Active(conn) => conn.read_tls(&mut rd),
            Phase::Hello(_) | Phase::Failed => return Err(RTLS_INTERNAL_WRONG_STATE),
        };
        res.map_err(|e| map_io_error(&e))
    }

    fn process(&mut self, out_plain: &mut usize, out_tls: &mut usize, events: &mut u32) -> rtls_result {
        *out_plain = 0;
        *out_tls = self.pending.len();
        match &mut self.phase {
            Phase::Accepting(acc) => match accept_fed(acc) {
                Ok(None) => RTLS_OK,
                Ok(Some(_)) if self.framing.misaligned => {
                    self.pending.extend_from_slice(&alert_record(ALERT_UNEXPECTED_MESSAGE));
                    self.phase = Phase::Failed;
                    self.last_error = String::from(
                        "the ClientHello's record goes on with more handshake data (RFC 8446 5.1: \
                         not on a record boundary)",
                    );
                    *out_tls = self.pending.len();
                    RTLS_PEER_UNEXPECTED_MESSAGE
                }
                Ok(Some(accepted)) => {
                    self.server_name = accepted.client_hello().server_name().map(|s| s.as_bytes().to_vec());
                    self.phase = Phase::Hello(Box::new(accepted));
                    *events |= RTLS_EVENT_HELLO;
                    RTLS_OK
                }
                Err((e, alert)) => {
                    let rv = self.fail_accepting(&e, alert);
                    *out_tls = self.pending.len();
                    rv
                }
            },
            Phase::Active(conn) => {
                context::reset();
                // A HelloRetryRequest makes rustls pick the key on the second
                // ClientHello, here rather than in accept.
                if conn.is_handshaking() {
                    context::set_ocsp(self.ocsp.clone());
                }
                let res = conn.process_new_packets();
                let handshaking = conn.is_handshaking();
                self.note_chosen_key();
                match res {
                    Ok(st) => {
                        *out_plain = st.plaintext_bytes_to_read();
                        *out_tls += st.tls_bytes_to_write();
                        if !handshaking && !self.handshake_reported {
                            self.handshake_reported = true;
                            *events |= RTLS_EVENT_HANDSHAKE_DONE;
                        }
                        if st.peer_has_closed() && !self.close_reported {
                            self.close_reported = true;
                            *events |= RTLS_EVENT_PEER_CLOSED;
                        }
                        RTLS_OK
                    }
                    // rustls queued the alert itself; it is still sendable.
                    Err(e) => self.fail(&e),
                }
            }
            Phase::Hello(_) => RTLS_OK,
            Phase::Failed => RTLS_INTERNAL_WRONG_STATE,
        }
    }

    fn accept(&mut self, cfg: &rtls_server_config, alpn: Option<&[u8]>) -> rtls_result {
        let accepted = match std::mem::replace(&mut self.phase, Phase::Failed) {
            Phase::Hello(a) => a,
            other => {
                self.phase = other;
                return RTLS_INTERNAL_WRONG_STATE;
            }
        };
        context::reset();
        context::set_ocsp(self.ocsp.clone());
        let res = accepted.into_connection(cfg.for_alpn(alpn));
        self.note_chosen_key();
        match res {
            Ok(conn) => {
                self.phase = Phase::Active(Connection::Server(conn));
                RTLS_OK
            }
            Err((e, alert)) => self.fail_accepting(&e, alert),
        }
    }

    /// A ClientHello waits for rtls_conn_accept (and the connection is usable).
    pub(crate) fn awaits_accept(&self) -> bool {
        !self.poisoned && matches!(self.phase, Phase::Hello(_))
    }

    fn session_resumed(&self) -> bool {
        // rustls knows it from the ServerHello on (TLS 1.3 after a
        // HelloRetryRequest: from the second ClientHello).
        self.active().and_then(|c| c.handshake_kind()) == Some(HandshakeKind::Resumed)
    }

    fn active(&self) -> Option<&Connection> {
        match &self.phase {
            Phase::Active(c) => Some(c),
            _ => None,
        }
    }

    fn active_mut(&mut self) -> Option<&mut Connection> {
        match &mut self.phase {
            Phase::Active(c) => Some(c),
            _ => None,
        }
    }
}

/// Run `f` on the connection behind `conn`; a panic marks the connection
/// unusable so later calls fail instead of touching broken state.
fn with_conn<F>(conn: *mut rtls_conn, f: F) -> rtls_result
where
    F: FnOnce(&mut rtls_conn) -> rtls_result,
{
    let rv = guard(|| {
        let c = try_mut!(conn);
        if c.poisoned {
            return RTLS_INTERNAL_PANIC;
        }
        f(c)
    });
    if rv == RTLS_INTERNAL_PANIC {
        if let Some(c) = unsafe { conn.as_mut() } {
            c.poisoned = true;
        }
    }
    rv
}

/// A server connection waiting for the ClientHello. On success `*out` is a
/// new connection owned by the caller: free it with rtls_conn_free.
/// Errors: RTLS_INTERNAL_NULL_ARGUMENT (`out` NULL).
/// Phase: per connection.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_server_new(out: *mut *mut rtls_conn) -> rtls_result {
    guard(|| {
        if out.is_null() {
            return RTLS_INTERNAL_NULL_ARGUMENT;
        }
        unsafe { set_out(out, Box::into_raw(Box::new(rtls_conn::new_server()))) };
        RTLS_OK
    })
}

/// A client connection with `config` to `server_name` (`server_name_len`
/// bytes of a DNS name or an IP address in text form, read during the
/// call), offering the ALPN protocols of `alpn_wire` (`alpn_len` bytes: each
/// name preceded by its length byte, e.g. "\x02h2\x08http/1.1"; NULL or
/// empty for none). SNI is sent for a DNS name, never for an IP address; the
/// server's certificate must be valid for the name or address. The
/// ClientHello is ready at once (rtls_conn_wants_write, rtls_conn_write_tls):
/// the client speaks first. The connection keeps its own reference to the
/// configuration. On success `*out` is a new connection owned by the
/// caller: free it with rtls_conn_free.
/// Errors: RTLS_PEER_BAD_SERVER_NAME (not a valid DNS name or IP address; it
/// is the name given for the server, hence the peer category),
/// RTLS_CONF_ERROR (a malformed ALPN list), 4xxx (e.g.
/// RTLS_INTERNAL_NULL_ARGUMENT: `config` or `out` NULL).
/// Phase: per connection (mod_tls: per connection to a backend).
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_client_new(
    config: *const rtls_client_config,
    server_name: *const u8,
    server_name_len: usize,
    alpn_wire: *const u8,
    alpn_len: usize,
    out: *mut *mut rtls_conn,
) -> rtls_result {
    guard(|| {
        let cfg = try_ref!(config);
        let name = try_slice!(server_name, server_name_len);
        let alpn = try_slice!(alpn_wire, alpn_len);
        if out.is_null() {
            return RTLS_INTERNAL_NULL_ARGUMENT;
        }
        let name = match std::str::from_utf8(name).ok().and_then(|n| ServerName::try_from(n.to_string()).ok()) {
            Some(n) => n,
            None => return RTLS_PEER_BAD_SERVER_NAME,
        };
        let alpn = match parse_alpn_wire(alpn) {
            Some(a) => a,
            None => return RTLS_CONF_ERROR,
        };
        // the SNI sent: a DNS name, as given (rustls sends it in lower case)
        let sni = match &name {
            ServerName::DnsName(d) => Some(d.as_ref().to_ascii_lowercase().into_bytes()),
            _ => None,
        };
        let conn = match ClientConnection::new(cfg.for_alpn(alpn), name) {
            Ok(c) => c,
            Err(e) => return map_rustls_error(&e),
        };
        let mut c = rtls_conn::with_phase(Phase::Active(Connection::Client(conn)));
        c.server_name = sni;
        unsafe { set_out(out, Box::into_raw(Box::new(c))) };
        RTLS_OK
    })
}

/// Free a connection, server or client; NULL is ignored.
/// Phase: per connection.
#[no_mangle]
pub extern "C" fn rtls_conn_free(conn: *mut rtls_conn) {
    // SAFETY: conn is NULL or came from Box::into_raw in rtls_conn_server_new
    // or rtls_conn_client_new.
    unsafe { crate::ffi::free_box(conn) }
}

/// Feed TLS bytes from the peer; `*out_n` = bytes taken, possibly fewer than
/// `len`: then process (rtls_conn_process), drain plaintext (rtls_conn_read),
/// and feed the rest.
/// Errors: RTLS_IO_BUFFER_FULL (read plaintext first),
/// RTLS_INTERNAL_WRONG_STATE (hello pending, or the connection failed),
/// RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: per connection.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_read_tls(conn: *mut rtls_conn, buf: *const u8, len: usize, out_n: *mut usize) -> rtls_result {
    with_conn(conn, |c| {
        let data = try_slice!(buf, len);
        if data.is_empty() {
            unsafe { set_out(out_n, 0) };
            return RTLS_OK;
        }
        match c.read_tls(data) {
            Ok(n) => {
                unsafe { set_out(out_n, n) };
                RTLS_OK
            }
            Err(rv) => rv,
        }
    })
}

/// The peer's TCP stream ended: no more TLS bytes will come. Afterwards
/// rtls_conn_read reports RTLS_IO_UNCLEAN_EOF unless a close_notify arrived
/// first. While a hello is pending, or after the connection failed, this
/// does nothing and returns RTLS_OK.
/// Errors: RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: per connection.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_read_tls_eof(conn: *mut rtls_conn) -> rtls_result {
    with_conn(conn, |c| match c.read_tls(&[]) {
        Ok(_) => RTLS_OK,
        Err(RTLS_INTERNAL_WRONG_STATE) => RTLS_OK,
        Err(rv) => rv,
    })
}

/// Process what was fed: notice the ClientHello while accepting (up to 64
/// records per call; see rtls_conn_has_hello), then drive the handshake and
/// decrypt. `*out_plaintext` = plaintext bytes readable now (rtls_conn_read),
/// `*out_tls` = TLS bytes waiting to be sent (rtls_conn_write_tls),
/// `*out_events` = RTLS_EVENT_* bits (any may be NULL). Unlike other
/// functions it writes them when processing fails too (plaintext 0, no
/// events). On a 1xxx error, rtls_conn_error_text() has the detail and an
/// alert for the peer may wait in rtls_conn_write_tls().
/// Errors: 1xxx (the peer), RTLS_INTERNAL_CRYPTO, RTLS_INTERNAL_WRONG_STATE
/// (the connection failed before), RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: per connection.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_process(
    conn: *mut rtls_conn,
    out_plaintext: *mut usize,
    out_tls: *mut usize,
    out_events: *mut u32,
) -> rtls_result {
    with_conn(conn, |c| {
        let (mut plain, mut tls, mut events) = (0usize, 0usize, 0u32);
        let rv = c.process(&mut plain, &mut tls, &mut events);
        unsafe {
            set_out(out_plaintext, plain);
            set_out(out_tls, tls);
            set_out(out_events, events);
        }
        rv
    })
}

/// True once a complete ClientHello waits for rtls_conn_accept/_reject;
/// false for NULL.
/// Phase: per connection.
#[no_mangle]
pub extern "C" fn rtls_conn_has_hello(conn: *const rtls_conn) -> bool {
    crate::ffi::guard_value(false, || matches!(unsafe { conn.as_ref() }, Some(rtls_conn { phase: Phase::Hello(_), .. })))
}

/// SNI host name (lower case, not NUL-terminated) in `*out`, `*out_len`: of
/// a server connection, the one in the client's hello (from the hello on);
/// of a client connection, the one it sends (from its creation). Valid
/// until the connection is freed.
/// Errors: RTLS_IO_NOT_FOUND if none was sent (a client connection to an
/// IP address), RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: per connection.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_server_name(conn: *const rtls_conn, out: *mut *const u8, out_len: *mut usize) -> rtls_result {
    guard(|| {
        let c = try_ref!(conn);
        match &c.server_name {
            Some(n) => {
                unsafe {
                    set_out(out, n.as_ptr());
                    set_out(out_len, n.len());
                }
                RTLS_OK
            }
            None => RTLS_IO_NOT_FOUND,
        }
    })
}

/// ALPN protocol `index` the client offered, in its order, in `*out`,
/// `*out_len`; the bytes belong to the connection and are valid until
/// rtls_conn_accept/_reject.
/// Errors: RTLS_IO_NOT_FOUND past the end or without ALPN,
/// RTLS_INTERNAL_WRONG_STATE when no hello is pending,
/// RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: per connection.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_hello_alpn(conn: *const rtls_conn, index: usize, out: *mut *const u8, out_len: *mut usize) -> rtls_result {
    guard(|| {
        let c = try_ref!(conn);
        let accepted = match &c.phase {
            Phase::Hello(a) => a,
            _ => return RTLS_INTERNAL_WRONG_STATE,
        };
        let hello = accepted.client_hello();
        let proto = match hello.alpn().and_then(|mut it| it.nth(index)) {
            Some(p) => p,
            None => return RTLS_IO_NOT_FOUND,
        };
        unsafe {
            set_out(out, proto.as_ptr());
            set_out(out_len, proto.len());
        }
        RTLS_OK
    })
}

/// Bind to `config` and continue the handshake, answering ALPN with exactly
/// `alpn` (`alpn_len` bytes, one of the protocols the client offered; NULL:
/// no ALPN answer). The connection keeps its own reference to `config`. On
/// error (1xxx: nothing in common with the client) an alert waits in
/// rtls_conn_write_tls and the connection is done: unusable except for
/// rtls_conn_write_tls.
/// Errors: 1xxx, RTLS_INTERNAL_WRONG_STATE (no hello pending),
/// RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: per connection.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_accept(conn: *mut rtls_conn, config: *const rtls_server_config, alpn: *const u8, alpn_len: usize) -> rtls_result {
    with_conn(conn, |c| {
        let cfg = try_ref!(config);
        let alpn = if alpn.is_null() { None } else { Some(try_slice!(alpn, alpn_len)) };
        c.accept(cfg, alpn)
    })
}

/// Refuse the hello with a fatal alert (`description`: RTLS_ALERT_*, or any
/// TLS alert description) to send next with rtls_conn_write_tls. The
/// connection is unusable afterwards.
/// Errors: RTLS_INTERNAL_WRONG_STATE (past the hello, or a client
/// connection), RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: per connection.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_reject(conn: *mut rtls_conn, description: u8) -> rtls_result {
    with_conn(conn, |c| match c.phase {
        Phase::Hello(_) | Phase::Accepting(_) => {
            c.pending.extend_from_slice(&alert_record(description));
            c.phase = Phase::Failed;
            c.last_error = String::from("rejected by the server before the handshake");
            RTLS_OK
        }
        _ => RTLS_INTERNAL_WRONG_STATE,
    })
}

/// Receives TLS bytes to send (rtls_conn_write_tls); copy them (`buf` is
/// valid during the call only) and return 0 when all `len` bytes were
/// taken, or non-zero on failure (then it took nothing of `buf`). It must
/// not call into the same connection.
pub type rtls_write_fn = Option<unsafe extern "C" fn(userdata: *mut c_void, buf: *const u8, len: usize) -> i32>;

struct CallbackWriter {
    cb: unsafe extern "C" fn(*mut c_void, *const u8, usize) -> i32,
    userdata: *mut c_void,
}

impl Write for CallbackWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // SAFETY: the callback contract above; buf is valid for the call.
        match unsafe { (self.cb)(self.userdata, buf.as_ptr(), buf.len()) } {
            0 => Ok(buf.len()),
            _ => Err(io::Error::new(io::ErrorKind::Other, "write callback failed")),
        }
    }

    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let mut n = 0;
        for b in bufs {
            match self.write(b) {
                Ok(k) => n += k,
                // what the callback took so far counts as written: rustls
                // would otherwise hand those records over again
                Err(_) if n > 0 => return Ok(n),
                Err(e) => return Err(e),
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Hand all pending TLS bytes to `cb` (called once per TLS record, or more),
/// in order, with `userdata`; `*out_n` = total.
/// Errors: RTLS_IO_CALLBACK_FAILED: `*out_n` = what `cb` took before it
/// failed (written on this failure too); that is not handed over again, the
/// rest is. RTLS_INTERNAL_NULL_ARGUMENT (`conn` or `cb` NULL).
/// Phase: per connection.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_write_tls(conn: *mut rtls_conn, cb: rtls_write_fn, userdata: *mut c_void, out_n: *mut usize) -> rtls_result {
    with_conn(conn, |c| {
        let cb = match cb {
            Some(cb) => cb,
            None => return RTLS_INTERNAL_NULL_ARGUMENT,
        };
        let mut wr = CallbackWriter { cb, userdata };
        let mut total = 0usize;
        if !c.pending.is_empty() {
            let pending = std::mem::take(&mut c.pending);
            if wr.write(&pending).is_err() {
                c.pending = pending; // not taken: handed over next time
                unsafe { set_out(out_n, 0) };
                return RTLS_IO_CALLBACK_FAILED;
            }
            total += pending.len();
        }
        if let Some(tls) = c.active_mut() {
            while tls.wants_write() {
                match tls.write_tls(&mut wr) {
                    Ok(0) => break,
                    Ok(n) => total += n,
                    Err(_) => {
                        unsafe { set_out(out_n, total) };
                        return RTLS_IO_CALLBACK_FAILED;
                    }
                }
            }
        }
        unsafe { set_out(out_n, total) };
        RTLS_OK
    })
}

/// Copy up to `len` decrypted bytes into `buf`; `*out_n` = count.
/// Errors: RTLS_IO_WOULD_BLOCK (nothing decrypted yet: feed more),
/// RTLS_IO_EOF (close_notify seen, all read), RTLS_IO_UNCLEAN_EOF (stream
/// ended without close_notify), RTLS_INTERNAL_WRONG_STATE (not bound yet),
/// RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: per connection.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_read(conn: *mut rtls_conn, buf: *mut u8, len: usize, out_n: *mut usize) -> rtls_result {
    with_conn(conn, |c| {
        let out = match unsafe { slice_out(buf, len) } {
            Some(o) => o,
            None => return RTLS_INTERNAL_NULL_ARGUMENT,
        };
        let tls = match c.active_mut() {
            Some(t) => t,
            None => return RTLS_INTERNAL_WRONG_STATE,
        };
        if out.is_empty() {
            unsafe { set_out(out_n, 0) };
            return RTLS_OK;
        }
        match tls.reader().read(out) {
            Ok(0) => RTLS_IO_EOF,
            Ok(n) => {
                unsafe { set_out(out_n, n) };
                RTLS_OK
            }
            Err(e) => map_io_error(&e),
        }
    })
}

/// Encrypt `len` plaintext bytes from `buf`; `*out_n` = bytes taken (fewer
/// when rustls' outgoing buffer is full: write TLS out with
/// rtls_conn_write_tls, then retry). Data written during the handshake is
/// sent once it completes.
/// Errors: RTLS_INTERNAL_WRONG_STATE (not bound yet),
/// RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: per connection.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_write(conn: *mut rtls_conn, buf: *const u8, len: usize, out_n: *mut usize) -> rtls_result {
    with_conn(conn, |c| {
        let data = try_slice!(buf, len);
        let tls = match c.active_mut() {
            Some(t) => t,
            None => return RTLS_INTERNAL_WRONG_STATE,
        };
        match tls.writer().write(data) {
            Ok(n) => {
                unsafe { set_out(out_n, n) };
                RTLS_OK
            }
            Err(e) => map_io_error(&e),
        }
    })
}

/// Queue close_notify (send it with rtls_conn_write_tls).
/// Errors: RTLS_INTERNAL_WRONG_STATE (not bound), RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: per connection.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_send_close_notify(conn: *mut rtls_conn) -> rtls_result {
    with_conn(conn, |c| match c.active_mut() {
        Some(tls) => {
            tls.send_close_notify();
            RTLS_OK
        }
        None => RTLS_INTERNAL_WRONG_STATE,
    })
}

/// True when the handshake resumed an earlier session (TLS 1.2 session id or
/// ticket, TLS 1.3 PSK); false for full handshakes, before binding and for
/// NULL. Final once the handshake is complete (TLS 1.2: once
/// rtls_conn_accept returned; TLS 1.3 after a HelloRetryRequest: with the
/// second ClientHello).
/// Phase: per connection.
#[no_mangle]
pub extern "C" fn rtls_conn_session_resumed(conn: *const rtls_conn) -> bool {
    crate::ffi::guard_value(false, || match unsafe { conn.as_ref() } {
        Some(c) => c.session_resumed(),
        None => false,
    })
}

/// True while the handshake is not complete (also before binding, and for
/// NULL).
/// Phase: per connection.
#[no_mangle]
pub extern "C" fn rtls_conn_is_handshaking(conn: *const rtls_conn) -> bool {
    crate::ffi::guard_value(true, || match unsafe { conn.as_ref() } {
        Some(c) => c.active().map(|t| t.is_handshaking()).unwrap_or(true),
        None => true,
    })
}

/// True when TLS bytes wait to be sent (rtls_conn_write_tls); false for NULL.
/// Phase: per connection.
#[no_mangle]
pub extern "C" fn rtls_conn_wants_write(conn: *const rtls_conn) -> bool {
    crate::ffi::guard_value(false, || match unsafe { conn.as_ref() } {
        Some(c) => !c.pending.is_empty() || c.active().map(|t| t.wants_write()).unwrap_or(false),
        None => false,
    })
}

/// After the handshake: the negotiated protocol version, RTLS_TLS12 or
/// RTLS_TLS13 (0 before it is known, and for NULL).
/// Phase: per connection.
#[no_mangle]
pub extern "C" fn rtls_conn_protocol_version(conn: *const rtls_conn) -> u16 {
    crate::ffi::guard_value(0, || {
        unsafe { conn.as_ref() }
            .and_then(|c| c.active())
            .and_then(|t| t.protocol_version())
            .map(u16::from)
            .unwrap_or(0)
    })
}

/// After the handshake: the negotiated suite's IANA id (0 before it is
/// known, and for NULL).
/// Phase: per connection.
#[no_mangle]
pub extern "C" fn rtls_conn_cipher_suite(conn: *const rtls_conn) -> u16 {
    crate::ffi::guard_value(0, || {
        unsafe { conn.as_ref() }
            .and_then(|c| c.active())
            .and_then(|t| t.negotiated_cipher_suite())
            .map(|s| u16::from(s.suite()))
            .unwrap_or(0)
    })
}

/// Negotiated ALPN protocol in `*out`, `*out_len`; valid until the
/// connection is freed.
/// Errors: RTLS_IO_NOT_FOUND (none negotiated), RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: per connection.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_alpn_protocol(conn: *const rtls_conn, out: *mut *const u8, out_len: *mut usize) -> rtls_result {
    guard(|| {
        let c = try_ref!(conn);
        match c.active().and_then(|t| t.alpn_protocol()) {
            Some(p) => {
                unsafe {
                    set_out(out, p.as_ptr());
                    set_out(out_len, p.len());
                }
                RTLS_OK
            }
            None => RTLS_IO_NOT_FOUND,
        }
    })
}

/// After the handshake: certificate `index` of the chain the peer
/// presented (0 = its own certificate, then the intermediates as sent), as
/// DER in `*out`, `*out_len`; valid until the connection is freed. On a
/// server, a resumed session gives the chain of the session's original
/// handshake (rustls keeps it in the session).
/// Errors: RTLS_IO_NOT_FOUND (no certificate presented, or `index` past the
/// end), RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: per connection.
#[must_use]
#[no_mangle]
pub extern "C" fn rtls_conn_peer_cert_der(conn: *const rtls_conn, index: usize, out: *mut *const u8, out_len: *mut usize) -> rtls_result {
    guard(|| {
        let c = try_ref!(conn);
        match c.active().and_then(|t| t.peer_certificates()).and_then(|certs| certs.get(index)) {
            Some(der) => {
                unsafe {
                    set_out(out, der.as_ref().as_ptr());
                    set_out(out_len, der.as_ref().len());
                }
                RTLS_OK
            }
            None => RTLS_IO_NOT_FOUND,
        }
    })
}

/// Index of the key presented to the client, in the configuration's key
/// order (the order added to its builder); -1 if none was chosen yet, for a
/// client connection, and for NULL.
/// Phase: per connection.
#[no_mangle]
pub extern "C" fn rtls_conn_certified_key_index(conn: *const rtls_conn) -> i32 {
    crate::ffi::guard_value(-1, || {
        unsafe { conn.as_ref() }
            .and_then(|c| c.chosen_key)
            .map(|i| i as i32)
            .unwrap_or(-1)
    })
}

/// Copy the last error's text (rustls' words) into `buf` (NUL-terminated,
/// at most `len` bytes incl. NUL: longer texts are cut; nothing for `len`
/// 0); `*out_n` = length of the text copied, without the NUL. Empty when
/// there was no error.
/// Errors: RTLS_INTERNAL_NULL_ARGUMENT.
/// Phase: per connection.
#[no_mangle]
pub extern "C" fn rtls_conn_error_text(conn: *const rtls_conn, buf: *mut c_char, len: usize, out_n: *mut usize) -> rtls_result {
    guard(|| {
        let c = try_ref!(conn);
        // char * in C, as the text is one (and C passes char arrays).
        let out = match unsafe { slice_out(buf as *mut u8, len) } {
            Some(o) => o,
            None => return RTLS_INTERNAL_NULL_ARGUMENT,
        };
        let text = c.last_error.as_bytes();
        if out.is_empty() {
            unsafe { set_out(out_n, 0) };
            return RTLS_OK;
        }
        let n = text.len().min(out.len() - 1);
        out[..n].copy_from_slice(&text[..n]);
        out[n] = 0;
        unsafe { set_out(out_n, n) };
        RTLS_OK
    })
}

#[allow(dead_code)]
fn _assert_send(c: rtls_conn) -> Box<dyn Send> {
    Box::new(c)
}

#[allow(dead_code)]
fn _config_is_shared(c: Arc<rtls_server_config>) -> Box<dyn Send + Sync> {
    Box::new(c)
}

#[cfg(test)]
mod tests {
    use super::HelloFraming;

    /// Handshake records carrying `payloads`, one record each.
    fn records(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in payloads {
            out.extend_from_slice(&[22, 3, 1, (p.len() >> 8) as u8, p.len() as u8]);
            out.extend_from_slice(p);
        }
        out
    }

    /// A handshake message of type 1 with a body of `len` bytes.
    fn hello(len: usize) -> Vec<u8> {
        let mut m = vec![1, (len >> 16) as u8, (len >> 8) as u8, len as u8];
        m.resize(4 + len, 0xab);
        m
    }

    fn framing_of(wire: &[u8], chunk: usize) -> HelloFraming {
        let mut f = HelloFraming::default();
        for c in wire.chunks(chunk) {
            f.feed(c);
        }
        f
    }

    #[test]
    fn hello_alone_or_split_over_records_is_aligned() {
        let h = hello(300);
        for chunk in [1, 7, 5000] {
            let f = framing_of(&records(&[&h]), chunk);
            assert!(f.done && !f.misaligned);
            let f = framing_of(&records(&[&h[..3], &h[3..100], &h[100..]]), chunk);
            assert!(f.done && !f.misaligned);
            // a later record is not the hello's business
            let mut wire = records(&[&h]);
            wire.extend_from_slice(&records(&[&[20, 0, 0, 32]]));
            assert!(!framing_of(&wire, chunk).misaligned);
        }
    }

    #[test]
    fn more_handshake_data_in_the_hellos_last_record_is_misaligned() {
        let mut h = hello(300);
        h.extend_from_slice(&[20, 0, 0, 32]);
        for chunk in [1, 9, 5000] {
            let f = framing_of(&records(&[&h]), chunk);
            assert!(f.done && f.misaligned);
            let f = framing_of(&records(&[&h[..200], &h[200..]]), chunk);
            assert!(f.done && f.misaligned);
        }
        // not complete yet: nothing is decided
        let f = framing_of(&records(&[&h[..200]]), 5000);
        assert!(!f.done && !f.misaligned);
    }
}
