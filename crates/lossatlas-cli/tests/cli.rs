//! Runs the real `lossatlas` binary: figures decode, exports parse, and every bad input gets one
//! line, exit code 2 and no output file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn lossatlas(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lossatlas"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn ok(dir: &Path, args: &[&str]) -> Output {
    let out = lossatlas(dir, args);
    assert!(out.status.success(), "lossatlas {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// Runs a command that must fail as bad input: exit 2, one line on stderr that contains `needle`,
/// no panic, and no file at `output`.
fn bad(dir: &Path, args: &[&str], needle: &str) {
    let out = lossatlas(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "lossatlas {args:?}: {stderr}");
    assert!(stderr.contains(needle), "lossatlas {args:?}: expected `{needle}` in: {stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"), "{stderr}");
    let error_lines: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("note:")).collect();
    assert_eq!(error_lines.len(), 1, "one line expected: {stderr}");
    let leftovers: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("out")))
        .collect();
    assert!(leftovers.is_empty(), "partial output left: {leftovers:?}");
}

fn decode_png(path: &Path) -> image::RgbImage {
    image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_rgb8()
}

/// How many distinct colours a picture has: a blank or nearly blank picture has very few.
fn distinct_colors(img: &image::RgbImage) -> usize {
    let mut colors: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    colors.sort_unstable();
    colors.dedup();
    colors.len()
}

const FIG1: &[&str] = &[
    "contour",
    "--range",
    "k=0:2",
    "--range",
    "b=-2:4",
    "--resolution",
    "200",
    "--levels",
    "0.2,0.5,0.7,1,3,8,10,15,20",
    "--title",
    "Loss Func Contour Line",
];

#[test]
fn figure_1_as_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = FIG1.to_vec();
    args.extend(["-o", "fig1.png", "-o", "fig1.svg", "--size", "640x560"]);
    let out = ok(dir.path(), &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("grid minimum: k = 0.82") && stdout.contains("b = 1.49"), "{stdout}");

    let png = decode_png(&dir.path().join("fig1.png"));
    assert_eq!(png.dimensions(), (640, 560));
    assert!(distinct_colors(&png) > 50, "the PNG looks blank");

    let svg = std::fs::read_to_string(dir.path().join("fig1.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("the SVG is well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts: Vec<String> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect();
    assert!(texts.iter().any(|t| t == "Loss Func Contour Line"), "{texts:?}");
    for level in ["0.2", "0.5", "0.7", "1", "3", "8", "10", "15", "20"] {
        assert!(texts.iter().any(|t| t == level), "no label {level} in {texts:?}");
    }
    assert!(texts.iter().any(|t| t == "k") && texts.iter().any(|t| t == "b"), "axis titles: {texts:?}");
    let lines = doc.descendants().filter(|n| n.has_tag_name("polyline") || n.has_tag_name("path")).count();
    assert!(lines >= 9, "only {lines} line elements");
}

#[test]
fn filled_bands_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = FIG1.to_vec();
    args.extend([
        "--filled",
        "--log-color",
        "-o",
        "bands.png",
        "--export-landscape",
        "grid.json",
        "--export-isolines",
        "lines.json",
    ]);
    ok(dir.path(), &args);
    let png = decode_png(&dir.path().join("bands.png"));
    assert_eq!(png.dimensions(), (800, 700));
    assert!(distinct_colors(&png) > 50);

    let grid: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("grid.json")).unwrap()).unwrap();
    assert_eq!(grid["params"], serde_json::json!(["k", "b"]));
    assert_eq!(grid["axes"][0]["n"], 200);
    assert_eq!(grid["values"].as_array().unwrap().len(), 200);
    // values[j][i] is (k_i, b_j): k = 0, b = -2 gives mean((-2 - y)^2) = (9.61 + 17.64 + 33.64 +
    // 37.21 + 47.61 + 51.84) / 6 = 197.55 / 6.
    let corner = grid["values"][0][0].as_f64().unwrap();
    assert!((corner - 197.55 / 6.0).abs() < 1e-9, "{corner}");
    // values[0][199] is k = 2, b = -2: residuals 2x - 2 - y = -3.1, -2.2, -1.8, -0.1, 1.1, 2.8;
    // squares 9.61 + 4.84 + 3.24 + 0.01 + 1.21 + 7.84 = 26.75.
    let far = grid["values"][0][199].as_f64().unwrap();
    assert!((far - 26.75 / 6.0).abs() < 1e-9, "{far}");
    let min = &grid["min"];
    assert!((min["loss"].as_f64().unwrap() - 0.1339).abs() < 0.001);

    let lines: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("lines.json")).unwrap()).unwrap();
    let levels = lines["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 9);
    assert_eq!(levels[0]["level"], 0.2);
    // Every vertex of the 0.2 line has loss 0.2 within the interpolation bound.
    for line in levels[0]["lines"].as_array().unwrap() {
        for p in line.as_array().unwrap() {
            let (k, b) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
            let x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
            let y = [1.1, 2.2, 3.8, 4.1, 4.9, 5.2];
            let loss: f64 = x.iter().zip(y).map(|(x, y)| (k * x + b - y).powi(2)).sum::<f64>() / 6.0;
            assert!((loss - 0.2).abs() < 3e-4, "({k}, {b}) has loss {loss}");
        }
    }
}

