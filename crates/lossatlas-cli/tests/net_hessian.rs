//! `lossatlas net hessian` through the real binary: its eigenvalues and trace against the closed
//! form of a softmax classifier's Hessian, computed here from the same data; exact repeats from a
//! seed; the density figure; bad input.

mod support;

use std::path::Path;

use lossatlas::analysis::SymmetricEigen;
use lossatlas::net::{read_weights, Activation, Head, Samples, Targets};
use serde_json::Value;
use support::lossatlas;

fn run_ok(dir: &Path, args: &[&str]) -> String {
    let out = lossatlas(dir, args);
    assert!(out.status.success(), "lossatlas {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

/// The Hessian of the mean softmax cross-entropy of a linear classifier z = W x + b (2 inputs,
/// 2 classes, parameters W row-major then b) on `samples`: with s the softmax and u = (x, 1),
/// H = (1/n) sum_i (diag(s_i) - s_i s_i') (x) u_i u_i'.
fn softmax_classifier_hessian(samples: &Samples, params: &[f64]) -> Vec<f64> {
    let x = samples.features();
    let n = samples.len();
    let mut h = vec![0.0; 36];
    let index = |class: usize, j: usize| if j < 2 { class * 2 + j } else { 4 + class };
    for i in 0..n {
        let u = [x[2 * i], x[2 * i + 1], 1.0];
        let z: Vec<f64> =
            (0..2).map(|c| params[2 * c] * u[0] + params[2 * c + 1] * u[1] + params[4 + c]).collect();
        let top = z[0].max(z[1]);
        let e: Vec<f64> = z.iter().map(|v| (v - top).exp()).collect();
        let s: Vec<f64> = e.iter().map(|v| v / (e[0] + e[1])).collect();
        for c in 0..2 {
            for d in 0..2 {
                let a = if c == d { s[c] } else { 0.0 } - s[c] * s[d];
                for j in 0..3 {
                    for k in 0..3 {
                        h[index(c, j) * 6 + index(d, k)] += a * u[j] * u[k] / n as f64;
                    }
                }
            }
        }
    }
    h
}

#[test]
fn eigenvalues_and_trace_match_the_closed_form_hessian() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(
        d,
        &["net", "train", "--points", "300", "--layers", "2,2", "--epochs", "50", "-o", "m.safetensors"],
    );
    let hessian = [
        "net",
        "hessian",
        "--points",
        "300",
        "--weights",
        "m.safetensors",
        "--precision",
        "f64",
        "--top",
        "3",
        "--tol",
        "1e-8",
        "--seed",
        "5",
        "-o",
        "h.json",
        "--density",
        "d.png",
    ];
    let stdout = run_ok(d, &hessian);
    assert!(stdout.contains("top 3 eigenvalue(s)") && stdout.contains("trace"), "{stdout}");
    let report = read_json(&d.join("h.json"));

    // The same data and weights, and the Hessian worked out by hand.
    let (train_set, _) = Samples::moons(300, 0.1, 0).unwrap().split(0.2, 0).unwrap();
    assert!(matches!(train_set.targets(), Targets::Classes { .. }));
    let loaded = read_weights(&d.join("m.safetensors"), Activation::Tanh, Head::CrossEntropy).unwrap();
    let dense = softmax_classifier_hessian(&train_set, &loaded.params);
    let eigen = SymmetricEigen::new(&dense, 6).unwrap();
    let want: Vec<f64> = eigen.values.iter().rev().take(3).copied().collect();
    let got = numbers(&report["top_eigenvalues"]);
    assert_eq!(report["converged"], true);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-7 * want[0], "{got:?} vs {want:?}");
    }
    let exact_trace: f64 = (0..6).map(|i| dense[i * 6 + i]).sum();
    let trace = report["trace"]["estimate"].as_f64().unwrap();
    let error = report["trace"]["standard_error"].as_f64().unwrap();
    assert!(error > 0.0 && (trace - exact_trace).abs() < 3.0 * error, "{trace} +- {error} vs {exact_trace}");
    assert_eq!(report["seed"], 5);
    assert_eq!(report["n_weights"], 6);
    assert!(
        (report["largest_stable_learning_rate"].as_f64().unwrap() - 2.0 / want[0]).abs() < 1e-6 / want[0]
    );

    // The density integrates to 1 and puts its mass within the spectrum.
    let grid = numbers(&report["density"]["eigenvalues"]);
    let density = numbers(&report["density"]["density"]);
    let integral: f64 =
        grid.windows(2).zip(density.windows(2)).map(|(x, p)| 0.5 * (x[1] - x[0]) * (p[0] + p[1])).sum();
    assert!((integral - 1.0).abs() < 1e-6, "{integral}");
    let sigma = report["density"]["sigma"].as_f64().unwrap();
    assert!(grid[0] >= eigen.values[0] - 9.0 * sigma && *grid.last().unwrap() <= want[0] + 9.0 * sigma);
    let png = std::fs::read(d.join("d.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");

    // The seed repeats the run exactly (all but the times).
    std::fs::rename(d.join("h.json"), d.join("first.json")).unwrap();
    run_ok(d, &hessian);
    let again = read_json(&d.join("h.json"));
    for key in ["top_eigenvalues", "residuals", "trace", "density", "lanczos_steps"] {
        assert_eq!(report[key], again[key], "{key}");
    }
}

