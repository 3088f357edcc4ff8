//! The live server's connections: who gets one, how long each may take, and how many computations
//! run at once. Every number is in [`LIMITS`] and in the README's bad-input section.
//!
//! One thread per connection, at most [`Limits::connections`] of them. A slow client cannot hold
//! its slot for long, and cannot shut out fast clients:
//!
//! - its whole request head must arrive within [`Limits::head_deadline`] of the connection being
//!   accepted (a deadline for the head, not a timeout per read, so one byte a second does not
//!   keep a connection alive), and the whole response must be taken within
//!   [`Limits::write_deadline`];
//! - a connection that is waiting for its peer (for the rest of a head, or for the peer to take
//!   the response) can be closed to make room: when the server is full, or the new connection's
//!   client address already holds [`Limits::per_client`] slots, the connection that has waited
//!   longest (of that client, in the second case) is closed and the new one takes its slot. A
//!   fast client sends its head at once and stops waiting, so it is never the oldest waiter; slow
//!   clients only push each other out. Only when every slot is computing is a newcomer refused
//!   with 503;
//! - at most [`Limits::computations`] requests compute at once, however many are connected, which
//!   bounds the memory the answers take.

// Why httparse and threads rather than a server crate: tiny_http 0.12 has no timeout on a
// connection at all; hyper 1.x has a whole-head deadline (`header_read_timeout`), but needs an
// async runtime, and the rules above (per-client share, closing the longest waiter) would still
// be ours to write on top of it. Measured here, hyper + hyper-util + tokio built in 21 s (11 s of
// CPU) in a debug build against 1.2 s for httparse, for a server that answers one request per
// connection and spends its time computing. httparse is hyper's own parser.

use std::io::{self, Read, Write};
use std::net::{IpAddr, Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::http::{read_request, shorten, ReadError, Request, Response};

/// What the server allows each client and connection.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections open at once.
    pub connections: usize,
    /// Connections one client address may hold at once (a fair share of [`Limits::connections`]).
    pub per_client: usize,
    /// How long after the connection is accepted the whole request head must have arrived.
    pub head_deadline: Duration,
    /// How long the client may take to read the whole response.
    pub write_deadline: Duration,
    /// Requests computing their answer at once.
    pub computations: usize,
    /// Request body bytes (which no request needs) read and dropped before closing, so that the
    /// client sees the response instead of a reset connection; more are not read.
    pub body_drain: usize,
}

/// The limits `lossatlas serve` runs with.
pub const LIMITS: Limits = Limits {
    connections: 256,
    per_client: 64,
    head_deadline: Duration::from_secs(10),
    write_deadline: Duration::from_secs(10),
    computations: 4,
    body_drain: 1 << 20,
};

/// Answers a request; runs on the connection's thread, one of at most [`Limits::computations`].
pub type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// Accepts connections on `listener` forever and answers each request with `handler`.
pub fn serve(listener: TcpListener, limits: Limits, handler: Arc<Handler>) {
    let table = Arc::new(Table::default());
    let gate = Arc::new(Gate::new(limits.computations));
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(_) => {
                // Out of file descriptors, most likely: give the open connections a moment to finish.
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        let accepted = Instant::now();
        let Some(id) = table.admit(&stream, accepted, &limits) else {
            // Every slot is computing: say so at once, without waiting on this client.
            let _ = stream.set_nonblocking(true);
            let _ = Response::error(503, "the server is busy; try again").write_to(&mut &stream, false);
            continue;
        };
        let (table2, gate, handler) = (Arc::clone(&table), Arc::clone(&gate), Arc::clone(&handler));
        let spawned = std::thread::Builder::new().name("lossatlas-serve".into()).spawn(move || {
            connection(&stream, id, accepted, &table2, &gate, &*handler, &limits);
            table2.leave(id);
        });
        if let Err(error) = spawned {
            table.leave(id);
            eprintln!("note: cannot start a thread for a connection: {error}");
        }
    }
}

