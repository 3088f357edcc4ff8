//! A user's own data and model, of any size, through the real binary: a three-parameter decay fit
//! sliced by `--plane` and by `--directions random`, logistic regression on two input columns with
//! a cross-entropy loss, the page on user data, and every bad input of the plane and data flags.
//! Expected numbers are computed here, independently of lossatlas.

mod support;

use std::path::Path;

use serde_json::Value;
use support::lossatlas;

/// The decay data: signal = 1.2 * exp(-0.4 * time) + 0.3, exactly, at time = 0, 0.25, ..., 9.75.
const TRUTH: [f64; 3] = [1.2, 0.4, 0.3];

fn decay_rows() -> Vec<(f64, f64)> {
    (0..40)
        .map(|i| {
            let t = i as f64 * 0.25;
            (t, TRUTH[0] * (-TRUTH[1] * t).exp() + TRUTH[2])
        })
        .collect()
}

fn write_decay(dir: &Path) {
    let mut text = String::from("time,signal\n");
    for (t, y) in decay_rows() {
        text.push_str(&format!("{t},{y:.17}\n"));
    }
    std::fs::write(dir.join("decay.csv"), text).unwrap();
}

/// The mse of A*exp(-r*t) + c on the decay data, computed directly.
fn decay_mse(theta: &[f64]) -> f64 {
    let rows = decay_rows();
    rows.iter().map(|(t, y)| (theta[0] * (-theta[1] * t).exp() + theta[2] - y).powi(2)).sum::<f64>()
        / rows.len() as f64
}

fn run_ok(dir: &Path, args: &[&str]) -> (String, String) {
    let out = lossatlas(dir, args);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "lossatlas {args:?} failed: {stderr}");
    (stdout, stderr)
}

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

const DECAY: &[&str] =
    &["--data", "decay.csv", "--x-column", "time", "--y-column", "signal", "--model", "A*exp(-r*x)+c"];

#[test]
fn a_three_parameter_decay_sliced_by_two_of_its_parameters() {
    let dir = tempfile::tempdir().unwrap();
    write_decay(dir.path());
    let mut args = vec!["contour"];
    args.extend(DECAY);
    args.extend([
        "--plane",
        "A,r",
        "--range",
        "A=0:1.5",
        "--range",
        "r=0:1",
        "--resolution",
        "31",
        "-o",
        "three.png",
        "--export-landscape",
        "three.json",
    ]);
    let (_, stderr) = run_ok(dir.path(), &args);
    // c is held at the best point, which is the truth (the data have no noise), and said so.
    assert!(stderr.contains("holds c = 0.3 "), "{stderr}");
    let doc = json_file(&dir.path().join("three.json"));
    assert_eq!(doc["plane"]["kind"], "axes");
    assert_eq!(doc["params"], serde_json::json!(["A", "r"]));
    let origin = numbers(&doc["plane"]["origin"]);
    assert!((origin[2] - 0.3).abs() < 1e-7, "{origin:?}");
    // Every grid value is the loss at (A, r, c_held), computed here.
    let values = &doc["values"];
    for (j, i) in [(0, 0), (7, 19), (30, 30), (12, 24)] {
        let (a, r) = (1.5 * i as f64 / 30.0, j as f64 / 30.0);
        let want = decay_mse(&[a, r, origin[2]]);
        let got = values[j][i].as_f64().unwrap();
        assert!((got - want).abs() <= 1e-10 * (1.0 + want), "({a}, {r}): {got} vs {want}");
    }
    let min = numbers(&doc["min"]["at"]);
    assert!((min[0] - 1.2).abs() < 0.05 + 1e-9 && (min[1] - 0.4).abs() < 0.034, "{min:?}");
    let png = image::open(dir.path().join("three.png")).unwrap();
    assert!(png.width() > 500);

    // Holding c elsewhere is the user's choice, and no search is made.
    let mut held = args.clone();
    held.extend(["--at", "c=0.5"]);
    let (_, stderr) = run_ok(dir.path(), &held);
    assert!(!stderr.contains("best point"), "{stderr}");
    let doc = json_file(&dir.path().join("three.json"));
    assert_eq!(numbers(&doc["plane"]["origin"])[2], 0.5);
}

