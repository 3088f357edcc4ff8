//! The interactive page in a real browser: headless Chromium driven through chromedriver (both
//! started here, from Debian's `chromium` and `chromium-driver`). Checks that both canvases are
//! drawn, that hovering shows the loss, that toggles work, that the static page makes no network
//! request, and that a click on the served page draws new paths. Without a browser the tests print
//! why and pass, unless `LOSSATLAS_REQUIRE_BROWSER=1` (set by `.ci/run` after installing one).

mod support;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};
use support::webdriver::{browser_required, find_browser, Driver, Session};
use support::Server;

/// One browser at a time: the machines running these tests have few cores.
static BROWSER: Mutex<()> = Mutex::new(());

/// A browser session, its chromedriver and its profile folder, dropped in that order: the session
/// quits the browser, then the driver is killed, then the profile is deleted.
struct Browser {
    session: Session,
    _driver: Driver,
    _profile: tempfile::TempDir,
}

/// A browser, or `None` (with the reason printed) when none is installed.
fn browser(test: &str) -> Option<Browser> {
    let (driver_path, chromium) = match find_browser() {
        Ok(found) => found,
        Err(reason) => {
            assert!(!browser_required(), "{test}: LOSSATLAS_REQUIRE_BROWSER=1 but {reason}");
            eprintln!("skipped {test}: {reason}");
            return None;
        }
    };
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver::start(&driver_path);
    let session = driver.session(chromium.as_deref(), profile.path(), (1400, 1050));
    Some(Browser { session, _driver: driver, _profile: profile })
}

/// Per canvas: the share of sampled pixels that are not white, and how many colours they have.
const PIXELS: &str = "
    const out = {};
    for (const id of ['contour', 'surface']) {
        const c = document.getElementById(id);
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let coloured = 0, n = 0; const colours = new Set();
        for (let i = 0; i < d.length; i += 4 * 5) {
            n++;
            if (d[i] < 245 || d[i + 1] < 245 || d[i + 2] < 245) coloured++;
            colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
        }
        out[id] = { coloured: coloured / n, colours: colours.size, width: c.width, height: c.height };
    }
    return out;";

fn pixels(session: &Session) -> Value {
    session.execute(PIXELS, json!([]))
}

fn readout(session: &Session) -> (String, Option<f64>) {
    let v = session.execute(
        "const r = document.getElementById('readout'); return [r.textContent, r.dataset.loss || null];",
        json!([]),
    );
    (v[0].as_str().unwrap_or("").to_string(), v[1].as_str().and_then(|s| s.parse().ok()))
}

fn screenshot(session: &Session, name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, session.screenshot()).unwrap();
    eprintln!("screenshot: {}", path.display());
    path
}

/// The seed's loss, mean((k*x + b - y)^2), to check the hover readout against.
fn seed_loss(k: f64, b: f64) -> f64 {
    let y = [1.1, 2.2, 3.8, 4.1, 4.9, 5.2];
    y.iter().enumerate().map(|(x, y)| (k * x as f64 + b - y).powi(2)).sum::<f64>() / 6.0
}

/// The numbers after `k = ` and `b = ` in the readout.
fn hovered_point(text: &str) -> (f64, f64) {
    let after = |key: &str| -> f64 {
        let rest = &text[text.find(key).unwrap_or_else(|| panic!("no `{key}` in `{text}`")) + key.len()..];
        rest.split_whitespace().next().unwrap().parse().unwrap()
    };
    (after("k = "), after("b = "))
}

const READY: &str = "return document.body && document.body.dataset.ready === '1';";