#[test]
fn npy_and_csv_exports() {
    let dir = tempfile::tempdir().unwrap();
    ok(
        dir.path(),
        &[
            "contour",
            "--range",
            "k=0:2",
            "--range",
            "b=-2:4",
            "--resolution",
            "4x3",
            "-o",
            "f.svg",
            "--export-landscape",
            "g.npy",
        ],
    );
    let bytes = std::fs::read(dir.path().join("g.npy")).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(header.contains("'shape': (3, 4)"), "{header}");
    assert_eq!(bytes.len() - 10 - header_len, 12 * 8);
    ok(
        dir.path(),
        &[
            "contour",
            "--range",
            "k=0:2",
            "--range",
            "b=-2:4",
            "--resolution",
            "4x3",
            "-o",
            "f.svg",
            "--export-landscape",
            "g.csv",
        ],
    );
    let csv = std::fs::read_to_string(dir.path().join("g.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some("k,b,loss"));
    assert_eq!(csv.lines().count(), 13);
}

#[test]
fn formula_models_and_csv_data() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("points.csv"), "t,v,w\n-1,0.2,9\n0,0.9,9\n1,2.1,9\n2,2.9,9\n").unwrap();
    ok(
        dir.path(),
        &[
            "contour",
            "--data",
            "points.csv",
            "--x-column",
            "t",
            "--y-column",
            "v",
            "--model",
            "sin(b*cos(a*x))",
            "--range",
            "a=-3:3",
            "--range",
            "b=-3:3",
            "--resolution",
            "60",
            "--levels",
            "8",
            "-o",
            "sin.png",
        ],
    );
    assert_eq!(decode_png(&dir.path().join("sin.png")).dimensions(), (800, 700));
    ok(
        dir.path(),
        &[
            "contour",
            "--generate",
            "a*x^3 + b*x^2",
            "--true",
            "a=1.2,b=2.5",
            "--model",
            "a*x^3 + b*x^2",
            "--range",
            "a=-2:7",
            "--range",
            "b=-2:7",
            "--resolution",
            "50",
            "--loss",
            "huber:delta=0.5",
            "-o",
            "cubic.svg",
        ],
    );
}