#[test]
fn a_three_parameter_decay_along_random_directions() {
    let dir = tempfile::tempdir().unwrap();
    write_decay(dir.path());
    let mut args = vec!["contour"];
    args.extend(DECAY);
    args.extend([
        "--directions",
        "random",
        "--seed",
        "3",
        "--resolution",
        "21",
        "-o",
        "random.png",
        "--export-landscape",
        "random.json",
    ]);
    let (_, stderr) = run_ok(dir.path(), &args);
    assert!(stderr.contains("centred on A = 1.2"), "{stderr}");
    let doc = json_file(&dir.path().join("random.json"));
    assert_eq!(doc["plane"]["kind"], "random");
    assert_eq!(doc["plane"]["seed"], 3);
    assert_eq!(doc["params"], serde_json::json!(["direction 1", "direction 2"]));
    let (o, d1, d2) =
        (numbers(&doc["plane"]["origin"]), numbers(&doc["plane"]["d1"]), numbers(&doc["plane"]["d2"]));
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    assert!((dot(&d1, &d1) - 1.0).abs() < 1e-12 && (dot(&d2, &d2) - 1.0).abs() < 1e-12);
    assert!(dot(&d1, &d2).abs() < 1e-12);
    for (got, want) in o.iter().zip(TRUTH) {
        assert!((got - want).abs() < 1e-6, "centre {o:?}");
    }
    // Default range -1:1 in each direction; the value at (u, v) is the loss at o + u d1 + v d2.
    for (j, i) in [(10, 10), (0, 20), (15, 3)] {
        let (u, v) = (-1.0 + i as f64 / 10.0, -1.0 + j as f64 / 10.0);
        let theta: Vec<f64> = (0..3).map(|k| o[k] + u * d1[k] + v * d2[k]).collect();
        let want = decay_mse(&theta);
        let got = doc["values"][j][i].as_f64().unwrap();
        assert!((got - want).abs() <= 1e-9 * (1.0 + want), "({u}, {v}): {got} vs {want}");
    }
    assert!(doc["values"][10][10].as_f64().unwrap() < 1e-12, "the centre is the exact fit");
    // The same seed gives the same plane; another seed another one.
    run_ok(dir.path(), &args);
    assert_eq!(json_file(&dir.path().join("random.json"))["plane"], doc["plane"]);
}

#[test]
fn analyze_measures_the_whole_space_and_the_plane() {
    let dir = tempfile::tempdir().unwrap();
    write_decay(dir.path());
    let mut args = vec!["analyze"];
    args.extend(DECAY);
    args.extend(["--plane", "A,r", "--range", "A=0:2", "--range", "r=0:1", "--resolution", "41", "--json"]);
    let (stdout, _) = run_ok(dir.path(), &args);
    let r: Value = serde_json::from_str(&stdout).unwrap();
    let at = numbers(&r["minimum"]["at"]);
    for (got, want) in at.iter().zip(TRUTH) {
        assert!((got - want).abs() < 1e-7, "{at:?}");
    }
    assert!(r["minimum"]["distance_from_plane"].as_f64().unwrap() < 1e-7);
    // With zero residuals the Hessian of the mse is (2/m) J'J, J's columns the model's partial
    // derivatives at the truth: exp(-r t), -A t exp(-r t), 1.
    let rows = decay_rows();
    let m = rows.len() as f64;
    let jac: Vec<[f64; 3]> = rows
        .iter()
        .map(|(t, _)| {
            let e = (-TRUTH[1] * t).exp();
            [e, -TRUTH[0] * t * e, 1.0]
        })
        .collect();
    let hessian = r["hessian"].as_array().unwrap();
    for p in 0..3 {
        for q in 0..3 {
            let want = 2.0 / m * jac.iter().map(|j| j[p] * j[q]).sum::<f64>();
            let got = hessian[p][q].as_f64().unwrap();
            assert!((got - want).abs() < 1e-6 * (1.0 + want.abs()), "H[{p}][{q}] {got} vs {want}");
        }
    }
    // The plane's 2x2 Hessian is the (A, r) block of the full one.
    let block = &r["plane_curvature"]["hessian"];
    for p in 0..2 {
        for q in 0..2 {
            let (got, want) = (block[p][q].as_f64().unwrap(), hessian[p][q].as_f64().unwrap());
            assert!((got - want).abs() < 1e-6 * (1.0 + want.abs()), "plane H[{p}][{q}]");
        }
    }
    assert_eq!(r["eigenvalues"].as_array().unwrap().len(), 3);
    assert!(r["condition_number"].as_f64().unwrap() > 1.0);
}