#[test]
fn static_page_draws_both_views_and_reads_the_loss_on_hover() {
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(browser) = browser("static_page_draws_both_views_and_reads_the_loss_on_hover") else {
        return;
    };
    let session = &browser.session;
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("landscape.html");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lossatlas"))
        .args(["page", "-o"])
        .arg(&page)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    session.navigate(&format!("file://{}", page.display()));
    session.wait_for("the page to draw", READY, Duration::from_secs(20));
    let errors = session.execute("return window.lossatlasErrors || [];", json!([]));
    assert_eq!(errors, json!([]), "script errors");

    let px = pixels(session);
    eprintln!("static page pixels: {px}");
    for id in ["contour", "surface"] {
        assert!(px[id]["width"].as_u64().unwrap() > 300, "{id} canvas is tiny: {px}");
        assert!(px[id]["colours"].as_u64().unwrap() > 50, "{id} looks blank: {px}");
    }
    assert!(px["contour"]["coloured"].as_f64().unwrap() > 0.5, "the bands do not fill the map: {px}");
    assert!(px["surface"]["coloured"].as_f64().unwrap() > 0.1, "no surface drawn: {px}");

    // Three precomputed paths in the legend, and no request of any kind went out.
    assert_eq!(session.execute("return document.body.dataset.paths;", json!([])), json!("3"));
    let requests =
        session.execute("return performance.getEntriesByType('resource').map(e => e.name);", json!([]));
    assert_eq!(requests, json!([]), "the static page made network requests");

    // Hover over the map: the readout names (k, b) and the loss there, which must match the
    // seed's loss at that point up to the grid's interpolation.
    let (before, _) = readout(session);
    assert!(before.starts_with("Hover"), "{before}");
    let contour = session.element("#contour");
    session.pointer(&contour, -40, 30, false);
    let (text, loss) = readout(session);
    eprintln!("hover on the map: {text}");
    let loss = loss.unwrap_or_else(|| panic!("no loss in the readout: {text}"));
    assert!(text.contains("loss ≈"), "{text}");
    let (k, b) = hovered_point(&text);
    let exact = seed_loss(k, b);
    assert!(
        (loss - exact).abs() < 0.02 * exact + 0.01,
        "readout {loss} but the loss at ({k}, {b}) is {exact}"
    );

    // Hover over the surface: the picked point has a loss too.
    let surface = session.element("#surface");
    session.pointer(&surface, 0, 20, false);
    let (text, loss) = readout(session);
    eprintln!("hover on the surface: {text}");
    assert!(loss.is_some_and(f64::is_finite), "no loss from the surface: {text}");
    screenshot(session, "browser-static.png");

    // Turning the bands off leaves a mostly white map with lines; turning the surface changes it.
    let before = pixels(session);
    session.execute("document.getElementById('show-bands').click();", json!([]));
    let after = pixels(session);
    assert!(
        after["contour"]["coloured"].as_f64().unwrap()
            < 0.5 * before["contour"]["coloured"].as_f64().unwrap(),
        "the bands toggle did nothing: {before} -> {after}"
    );
    let drawn = |s: &Session| s.execute("return document.getElementById('surface').toDataURL();", json!([]));
    let view = drawn(session);
    session.execute(
        "const c = document.getElementById('surface'), r = c.getBoundingClientRect();
         const at = (type, dx) => c.dispatchEvent(new PointerEvent(type, {bubbles: true, pointerId: 1,
             clientX: r.left + r.width / 2 + dx, clientY: r.top + r.height / 2}));
         at('pointerdown', 0); at('pointermove', 60); at('pointerup', 60);",
        json!([]),
    );
    assert_ne!(view, drawn(session), "dragging did not turn the surface");
}

/// A network's training path in its PCA plane as a page: both views drawn, the path in the
/// legend, the network described in place of the formula analysis, and a loss on hover.
#[test]
fn network_page_draws_the_pca_plane_and_its_path() {
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(browser) = browser("network_page_draws_the_pca_plane_and_its_path") else {
        return;
    };
    let session = &browser.session;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_lossatlas"))
            .current_dir(d)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&[
        "net",
        "train",
        "--points",
        "300",
        "--layers",
        "2,16,2",
        "--epochs",
        "30",
        "--batch-size",
        "30",
        "--record-path",
        "path.npy",
        "-o",
        "m.safetensors",
    ]);
    run(&[
        "net",
        "pca",
        "--points",
        "300",
        "--weights",
        "m.safetensors",
        "--path",
        "path.npy",
        "--resolution",
        "31",
        "--page",
        "pca.html",
    ]);
    session.navigate(&format!("file://{}", d.join("pca.html").display()));
    session.wait_for("the page to draw", READY, Duration::from_secs(20));
    assert_eq!(
        session.execute("return window.lossatlasErrors || [];", json!([])),
        json!([]),
        "script errors"
    );
    let px = pixels(session);
    for id in ["contour", "surface"] {
        assert!(px[id]["colours"].as_u64().unwrap() > 50, "{id} looks blank: {px}");
    }
    assert_eq!(session.execute("return document.body.dataset.paths;", json!([])), json!("1"));
    let analysis = session.execute("return document.getElementById('analysis').textContent;", json!([]));
    let analysis = analysis.as_str().unwrap();
    assert!(analysis.contains("2-16-2 tanh") && analysis.contains("82 weights"), "{analysis}");
    assert!(analysis.contains("principal directions"), "{analysis}");
    let contour = session.element("#contour");
    session.pointer(&contour, 10, 10, false);
    let (text, loss) = readout(session);
    assert!(loss.is_some_and(|l| l.is_finite() && l > 0.0), "no loss on hover: {text}");
    assert!(text.contains("PC 1"), "{text}");
    screenshot(session, "browser-network.png");
}