#[test]
fn a_plane_along_the_top_eigenvectors_bends_by_their_eigenvalues() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(
        d,
        &["net", "train", "--points", "300", "--layers", "2,2", "--epochs", "50", "-o", "m.safetensors"],
    );
    let h = 0.05;
    let stdout = run_ok(
        d,
        &[
            "net",
            "plane",
            "--points",
            "300",
            "--weights",
            "m.safetensors",
            "--precision",
            "f64",
            "--directions",
            "hessian",
            "--range",
            "u=-0.05:0.05",
            "--range",
            "v=-0.05:0.05",
            "--resolution",
            "3",
            "--export-landscape",
            "p.json",
        ],
    );
    let (train_set, _) = Samples::moons(300, 0.1, 0).unwrap().split(0.2, 0).unwrap();
    let loaded = read_weights(&d.join("m.safetensors"), Activation::Tanh, Head::CrossEntropy).unwrap();
    let eigen = SymmetricEigen::new(&softmax_classifier_hessian(&train_set, &loaded.params), 6).unwrap();
    let (l1, l2) = (eigen.values[5], eigen.values[4]);
    // The loss's second differences along the plane's axes (unit eigenvectors) are the two
    // largest eigenvalues, up to the O(h^2) error of the difference.
    let plane = read_json(&d.join("p.json"));
    let v = |row: usize, col: usize| plane["values"][row][col].as_f64().unwrap();
    let along_u = (v(1, 0) - 2.0 * v(1, 1) + v(1, 2)) / (h * h);
    let along_v = (v(0, 1) - 2.0 * v(1, 1) + v(2, 1)) / (h * h);
    assert!((along_u - l1).abs() < 1e-3 * l1, "{along_u} vs {l1}");
    assert!((along_v - l2).abs() < 1e-3 * l1, "{along_v} vs {l2}");
    // The curvature along each direction, printed beside the plane, is v'Hv / v'v.
    let line = stdout.lines().find(|l| l.starts_with("curvature")).unwrap_or_else(|| panic!("{stdout}"));
    let after = |label: &str| -> f64 {
        let rest = &line[line.find(label).unwrap_or_else(|| panic!("{line}")) + label.len()..];
        rest.split([' ', ',']).next().unwrap().parse().unwrap()
    };
    let printed = [after("direction 1 "), after("direction 2 ")];
    assert!((printed[0] - l1).abs() < 1e-5 && (printed[1] - l2).abs() < 1e-5, "{line}");
}

#[test]
fn bad_hessian_input_gets_one_line_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(
        d,
        &["net", "train", "--points", "100", "--layers", "2,2", "--epochs", "5", "-o", "m.safetensors"],
    );
    let base = ["net", "hessian", "--points", "100", "--weights", "m.safetensors", "-o", "out.json"];
    let cases: [(&[&str], &str); 6] = [
        (&["--top", "7"], "only 6 weights"),
        (&["--tol", "0"], "--tol 0: the tolerance must be a positive number"),
        (&["--tol", "-1e-3"], "must be a positive number"),
        (&["--top", "5", "--lanczos-steps", "3"], "--lanczos-steps 3 cannot give --top 5"),
        (&["--probes", "1"], "at least 2 probes"),
        (&["--density", "d.gif"], "d.gif"),
    ];
    for (extra, needle) in cases {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        let out = lossatlas(d, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: expected `{needle}` in {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!d.join("out.json").exists());
    }
}