/// Two input columns and 0/1 labels that overlap, so the cross-entropy has a finite minimum.
fn write_classes(dir: &Path) -> Vec<([f64; 2], f64)> {
    let mut rows = Vec::new();
    let mut text = String::from("x1,x2,label\n");
    for i in 0..60 {
        let x1 = ((i * 37) % 60) as f64 / 15.0 - 2.0;
        let x2 = ((i * 11) % 60) as f64 / 20.0 - 1.5;
        // Mostly x1 + 0.5 x2 > 0.2, with every seventh label flipped.
        let mut label = if x1 + 0.5 * x2 > 0.2 { 1.0 } else { 0.0 };
        if i % 7 == 0 {
            label = 1.0 - label;
        }
        text.push_str(&format!("{x1},{x2},{label}\n"));
        rows.push(([x1, x2], label));
    }
    std::fs::write(dir.join("clf.csv"), text).unwrap();
    rows
}

/// Logistic regression by Newton's method (iteratively reweighted least squares), written here
/// from its textbook form: returns the weights (a, b, c) and the Hessian (1/m) X' diag(p(1-p)) X.
fn logistic_fit(rows: &[([f64; 2], f64)]) -> ([f64; 3], [[f64; 3]; 3]) {
    let m = rows.len() as f64;
    let mut w = [0.0; 3];
    let mut h = [[0.0; 3]; 3];
    for _ in 0..50 {
        let mut g = [0.0; 3];
        h = [[0.0; 3]; 3];
        for (x, y) in rows {
            let f = [x[0], x[1], 1.0];
            let p = 1.0 / (1.0 + (-(w[0] * f[0] + w[1] * f[1] + w[2])).exp());
            for i in 0..3 {
                g[i] += (p - y) * f[i] / m;
                for j in 0..3 {
                    h[i][j] += p * (1.0 - p) * f[i] * f[j] / m;
                }
            }
        }
        // Solve h d = g by Cramer's rule.
        let det = |a: [[f64; 3]; 3]| {
            a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
                - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
                + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
        };
        let d0 = det(h);
        for k in 0..3 {
            let mut a = h;
            for i in 0..3 {
                a[i][k] = g[i];
            }
            w[k] -= det(a) / d0;
        }
    }
    (w, h)
}

#[test]
fn logistic_regression_on_two_input_columns_with_cross_entropy() {
    let dir = tempfile::tempdir().unwrap();
    let rows = write_classes(dir.path());
    let (w, h) = logistic_fit(&rows);
    for (model, loss) in [("sigmoid(a*x1 + b*x2 + c)", "bce"), ("a*x1 + b*x2 + c", "bce-logits")] {
        let args = [
            "analyze",
            "--data",
            "clf.csv",
            "--inputs",
            "x1,x2",
            "--target",
            "label",
            "--model",
            model,
            "--loss",
            loss,
            "--plane",
            "a,b",
            "--range",
            "a=-1:6",
            "--range",
            "b=-2:5",
            "--resolution",
            "31",
            "--json",
        ];
        let (stdout, _) = run_ok(dir.path(), &args);
        let r: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(r["data"]["inputs"], serde_json::json!(["x1", "x2"]));
        let at = numbers(&r["minimum"]["at"]);
        for k in 0..3 {
            assert!((at[k] - w[k]).abs() < 1e-6, "{loss}: {at:?} vs {w:?}");
        }
        let hessian = r["hessian"].as_array().unwrap();
        for p in 0..3 {
            for q in 0..3 {
                let got = hessian[p][q].as_f64().unwrap();
                assert!((got - h[p][q]).abs() < 1e-7, "{loss}: H[{p}][{q}] {got} vs {}", h[p][q]);
            }
        }
    }
    // A picture of the same, with filled bands.
    let args = [
        "contour",
        "--data",
        "clf.csv",
        "--inputs",
        "x1,x2",
        "--model",
        "sigmoid(a*x1 + b*x2 + c)",
        "--loss",
        "bce",
        "--plane",
        "a,b",
        "--range",
        "a=-1:6",
        "--range",
        "b=-2:5",
        "--filled",
        "-o",
        "clf.png",
    ];
    run_ok(dir.path(), &args);
    assert!(dir.path().join("clf.png").exists());
}

