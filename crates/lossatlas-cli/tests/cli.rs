//! Runs the real `lossatlas` binary: figures decode, exports parse, and every bad input gets one
//! line, exit code 2 and no output file.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::lossatlas;

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
        "--export-vts",
        "grid.vts",
    ]);
    ok(dir.path(), &args);
    // The VTK grid for ParaView (its numbers are checked in the core's export tests).
    let vts = std::fs::read_to_string(dir.path().join("grid.vts")).unwrap();
    let doc = roxmltree::Document::parse(&vts).unwrap();
    assert_eq!(doc.root_element().attribute("type"), Some("StructuredGrid"));
    assert!(vts.contains(r#"WholeExtent="0 199 0 199 0 0""#), "{}", &vts[..300]);
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
    let export = |file: &str| {
        let args = ["contour", "--range", "k=0:2", "--range", "b=-2:4", "--resolution", "4x3", "-o", "f.svg"];
        let mut args = args.to_vec();
        args.extend(["--export-landscape", file]);
        ok(dir.path(), &args);
    };
    export("g.npy");
    let bytes = std::fs::read(dir.path().join("g.npy")).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
    assert!(header.contains("'shape': (3, 4)"), "{header}");
    assert_eq!(bytes.len() - 10 - header_len, 12 * 8);
    export("g.csv");
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
    for needle in
        ["condition number 33.4", "condition number 1.00", "condition number 2.92", "(x - mean) / var"]
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
    // A stop that reads what an earlier one wrote reads it where it is staged until the tour
    // ends; a report must still name the file the user finds (it once named the temporary one).
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("t/moons-hessian.json")).unwrap())
            .unwrap();
    let weights = std::path::PathBuf::from(report["weights"].as_str().unwrap());
    assert_eq!(weights.file_name().unwrap(), "moons.safetensors", "{}", weights.display());
    for entry in std::fs::read_dir(dir.path().join("t")).unwrap() {
        let path = entry.unwrap().path();
        if let Ok(text) = std::fs::read_to_string(&path) {
            assert!(!text.contains(".lossatlas-"), "{} names a temporary file", path.display());
        }
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
    bad(d, &c(&["--data", "text.csv", "--x-column", "z", "-o", "out.png"]), "no input column named `z`");
    bad(d, &["contour", "--model", "sin(b*cos(a*x)", "-o", "out.png"], "position");
    bad(d, &["contour", "--model", "foo(a*x)+b", "-o", "out.png"], "unknown function `foo`");
    bad(d, &["contour", "--model", "a*x+b+c", "-o", "out.png"], "3 parameter");
    bad(d, &["contour", "--model", "a*x", "-o", "out.png"], "1 parameter");
    bad(d, &["contour", "--model", "a*x+b", "--params", "a,c", "-o", "out.png"], "c");
    bad(d, &["contour", "--range", "k=2:0", "-o", "out.png"], "min < max");
    bad(d, &["contour", "--range", "k=0:inf", "-o", "out.png"], "not a finite number");
    bad(d, &["contour", "--range", "q=0:1", "-o", "out.png"], "not an axis of the plane");
    bad(d, &["contour", "--resolution", "1", "-o", "out.png"], "at least 2 points");
    bad(d, &["contour", "--resolution", "100000", "-o", "out.png"], "needs about 305175 MiB");
    bad(d, &["contour", "--resolution", "lots", "-o", "out.png"], "whole number");
    bad(d, &["contour", "--model", "ln(a*x) + b", "-o", "out.png"], "not finite anywhere");
    bad(d, &c(&["-o", "out.gif"]), "use a name ending in .png or .svg");
    bad(d, &c(&["-o", "no/such/folder/out.png"]), "does not exist");
    bad(d, &c(&["--levels", "0.2,abc", "-o", "out.png"]), "`abc` is not a number");
    bad(d, &c(&["--loss", "l2", "-o", "out.png"]), "unknown loss `l2`");
    bad(d, &c(&["--activation", "softmax", "-o", "out.png"]), "unknown activation");
    bad(d, &c(&["--size", "10x10", "-o", "out.png"]), "out of range");
    bad(d, &c(&["--export-landscape", "grid.txt", "-o", "out.png"]), ".json, .csv, .npy or .vts");
    bad(
        d,
        &c(&["--export-vts", "grid.vtk", "-o", "out.png"]),
        "--export-vts `grid.vtk`: use a name ending in .vts",
    );
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

#[test]
fn descend_draws_figure_5_and_reports_each_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(
        dir.path(),
        &[
            "descend",
            "--generate",
            "a*x + b",
            "--true",
            "a=1.2,b=2.5",
            "--model",
            "a*x + b",
            "--range",
            "a=-2:7",
            "--range",
            "b=-2:7",
            "--resolution",
            "60",
            "--optimizer",
            "gd:lr=0.1",
            "--optimizer",
            "adam:lr=0.1",
            "--steps",
            "400",
            "--start",
            "5,4",
            "--start",
            "5,1",
            "--start",
            "2,4.5",
            "-o",
            "paths.png",
            "-o",
            "paths.svg",
            "--surface",
            "surface.png",
            "--fit",
            "fit.png",
            "--loss-curve",
            "loss.svg",
            "--gif",
            "paths.gif",
            "--export-trajectories",
            "runs.json",
        ],
    );
    let table = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows.len(), 7, "{table}");
    assert!(rows[0].starts_with("optimizer") && rows[0].contains("loss"), "{table}");
    // Gradient descent on a linear model with mse reaches the least-squares fit of the noisy data.
    for row in rows.iter().filter(|r| r.starts_with("gd")) {
        let cells: Vec<&str> = row.split_whitespace().collect();
        let a: f64 = cells[cells.len() - 3].parse().unwrap();
        let b: f64 = cells[cells.len() - 2].parse().unwrap();
        assert!((a - 1.2).abs() < 0.05 && (b - 2.5).abs() < 0.05, "{row}");
    }
    for png in ["paths.png", "surface.png", "fit.png"] {
        assert!(distinct_colors(&decode_png(&dir.path().join(png))) > 50, "{png}");
    }
    for svg in ["paths.svg", "loss.svg"] {
        roxmltree::Document::parse(&std::fs::read_to_string(dir.path().join(svg)).unwrap()).unwrap();
    }
    let gif = std::fs::File::open(dir.path().join("paths.gif")).unwrap();
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(gif).unwrap();
    let mut frames = 0;
    while decoder.read_next_frame().unwrap().is_some() {
        frames += 1;
    }
    assert!(frames > 20, "only {frames} frames");
    let size = std::fs::metadata(dir.path().join("paths.gif")).unwrap().len();
    assert!(size < 5_000_000, "GIF is {size} bytes");

    let runs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("runs.json")).unwrap()).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 6);
    assert_eq!(runs[0]["optimizer"], "gd");
    assert_eq!(runs[3]["optimizer"], "adam");
    assert_eq!(runs[3]["settings"]["beta2"], 0.999);
    let steps = runs[0]["steps"].as_array().unwrap();
    assert_eq!(steps[0]["params"], serde_json::json!([5.0, 4.0]));
    assert!(steps.len() > 100);
}

