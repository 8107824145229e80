//! A small HTTP/1.1 server on 127.0.0.1 for the fetch tests, standing in
//! for a Go service with net/http/pprof: it serves the Go fixtures at the
//! handler paths, plus the failures a client must report (404s, a body
//! that is no profile, an endpoint slower than the client's timeout).
//!
//! Everything is bounded: at most `MAX_CONNECTIONS` connections (one thread
//! each), a lifetime of `LIFETIME`, reads and writes with timeouts, and the
//! slow endpoint gives up when the server is dropped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const MAX_CONNECTIONS: usize = 32;
const LIFETIME: Duration = Duration::from_secs(180);
/// How long `/slow` waits before answering: longer than the client's
/// smallest timeout (`-timeout=1`, plus pprof's 5 s of slack).
const SLOW: Duration = Duration::from_secs(20);
const IO_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
    accept: Option<JoinHandle<()>>,
}

struct Shared {
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
    fixtures: PathBuf,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local addr");
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new(Shared {
            stop: stop.clone(),
            requests: requests.clone(),
            fixtures: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/go"),
        });
        let accept = std::thread::spawn(move || accept_loop(listener, shared));
        Server {
            addr,
            stop,
            requests,
            accept: Some(accept),
        }
    }

    /// `127.0.0.1:port`.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Request targets (path and query) received so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let deadline = Instant::now() + LIFETIME;
    let mut workers = Vec::new();
    while !shared.stop.load(Ordering::SeqCst)
        && Instant::now() < deadline
        && workers.len() < MAX_CONNECTIONS
    {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = shared.clone();
                workers.push(std::thread::spawn(move || {
                    let _ = handle(stream, &shared);
                }));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => break,
        }
    }
    for w in workers {
        let _ = w.join();
    }
}

struct Reply {
    status: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
}

fn text(status: &'static str, body: &str) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type", "text/plain; charset=utf-8")],
        body: body.as_bytes().to_vec(),
    }
}

fn handle(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    // The request head only (GET, no body), at most 16 KiB.
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let target = head
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("")
        .to_string();
    if let Ok(mut r) = shared.requests.lock() {
        r.push(target.clone());
    }
    let path = target.split('?').next().unwrap_or("");
    let fixture = |name: &str| match std::fs::read(shared.fixtures.join(name)) {
        Ok(body) => Reply {
            status: "200 OK",
            headers: vec![("Content-Type", "application/octet-stream")],
            body,
        },
        Err(_) => text("404 Not Found", "404 page not found\n"),
    };
    let reply = match path {
        "/debug/pprof/heap" => fixture("current.heap"),
        // A heap that changes between fetches (snapshots): base.heap,
        // then current.heap, then current2.heap from then on.
        "/grow/debug/pprof/heap" => {
            let n = shared
                .requests
                .lock()
                .map_or(0, |r| r.iter().filter(|t| t.starts_with("/grow/")).count());
            fixture(match n {
                0 | 1 => "base.heap",
                2 => "current.heap",
                _ => "current2.heap",
            })
        }
        "/debug/pprof/profile" => fixture("cpu.pb.gz"),
        "/debug/pprof/allocs" => fixture("allocs.pb.gz"),
        // What net/http/pprof answers for a profile it does not know.
        "/debug/pprof/unknown" => {
            let mut r = text("404 Not Found", "Unknown profile\n");
            r.headers.push(("X-Go-Pprof", "1"));
            r
        }
        // A 200 whose body is no profile.
        "/debug/pprof/cmdline" => text("200 OK", "/tmp/goapp/goapp\0-addr=:6060"),
        // Bigger than the smallest -max_decompressed_mb.
        "/big" => Reply {
            status: "200 OK",
            headers: vec![("Content-Type", "application/octet-stream")],
            body: vec![0; 2 << 20],
        },
        "/slow" => {
            let until = Instant::now() + SLOW;
            while Instant::now() < until && !shared.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
            fixture("current.heap")
        }
        // Redirects: to a file, to a closed port, and (relative, without
        // `Connection: close`, then closing) to the heap profile.
        "/redirect-file" | "/redirect-closed" => {
            let location = match path {
                "/redirect-file" => "file:///etc/passwd",
                _ => "http://127.0.0.1:1/debug/pprof/heap",
            };
            let head =
                format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n");
            stream.write_all(head.as_bytes())?;
            return stream.flush();
        }
        "/debug/redirect-heap" => {
            let head = "HTTP/1.1 302 Found\r\nLocation: pprof/heap\r\nContent-Length: 0\r\n\r\n";
            stream.write_all(head.as_bytes())?;
            return stream.flush();
        }
        // Headers at once, then the body one byte a second: only a timeout
        // over the whole fetch stops a client.
        "/trickle" => {
            let body = std::fs::read(shared.fixtures.join("current.heap"))?;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes())?;
            let until = Instant::now() + SLOW;
            for b in body {
                if Instant::now() >= until || shared.stop.load(Ordering::SeqCst) {
                    break;
                }
                stream.write_all(&[b])?;
                stream.flush()?;
                std::thread::sleep(Duration::from_secs(1));
            }
            return Ok(());
        }
        p => match p.strip_prefix("/fixtures/") {
            Some(name) if !name.contains('/') && !name.starts_with('.') => fixture(name),
            _ => text("404 Not Found", "404 page not found\n"),
        },
    };
    let mut out = format!("HTTP/1.1 {}\r\n", reply.status);
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    stream.write_all(out.as_bytes())?;
    stream.write_all(&reply.body)?;
    stream.flush()
}
