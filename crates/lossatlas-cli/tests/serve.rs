//! `lossatlas serve` over plain TCP (no browser): the page and the API answer, every malformed
//! request gets a 4xx with a message (never a crash), and one stalled or slow request does not
//! hold up the others.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::{exchange, get, request, Server};

/// Asserts a JSON error with `status` whose message contains `needle`.
fn refused(server: &Server, target: &str, status: u16, needle: &str) {
    let reply = get(server.addr, target);
    assert_eq!(reply.status, status, "GET {target}: {}", reply.text());
    let message = reply.json()["error"].as_str().unwrap_or_default().to_string();
    assert!(message.contains(needle), "GET {target}: expected `{needle}` in `{message}`");
}

#[test]
fn the_page_and_the_api_answer() {
    let server = Server::start(&[]);
    let page = get(server.addr, "/");
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    let html = page.text();
    assert!(html.contains(r#"id="lossatlas-data""#) && html.contains(r#""mode":"live""#));

    let head = request(server.addr, "HEAD", "/", None, Duration::from_secs(10)).unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());

    let paths = get(
        server.addr,
        "/api/paths?case=linear&transform=zscore&u=2.5&v=-1&lr=0.1&momentum=0.9&steps=400\
         &optimizers=gd,momentum,nesterov,adagrad,rmsprop,adam",
    );
    assert_eq!(paths.status, 200, "{}", paths.text());
    let body = paths.json();
    let runs = body["paths"].as_array().unwrap();
    assert_eq!(runs.len(), 6);
    for run in runs {
        let points = run["points"].as_array().unwrap();
        // [u, v, loss, distance from the plane]: a two-parameter model never leaves its plane.
        assert_eq!(
            points[0],
            serde_json::json!([2.5, -1.0, points[0][2], 0.0]),
            "every path starts at the click"
        );
        assert!(points.len() > 1 && points.len() <= 401);
    }
    // With z-scored inputs the Hessian is 2*I, so gd at lr 0.1 converges: the last loss is the minimum.
    let gd = &runs[0];
    assert_eq!(gd["optimizer"], "gd");
    assert!((gd["final"]["loss"].as_f64().unwrap() - 0.1338).abs() < 1e-3, "{gd}");

    let landscape = get(server.addr, "/api/landscape?case=fig5-sincos&transform=none&n=41");
    assert_eq!(landscape.status, 200, "{}", landscape.text());
    let body = landscape.json();
    assert_eq!(body["params"], serde_json::json!(["a", "b"]));
    assert_eq!(body["values"].as_array().unwrap().len(), 41 * 41);
    assert!(body["analysis"]["critical_points"].as_array().unwrap().len() > 1, "sin(b*cos(a*x)) has several");
}

#[test]
fn malformed_requests_get_a_400_with_a_message_and_the_server_lives_on() {
    let mut server = Server::start(&[]);
    let base = "/api/paths?case=linear&u=1&v=1";
    refused(&server, "/api/paths?case=linear&u=abc&v=1", 400, "u = `abc` is not a number");
    refused(&server, "/api/paths?u=1", 400, "u=NUMBER&v=NUMBER");
    refused(&server, "/api/paths?u=NaN&v=1", 400, "not a finite number");
    refused(&server, "/api/paths?u=1e999&v=1", 400, "not a finite number");
    refused(&server, "/api/paths?u=1e300&v=1", 400, "too far out");
    refused(
        &server,
        &format!("{base}&steps=1000000"),
        400,
        "steps = `1000000` must be a whole number from 1 to 5000",
    );
    refused(&server, &format!("{base}&steps=-1"), 400, "steps");
    refused(&server, &format!("{base}&steps=2.5"), 400, "steps");
    refused(&server, &format!("{base}&lr=0"), 400, "lr = 0 must be greater than 0");
    refused(&server, &format!("{base}&lr=1e9"), 400, "at most 100");
    refused(&server, &format!("{base}&momentum=1.5"), 400, "momentum = 1.5");
    refused(&server, &format!("{base}&optimizers=gd,sgd2"), 400, "unknown optimizer `sgd2`");
    refused(&server, &format!("{base}&optimizers=adam,adam"), 400, "twice");
    refused(&server, "/api/paths?case=relu&u=1&v=1", 400, "unknown case `relu`");
    refused(&server, "/api/paths?transform=log&u=1&v=1", 400, "unknown transform `log`");
    refused(&server, &format!("{base}&rm=-rf"), 400, "unknown parameter `rm`");
    refused(&server, &format!("{base}&u=2"), 400, "given twice");
    refused(&server, "/api/paths?u=%G1&v=1", 400, "percent escape");
    refused(&server, "/api/landscape?n=1000000", 400, "n = `1000000`");
    refused(&server, "/api/landscape?umin=1&umax=0&vmin=0&vmax=1", 400, "must be less than");
    refused(&server, "/api/landscape?umin=1", 400, "all of umin");
    refused(&server, "/nowhere", 404, "no page `/nowhere`");

    let post =
        request(server.addr, "POST", "/api/paths?u=1&v=1", Some("{}"), Duration::from_secs(10)).unwrap();
    assert_eq!(post.status, 405, "{}", post.text());
    let timeout = Duration::from_secs(10);
    let raw = |bytes: &[u8]| exchange(server.addr, bytes, timeout).unwrap();
    assert_eq!(raw(b"GARBAGE\r\n\r\n").status, 400);
    assert_eq!(raw(b"GET /api/paths?u=1&v=1 HTTP/9.9\r\n\r\n").status, 505);
    assert_eq!(raw(b"GET /\xff\xfe HTTP/1.1\r\n\r\n").status, 400);
    let mut huge = b"GET / HTTP/1.1\r\nX-Filler: ".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 64 * 1024));
    huge.extend_from_slice(b"\r\n\r\n");
    assert_eq!(raw(&huge).status, 431);
    // A connection closed without a request, and one closed halfway through it.
    drop(TcpStream::connect(server.addr).unwrap());
    let mut half = TcpStream::connect(server.addr).unwrap();
    half.write_all(b"GET /api/pa").unwrap();
    drop(half);

    assert!(server.alive(), "the server died");
    assert_eq!(get(server.addr, &format!("{base}&steps=10")).status, 200, "the server stopped answering");
}

