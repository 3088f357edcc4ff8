//! Load tests of `lossatlas serve`, against loopback addresses only (127.0.0.1, and 127.0.0.2 and
//! 127.0.0.3 as other clients), bounded in count and time:
//!
//! - about 220 slow connections and 8 clients x 12 requests, about 13 s: while slow clients send
//!   their request heads one byte a second, every normal request is still answered, each within
//!   2 s; every slow connection is closed within the head deadline (10 s) plus 2 s of being
//!   opened; and the server's resident memory stays under 100 MB;
//! - 170 slow connections from two clients, about 1 s: one client holds at most its share (64),
//!   and another still gets slots.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{request, Server};

/// The server's head deadline (`web::server::LIMITS.head_deadline`), and the slack allowed on it.
const HEAD_DEADLINE: Duration = Duration::from_secs(10);
const SLACK: Duration = Duration::from_secs(2);
/// How long a normal request may take while the slow clients are connected.
const LATENCY: Duration = Duration::from_secs(2);
const MAX_RSS_KB: u64 = 100 * 1024;

/// A slowloris connection: opened at `opened`, closed by the server at `closed`.
struct Slow {
    stream: TcpStream,
    opened: Instant,
    closed: Option<Instant>,
}

impl Slow {
    fn open(addr: SocketAddr) -> Slow {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").expect("first bytes");
        stream.set_nonblocking(true).expect("nonblocking");
        Slow { stream, opened: Instant::now(), closed: None }
    }

    /// Notes whether the server has closed the connection (or answered it, which it does only
    /// to close it: the head never ends).
    fn check(&mut self) {
        if self.closed.is_some() {
            return;
        }
        let mut buf = [0u8; 512];
        match self.stream.read(&mut buf) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            _ => self.closed = Some(Instant::now()),
        }
    }

    fn send_byte(&mut self) {
        if self.closed.is_none() && self.stream.write(b"a").is_err() {
            self.closed = Some(Instant::now());
        }
    }
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn slow_clients_do_not_lock_out_normal_ones_and_memory_stays_bounded() {
    let server = Server::start(&[]);
    let addr = server.addr;
    let pid = server.pid();
    let began = Instant::now();

    // 64 slow connections at once (the number that locked every client out before), then 160
    // more over the first second (past the per-client share of 64), each sending a byte a
    // second and never ending its head.
    let done = Arc::new(AtomicBool::new(false));
    let peak_rss = Arc::new(AtomicU64::new(0));
    let slow = {
        let (done, peak_rss) = (Arc::clone(&done), Arc::clone(&peak_rss));
        std::thread::spawn(move || {
            let mut slow: Vec<Slow> = (0..64).map(|_| Slow::open(addr)).collect();
            let mut tick = 0u64;
            while !done.load(Ordering::SeqCst) {
                if tick < 4 {
                    slow.extend((0..40).map(|_| Slow::open(addr)));
                }
                if tick.is_multiple_of(4) {
                    slow.iter_mut().for_each(Slow::send_byte);
                }
                std::thread::sleep(Duration::from_millis(250));
                slow.iter_mut().for_each(Slow::check);
                if let Some(kb) = rss_kb(pid) {
                    peak_rss.fetch_max(kb, Ordering::SeqCst);
                }
                tick += 1;
                let all_closed = slow.iter().all(|s| s.closed.is_some());
                if all_closed && tick > 4 {
                    break;
                }
            }
            slow
        })
    };

    // Normal clients, 8 at once, 12 requests each: the page and a small path.
    std::thread::sleep(Duration::from_millis(500));
    let clients: Vec<_> = (0..8)
        .map(|k| {
            std::thread::spawn(move || {
                let mut worst = Duration::ZERO;
                for i in 0..12 {
                    let target = if (i + k) % 2 == 0 {
                        "/".to_string()
                    } else {
                        format!("/api/paths?u={k}&v=1&steps=20")
                    };
                    let sent = Instant::now();
                    let reply = request(addr, "GET", &target, None, Duration::from_secs(10))
                        .unwrap_or_else(|e| panic!("GET {target} got no answer: {e}"));
                    let took = sent.elapsed();
                    assert_eq!(reply.status, 200, "GET {target} beside slow clients: {}", reply.text());
                    assert!(
                        took < LATENCY,
                        "GET {target} took {took:?} beside slow clients (limit {LATENCY:?})"
                    );
                    worst = worst.max(took);
                    std::thread::sleep(Duration::from_millis(300));
                }
                worst
            })
        })
        .collect();
    let worst = clients.into_iter().map(|c| c.join().expect("a client failed")).max().unwrap();
    eprintln!("96 normal requests beside slow clients; the slowest took {worst:?}");

    // Give the last slow connections their deadline, then look at all of them.
    let wait_until = began + Duration::from_secs(1) + HEAD_DEADLINE + SLACK + Duration::from_millis(500);
    while Instant::now() < wait_until {
        std::thread::sleep(Duration::from_millis(250));
    }
    done.store(true, Ordering::SeqCst);
    let slow = slow.join().expect("the slow clients' thread");
    let late: Vec<Duration> = slow
        .iter()
        .filter_map(|s| match s.closed {
            Some(closed) if closed - s.opened <= HEAD_DEADLINE + SLACK => None,
            Some(closed) => Some(closed - s.opened),
            None => Some(s.opened.elapsed()),
        })
        .collect();
    assert!(
        late.is_empty(),
        "{} of {} slow connections stayed open past the head deadline: {:?}",
        late.len(),
        slow.len(),
        &late[..late.len().min(5)]
    );
    let peak = peak_rss.load(Ordering::SeqCst);
    eprintln!("the server's peak resident memory: {} MB", peak / 1024);
    assert!(peak > 0, "could not read the server's memory from /proc");
    assert!(peak < MAX_RSS_KB, "the server used {} MB (limit {} MB)", peak / 1024, MAX_RSS_KB / 1024);
    // And it still answers.
    assert_eq!(request(addr, "GET", "/api/paths?u=1&v=1&steps=5", None, LATENCY).unwrap().status, 200);
}

