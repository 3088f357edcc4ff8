//! `lossatlas serve`: the interactive page, live. A click starts the chosen optimizers at that
//! point, the sliders change their learning rate and momentum, and the menus switch between the
//! seed's cases; the server computes every path and landscape with the Rust engine.
//!
//! One thread per connection (at most [`MAX_CONNECTIONS`] at once), so one slow request or client
//! never holds up another; each connection carries one request and is closed after the response.

use std::io::{BufReader, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use lossatlas::Transform;
use serde_json::json;

use crate::args::ServeArgs;
use crate::problem::Notes;
use crate::web;
use crate::web::api::{BadRequest, LandscapeRequest, PathsRequest, Query};
use crate::web::cases::{self, Scene};
use crate::web::http::{read_request, ReadError, Response};

/// Connections handled at once; more get a 503 at once rather than a queue.
const MAX_CONNECTIONS: usize = 64;
/// How long a client may take to send its request or read the response.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

pub fn run(args: &ServeArgs) -> Result<()> {
    let host: IpAddr = args
        .host
        .parse()
        .with_context(|| format!("--host `{}` is not an IP address, e.g. 127.0.0.1", args.host))?;
    let first = Scene::chosen(args.case.as_deref(), &args.problem, &args.ranges)?;
    let mut scenes = vec![first];
    for case in cases::CASES {
        if scenes[0].name != case.name {
            scenes.push(Scene::builtin(case)?);
        }
    }
    let menu: Vec<&Scene> = scenes.iter().collect();
    let page = super::page::live_page(&scenes[0], &menu)?;
    let site = Arc::new(Site { page, scenes });
    let listener = TcpListener::bind(SocketAddr::new(host, args.port))
        .with_context(|| format!("cannot listen on {host} port {}", args.port))?;
    let address = listener.local_addr()?;
    say!("serving on http://{address}")?;
    std::io::stdout().flush()?;
    if !host.is_loopback() {
        eprintln!("note: {host} is not a loopback address, so other machines can use this server");
    }
    eprintln!("open the address in a browser; press Ctrl-C to stop");
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else {
            // Out of file descriptors, most likely: give the open connections a moment to finish.
            std::thread::sleep(Duration::from_millis(20));
            continue;
        };
        if active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
            let _ = Response::error(503, "the server is busy; try again").write_to(&mut &stream, false);
            continue;
        }
        let guard = Active::enter(&active);
        let site = Arc::clone(&site);
        let spawned = std::thread::Builder::new().name("lossatlas-serve".into()).spawn(move || {
            let _guard = guard;
            connection(stream, &site);
        });
        if let Err(error) = spawned {
            eprintln!("note: cannot start a thread for a connection: {error}");
        }
    }
    Ok(())
}

/// What the server serves: the live page and the scenes its menu offers.
struct Site {
    page: String,
    scenes: Vec<Scene>,
}

impl Site {
    /// The scene called `name` (the first for an empty name).
    fn scene(&self, name: &str) -> Result<&Scene> {
        if name.is_empty() {
            return Ok(&self.scenes[0]);
        }
        match self.scenes.iter().find(|s| s.name == name) {
            Some(scene) => Ok(scene),
            None => anyhow::bail!(
                "unknown case `{name}`; the cases are {}",
                self.scenes.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
        }
    }
}

/// Counts a connection while it lives.
struct Active(Arc<AtomicUsize>);

impl Active {
    fn enter(count: &Arc<AtomicUsize>) -> Active {
        count.fetch_add(1, Ordering::SeqCst);
        Active(Arc::clone(count))
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

fn connection(stream: TcpStream, site: &Site) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let mut reader = BufReader::new(&stream);
    let (response, head_only) = match read_request(&mut reader) {
        Ok(request) => {
            let head_only = request.method == "HEAD";
            let response = if request.method == "GET" || head_only {
                // A bug of ours must not take the server down: it answers 500 and serves on.
                // The site is only read, so a panic cannot leave it half-changed.
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    route(&request.path, &request.query, site)
                }))
                .unwrap_or_else(|_| Response::error(500, "internal error while answering this request"))
            } else {
                Response::error(405, &format!("method {} is not allowed; use GET", request.method))
            };
            (response, head_only)
        }
        Err(ReadError::Status(status, message)) => (Response::error(status, &message), false),
        Err(ReadError::Gone) => return,
    };
    if response.write_to(&mut &stream, head_only).is_ok() {
        linger(&stream);
    }
}

/// Closes the sending side, then reads what the client still sends (a body we did not ask for,
/// the rest of an over-long head) for a moment: closing with unread input would reset the
/// connection, and the client could lose the response it has not read yet.
fn linger(stream: &TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut sink = [0u8; 8192];
    let mut left: usize = 1 << 20;
    while left > 0 {
        match (&mut &*stream).read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => left = left.saturating_sub(n),
        }
    }
}

fn route(path: &str, query: &str, site: &Site) -> Response {
    let answer = match path {
        "/" | "/index.html" => return Response::ok("text/html; charset=utf-8", site.page.as_str()),
        "/api/landscape" => {
            Query::parse(query).and_then(|q| LandscapeRequest::parse(&q)).map(|r| landscape(site, r))
        }
        "/api/paths" => Query::parse(query).and_then(|q| PathsRequest::parse(&q)).map(|r| paths(site, r)),
        _ => {
            return Response::error(
                404,
                &format!("no page `{path}`; the server answers /, /api/landscape and /api/paths"),
            )
        }
    };
    match answer {
        Ok(Ok(value)) => Response::ok("application/json", value.to_string()),
        Ok(Err(error)) => Response::error(400, &format!("{error:#}")),
        Err(BadRequest(message)) => Response::error(400, &message),
    }
}

fn landscape(site: &Site, request: LandscapeRequest) -> Result<serde_json::Value> {
    let scene = site.scene(&request.case)?;
    let setup = scene.setup(request.transform, request.range, request.resolution, Notes::Quiet)?;
    super::page::view(scene, &setup, &crate::settings::Levels::Auto(12))
}

fn paths(site: &Site, request: PathsRequest) -> Result<serde_json::Value> {
    let began = Instant::now();
    let scene = site.scene(&request.case)?;
    // The plane does not depend on the grid, so the smallest one will do.
    let setup = scene.setup(request.transform, None, 2, Notes::Quiet)?;
    let paths =
        web::run_paths(&setup.objective, &setup.plane, &request.optimizers, request.start, request.steps)?;
    Ok(json!({
        "case": scene.name,
        "transform": Transform::name(request.transform),
        "start": request.start,
        "steps": request.steps,
        "paths": paths,
        "compute_ms": began.elapsed().as_secs_f64() * 1e3,
    }))
}