/// Reads one request, answers it and closes, keeping the table told whether the connection is
/// waiting for its peer.
fn connection(
    stream: &TcpStream,
    id: u64,
    accepted: Instant,
    table: &Table,
    gate: &Gate,
    handler: &Handler,
    limits: &Limits,
) {
    let _ = stream.set_nodelay(true);
    let read = read_request(&mut Deadline { stream, deadline: accepted + limits.head_deadline });
    let (response, head_only) = match read {
        Ok(request) => {
            table.waiting(id, false);
            let _turn = gate.enter();
            answer(&request, handler)
        }
        Err(ReadError::Status(status, message)) => (Response::error(status, &message), false),
        Err(ReadError::Gone) => return,
    };
    table.waiting(id, true);
    let bytes = response.to_bytes(head_only);
    let mut writer = Deadline { stream, deadline: Instant::now() + limits.write_deadline };
    if writer.write_all(&bytes).is_ok() {
        linger(stream, limits.body_drain);
    }
}

/// The response to a request: GET and HEAD go to `handler`, other methods get 405, and a panic
/// of ours gets 500 instead of taking the server down. Returns whether only the head is sent.
pub fn answer(request: &Request, handler: &Handler) -> (Response, bool) {
    let head_only = request.method == "HEAD";
    if request.method != "GET" && !head_only {
        let message = format!("method {} is not allowed; use GET", shorten(&request.method));
        return (Response::error(405, &message), false);
    }
    let response = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(request)))
        .unwrap_or_else(|_| Response::error(500, "internal error while answering this request"));
    (response, head_only)
}

/// Closes the sending side, then reads what the client still sends (a body we did not ask for,
/// the rest of an over-long head), up to `drain` bytes and for at most a second: closing with
/// unread input would reset the connection, and the client could lose the response it has not
/// read yet.
fn linger(stream: &TcpStream, drain: usize) {
    let _ = stream.shutdown(Shutdown::Write);
    let mut reader = Deadline { stream, deadline: Instant::now() + Duration::from_secs(1) };
    let mut sink = [0u8; 8192];
    let mut left = drain;
    while left > 0 {
        match reader.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}

/// A socket whose reads and writes all end by one deadline: each call gets the time that is left,
/// and none once it has passed (reported as [`io::ErrorKind::TimedOut`]).
struct Deadline<'a> {
    stream: &'a TcpStream,
    deadline: Instant,
}

impl Deadline<'_> {
    fn left(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        // A zero timeout would mean "none at all" to the socket.
        Ok(left.max(Duration::from_millis(1)))
    }
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(Some(self.left()?))?;
        (&mut &*self.stream).read(buf)
    }
}

impl Write for Deadline<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_write_timeout(Some(self.left()?))?;
        (&mut &*self.stream).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The open connections.
#[derive(Debug, Default)]
struct Table {
    slots: Mutex<Slots>,
}

#[derive(Debug, Default)]
struct Slots {
    open: Vec<Slot>,
    next_id: u64,
}

/// One open connection.
#[derive(Debug)]
struct Slot {
    id: u64,
    client: IpAddr,
    /// Whether it waits for its peer (the head, or the peer taking the response), and since when.
    waiting_since: Option<Instant>,
    /// A handle to close it with when it has to make room.
    stream: Option<TcpStream>,
}

impl Table {
    fn lock(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gives `stream` a slot, closing the longest waiter if that is what makes room; `None` when
    /// there is no room.
    fn admit(&self, stream: &TcpStream, now: Instant, limits: &Limits) -> Option<u64> {
        let client = stream.peer_addr().ok()?.ip();
        let mut slots = self.lock();
        let views: Vec<(IpAddr, Option<Instant>)> =
            slots.open.iter().map(|s| (s.client, s.waiting_since)).collect();
        match admission(&views, client, limits) {
            Admission::Refuse => return None,
            Admission::Admit => {}
            Admission::Replace(index) => {
                let victim = slots.open.swap_remove(index);
                if let Some(stream) = victim.stream {
                    let _ = stream.shutdown(Shutdown::Both);
                }
            }
        }
        let id = slots.next_id;
        slots.next_id += 1;
        slots.open.push(Slot { id, client, waiting_since: Some(now), stream: stream.try_clone().ok() });
        Some(id)
    }

    /// Records whether connection `id` waits for its peer (from now on).
    fn waiting(&self, id: u64, waiting: bool) {
        if let Some(slot) = self.lock().open.iter_mut().find(|s| s.id == id) {
            slot.waiting_since = waiting.then(Instant::now);
        }
    }

    /// Frees connection `id`'s slot (if it was not taken from it already).
    fn leave(&self, id: u64) {
        let mut slots = self.lock();
        if let Some(index) = slots.open.iter().position(|s| s.id == id) {
            slots.open.swap_remove(index);
        }
    }
}

/// What to do with a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    /// There is room.
    Admit,
    /// Close the open connection at this index, then admit.
    Replace(usize),
    /// No room, and nobody to close.
    Refuse,
}