#[test]
fn a_stalled_or_slow_request_does_not_hold_up_the_others() {
    let server = Server::start(&[]);
    // A client that sends half a request and waits.
    let mut stalled = TcpStream::connect(server.addr).unwrap();
    stalled.write_all(b"GET /api/paths?u=1&v=1 HTTP/1.1\r\nHost: x\r\n").unwrap();
    // A slow request: every optimizer, the most steps, on the 200-point sin(b*cos(a*x)) model,
    // and the finest landscape.
    let addr = server.addr;
    let slow = std::thread::spawn(move || {
        let all = "gd,momentum,nesterov,adagrad,rmsprop,adam,adamw";
        let a =
            get(addr, &format!("/api/paths?case=fig5-sincos&u=6&v=6&lr=0.01&steps=5000&optimizers={all}"));
        let b = get(addr, "/api/landscape?case=fig5-sincos&n=301");
        (a.status, b.status)
    });
    // Meanwhile a small request is answered (within 5 s; the server's own read timeout for the
    // stalled client is 10 s, so a server that handled one connection at a time would fail here).
    let began = Instant::now();
    let quick = request(server.addr, "GET", "/api/paths?u=1&v=1&steps=5", None, Duration::from_secs(5))
        .expect("a small request is answered while another client stalls");
    assert_eq!(quick.status, 200);
    eprintln!("small request answered in {:?} beside a stalled and a slow one", began.elapsed());
    assert_eq!(slow.join().unwrap(), (200, 200));
    drop(stalled);
}
