//! rtls-callgrind: drive the rtls server API (what mod_tls calls) against a rustls client in
//! one process, through memory, so that `valgrind --tool=callgrind` counts the instructions the
//! server side needs.
//!
//!   rtls-callgrind handshake --cert C --key K --tls 13|12 --suite aes128gcm|chacha20 --count N
//!       N full handshakes, each on a new server connection (created, fed, accepted, freed),
//!       after one that is not counted (warm-up);
//!       the client keeps no sessions, so none is resumed.
//!   rtls-callgrind bulk --cert C --key K --tls 13|12 --suite ... --count MIB
//!       one handshake, then MIB MiB of response data encrypted by the server in 16 KiB
//!       records (as mod_tls' output filter writes them) and decrypted by the client.
//!   rtls-callgrind idle --cert C --key K --tls 13|12 --suite ... --count N
//!       (not for callgrind) N server connections, each after a handshake, one request and a
//!       1 KiB response, kept open while the clients are dropped: prints the heap the rtls
//!       side holds per idle connection (glibc mallinfo2), the rustls part of "memory per
//!       idle connection".
//!
//! Everything the server does happens inside functions named `bench_srv_hs_*` (handshake:
//! connection new/feed/accept/write/free) and `bench_srv_enc_*` (encrypting application data),
//! never inlined, so callgrind can count exactly them:
//!   valgrind --tool=callgrind --collect-atstart=no --toggle-collect='bench_srv_hs_*' ...
//! The client's work (rustls) is outside those functions and not counted.
//!
//! Prints one line of `key=value` pairs: what was negotiated and how much was done, so the
//! caller can check the run did what it says.

use std::io::{Read, Write};
use std::os::raw::c_void;
use std::process::exit;
use std::ptr;
use std::sync::Arc;

use rtls::certkey::{rtls_certified_key, rtls_certified_key_free, rtls_certified_key_new};
use rtls::config::{
    rtls_server_config, rtls_server_config_build, rtls_server_config_builder,
    rtls_server_config_builder_add_certified_key, rtls_server_config_builder_free, rtls_server_config_builder_new,
    rtls_server_config_free,
};
use rtls::connection::{
    rtls_conn, rtls_conn_accept, rtls_conn_cipher_suite, rtls_conn_free, rtls_conn_has_hello, rtls_conn_is_handshaking,
    rtls_conn_process, rtls_conn_protocol_version, rtls_conn_read, rtls_conn_read_tls, rtls_conn_server_new,
    rtls_conn_wants_write, rtls_conn_write, rtls_conn_write_tls,
};
use rtls::error::rtls_result;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};

use hsload::{client_config, Resume};

/// Plaintext per TLS record, as mod_tls' output filter hands it to rtls.
const RECORD_PLAIN: usize = 16384;

fn die(msg: &str) -> ! {
    eprintln!("rtls-callgrind: {}", msg);
    exit(2)
}

fn check(rv: rtls_result, what: &str) {
    if rv != rtls_result::RTLS_OK {
        die(&format!("{} failed: rtls {}", what, rv as u32));
    }
}

// ---- the server side: everything counted -----------------------------------------------

/// Collects TLS bytes from rtls_conn_write_tls (the copy mod_tls makes into a heap bucket).
unsafe extern "C" fn collect(userdata: *mut c_void, buf: *const u8, len: usize) -> i32 {
    let out = &mut *(userdata as *mut Vec<u8>);
    out.extend_from_slice(std::slice::from_raw_parts(buf, len));
    0
}

#[no_mangle]
#[inline(never)]
pub fn bench_srv_hs_new() -> *mut rtls_conn {
    let mut conn: *mut rtls_conn = ptr::null_mut();
    check(rtls_conn_server_new(&mut conn), "rtls_conn_server_new");
    conn
}

#[no_mangle]
#[inline(never)]
pub fn bench_srv_hs_free(conn: *mut rtls_conn) {
    rtls_conn_free(conn);
}

/// Feed TLS bytes from the client, accept the hello when it is complete (as tls_core does,
/// without ALPN), and collect what the server sends back into `out`.
#[no_mangle]
#[inline(never)]
pub fn bench_srv_hs_step(conn: *mut rtls_conn, config: *const rtls_server_config, input: &[u8], out: &mut Vec<u8>) {
    server_step(conn, config, input, out)
}

