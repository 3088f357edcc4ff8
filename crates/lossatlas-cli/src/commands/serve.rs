//! `lossatlas serve`: the interactive page, live. A click starts the chosen optimizers at that
//! point, the sliders change their learning rate and momentum, and the menus switch between the
//! seed's cases; the server computes every path and landscape with the Rust engine.
//!
//! How connections are shared and timed is `web::server`'s business; this module routes requests.

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use lossatlas::Transform;
use serde_json::json;

use crate::args::{GridArgs, ServeArgs};
use crate::settings;
use crate::web::api::{BadRequest, LandscapeRequest, PathsRequest, Query};
use crate::web::http::Response;
use crate::web::{self, cases, server};

pub fn run(args: &ServeArgs) -> Result<()> {
    let host: IpAddr = args
        .host
        .parse()
        .with_context(|| format!("--host `{}` is not an IP address, e.g. 127.0.0.1", args.host))?;
    let case = cases::find(&args.case)?;
    let page = Arc::new(super::page::live_page(case)?);
    let listener = TcpListener::bind(SocketAddr::new(host, args.port))
        .with_context(|| format!("cannot listen on {host} port {}", args.port))?;
    let address = listener.local_addr()?;
    say!("serving on http://{address}")?;
    std::io::stdout().flush()?;
    if !host.is_loopback() {
        eprintln!("note: {host} is not a loopback address, so other machines can use this server");
    }
    eprintln!("open the address in a browser; press Ctrl-C to stop");
    server::serve(
        listener,
        server::LIMITS,
        Arc::new(move |request| route(&request.path, &request.query, &page)),
    );
    Ok(())
}

fn route(path: &str, query: &str, page: &str) -> Response {
    let answer = match path {
        "/" | "/index.html" => return Response::ok("text/html; charset=utf-8", page),
        "/api/landscape" => Query::parse(query).and_then(|q| LandscapeRequest::parse(&q)).map(landscape),
        "/api/paths" => Query::parse(query).and_then(|q| PathsRequest::parse(&q)).map(paths),
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

fn landscape(request: LandscapeRequest) -> Result<serde_json::Value> {
    let case = request.case;
    let problem = case.problem()?;
    let objective = problem.objective(request.transform)?;
    let names = objective.param_names().to_vec();
    let ranges = match request.range {
        Some(range) => names.iter().zip(range).map(|(n, (lo, hi))| format!("{n}={lo}:{hi}")).collect(),
        None => super::page::default_ranges(case, &objective, &names),
    };
    let grid = settings::grid(&GridArgs { ranges, resolution: request.resolution.to_string() }, &names)?;
    super::page::view(case, &problem, request.transform, &grid, &super::page::Levels::Auto(12))
}

fn paths(request: PathsRequest) -> Result<serde_json::Value> {
    let began = Instant::now();
    let objective = request.case.objective(request.transform)?;
    let paths = web::run_paths(&objective, &request.optimizers, request.start, request.steps)?;
    Ok(json!({
        "case": request.case.name,
        "transform": Transform::name(request.transform),
        "start": request.start,
        "steps": request.steps,
        "paths": paths,
        "compute_ms": began.elapsed().as_secs_f64() * 1e3,
    }))
}
