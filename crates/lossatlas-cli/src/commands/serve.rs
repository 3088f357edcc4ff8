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

use crate::args::ServeArgs;
use crate::problem::Notes;
use crate::web;
use crate::web::api::{BadRequest, LandscapeRequest, PathsRequest, Query};
use crate::web::cases::{self, Scene};
use crate::web::http::Response;
use crate::web::server;

pub fn run(args: &ServeArgs) -> Result<()> {
    let site = FormulaSite::new(Scene::chosen(args.case.as_deref(), &args.problem, &args.ranges)?)?;
    listen(&args.host, args.port, site)
}

/// What a server serves: its page, and the answers to the page's two requests.
pub(crate) trait Site: Send + Sync {
    /// The live page.
    fn page(&self) -> &str;
    /// `GET /api/landscape`: the landscape over a range, as the page draws it.
    fn landscape(&self, request: LandscapeRequest) -> Result<serde_json::Value>;
    /// `GET /api/paths`: optimizers run from a clicked point.
    fn paths(&self, request: PathsRequest) -> Result<serde_json::Value>;
}

/// Serves `site` on `host`:`port` until interrupted, printing the address.
pub(crate) fn listen(host: &str, port: u16, site: impl Site + 'static) -> Result<()> {
    let host: IpAddr =
        host.parse().with_context(|| format!("--host `{host}` is not an IP address, e.g. 127.0.0.1"))?;
    let listener = TcpListener::bind(SocketAddr::new(host, port))
        .with_context(|| format!("cannot listen on {host} port {port}"))?;
    let address = listener.local_addr()?;
    say!("serving on http://{address}")?;
    std::io::stdout().flush()?;
    if !host.is_loopback() {
        eprintln!("note: {host} is not a loopback address, so other machines can use this server");
    }
    eprintln!("open the address in a browser; press Ctrl-C to stop");
    let site = Arc::new(site);
    server::serve(
        listener,
        server::LIMITS,
        Arc::new(move |request| route(&request.path, &request.query, &*site)),
    );
    Ok(())
}

/// The formula scenes: the live page and the scenes its menu offers.
struct FormulaSite {
    page: String,
    scenes: Vec<Scene>,
}

impl FormulaSite {
    /// The page opening on `first`, whose menu offers the built-in cases after it.
    fn new(first: Scene) -> Result<FormulaSite> {
        let mut scenes = vec![first];
        for case in cases::CASES {
            if scenes[0].name != case.name {
                scenes.push(Scene::builtin(case)?);
            }
        }
        let menu: Vec<&Scene> = scenes.iter().collect();
        let page = super::page::live_page(&scenes[0], &menu)?;
        Ok(FormulaSite { page, scenes })
    }

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

impl Site for FormulaSite {
    fn page(&self) -> &str {
        &self.page
    }

    fn landscape(&self, request: LandscapeRequest) -> Result<serde_json::Value> {
        let scene = self.scene(&request.case)?;
        let setup = scene.setup(request.transform, request.range, request.resolution, Notes::Quiet)?;
        let view = super::page::view(scene, &setup, &crate::settings::Levels::Auto(12), &Default::default())?;
        view.ok_or_else(|| anyhow::anyhow!("a landscape without a store is always computed"))
    }