/// The same work as bench_srv_hs_step, counted as data transfer (client requests after the
/// handshake).
#[no_mangle]
#[inline(never)]
pub fn bench_srv_enc_step(conn: *mut rtls_conn, config: *const rtls_server_config, input: &[u8], out: &mut Vec<u8>) {
    server_step(conn, config, input, out)
}

fn server_step(conn: *mut rtls_conn, config: *const rtls_server_config, input: &[u8], out: &mut Vec<u8>) {
    let mut off = 0;
    let mut plaintext = [0u8; 4096];
    while off < input.len() {
        let mut n = 0usize;
        check(
            rtls_conn_read_tls(conn, input[off..].as_ptr(), input.len() - off, &mut n),
            "rtls_conn_read_tls",
        );
        off += n;
        let (mut plain, mut tls) = (0usize, 0usize);
        // no events: the hello is found with rtls_conn_has_hello, as mod_tls' filters do
        check(
            rtls_conn_process(conn, &mut plain, &mut tls, ptr::null_mut()),
            "rtls_conn_process",
        );
        if rtls_conn_has_hello(conn) {
            check(rtls_conn_accept(conn, config, ptr::null(), 0), "rtls_conn_accept");
        }
        // take the decrypted request out, as mod_tls' input filter does
        while plain > 0 {
            let mut got = 0usize;
            check(
                rtls_conn_read(conn, plaintext.as_mut_ptr(), plaintext.len(), &mut got),
                "rtls_conn_read",
            );
            if got == 0 {
                break;
            }
            plain -= got.min(plain);
        }
    }
    let mut n = 0usize;
    check(
        rtls_conn_write_tls(conn, Some(collect), out as *mut Vec<u8> as *mut c_void, &mut n),
        "rtls_conn_write_tls",
    );
}

/// Encrypt `data` (whole records) and collect the TLS records into `out`, the way mod_tls'
/// output filter does: write, take the records, repeat while rtls takes less than offered.
#[no_mangle]
#[inline(never)]
pub fn bench_srv_enc_write(conn: *mut rtls_conn, data: &[u8], out: &mut Vec<u8>) {
    let mut off = 0;
    while off < data.len() {
        let mut n = 0usize;
        check(
            rtls_conn_write(conn, data[off..].as_ptr(), data.len() - off, &mut n),
            "rtls_conn_write",
        );
        off += n;
        let mut m = 0usize;
        check(
            rtls_conn_write_tls(conn, Some(collect), out as *mut Vec<u8> as *mut c_void, &mut m),
            "rtls_conn_write_tls",
        );
        if n == 0 && m == 0 {
            die("rtls took no data and had nothing to send");
        }
    }
}

// ---- setup and the client side: not counted ----------------------------------------------

struct Options {
    mode: String,
    cert: String,
    key: String,
    tls: u16,
    suite: String,
    count: usize,
}

fn parse_args() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: rtls-callgrind handshake|bulk|idle --cert FILE --key FILE [--tls 13|12] \
                 [--suite aes128gcm|chacha20] [--count N]";
    if args.is_empty() {
        die(usage);
    }
    let mut o = Options {
        mode: args[0].clone(),
        cert: String::new(),
        key: String::new(),
        tls: 13,
        suite: "aes128gcm".to_string(),
        count: 10,
    };
    let mut i = 1;
    while i + 1 < args.len() {
        let v = args[i + 1].clone();
        match args[i].as_str() {
            "--cert" => o.cert = v,
            "--key" => o.key = v,
            "--tls" => o.tls = v.parse().unwrap_or_else(|_| die(usage)),
            "--suite" => o.suite = v,
            "--count" => o.count = v.parse().unwrap_or_else(|_| die(usage)),
            _ => die(usage),
        }
        i += 2;
    }
    if i != args.len()
        || o.cert.is_empty()
        || o.key.is_empty()
        || !["handshake", "bulk", "idle"].contains(&o.mode.as_str())
    {
        die(usage);
    }
    o
}