#[cfg(target_os = "linux")]
/// A slow connection from `client` (another loopback address, so the server sees another client).
fn slow_from(client: [u8; 4], addr: SocketAddr) -> Slow {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.bind(&SocketAddr::from((client, 0)).into()).expect("bind to a loopback address");
    socket.connect(&addr.into()).expect("connect");
    let mut stream: TcpStream = socket.into();
    stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").expect("first bytes");
    stream.set_nonblocking(true).expect("nonblocking");
    Slow { stream, opened: Instant::now(), closed: None }
}

#[cfg(target_os = "linux")]
fn open_count(slow: &mut [Slow]) -> usize {
    std::thread::sleep(Duration::from_millis(300));
    slow.iter_mut().for_each(Slow::check);
    slow.iter().filter(|s| s.closed.is_none()).count()
}

// Linux routes all of 127.0.0.0/8 to the loopback interface; other systems may have only 127.0.0.1.
#[cfg(target_os = "linux")]
#[test]
fn one_client_holds_at_most_its_share_of_the_connections() {
    let server = Server::start(&[]);
    // Client A opens 150 slow connections: it keeps its share (64, `web::server::LIMITS`), its
    // oldest ones closed to make room for its newer ones.
    let mut a: Vec<Slow> = (0..150).map(|_| slow_from([127, 0, 0, 2], server.addr)).collect();
    assert_eq!(open_count(&mut a), 64, "client A's open connections");
    // Client B's slow connections still get slots, and take none of A's: there is room.
    let mut b: Vec<Slow> = (0..20).map(|_| slow_from([127, 0, 0, 3], server.addr)).collect();
    assert_eq!(open_count(&mut b), 20, "client B's open connections");
    assert_eq!(open_count(&mut a), 64, "client A's open connections after B came");
    // And a normal request from 127.0.0.1 is answered.
    let reply = request(server.addr, "GET", "/api/paths?u=1&v=1&steps=5", None, LATENCY).unwrap();
    assert_eq!(reply.status, 200);
}