#[test]
fn compare_and_surface_figures() {
    let dir = tempfile::tempdir().unwrap();
    ok(
        dir.path(),
        &[
            "compare",
            "--transform",
            "none,zscore,mean-var",
            "--layout",
            "column",
            "--range",
            "k=0:6",
            "--range",
            "b=-2:8",
            "--resolution",
            "80",
            "--levels",
            "0.2,0.5,0.7,0.8,1",
            "-o",
            "fig2.png",
            "-o",
            "fig2.svg",
        ],
    );
    let svg = std::fs::read_to_string(dir.path().join("fig2.svg")).unwrap();
    roxmltree::Document::parse(&svg).expect("well-formed SVG");
    for needle in ["condition number 33.4", "condition number 1.00", "condition number 2.92", "not a z-score"]
    {
        assert!(svg.contains(needle), "no `{needle}` in the compare SVG");
    }
    assert!(distinct_colors(&decode_png(&dir.path().join("fig2.png"))) > 20);

    for (activation, stem) in [("identity", "fig3"), ("tanh", "fig4")] {
        let png = format!("{stem}.png");
        let svg = format!("{stem}.svg");
        ok(
            dir.path(),
            &[
                "surface",
                "--activation",
                activation,
                "--range",
                "k=-2:2",
                "--range",
                "b=-4:4",
                "--resolution",
                "40",
                "-o",
                &png,
                "-o",
                &svg,
            ],
        );
        let img = decode_png(&dir.path().join(&png));
        assert_eq!(img.dimensions(), (900, 700));
        assert!(distinct_colors(&img) > 50);
        let text = std::fs::read_to_string(dir.path().join(&svg)).unwrap();
        roxmltree::Document::parse(&text).expect("well-formed SVG");
    }
}

#[test]
fn the_tour_writes_every_file_its_index_lists() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(dir.path(), &["tour", "--out", "t"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("wrote the tour"), "{stdout}");
    let index = std::fs::read_to_string(dir.path().join("t/index.html")).unwrap();
    let mut listed = 0;
    for part in index.split("src=\"").skip(1).chain(index.split("href=\"").skip(1)) {
        let name = part.split('"').next().unwrap();
        let path = dir.path().join("t").join(name);
        assert!(path.is_file(), "index lists {name}, which was not written");
        listed += 1;
    }
    assert!(listed >= 10, "index lists only {listed} files");
    for entry in std::fs::read_dir(dir.path().join("t")).unwrap() {
        let path = entry.unwrap().path();
        match path.extension().and_then(|e| e.to_str()) {
            Some("png") => assert!(distinct_colors(&decode_png(&path)) > 20, "{}", path.display()),
            Some("svg") => {
                roxmltree::Document::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
            }
            _ => {}
        }
    }
}