#[test]
fn descend_runs_in_the_full_space_and_reports_the_distance_from_the_plane() {
    let dir = tempfile::tempdir().unwrap();
    write_decay(dir.path());
    let mut args = vec!["descend"];
    args.extend(DECAY);
    args.extend([
        "--plane",
        "A,r",
        "--at",
        "c=0",
        "--range",
        "A=0:2",
        "--range",
        "r=0:1",
        "--resolution",
        "31",
        "--optimizer",
        "gd:lr=0.2",
        "--start",
        "1.5,0.8",
        "--steps",
        "300",
        "-o",
        "path.png",
        "--export-trajectories",
        "path.json",
    ]);
    let (stdout, _) = run_ok(dir.path(), &args);
    assert!(stdout.contains("off plane"), "{stdout}");
    let doc = json_file(&dir.path().join("path.json"));
    let steps = doc[0]["steps"].as_array().unwrap();
    // The start (1.5, 0.8) on the plane is (1.5, 0.8, 0) in full space; c moves off 0 and each
    // step's distance from the plane is exactly |c|.
    assert_eq!(numbers(&steps[0]["params"]), vec![1.5, 0.8, 0.0]);
    for step in steps {
        let c = numbers(&step["params"])[2];
        assert!((step["off_plane"].as_f64().unwrap() - c.abs()).abs() < 1e-15);
    }
    assert!(steps.last().unwrap()["off_plane"].as_f64().unwrap() > 0.1);
}

#[test]
fn hundreds_of_parameters_are_accepted_at_once() {
    let dir = tempfile::tempdir().unwrap();
    write_decay(dir.path());
    let formula: Vec<String> = (0..400).map(|i| format!("p{i}*x^{}", i % 3)).collect();
    let formula = formula.join(" + ");
    let args = [
        "contour",
        "--data",
        "decay.csv",
        "--model",
        formula.as_str(),
        "--directions",
        "random",
        "--resolution",
        "15",
        "-o",
        "many.png",
    ];
    let (_, stderr) = run_ok(dir.path(), &args);
    assert!(stderr.contains("centred on p0 = "), "{stderr}");
    // Without a plane, the error says how to choose one.
    let out = lossatlas(dir.path(), &args[..5].iter().copied().chain(["-o", "out.png"]).collect::<Vec<_>>());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("400 parameter(s)") && stderr.contains("--plane p0,p1"), "{stderr}");
}

#[test]
fn the_page_shows_a_users_own_problem() {
    let dir = tempfile::tempdir().unwrap();
    write_decay(dir.path());
    let mut args = vec!["page"];
    args.extend(DECAY);
    args.extend([
        "--plane",
        "A,r",
        "--range",
        "A=0:2",
        "--range",
        "r=0:1",
        "--resolution",
        "31",
        "-o",
        "mine.html",
    ]);
    run_ok(dir.path(), &args);
    let html = std::fs::read_to_string(dir.path().join("mine.html")).unwrap();
    let island = html
        .split("<script type=\"application/json\" id=\"lossatlas-data\">")
        .nth(1)
        .map(|s| s.split("</script>").next().unwrap());
    let data: Value = serde_json::from_str(island.expect("the page has its data island")).unwrap();
    assert_eq!(data["landscape"]["case"], "yours");
    assert_eq!(data["landscape"]["params"], serde_json::json!(["A", "r"]));
    assert_eq!(data["landscape"]["analysis"]["params"], serde_json::json!(["A", "r", "c"]));
    // A built-in case and one's own problem at once is refused.
    let mut both = args.clone();
    both.extend(["--case", "tanh"]);
    let out = lossatlas(dir.path(), &both);
    assert_eq!(out.status.code(), Some(2));
}

/// Runs a command that must fail as bad input: exit 2, one line naming `needle`, no output file.
fn bad(dir: &Path, args: &[&str], needle: &str) {
    let out = lossatlas(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "lossatlas {args:?}: {stderr}");
    assert!(stderr.contains(needle), "lossatlas {args:?}: expected `{needle}` in: {stderr}");
    assert_eq!(stderr.lines().filter(|l| !l.starts_with("note:")).count(), 1, "{stderr}");
    assert!(!dir.join("out.png").exists(), "partial output");
}