fn read_file(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| die(&format!("{}: {}", path, e)))
}

fn server_config(o: &Options) -> *const rtls_server_config {
    let cert = read_file(&o.cert);
    let key = read_file(&o.key);
    let mut ck: *const rtls_certified_key = ptr::null();
    check(
        rtls_certified_key_new(cert.as_ptr(), cert.len(), key.as_ptr(), key.len(), &mut ck),
        "rtls_certified_key_new",
    );
    let mut b: *mut rtls_server_config_builder = ptr::null_mut();
    check(rtls_server_config_builder_new(&mut b), "rtls_server_config_builder_new");
    check(
        rtls_server_config_builder_add_certified_key(b, ck),
        "rtls_server_config_builder_add_certified_key",
    );
    let mut cfg: *const rtls_server_config = ptr::null();
    check(rtls_server_config_build(b, &mut cfg), "rtls_server_config_build");
    rtls_server_config_builder_free(b);
    rtls_certified_key_free(ck);
    cfg
}

/// Which server function does the work, and so which toggle of callgrind counts it.
#[derive(Clone, Copy, PartialEq)]
enum Counted {
    Handshake,
    Data,
    /// Not counted: the warm-up handshake, which fills what every later one finds ready
    /// (rustls' cache of the compressed certificate message: one brotli compression of
    /// ~15 M instructions per configuration and process).
    No,
}

/// Client -> server -> client until neither side has anything to say and the handshake is
/// done on both.
fn exchange(client: &mut ClientConnection, conn: *mut rtls_conn, config: *const rtls_server_config, counted: Counted) {
    for _ in 0..100 {
        let mut to_server = Vec::new();
        while client.wants_write() {
            client
                .write_tls(&mut to_server)
                .unwrap_or_else(|e| die(&format!("client write_tls: {}", e)));
        }
        let mut to_client = Vec::new();
        if !to_server.is_empty() || rtls_conn_wants_write(conn) {
            match counted {
                Counted::Handshake => bench_srv_hs_step(conn, config, &to_server, &mut to_client),
                Counted::Data => bench_srv_enc_step(conn, config, &to_server, &mut to_client),
                Counted::No => server_step(conn, config, &to_server, &mut to_client),
            }
        }
        if !to_client.is_empty() {
            feed_client(client, &to_client);
        }
        if to_server.is_empty() && to_client.is_empty() && !client.is_handshaking() && !rtls_conn_is_handshaking(conn) {
            return;
        }
    }
    die("the handshake did not finish");
}

/// Give TLS bytes to the client and read (and drop) the plaintext.
fn feed_client(client: &mut ClientConnection, mut data: &[u8]) {
    let mut sink = vec![0u8; 65536];
    while !data.is_empty() {
        client
            .read_tls(&mut data)
            .unwrap_or_else(|e| die(&format!("client read_tls: {}", e)));
        let st = client
            .process_new_packets()
            .unwrap_or_else(|e| die(&format!("client: {}", e)));
        let mut left = st.plaintext_bytes_to_read();
        while left > 0 {
            let n = client
                .reader()
                .read(&mut sink)
                .unwrap_or_else(|e| die(&format!("client read: {}", e)));
            left -= n;
        }
    }
}

fn handshake(client_cfg: &Arc<ClientConfig>, config: *const rtls_server_config) -> (ClientConnection, *mut rtls_conn) {
    let name = ServerName::try_from("localhost").unwrap_or_else(|_| die("bad server name"));
    let mut client =
        ClientConnection::new(Arc::clone(client_cfg), name).unwrap_or_else(|e| die(&format!("client: {}", e)));
    let conn = bench_srv_hs_new();
    exchange(&mut client, conn, config, Counted::Handshake);
    (client, conn)
}

/// One handshake callgrind does not count (see Counted::No).
fn warm_up(client_cfg: &Arc<ClientConfig>, config: *const rtls_server_config) {
    let name = ServerName::try_from("localhost").unwrap_or_else(|_| die("bad server name"));
    let mut client =
        ClientConnection::new(Arc::clone(client_cfg), name).unwrap_or_else(|e| die(&format!("client: {}", e)));
    let mut conn: *mut rtls_conn = ptr::null_mut();
    check(rtls_conn_server_new(&mut conn), "rtls_conn_server_new");
    exchange(&mut client, conn, config, Counted::No);
    rtls_conn_free(conn);
}