#[test]
fn help_shows_examples() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(dir.path(), &["contour", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Examples:") && help.contains("--levels 0.2,0.5,0.7,1,3,8,10,15,20"), "{help}");
}

#[test]
fn bad_input_gets_one_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let c = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v = vec!["contour", "--range", "k=0:2", "--range", "b=-2:4", "--resolution", "20"];
        v.extend_from_slice(extra);
        v
    };
    std::fs::write(d.join("text.csv"), "x,y\n1,2\n3,abc\n").unwrap();
    std::fs::write(d.join("empty_cell.csv"), "x,y\n1,2\n3,\n").unwrap();
    std::fs::write(d.join("inf.csv"), "x,y\n1,2\n3,inf\n").unwrap();
    std::fs::write(d.join("one_row.csv"), "x,y\n1,2\n").unwrap();
    std::fs::write(d.join("empty.csv"), "").unwrap();

    bad(d, &c(&["--data", "missing.csv", "-o", "out.png"]), "cannot read `missing.csv`");
    bad(d, &c(&["--data", "text.csv", "-o", "out.png"]), "line 3, column `y`: `abc` is not a number");
    bad(d, &c(&["--data", "empty_cell.csv", "-o", "out.png"]), "line 3, column `y`: the cell is empty");
    bad(d, &c(&["--data", "inf.csv", "-o", "out.png"]), "not a finite number");
    bad(d, &c(&["--data", "one_row.csv", "-o", "out.png"]), "at least 2");
    bad(d, &c(&["--data", "empty.csv", "-o", "out.png"]), "empty");
    bad(d, &c(&["--data", "text.csv", "--x-column", "z", "-o", "out.png"]), "no column named `z`");
    bad(d, &["contour", "--model", "sin(b*cos(a*x)", "-o", "out.png"], "position");
    bad(d, &["contour", "--model", "foo(a*x)+b", "-o", "out.png"], "unknown function `foo`");
    bad(d, &["contour", "--model", "a*x+b+c", "-o", "out.png"], "3 parameter");
    bad(d, &["contour", "--model", "a*x", "-o", "out.png"], "1 parameter");
    bad(d, &["contour", "--model", "a*x+b", "--params", "a,c", "-o", "out.png"], "c");
    bad(d, &["contour", "--range", "k=2:0", "-o", "out.png"], "min < max");
    bad(d, &["contour", "--range", "k=0:inf", "-o", "out.png"], "not a finite number");
    bad(d, &["contour", "--range", "q=0:1", "-o", "out.png"], "not a parameter");
    bad(d, &["contour", "--resolution", "1", "-o", "out.png"], "at least 2 points");
    bad(d, &["contour", "--resolution", "100000", "-o", "out.png"], "needs 76294 MiB");
    bad(d, &["contour", "--resolution", "lots", "-o", "out.png"], "whole number");
    bad(d, &["contour", "--model", "ln(a*x) + b", "-o", "out.png"], "not finite anywhere");
    bad(d, &c(&["-o", "out.gif"]), "use a name ending in .png or .svg");
    bad(d, &c(&["-o", "no/such/folder/out.png"]), "does not exist");
    bad(d, &c(&["--levels", "0.2,abc", "-o", "out.png"]), "`abc` is not a number");
    bad(d, &c(&["--loss", "l2", "-o", "out.png"]), "unknown loss `l2`");
    bad(d, &c(&["--activation", "softmax", "-o", "out.png"]), "unknown activation");
    bad(d, &c(&["--size", "10x10", "-o", "out.png"]), "out of range");
    bad(d, &c(&["--export-landscape", "grid.txt", "-o", "out.png"]), ".json, .csv or .npy");
    bad(d, &["compare", "--transform", "none,standard", "-o", "out.png"], "unknown transform `standard`");
    bad(
        d,
        &["compare", "--transform", "zscore", "--data", "const.csv", "-o", "out.png"],
        "cannot read `const.csv`",
    );
    std::fs::write(d.join("const.csv"), "x,y\n2,1\n2,3\n").unwrap();
    bad(
        d,
        &["compare", "--transform", "none,zscore", "--data", "const.csv", "-o", "out.png"],
        "all 2 x values are equal",
    );
    bad(d, &["surface", "--elevation", "120", "-o", "out.png"], "elevation 120");
    bad(d, &["surface", "--azimuth", "400", "-o", "out.png"], "azimuth 400");
    // An output that cannot be written: a folder in the way.
    std::fs::create_dir(d.join("out.png")).unwrap();
    let out = lossatlas(d, &c(&["-o", "out.png"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a folder"));
}

#[test]
fn non_finite_losses_are_data_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(
        dir.path(),
        &[
            "contour",
            "--model",
            "ln(a*x + 1) + b",
            "--range",
            "a=-1:2",
            "--range",
            "b=-2:2",
            "--resolution",
            "31",
            "-o",
            "gaps.png",
        ],
    );
    // ln(5a + 1) is undefined for a < -0.2 at the seed's x = 5: a third of the grid is a gap, the
    // rest is drawn, and the user is told.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("of 961 grid points have no finite loss"), "{stderr}");
    assert!(distinct_colors(&decode_png(&dir.path().join("gaps.png"))) > 20);
}
