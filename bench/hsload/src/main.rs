//! hsload: the handshake load generator of bench/run.sh.
//!
//!   hsload --connect 127.0.0.1:PORT --path /hs/index.html?r=TAG [--tls 13|12|plain]
//!               [--suite aes128gcm|chacha20] [--resume never|tickets|ids]
//!               [--threads N] [--seconds S]
//!
//! Each of N threads, for S seconds: opens a TCP connection, does a TLS handshake (SNI
//! "localhost"), sends one `GET PATH HTTP/1.1` with `Connection: close`, reads the response to
//! the end, sends close_notify and closes: one connection, one handshake, one request. With
//! `--resume never` (the default) the client keeps no session, so every handshake is a full
//! one. A rustls client costs a fraction of what an OpenSSL 3 client (openssl s_time, h2load)
//! spends per handshake, so the server, not the client, is the busy side.
//!
//! `--tls plain`: the same connections and requests without TLS (the port must be plain HTTP):
//! what httpd and the kernel cost per connection, underneath every handshake figure.
//!
//! Prints one line: `connections=N failed=F seconds=S` and, if any failed, `first_error=...`.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::exit;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use hsload::{client_config, Resume};

fn die(msg: &str) -> ! {
    eprintln!("hsload: {}", msg);
    exit(2)
}

fn one_connection(cfg: &Arc<ClientConfig>, addr: &SocketAddr, request: &[u8]) -> Result<(), String> {
    let sock = TcpStream::connect_timeout(addr, Duration::from_secs(10)).map_err(|e| format!("connect: {}", e))?;
    sock.set_nodelay(true).map_err(|e| format!("nodelay: {}", e))?;
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| format!("timeout: {}", e))?;
    let name = ServerName::try_from("localhost").map_err(|_| "bad server name".to_string())?;
    let conn = ClientConnection::new(Arc::clone(cfg), name).map_err(|e| format!("client: {}", e))?;
    let mut tls = StreamOwned::new(conn, sock);
    tls.write_all(request)
        .map_err(|e| format!("handshake/request: {}", e))?;
    tls.flush().map_err(|e| format!("flush: {}", e))?;
    let mut response = Vec::with_capacity(1024);
    match tls.read_to_end(&mut response) {
        Ok(_) => {}
        // the server closed the TCP stream after its response without close_notify
        Err(e) if e.kind() == ErrorKind::UnexpectedEof && !response.is_empty() => {}
        Err(e) => return Err(format!("reading the response: {}", e)),
    }
    if !response.starts_with(b"HTTP/1.1 200") {
        let head = String::from_utf8_lossy(&response[..response.len().min(40)]).to_string();
        return Err(format!("unexpected response: {:?}", head));
    }
    tls.conn.send_close_notify();
    let _ = tls.conn.complete_io(&mut tls.sock); // the server may have closed already
    Ok(())
}

fn one_plain_connection(addr: &SocketAddr, request: &[u8]) -> Result<(), String> {
    let mut sock = TcpStream::connect_timeout(addr, Duration::from_secs(10)).map_err(|e| format!("connect: {}", e))?;
    sock.set_nodelay(true).map_err(|e| format!("nodelay: {}", e))?;
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| format!("timeout: {}", e))?;
    sock.write_all(request).map_err(|e| format!("request: {}", e))?;
    let mut response = Vec::with_capacity(1024);
    sock.read_to_end(&mut response)
        .map_err(|e| format!("reading the response: {}", e))?;
    if !response.starts_with(b"HTTP/1.1 200") {
        let head = String::from_utf8_lossy(&response[..response.len().min(40)]).to_string();
        return Err(format!("unexpected response: {:?}", head));
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: hsload --connect ADDR:PORT --path PATH [--tls 13|12|plain] [--suite S] \
                 [--resume never|tickets|ids] [--threads N] [--seconds S]";
    let (mut connect, mut path, mut tls, mut suite, mut resume) = (
        String::new(),
        String::new(),
        13u16,
        "aes128gcm".to_string(),
        Resume::Never,
    );
    let (mut threads, mut seconds, mut plain) = (2usize, 3.0f64, false);
    let mut i = 0;
    while i + 1 < args.len() {
        let v = &args[i + 1];
        match args[i].as_str() {
            "--connect" => connect = v.clone(),
            "--path" => path = v.clone(),
            "--tls" if v == "plain" => plain = true,
            "--tls" => tls = v.parse().unwrap_or_else(|_| die(usage)),
            "--suite" => suite = v.clone(),
            "--resume" => resume = Resume::parse(v).unwrap_or_else(|| die(usage)),
            "--threads" => threads = v.parse().unwrap_or_else(|_| die(usage)),
            "--seconds" => seconds = v.parse().unwrap_or_else(|_| die(usage)),
            _ => die(usage),
        }
        i += 2;
    }
    if i != args.len() || connect.is_empty() || path.is_empty() || threads == 0 {
        die(usage);
    }
    let addr: SocketAddr = connect.parse().unwrap_or_else(|_| die("--connect wants ADDR:PORT"));
    // a configuration in plain mode too (unused): the same checks of the arguments
    let cfg = client_config(tls, &suite, resume).unwrap_or_else(|e| die(&e));
    let request = format!("GET {} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", path).into_bytes();

    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (cfg, request) = (Arc::clone(&cfg), request.clone());
            let (ok, failed, first_error) = (Arc::clone(&ok), Arc::clone(&failed), Arc::clone(&first_error));
            thread::spawn(move || {
                while Instant::now() < deadline {
                    let done = if plain {
                        one_plain_connection(&addr, &request)
                    } else {
                        one_connection(&cfg, &addr, &request)
                    };
                    match done {
                        Ok(()) => {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            if let Ok(mut slot) = first_error.lock() {
                                slot.get_or_insert(e);
                            }
                            // do not spin on a server that refuses everything
                            thread::sleep(Duration::from_millis(10));
                        }
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut line = format!(
        "connections={} failed={} seconds={:.3}",
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        elapsed
    );
    if let Ok(slot) = first_error.lock() {
        if let Some(e) = slot.as_ref() {
            line.push_str(&format!(" first_error={:?}", e));
        }
    }
    println!("{}", line);
}
