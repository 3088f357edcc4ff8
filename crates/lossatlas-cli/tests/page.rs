//! `lossatlas page` through the real binary: one self-contained HTML file with the landscape,
//! the paths and the analysis inside, and one clear line for bad input.

mod support;

use support::lossatlas;

/// The JSON island of a written page.
fn island(html: &str) -> serde_json::Value {
    let open = r#"<script type="application/json" id="lossatlas-data">"#;
    let start = html.find(open).expect("the page has its data island") + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).expect("the island is JSON")
}

#[test]
fn the_page_is_one_file_that_needs_no_network() {
    let dir = tempfile::tempdir().unwrap();
    let out = lossatlas(dir.path(), &["page", "-o", "landscape.html"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(dir.path().join("landscape.html")).unwrap();
    assert!(html.len() < 300_000, "the page has grown to {} bytes", html.len());
    for external in ["http://", "https://", "src=", "<link rel=\"stylesheet\"", "@import", "url("] {
        assert!(!html.contains(external), "the page refers to something outside it: `{external}`");
    }
    let data = island(&html);
    assert_eq!(data["mode"], "static");
    let landscape = &data["landscape"];
    assert_eq!(landscape["params"], serde_json::json!(["k", "b"]));
    assert_eq!(landscape["values"].as_array().unwrap().len(), 101 * 101);
    let minimum = &landscape["analysis"]["minimum"];
    assert!((minimum["at"][0].as_f64().unwrap() - 0.8257).abs() < 1e-3, "{minimum}");
    assert!((landscape["analysis"]["condition_number"].as_f64().unwrap() - 33.4).abs() < 0.1);
    let labels: Vec<&str> =
        data["paths"].as_array().unwrap().iter().map(|p| p["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["gd lr=0.05", "momentum lr=0.02", "adam lr=0.1"]);
}

#[test]
fn page_options_choose_the_case_paths_and_grid() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "page",
        "--case",
        "fig5-sincos",
        "--transform",
        "zscore",
        "--optimizer",
        "gd:lr=0.2",
        "--optimizer",
        "gd:lr=0.02",
        "--start",
        "1,3",
        "--steps",
        "50",
        "--resolution",
        "41",
        "--levels",
        "0.1,0.5,1",
        "--range",
        "a=-1:3",
        "-o",
        "sincos.html",
    ];
    let out = lossatlas(dir.path(), &args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let data = island(&std::fs::read_to_string(dir.path().join("sincos.html")).unwrap());
    let landscape = &data["landscape"];
    assert_eq!(landscape["transform"], "zscore");
    assert_eq!(landscape["u"], serde_json::json!({"name": "a", "min": -1.0, "max": 3.0, "n": 41}));
    assert_eq!(landscape["v"]["max"], 7.0, "b keeps the case's range");
    assert_eq!(landscape["levels"], serde_json::json!([0.1, 0.5, 1.0]));
    let paths = data["paths"].as_array().unwrap();
    assert_eq!(paths.len(), 2);
    assert_ne!(paths[0]["color"], paths[1]["color"], "two gd runs get two colours");
    for path in paths {
        assert_eq!(path["points"][0][0], 1.0);
        assert!(path["points"].as_array().unwrap().len() <= 51);
    }
}

#[test]
fn bad_page_options_get_one_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (&["page", "--case", "relu", "-o", "out.html"][..], "unknown case `relu`"),
        (&["page", "-o", "out.png"][..], "use a name ending in .html"),
        (&["page", "--steps", "0", "-o", "out.html"][..], "--steps 0"),
        (&["page", "--steps", "100000", "-o", "out.html"][..], "--steps 100000"),
        (&["page", "--resolution", "5000", "-o", "out.html"][..], "--resolution 5000"),
        (&["page", "--start", "1", "-o", "out.html"][..], "needs two numbers"),
        (&["page", "--optimizer", "lbfgs", "-o", "out.html"][..], "lbfgs"),
        (&["page", "--transform", "log", "-o", "out.html"][..], "log"),
        (&["page", "-o", "missing/out.html"][..], "does not exist"),
        (&["serve", "--host", "localhost:80"][..], "--host `localhost:80` is not an IP address"),
        (&["serve", "--case", "relu"][..], "unknown case `relu`"),
    ] {
        let out = lossatlas(dir.path(), args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "lossatlas {args:?}: {stderr}");
        assert!(stderr.contains(needle), "lossatlas {args:?}: expected `{needle}` in: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "lossatlas {args:?}: one line expected: {stderr}");
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "lossatlas {args:?} left a file");
    }
}
