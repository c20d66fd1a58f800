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
use std::os::raw::c_void;
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

/// What one [`rtls_conn_process`] step changed, as bits of `*out_events`.
/// Each event is reported once, by the step in which it happened.
/// A complete ClientHello waits for [`rtls_conn_accept`] or [`rtls_conn_reject`].
pub const RTLS_EVENT_HELLO: u32 = 1;
/// The handshake completed.
pub const RTLS_EVENT_HANDSHAKE_DONE: u32 = 2;
/// The peer's close_notify arrived: no more plaintext will follow what is
/// readable now.
pub const RTLS_EVENT_PEER_CLOSED: u32 = 4;

enum Phase {
    Accepting(Acceptor),
    Hello(Box<Accepted>),
    Active(Connection),
    Failed,
}

/// Opaque to C. Not thread-safe: one thread at a time may call functions
/// on a connection (httpd gives a connection to one thread at a time).
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
/// rustls'). Before the server's first flight alerts are never encrypted.
fn alert_record(description: u8) -> [u8; 7] {
    [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, description]
}

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
        if let Some(i) = context::take_chosen_key() {
            self.chosen_key = Some(i);
        }
    }

    fn read_tls(&mut self, data: &[u8]) -> Result<usize, rtls_result> {
        let mut rd = data;
        let res = match &mut self.phase {
            Phase::Accepting(acc) => acc.read_tls(&mut rd),
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

/// A new server connection in the accepting phase. Free it with
/// [`rtls_conn_free`].
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

/// A client connection to `server_name` (`server_name_len` bytes of a DNS
/// name or an IP address in text form, read during the call), offering the
/// ALPN protocols of `alpn_wire` (`alpn_len` bytes: each name preceded by
/// its length byte, e.g. "\x02h2\x08http/1.1"; NULL or empty for none).
/// SNI is sent for a DNS name, never for an IP address; the server's
/// certificate must be valid for the name or address. The ClientHello is
/// ready at once ([`rtls_conn_wants_write`], [`rtls_conn_write_tls`]): the
/// client speaks first. The connection keeps its own reference to the
/// configuration. Free it with [`rtls_conn_free`]. Errors:
/// `RTLS_PEER_BAD_SERVER_NAME` (not a valid DNS name or IP address; it is
/// the name given for the server, hence the peer category), `RTLS_CONF_ERROR`
/// (a malformed ALPN list), 4xxx.
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
        let conn = match ClientConnection::new(cfg.for_alpn(alpn), name) {
            Ok(c) => c,
            Err(e) => return map_rustls_error(&e),
        };
        let c = rtls_conn::with_phase(Phase::Active(Connection::Client(conn)));
        unsafe { set_out(out, Box::into_raw(Box::new(c))) };
        RTLS_OK
    })
}

/// Free a connection; NULL is ignored.
#[no_mangle]
pub extern "C" fn rtls_conn_free(conn: *mut rtls_conn) {
    let _ = guard(|| {
        if !conn.is_null() {
            // SAFETY: conn came from Box::into_raw in rtls_conn_server_new.
            unsafe { drop(Box::from_raw(conn)) };
        }
        RTLS_OK
    });
}

/// Feed TLS bytes received from the peer. `*out_n` gets how many were
/// taken (possibly fewer than `len`: call [`rtls_conn_process`], drain the
/// plaintext, and feed the rest). Errors: `RTLS_IO_BUFFER_FULL` (drain
/// plaintext first), `RTLS_INTERNAL_WRONG_STATE` (hello pending or failed).
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

/// Tell the connection the peer closed the TCP stream: no more TLS bytes
/// will come. Afterwards [`rtls_conn_read`] reports `RTLS_IO_UNCLEAN_EOF`
/// unless a close_notify arrived first.
#[no_mangle]
pub extern "C" fn rtls_conn_read_tls_eof(conn: *mut rtls_conn) -> rtls_result {
    with_conn(conn, |c| match c.read_tls(&[]) {
        Ok(_) => RTLS_OK,
        Err(RTLS_INTERNAL_WRONG_STATE) => RTLS_OK,
        Err(rv) => rv,
    })
}

/// Process the TLS bytes fed so far. While accepting, this notices a
/// complete ClientHello (see [`rtls_conn_has_hello`]). Afterwards it drives
/// the handshake and decrypts records. On success `*out_plaintext` is the
/// number of plaintext bytes ready for [`rtls_conn_read`] and `*out_tls`
/// the number of TLS bytes waiting for [`rtls_conn_write_tls`] (both may be
/// NULL). On error the detail is in [`rtls_conn_error_text`]; an alert for
/// the peer may still be waiting in [`rtls_conn_write_tls`]. Errors are
/// 1xxx (peer) or 4004 (crypto).
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

/// True once the ClientHello has arrived and the connection waits for
/// [`rtls_conn_accept`] or [`rtls_conn_reject`].
#[no_mangle]
pub extern "C" fn rtls_conn_has_hello(conn: *const rtls_conn) -> bool {
    crate::ffi::guard_value(false, || matches!(unsafe { conn.as_ref() }, Some(rtls_conn { phase: Phase::Hello(_), .. })))
}