/// The admission rule on the open connections, each given as (client, waiting since): within
/// `per_client` and `connections` a newcomer is admitted; past either, it replaces the longest
/// waiter (of its own client when it is its client's share that is full).
fn admission(open: &[(IpAddr, Option<Instant>)], client: IpAddr, limits: &Limits) -> Admission {
    let longest_waiter = |of_client: bool| {
        open.iter()
            .enumerate()
            .filter(|(_, (ip, _))| !of_client || *ip == client)
            .filter_map(|(index, (_, since))| since.map(|since| (since, index)))
            .min()
            .map(|(_, index)| index)
    };
    let mine = open.iter().filter(|(ip, _)| *ip == client).count();
    let victim = if mine >= limits.per_client {
        longest_waiter(true)
    } else if open.len() >= limits.connections {
        longest_waiter(false)
    } else {
        return Admission::Admit;
    };
    victim.map_or(Admission::Refuse, Admission::Replace)
}

/// A counting semaphore: at most `max` holders at once, the others wait.
#[derive(Debug)]
struct Gate {
    max: usize,
    inside: Mutex<usize>,
    freed: Condvar,
}

impl Gate {
    fn new(max: usize) -> Gate {
        Gate { max: max.max(1), inside: Mutex::new(0), freed: Condvar::new() }
    }

    fn enter(&self) -> Turn<'_> {
        let mut inside = self.inside.lock().unwrap_or_else(PoisonError::into_inner);
        while *inside >= self.max {
            inside = self.freed.wait(inside).unwrap_or_else(PoisonError::into_inner);
        }
        *inside += 1;
        Turn(self)
    }
}

/// A place inside a [`Gate`], given back when dropped.
struct Turn<'a>(&'a Gate);

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        *self.0.inside.lock().unwrap_or_else(PoisonError::into_inner) -= 1;
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: Limits = Limits { connections: 4, per_client: 2, ..LIMITS };

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn a_newcomer_is_admitted_within_the_limits() {
        let t0 = Instant::now();
        assert_eq!(admission(&[], ip(1), &SMALL), Admission::Admit);
        assert_eq!(admission(&[(ip(1), Some(t0))], ip(1), &SMALL), Admission::Admit);
        assert_eq!(admission(&[(ip(1), Some(t0)), (ip(2), None)], ip(3), &SMALL), Admission::Admit);
    }

    #[test]
    fn past_its_share_a_client_replaces_its_own_longest_waiter_never_another_clients() {
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_secs(1);
        // Client 1 holds its two: the one waiting since t0 goes, though client 2's is older still.
        let open = [(ip(2), Some(t0 - Duration::from_secs(5))), (ip(1), Some(t1)), (ip(1), Some(t0))];
        assert_eq!(admission(&open, ip(1), &SMALL), Admission::Replace(2));
        // Both of client 1's are computing: refused, even though client 2 waits.
        let busy = [(ip(2), Some(t0)), (ip(1), None), (ip(1), None)];
        assert_eq!(admission(&busy, ip(1), &SMALL), Admission::Refuse);
    }

    #[test]
    fn a_full_server_replaces_the_longest_waiter_and_refuses_only_when_all_compute() {
        let t0 = Instant::now();
        let later = |s: u64| Some(t0 + Duration::from_secs(s));
        let open = [(ip(1), None), (ip(2), later(3)), (ip(3), later(1)), (ip(4), later(2))];
        assert_eq!(admission(&open, ip(5), &SMALL), Admission::Replace(2));
        let computing = [(ip(1), None), (ip(2), None), (ip(3), None), (ip(4), None)];
        assert_eq!(admission(&computing, ip(5), &SMALL), Admission::Refuse);
    }

    #[test]
    fn the_gate_lets_in_at_most_its_count() {
        let gate = Arc::new(Gate::new(2));
        let peak = Arc::new(Mutex::new((0usize, 0usize)));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (gate, peak) = (Arc::clone(&gate), Arc::clone(&peak));
                std::thread::spawn(move || {
                    let _turn = gate.enter();
                    {
                        let mut p = peak.lock().unwrap();
                        p.0 += 1;
                        p.1 = p.1.max(p.0);
                    }
                    std::thread::sleep(Duration::from_millis(20));
                    peak.lock().unwrap().0 -= 1;
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(peak.lock().unwrap().1, 2);
    }
}