#[test]
fn bad_plane_and_data_flags_get_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_decay(d);
    write_classes(d);
    std::fs::write(d.join("probs.csv"), "x1,x2,label\n1,2,0.5\n2,1,1.5\n3,0,0\n").unwrap();
    let decay = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut a = vec!["contour"];
        a.extend(DECAY);
        a.extend(extra);
        a.extend(["-o", "out.png"]);
        a
    };
    bad(d, &decay(&["--plane", "A"]), "names 1 parameter(s); name exactly two");
    bad(d, &decay(&["--plane", "A,r,c"]), "names 3 parameter(s)");
    bad(d, &decay(&["--plane", "A,q"]), "`q`, which is not a parameter; the parameters are A, r, c");
    bad(d, &decay(&["--plane", "A,A"]), "names `A` twice");
    bad(d, &decay(&["--plane", "A,r", "--at", "z=1"]), "--at names `z`, which is not a parameter");
    bad(d, &decay(&["--plane", "A,r", "--at", "A=1"]), "is an axis of the plane");
    bad(d, &decay(&["--plane", "A,r", "--directions", "random"]), "give one or the other");
    let clf = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut a =
            vec!["contour", "--data", "clf.csv", "--model", "sigmoid(a*x1 + b*x2 + c)", "--plane", "a,b"];
        a.extend(extra);
        a.extend(["-o", "out.png"]);
        a
    };
    bad(d, &clf(&["--inputs", "x1,x3"]), "no input column named `x3`; the columns are x1, x2, label");
    bad(
        d,
        &clf(&["--inputs", "x1,x2", "--params", "a,x1,c"]),
        "`x1` is listed as a parameter but is an input",
    );
    let e = "target 1.5 in data row 2 is not a class label 0/1 or a probability in [0, 1]";
    bad(
        d,
        &[
            "contour",
            "--data",
            "probs.csv",
            "--inputs",
            "x1,x2",
            "--model",
            "sigmoid(a*x1+b*x2)",
            "--loss",
            "bce",
            "-o",
            "out.png",
        ],
        e,
    );
    let mut mse_on_labels = clf(&["--inputs", "x1,x2", "--loss", "bce"]);
    mse_on_labels[2] = "decay.csv";
    bad(d, &mse_on_labels, "no input column named `x1`");
    bad(d, &["contour", "--data", "/dev/zero", "-o", "out.png"], "not a regular file");
}

#[test]
fn runs_are_bounded_before_they_start() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 12000 x 12000 values take 1.1 GB, and contouring, drawing and exporting them several times
    // that: refused before any work, with the budget named.
    bad(d, &["contour", "--resolution", "12000", "-o", "out.png"], "more than the 4096 MiB budget");
    bad(
        d,
        &["contour", "--generate", "a*x+b", "--true", "a=1,b=2", "--samples", "1000000000", "-o", "out.png"],
        "--samples 1000000000",
    );
    bad(d, &["contour", "--range", "k=0:1", "--range", "k=0:2", "-o", "out.png"], "--range gives `k` twice");
    std::fs::write(d.join("numbers.csv"), "1,2\n3,4\n5,6\n").unwrap();
    bad(d, &["contour", "--data", "numbers.csv", "-o", "out.png"], "holds numbers, not column names");
    // A FIFO without a writer would block a reader forever: it is refused without being opened.
    let fifo = d.join("pipe.csv");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        bad(d, &["contour", "--data", "pipe.csv", "-o", "out.png"], "not a regular file");
    }
}

#[test]
fn data_can_come_from_standard_input() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lossatlas"))
        .args(["analyze", "--data", "-", "--json"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // y = 2x + 1 exactly: the least-squares line is k = 2, b = 1.
    child.stdin.take().unwrap().write_all(b"x,y\n0,1\n1,3\n2,5\n3,7\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let at = numbers(&r["minimum"]["at"]);
    assert!((at[0] - 2.0).abs() < 1e-12 && (at[1] - 1.0).abs() < 1e-12, "{at:?}");
    assert_eq!(r["data"]["name"], "standard input");
}