/// A request from the client, taken in by the server (counted as data transfer).
fn request(client: &mut ClientConnection, conn: *mut rtls_conn, config: *const rtls_server_config) {
    client
        .writer()
        .write_all(b"GET /bulk HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap_or_else(|e| die(&format!("client write: {}", e)));
    exchange(client, conn, config, Counted::Data);
}

/// glibc's mallinfo2 (glibc 2.33+): all arenas.
#[repr(C)]
struct Mallinfo2 {
    arena: usize,
    ordblks: usize,
    smblks: usize,
    hblks: usize,
    hblkhd: usize,
    usmblks: usize,
    fsmblks: usize,
    uordblks: usize,
    fordblks: usize,
    keepcost: usize,
}

extern "C" {
    fn mallinfo2() -> Mallinfo2;
}

/// Bytes allocated with malloc and in use (small chunks plus mmapped ones).
fn heap_in_use() -> i64 {
    let m = unsafe { mallinfo2() };
    (m.uordblks + m.hblkhd) as i64
}

/// Resident bytes of the process (/proc/self/statm): also counts the pages
/// rtls maps for rustls' record buffers, which are outside malloc's heap.
fn resident() -> i64 {
    let text = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: i64 = text.split_whitespace().nth(1).and_then(|w| w.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn main() {
    let o = parse_args();
    let config = server_config(&o);
    let client_cfg = client_config(o.tls, &o.suite, Resume::Never).unwrap_or_else(|e| die(&e));
    let (mut version, mut suite) = (0u16, 0u16);
    let mut bytes = 0usize;
    let mut extra = String::new();
    match o.mode.as_str() {
        "idle" => {
            let mut conns = Vec::with_capacity(o.count);
            // one connection first, so what all later ones share is set up
            let (warm_client, warm) = handshake(&client_cfg, config);
            drop(warm_client);
            bench_srv_hs_free(warm);
            let (before, rss_before) = (heap_in_use(), resident());
            for _ in 0..o.count {
                let (mut client, conn) = handshake(&client_cfg, config);
                request(&mut client, conn, config);
                let mut records = Vec::new();
                bench_srv_enc_write(conn, &[0x5au8; 1024], &mut records);
                feed_client(&mut client, &records);
                version = rtls_conn_protocol_version(conn);
                suite = rtls_conn_cipher_suite(conn);
                drop(client);
                conns.push(conn);
            }
            let (after, rss_after) = (heap_in_use(), resident());
            let n = o.count.max(1) as i64;
            extra = format!(" heap_bytes_per_conn={} rss_bytes_per_conn={}", (after - before) / n,
                            (rss_after - rss_before) / n);
            for conn in conns {
                bench_srv_hs_free(conn);
            }
        }
        "handshake" => {
            warm_up(&client_cfg, config);
            for _ in 0..o.count {
                let (client, conn) = handshake(&client_cfg, config);
                version = rtls_conn_protocol_version(conn);
                suite = rtls_conn_cipher_suite(conn);
                drop(client);
                bench_srv_hs_free(conn);
            }
        }
        _ => {
            let (mut client, conn) = handshake(&client_cfg, config);
            version = rtls_conn_protocol_version(conn);
            suite = rtls_conn_cipher_suite(conn);
            request(&mut client, conn, config);
            let chunk = vec![0x5au8; 4 * RECORD_PLAIN];
            let total = o.count * 1024 * 1024;
            let mut records = Vec::with_capacity(chunk.len() + 1024);
            while bytes < total {
                let n = chunk.len().min(total - bytes);
                records.clear();
                bench_srv_enc_write(conn, &chunk[..n], &mut records);
                feed_client(&mut client, &records);
                bytes += n;
            }
            bench_srv_hs_free(conn);
        }
    }
    rtls_server_config_free(config);
    println!(
        "mode={} count={} version=0x{:04x} suite=0x{:04x} plaintext_bytes={}{}",
        o.mode, o.count, version, suite, bytes, extra
    );
}