#[test]
fn served_page_draws_new_paths_where_clicked() {
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(browser) = browser("served_page_draws_new_paths_where_clicked") else {
        return;
    };
    let session = &browser.session;
    let server = Server::start(&[]);
    session.navigate(&server.url());
    session.wait_for("the page to draw", READY, Duration::from_secs(20));
    let px = pixels(session);
    assert!(
        px["contour"]["colours"].as_u64().unwrap() > 50 && px["surface"]["colours"].as_u64().unwrap() > 50,
        "{px}"
    );

    // Six optimizers, 400 steps, then a click on the map.
    session.execute(
        "for (const n of ['nesterov', 'rmsprop', 'adagrad']) document.getElementById('opt-' + n).click();",
        json!([]),
    );
    session.wait_for(
        "six paths after choosing optimizers",
        "return document.body.dataset.paths === '6';",
        Duration::from_secs(20),
    );
    let runs: u64 = session
        .execute("return document.body.dataset.pathRuns;", json!([]))
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let map = |s: &Session| s.execute("return document.getElementById('contour').toDataURL();", json!([]));
    let before = map(session);
    let contour = session.element("#contour");
    session.pointer(&contour, 60, -80, true);
    session.wait_for(
        "the paths from the clicked point",
        &format!("return Number(document.body.dataset.pathRuns) > {runs};"),
        Duration::from_secs(20),
    );
    let timing = session.execute("return window.lossatlasTiming;", json!([]));
    eprintln!("click to drawn paths: {timing}");
    assert_eq!(timing["paths"], json!(6), "{timing}");
    assert_eq!(timing["steps"], json!(400), "{timing}");
    assert_ne!(before, map(session), "the map did not change after the click");
    let start = session.execute("return document.getElementById('readout').textContent;", json!([]));
    eprintln!("readout after the click: {start}");
    let status = session.execute("return document.getElementById('status').textContent;", json!([]));
    assert!(status.as_str().unwrap().contains("6 paths"), "{status}");

    // The learning-rate slider recomputes the paths.
    let runs: u64 = session
        .execute("return document.body.dataset.pathRuns;", json!([]))
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    session.execute(
        "const s = document.getElementById('lr'); s.value = '200'; s.dispatchEvent(new Event('input'));",
        json!([]),
    );
    session.wait_for(
        "paths after moving the learning-rate slider",
        &format!("return Number(document.body.dataset.pathRuns) > {runs};"),
        Duration::from_secs(20),
    );
    let legend = session.execute("return document.getElementById('legend').textContent;", json!([]));
    assert!(legend.as_str().unwrap().contains("lr=0.00158"), "{legend}");

    // Switching the case fetches a new landscape and new paths.
    session.execute(
        "const s = document.getElementById('case');
         s.value = 'fig5-sincos';
         s.dispatchEvent(new Event('change'));",
        json!([]),
    );
    session.wait_for(
        "the sin(b*cos(a*x)) landscape",
        "return document.getElementById('title').textContent.includes('sin(b*cos(a*x))')
             && document.body.dataset.paths === '6';",
        Duration::from_secs(30),
    );
    screenshot(session, "browser-served.png");
}

