//! A small blocking client for the W3C WebDriver protocol, enough to drive headless Chromium
//! through chromedriver: start both (and kill them when dropped), open a page, run a script,
//! move and click the mouse, take a screenshot.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::request;

/// The key of an element reference in WebDriver JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Finds chromedriver and a Chromium binary, or says why not (the reason a test prints when it
/// skips).
pub fn find_browser() -> Result<(PathBuf, Option<PathBuf>), String> {
    let which = |name: &str| -> Option<PathBuf> {
        std::env::var_os("PATH")
            .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join(name)).find(|p| p.is_file()))
    };
    if let Some(path) = std::env::var_os("LOSSATLAS_CHROMEDRIVER").map(PathBuf::from) {
        if !path.is_file() {
            return Err(format!("LOSSATLAS_CHROMEDRIVER={} is not a file", path.display()));
        }
    }
    let driver = std::env::var_os("LOSSATLAS_CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| which("chromedriver"))
        .or_else(|| Some(PathBuf::from("/usr/lib/chromium/chromedriver")).filter(|p| p.is_file()))
        .ok_or("chromedriver is not installed (Debian: apt-get install chromium chromium-driver)")?;
    let browser = std::env::var_os("LOSSATLAS_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|n| which(n)));
    if browser.is_none() {
        return Err("no Chromium found (Debian: apt-get install chromium chromium-driver)".into());
    }
    Ok((driver, browser))
}

/// Whether a missing browser fails the test instead of skipping it (`.ci/run` sets this once it
/// has installed Chromium).
pub fn browser_required() -> bool {
    std::env::var_os("LOSSATLAS_REQUIRE_BROWSER").is_some_and(|v| v == "1")
}

/// A running chromedriver, killed when dropped.
pub struct Driver {
    child: Child,
    addr: SocketAddr,
}

impl Driver {
    pub fn start(path: &Path) -> Driver {
        // chromedriver has no "any free port" option: ask the system for one, then hand it over.
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let driver = Driver { child, addr: SocketAddr::from(([127, 0, 0, 1], port)) };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = request(driver.addr, "GET", "/status", None, Duration::from_secs(2))
                .ok()
                .and_then(|r| serde_json::from_slice::<Value>(&r.body).ok())
                .is_some_and(|v| v["value"]["ready"] == json!(true));
            if ready {
                return driver;
            }
            assert!(Instant::now() < deadline, "chromedriver did not become ready in 20 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A new headless browser session with a fresh profile in `profile`.
    pub fn session(&self, browser: Option<&Path>, profile: &Path, size: (u32, u32)) -> Session {
        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-quic".into(),
            "--disable-dev-shm-usage".into(),
            "--force-device-scale-factor=1".into(),
            format!("--window-size={},{}", size.0, size.1),
            format!("--user-data-dir={}", profile.display()),
        ];
        args.push("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1".into());
        let mut options = json!({ "args": args });
        if let Some(browser) = browser {
            // Debian's /usr/bin/chromium is a shell wrapper; chromedriver wants the real binary.
            let real = Path::new("/usr/lib/chromium/chromium");
            let binary =
                if browser == Path::new("/usr/bin/chromium") && real.is_file() { real } else { browser };
            options["binary"] = json!(binary.display().to_string());
        }
        let always = json!({"browserName": "chrome", "goog:chromeOptions": options});
        let caps = json!({"capabilities": {"alwaysMatch": always}});
        let reply = call(self.addr, "POST", "/session", Some(caps));
        let id = reply["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {reply}")).to_string();
        Session { addr: self.addr, id }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn call(addr: SocketAddr, method: &str, path: &str, body: Option<Value>) -> Value {
    let body = body.map(|b| b.to_string());
    let reply = request(addr, method, path, body.as_deref(), Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"));
    let value: Value = serde_json::from_slice(&reply.body)
        .unwrap_or_else(|e| panic!("WebDriver {method} {path}: not JSON ({e}): {}", reply.text()));
    assert!(reply.status == 200, "WebDriver {method} {path} -> {}: {value}", reply.status);
    value["value"].clone()
}

/// A browser session, closed (and its browser quit) when dropped.
pub struct Session {
    addr: SocketAddr,
    id: String,
}

impl Session {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        call(self.addr, method, &format!("/session/{}{path}", self.id), body)
    }

    pub fn navigate(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        self.call("POST", "/execute/sync", Some(json!({ "script": script, "args": args })))
    }

    /// Polls `script` until it returns true, or fails after `timeout` naming `what`.
    pub fn wait_for(&self, what: &str, script: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while self.execute(script, json!([])) != json!(true) {
            assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The element matching a CSS selector.
    pub fn element(&self, selector: &str) -> Value {
        let reply = self.call("POST", "/element", Some(json!({"using": "css selector", "value": selector})));
        json!({ ELEMENT: reply[ELEMENT] })
    }

    /// Moves the mouse to (`x`, `y`) from the centre of `element`, clicking when `click`.
    pub fn pointer(&self, element: &Value, x: i64, y: i64, click: bool) {
        let mut actions =
            vec![json!({"type": "pointerMove", "duration": 0, "origin": element, "x": x, "y": y})];
        if click {
            actions.push(json!({"type": "pointerDown", "button": 0}));
            actions.push(json!({"type": "pointerUp", "button": 0}));
        }
        let body = json!({"actions": [{
            "type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": actions,
        }]});
        self.call("POST", "/actions", Some(body));
        self.call("DELETE", "/actions", None);
    }

    /// A PNG of the viewport.
    pub fn screenshot(&self) -> Vec<u8> {
        let value = self.call("GET", "/screenshot", None);
        base64_decode(value.as_str().expect("a base64 string"))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let path = format!("/session/{}", self.id);
        let _ = request(self.addr, "DELETE", &path, None, Duration::from_secs(20));
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in text.bytes().filter_map(value) {
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}