    fn paths(&self, request: PathsRequest) -> Result<serde_json::Value> {
        let began = Instant::now();
        let scene = self.scene(&request.case)?;
        // The plane does not depend on the grid, so the smallest one will do.
        let setup = scene.setup(request.transform, None, 2, Notes::Quiet)?;
        let paths = web::run_paths(
            &setup.objective,
            &setup.plane,
            &request.optimizers,
            request.start,
            request.steps,
        )?;
        Ok(json!({
            "case": scene.name,
            "transform": Transform::name(request.transform),
            "start": request.start,
            "steps": request.steps,
            "paths": paths,
            "compute_ms": began.elapsed().as_secs_f64() * 1e3,
        }))
    }
}

fn route(path: &str, query: &str, site: &dyn Site) -> Response {
    let answer = match path {
        "/" | "/index.html" => return Response::ok("text/html; charset=utf-8", site.page()),
        "/api/landscape" => {
            Query::parse(query).and_then(|q| LandscapeRequest::parse(&q)).map(|r| site.landscape(r))
        }
        "/api/paths" => Query::parse(query).and_then(|q| PathsRequest::parse(&q)).map(|r| site.paths(r)),
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

/// Property-based fuzzing of the request handling (the head reader, the method check and the
/// routes with their query parsing): random bytes and random well-formed heads never panic, and
/// every answer is one of the statuses the server means to give, with a JSON error for each
/// refusal. Cases are cheap by design (paths of at most 60 steps, landscapes of at most 21
/// points a side); set PROPTEST_CASES for a longer run (README, "Bad input").
#[cfg(test)]
mod fuzz {
    use std::sync::OnceLock;

    use proptest::prelude::*;

    use crate::web::http::{read_request, ReadError, Response};
    use crate::web::server;

    use crate::settings::fuzz::config;

    fn site() -> &'static super::FormulaSite {
        static SITE: OnceLock<super::FormulaSite> = OnceLock::new();
        SITE.get_or_init(|| {
            let linear = crate::web::cases::find("linear").unwrap();
            super::FormulaSite::new(crate::web::cases::Scene::builtin(linear).unwrap()).unwrap()
        })
    }

    /// What the server sends for `bytes` arriving on a connection that then closes: `None` when it
    /// sends nothing (the head never ended).
    fn handle(bytes: &[u8]) -> Option<Response> {
        match read_request(&mut &bytes[..]) {
            Ok(request) => Some(server::answer(&request, &|r| super::route(&r.path, &r.query, site())).0),
            Err(ReadError::Status(status, message)) => Some(Response::error(status, &message)),
            Err(ReadError::Gone) => None,
        }
    }

    fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
        if let Some(response) = handle(bytes) {
            prop_assert!(
                [200, 400, 404, 405, 431, 505].contains(&response.status),
                "status {} for {:?}",
                response.status,
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            );
            if response.status != 200 {
                let body: serde_json::Value = serde_json::from_slice(&response.body).expect("a JSON error");
                prop_assert!(body["error"].as_str().is_some_and(|m| !m.is_empty() && !m.contains('\n')));
            }
        }
        Ok(())
    }

    /// A query of known and unknown names with plausible, implausible and hostile values.
    fn query() -> impl Strategy<Value = String> {
        let name = prop::sample::select(
            &[
                "case",
                "transform",
                "u",
                "v",
                "lr",
                "momentum",
                "steps",
                "optimizers",
                "n",
                "umin",
                "umax",
                "vmin",
                "vmax",
                "x",
                "%00",
                "",
            ][..],
        );
        let value = prop_oneof![
            prop::sample::select(
                &[
                    "1",
                    "-1",
                    "0",
                    "0.1",
                    "2.5",
                    "NaN",
                    "1e999",
                    "abc",
                    "linear",
                    "fig5-sincos",
                    "tanh",
                    "zscore",
                    "gd,adam",
                    "adam,adam",
                    "%G1",
                    "%41",
                    "+",
                    "11",
                    "21",
                    "60",
                    "5001",
                    "",
                ][..]
            )
            .prop_map(str::to_string),
            "[ -~]{0,12}",
        ];
        prop::collection::vec((name, value), 0..8).prop_map(|pairs| {
            pairs.into_iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("&")
        })
    }

    /// A syntactically plausible request head (sometimes not quite), with an optional body.
    fn head() -> impl Strategy<Value = Vec<u8>> {
        let method = prop::sample::select(&["GET", "HEAD", "POST", "PUT", "DELETE", "get", "G ET"][..]);
        let path = prop::sample::select(
            &[
                "/",
                "/index.html",
                "/api/paths",
                "/api/landscape",
                "/nowhere",
                "/../etc/passwd",
                "/%2e%2e/",
                "*",
                "",
            ][..],
        );
        let version =
            prop::sample::select(&["HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/9.9", "HTTP/1.1 x", ""][..]);
        let header = ("[A-Za-z-]{1,12}", "[ -~]{0,40}").prop_map(|(n, v)| format!("{n}: {v}\r\n"));
        (method, path, query(), version, prop::collection::vec(header, 0..70), any::<bool>(), "[ -~]{0,64}")
            .prop_map(|(method, path, query, version, headers, ends, body)| {
                // Cheap answers only: /api/paths runs at most 60 steps and a landscape at most 21
                // points a side unless the query says otherwise, which it may not.
                let query = match path {
                    "/api/paths" => format!("{query}&steps=60"),
                    "/api/landscape" => format!("{query}&n=21"),
                    _ => query,
                };
                let mut text = format!("{method} {path}?{query} {version}\r\n{}", headers.concat());
                if ends {
                    text.push_str("\r\n");
                    text.push_str(&body);
                }
                text.into_bytes()
            })
    }

    proptest! {
        #![proptest_config(config(2000))]

        #[test]
        fn random_bytes_get_a_status_or_nothing(bytes in prop::collection::vec(any::<u8>(), 0..20_000)) {
            check(&bytes)?;
        }

        #[test]
        fn random_heads_get_a_status_they_mean(bytes in head()) {
            check(&bytes)?;
        }
    }

    #[test]
    fn known_requests_get_their_statuses() {
        let ok = handle(b"GET /api/paths?u=1&v=1&steps=5 HTTP/1.1\r\n\r\n").unwrap();
        assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
        assert_eq!(handle(b"GET /x HTTP/1.1\r\n\r\n").unwrap().status, 404);
        assert_eq!(handle(b"PUT / HTTP/1.1\r\n\r\n").unwrap().status, 405);
        assert!(handle(b"GET / HTTP/1.1\r\n").is_none());
    }
}