#[test]
fn descend_reports_divergence_as_an_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(
        dir.path(),
        &[
            "descend",
            "--range",
            "k=-3:5",
            "--range",
            "b=-3:5",
            "--resolution",
            "40",
            "--optimizer",
            "gd:lr=1",
            "--start",
            "2,4",
            "-o",
            "diverged.png",
            "--export-trajectories",
            "runs.csv",
        ],
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.lines().nth(1).unwrap().contains("diverged"), "{table}");
    let csv = std::fs::read_to_string(dir.path().join("runs.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some("run,optimizer,step,k,b,loss,grad_k,grad_b,stopped"));
    assert!(csv.lines().last().unwrap().ends_with(",diverged"));
    assert!(distinct_colors(&decode_png(&dir.path().join("diverged.png"))) > 20);
}

#[test]
fn descend_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = ["descend", "--range", "k=0:2", "--range", "b=-2:4", "--resolution", "20"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v = base.to_vec();
        v.extend_from_slice(extra);
        v
    };
    bad(d, &with(&["--optimizer", "lbfgs", "--start", "1,1", "-o", "out.png"]), "unknown optimizer `lbfgs`");
    bad(d, &with(&["--optimizer", "adam:gamma=2", "--start", "1,1", "-o", "out.png"]), "no setting `gamma`");
    bad(d, &with(&["--optimizer", "gd:lr=-0.1", "--start", "1,1", "-o", "out.png"]), "lr = -0.1 must be > 0");
    bad(d, &with(&["--optimizer", "gd:lr=0", "--start", "1,1", "-o", "out.png"]), "lr = 0 must be > 0");
    bad(d, &with(&["--start", "1,1,1", "-o", "out.png"]), "has 3 coordinate(s)");
    bad(d, &with(&["--start", "1,x", "-o", "out.png"]), "`x` is not a number");
    bad(d, &with(&["--start", "1,1", "--steps", "0", "-o", "out.png"]), "at least 1 step");
    bad(d, &with(&["--start", "1,1", "--gif", "out.mp4", "-o", "out.png"]), "ending in .gif");
    bad(d, &with(&["--start", "1,1", "--batch-size", "0", "-o", "out.png"]), "batch size 0");
    // A start outside the drawn range is allowed, with a note that its path is clipped.
    let out = ok(d, &with(&["--start", "5,9", "-o", "clipped.png"]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the drawn range"));
}

#[test]
fn analyze_reports_the_seed_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(dir.path(), &["analyze", "--range", "k=0:2", "--range", "b=-2:4", "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let at = r["minimum"]["at"].as_array().unwrap();
    assert!((at[0].as_f64().unwrap() - 0.825_714_285_714).abs() < 1e-9);
    assert!((at[1].as_f64().unwrap() - 1.485_714_285_714).abs() < 1e-9);
    assert!((r["condition_number"].as_f64().unwrap() - 33.408).abs() < 1e-3);
    let lr = r["gradient_descent"]["max_stable_learning_rate"].as_f64().unwrap();
    assert!((lr - 0.101_304_866).abs() < 1e-8, "{lr}");
    // H = 1/3 [[55, 15], [15, 6]] exactly.
    assert!((r["hessian"][0][0].as_f64().unwrap() - 55.0 / 3.0).abs() < 1e-12);
    assert_eq!(r["critical_points"].as_array().unwrap().len(), 1);
    assert_eq!(r["critical_points"][0]["kind"], "minimum");

    let out = ok(dir.path(), &["analyze", "--transforms", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kappa = |i: usize| rows[i]["condition_number"].as_f64().unwrap();
    assert!(
        (kappa(0) - 33.408).abs() < 1e-3
            && (kappa(1) - 1.0).abs() < 1e-9
            && (kappa(3) - 35.0 / 12.0).abs() < 1e-9
    );

    // A landscape with no finite value is a clear statement, not a crash or a made-up number.
    let out = ok(dir.path(), &["analyze", "--model", "ln(a*x) + b", "--json"]);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["minimum"].is_null() && r["statement"].as_str().unwrap().contains("not finite anywhere"));
    // A flat direction: the Hessian is singular, so no condition number is claimed.
    let out = ok(
        dir.path(),
        &["analyze", "--model", "a*b*x", "--range", "a=0.5:2", "--range", "b=0.5:2", "--json"],
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(r["condition_number"].is_null(), "{r}");
    assert!(r["statement"].as_str().unwrap().contains("singular"), "{r}");
}

#[test]
fn basins_label_every_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("two.csv"), "x,y\n1,0\n0,0\n").unwrap();
    // L = ((a^2 - 1)^2 + b^2) / 2: minima at a = -1 and a = 1, split at a = 0.
    ok(
        dir.path(),
        &[
            "basins",
            "--data",
            "two.csv",
            "--model",
            "(a^2 - 1)*x + b*(1 - x)",
            "--range",
            "a=-2:2",
            "--range",
            "b=-1.5:1.5",
            "--resolution",
            "41",
            "--starts",
            "10",
            "--optimizer",
            "gd:lr=0.05",
            "--steps",
            "3000",
            "-o",
            "basins.png",
            "--json",
            "basins.json",
        ],
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("basins.json")).unwrap()).unwrap();
    let minima = doc["minima"].as_array().unwrap();
    assert_eq!(minima.len(), 2);
    let left = minima.iter().position(|m| m["at"][0].as_f64().unwrap() < 0.0).unwrap() as i64;
    for row in doc["labels"].as_array().unwrap() {
        for (i, label) in row.as_array().unwrap().iter().enumerate() {
            let a = -2.0 + 4.0 * i as f64 / 9.0;
            let want = if a < 0.0 { left } else { 1 - left };
            assert_eq!(label.as_i64().unwrap(), want, "start a = {a}");
        }
    }
    assert!(distinct_colors(&decode_png(&dir.path().join("basins.png"))) > 10);
}

#[test]
fn a_closed_pipe_on_stdout_is_a_quiet_success() {
    // `lossatlas analyze | head -1`: the reader goes away; the command must not panic.
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lossatlas"))
        .args(["analyze", "--transforms"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn help_examples_can_be_pasted_and_completions_are_printed() {
    let dir = tempfile::tempdir().unwrap();
    for command in ["contour", "compare", "surface", "descend", "analyze", "basins", "page", "serve"] {
        let out = ok(dir.path(), &[command, "--help"]);
        let help = String::from_utf8(out.stdout).unwrap();
        let examples = help.split("Examples:").nth(1).unwrap_or_else(|| panic!("{command} has examples"));
        let lines: Vec<&str> = examples.lines().collect();
        for (k, line) in lines.iter().enumerate() {
            // A command line, or a continuation of the one before (which then ends in `\`):
            // anything else indented like a command was wrapped by the help formatter.
            if line.starts_with("        ") {
                assert!(lines[k - 1].ends_with('\\'), "{command} --help wraps an example: {line:?}");
            } else if line.starts_with("    ") {
                assert!(line.trim_start().starts_with("lossatlas "), "{command} --help: {line:?}");
            }
        }
        assert!(!help.contains(" the seed's ") && !help.contains("the note"), "{command} --help: {help}");
    }
    let out = ok(dir.path(), &["completions", "bash"]);
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.contains("lossatlas") && script.contains("--directions"), "{script}");
}

/// How many frames a GIF file holds.
fn gif_frames(path: &Path) -> usize {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(std::fs::File::open(path).unwrap()).unwrap();
    let mut frames = 0;
    while decoder.read_next_frame().unwrap().is_some() {
        frames += 1;
    }
    frames
}

#[test]
fn issue_14_five_hundred_levels_draw_with_a_bounded_number_of_labels() {
    // 500 explicit levels used to spend minutes placing labels. Now a plot labels at most 80
    // levels, two labels each at most; the rest of the texts are ticks, axis names, title, legend.
    let dir = tempfile::tempdir().unwrap();
    let levels: Vec<String> = (0..500).map(|i| format!("{}", 0.1 + 0.05 * i as f64)).collect();
    let levels = levels.join(",");
    let args = ["contour", "--range", "k=0:2", "--range", "b=-2:4", "--levels", &levels];
    ok(dir.path(), &[&args[..], &["-o", "many.svg", "-o", "many.png"]].concat());
    let svg = std::fs::read_to_string(dir.path().join("many.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let texts: Vec<&str> =
        doc.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).collect();
    let lines = doc.descendants().filter(|n| n.has_tag_name("polyline")).count();
    assert!(lines > 500, "the lines are all drawn ({lines} polylines)");
    assert!(texts.len() <= 2 * 80 + 40, "{} texts", texts.len());
    assert!(texts.len() >= 20, "the levels are still labelled: {texts:?}");
    assert!(distinct_colors(&decode_png(&dir.path().join("many.png"))) > 50);
}

#[test]
fn issue_14_a_gif_of_a_30000_step_run_has_a_bounded_number_of_frames() {
    // Gradient descent just below its stable rate zigzags across the valley for all 30000 steps
    // (tolerance 0: it never stops early); frames used to cost time in proportion to the path.
    let dir = tempfile::tempdir().unwrap();
    ok(
        dir.path(),
        &[
            "descend",
            "--range",
            "k=-1:3",
            "--range",
            "b=-2:5",
            "--start",
            "2.5,-1.5",
            "--optimizer",
            "gd:lr=0.1013",
            "--tolerance",
            "0",
            "--steps",
            "30000",
            "-o",
            "long.png",
            "--gif",
            "long.gif",
        ],
    );
    let frames = gif_frames(&dir.path().join("long.gif"));
    assert!((2..=250).contains(&frames), "{frames} frames");
    assert!(distinct_colors(&decode_png(&dir.path().join("long.png"))) > 50);
}

#[test]
fn issue_14_a_run_whose_loss_overflows_still_draws_its_loss_curve() {
    // A rate of 1e150 sends the loss to 2.5e303 in one step, 1e200 to infinity: the loss curve
    // used to fail ("leaves no room for its plot") or overflow; now the line is clipped.
    let dir = tempfile::tempdir().unwrap();
    for lr in ["1e150", "1e200"] {
        let optimizer = format!("gd:lr={lr}");
        let out = ok(
            dir.path(),
            &[
                "descend",
                "--optimizer",
                &optimizer,
                "--steps",
                "400",
                "--range",
                "k=-1:3",
                "--range",
                "b=-2:5",
                "--start",
                "2.5,-1.5",
                "-o",
                "p.png",
                "--loss-curve",
                "l.png",
            ],
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("diverged"), "lr {lr}");
        assert!(distinct_colors(&decode_png(&dir.path().join("l.png"))) > 10, "lr {lr}");
        assert!(distinct_colors(&decode_png(&dir.path().join("p.png"))) > 50, "lr {lr}");
    }
}