/// The SNI host name the client sent, lower-cased by rustls, not
/// NUL-terminated. Valid from the hello on, until the connection is freed.
/// Errors: `RTLS_IO_NOT_FOUND` when the client sent none.
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

/// ALPN protocol `index` offered in the ClientHello, in the client's order.
/// The bytes belong to the connection and are valid until
/// [`rtls_conn_accept`] or [`rtls_conn_reject`]. Errors: `RTLS_IO_NOT_FOUND`
/// past the end (or no ALPN), `RTLS_INTERNAL_WRONG_STATE` when no hello is
/// pending.
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

/// Bind the connection to `config` and continue the handshake. `alpn`
/// (`alpn_len` bytes, NULL for none) is the one protocol the server will
/// answer; it must be one the client offered. The connection keeps its own
/// reference to `config`. On error an alert is queued for the peer and the
/// connection is unusable except for [`rtls_conn_write_tls`]. Errors: 1xxx
/// (nothing in common with the client), `RTLS_INTERNAL_WRONG_STATE`.
#[no_mangle]
pub extern "C" fn rtls_conn_accept(conn: *mut rtls_conn, config: *const rtls_server_config, alpn: *const u8, alpn_len: usize) -> rtls_result {
    with_conn(conn, |c| {
        let cfg = try_ref!(config);
        let alpn = if alpn.is_null() { None } else { Some(try_slice!(alpn, alpn_len)) };
        c.accept(cfg, alpn)
    })
}

/// Refuse the pending hello: queue a fatal alert with the given TLS alert
/// `description` (e.g. 112 unrecognized_name) for [`rtls_conn_write_tls`].
/// The connection is unusable afterwards.
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

/// Called with TLS bytes to send. Return 0 when all `len` bytes were taken
/// (copied: `buf` is only valid during the call), anything else on failure.
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

/// Hand every pending TLS byte to `cb` (called once per TLS record, or
/// more), in order. `*out_n` gets the total handed over. Errors:
/// `RTLS_IO_CALLBACK_FAILED`: `*out_n` is what the callback took before it
/// failed; that is not handed over again, the rest is.
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

/// Copy up to `len` decrypted bytes into `buf`; `*out_n` gets the count.
/// Errors: `RTLS_IO_WOULD_BLOCK` (nothing decrypted yet: feed more),
/// `RTLS_IO_EOF` (the peer sent close_notify and all data was read),
/// `RTLS_IO_UNCLEAN_EOF` (the stream ended without close_notify),
/// `RTLS_INTERNAL_WRONG_STATE` before the connection is bound.
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

/// Give `len` plaintext bytes to be encrypted; `*out_n` gets how many were
/// taken (fewer when rustls' buffer is full: write the TLS out first).
/// Data written during the handshake is sent once it completes.
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

/// Queue a close_notify alert (then send it with [`rtls_conn_write_tls`]).
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

/// True when the handshake resumed an earlier session (TLS 1.2 session id
/// or ticket, TLS 1.3 PSK) instead of a full handshake; false before the
/// connection is bound and for full handshakes.
#[no_mangle]
pub extern "C" fn rtls_conn_session_resumed(conn: *const rtls_conn) -> bool {
    crate::ffi::guard_value(false, || match unsafe { conn.as_ref() } {
        Some(c) => c.session_resumed(),
        None => false,
    })
}

/// True while the handshake is not complete (also before binding).
#[no_mangle]
pub extern "C" fn rtls_conn_is_handshaking(conn: *const rtls_conn) -> bool {
    crate::ffi::guard_value(true, || match unsafe { conn.as_ref() } {
        Some(c) => c.active().map(|t| t.is_handshaking()).unwrap_or(true),
        None => true,
    })
}

/// True when TLS bytes wait to be sent.
#[no_mangle]
pub extern "C" fn rtls_conn_wants_write(conn: *const rtls_conn) -> bool {
    crate::ffi::guard_value(false, || match unsafe { conn.as_ref() } {
        Some(c) => !c.pending.is_empty() || c.active().map(|t| t.wants_write()).unwrap_or(false),
        None => false,
    })
}

/// Negotiated protocol version (0x0303, 0x0304), 0 before it is known.
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

/// Negotiated cipher suite (IANA id), 0 before it is known.
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

/// The negotiated ALPN protocol; bytes valid until the connection is
/// freed. Errors: `RTLS_IO_NOT_FOUND` when none was negotiated.
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

/// Index (in the order added to the configuration's builder) of the
/// certified key presented to the client, or -1 if none was chosen yet.
#[no_mangle]
pub extern "C" fn rtls_conn_certified_key_index(conn: *const rtls_conn) -> i32 {
    crate::ffi::guard_value(-1, || {
        unsafe { conn.as_ref() }
            .and_then(|c| c.chosen_key)
            .map(|i| i as i32)
            .unwrap_or(-1)
    })
}

/// Copy the text of the last error (rustls' words) into `buf` (at most
/// `len` bytes, NUL-terminated when `len` > 0); `*out_n` gets the text
/// length without the NUL. An empty text means no error so far.
#[no_mangle]
pub extern "C" fn rtls_conn_error_text(conn: *const rtls_conn, buf: *mut u8, len: usize, out_n: *mut usize) -> rtls_result {
    guard(|| {
        let c = try_ref!(conn);
        let out = match unsafe { slice_out(buf, len) } {
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