/// The decay example of the README: three parameters, the page on the plane of two of them.
fn decay_flags() -> Vec<String> {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/decay.csv");
    [
        "--data",
        data.to_str().unwrap(),
        "--x-column",
        "time",
        "--y-column",
        "signal",
        "--model",
        "A*exp(-r*x) + c",
        "--plane",
        "A,r",
        "--range",
        "A=0:2",
        "--range",
        "r=0:1",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn page_and_server_show_a_users_own_problem() {
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(browser) = browser("page_and_server_show_a_users_own_problem") else {
        return;
    };
    let session = &browser.session;
    let flags = decay_flags();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();

    // The static page: both views drawn, the hover reads the loss of the user's model.
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("mine.html");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lossatlas"))
        .arg("page")
        .args(&flags)
        .arg("-o")
        .arg(&page)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    session.navigate(&format!("file://{}", page.display()));
    session.wait_for("the page to draw", READY, Duration::from_secs(20));
    assert_eq!(session.execute("return window.lossatlasErrors || [];", json!([])), json!([]));
    let px = pixels(session);
    for id in ["contour", "surface"] {
        assert!(px[id]["colours"].as_u64().unwrap() > 50, "{id} is nearly blank: {px}");
    }
    let title = session.execute("return document.getElementById('title').textContent;", json!([]));
    assert!(title.as_str().unwrap().contains("A*exp(-r*x) + c"), "{title}");
    let analysis = session.execute("return document.getElementById('analysis').textContent;", json!([]));
    assert!(
        analysis.as_str().unwrap().contains("c = 0.3"),
        "the minimum in all three parameters: {analysis}"
    );
    screenshot(session, "browser-own-page.png");

    // Served: the menu offers the user's problem first, a click runs the optimizers in all three
    // parameters, and an optimizer's own settings reach the server.
    let server = Server::start(&flags);
    session.navigate(&server.url());
    session.wait_for("the page to draw", READY, Duration::from_secs(20));
    let case = session.execute("return document.getElementById('case').value;", json!([]));
    assert_eq!(case, json!("yours"));
    let runs = |s: &Session| -> u64 {
        s.execute("return document.body.dataset.pathRuns || '0';", json!([]))
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let before = runs(session);
    session.execute(
        "const s = document.getElementById('set-adam'); s.value = 'lr=0.02,beta2=0.9';
         s.dispatchEvent(new Event('change'));",
        json!([]),
    );
    session.wait_for(
        "paths with adam's own settings",
        &format!("return Number(document.body.dataset.pathRuns) > {before};"),
        Duration::from_secs(20),
    );
    let legend = session.execute("return document.getElementById('legend').textContent;", json!([]));
    assert!(legend.as_str().unwrap().contains("adam lr=0.02 beta2=0.9"), "{legend}");
    let before = runs(session);
    let contour = session.element("#contour");
    session.pointer(&contour, -120, -90, true);
    session.wait_for(
        "the paths from the clicked point",
        &format!("return Number(document.body.dataset.pathRuns) > {before};"),
        Duration::from_secs(20),
    );
    screenshot(session, "browser-own-served.png");
}

/// The number for BENCHMARKS.md: click to drawn paths, six optimizers of 400 steps, repeated.
/// `cargo test -p lossatlas-cli --test browser -- --ignored --nocapture`
#[test]
#[ignore = "a measurement, not a test"]
fn measure_click_to_drawn_paths() {
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let Some(browser) = browser("measure_click_to_drawn_paths") else {
        return;
    };
    let session = &browser.session;
    let server = Server::start(&[]);
    session.navigate(&server.url());
    session.wait_for("the page to draw", READY, Duration::from_secs(20));
    let size = session.execute("return document.documentElement.outerHTML.length;", json!([]));
    eprintln!("served page: {size} characters of HTML");
    session.execute(
        "for (const n of ['nesterov', 'rmsprop', 'adagrad']) document.getElementById('opt-' + n).click();",
        json!([]),
    );
    session.wait_for("six paths", "return document.body.dataset.paths === '6';", Duration::from_secs(20));
    let contour = session.element("#contour");
    let (mut painted, mut request, mut draw, mut server_ms) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for k in 0..30 {
        let runs: u64 = session
            .execute("return document.body.dataset.pathRuns;", json!([]))
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        session.pointer(&contour, -150 + 10 * k, -100 + 6 * k, true);
        session.wait_for(
            "paths",
            &format!("return Number(document.body.dataset.pathRuns) > {runs};"),
            Duration::from_secs(20),
        );
        let t = session.execute("return window.lossatlasTiming;", json!([]));
        assert_eq!(t["paths"], json!(6));
        painted.push(t["painted_ms"].as_f64().unwrap());
        request.push(t["request_ms"].as_f64().unwrap());
        draw.push(t["draw_ms"].as_f64().unwrap());
        server_ms.push(t["server_ms"].as_f64().unwrap());
        if k == 0 {
            eprintln!("first: {t}");
        }
    }
    let stats = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() * 9 / 10], v[v.len() - 1])
    };
    eprintln!("click to painted paths (ms): median, p90, max = {:?}", stats(painted));
    eprintln!("  of which the request (fetch to parsed JSON): {:?}", stats(request));
    eprintln!("  of which drawing both views: {:?}", stats(draw));
    eprintln!("  and, inside the request, the server's computing: {:?}", stats(server_ms));
}
