//! The `lossatlas net` commands through the real binary: weights in PyTorch's state_dict layout,
//! planes and lines checked against numpy (fixtures/net/make_fixtures.py), planes that recompute
//! exactly from their saved directions, a recorded path in its PCA plane, and bad input.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{assert_close, json, lossatlas, numbers, read_npy, run_ok};

/// The header of a safetensors file, read by hand: an 8-byte little-endian length, then JSON.
fn safetensors_header(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    serde_json::from_slice(&bytes[8..8 + n]).unwrap()
}

#[test]
fn train_then_slice_a_network() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let stdout = run_ok(
        d,
        &[
            "net",
            "train",
            "--points",
            "300",
            "--layers",
            "2,8,8,2",
            "--epochs",
            "30",
            "--batch-size",
            "32",
            "-o",
            "m.safetensors",
        ],
    );
    assert!(stdout.contains("accuracy"), "{stdout}");
    // PyTorch's nn.Sequential(Linear, Tanh, Linear, Tanh, Linear) names and shapes.
    let header = safetensors_header(&d.join("m.safetensors"));
    for (name, shape) in [
        ("0.weight", [8, 2].as_slice()),
        ("0.bias", &[8]),
        ("2.weight", &[8, 8]),
        ("2.bias", &[8]),
        ("4.weight", &[2, 8]),
        ("4.bias", &[2]),
    ] {
        assert_eq!(header[name]["shape"], serde_json::json!(shape), "{name}: {header}");
        assert_eq!(header[name]["dtype"], "F32");
    }
    let plane = [
        "net",
        "plane",
        "--points",
        "300",
        "--weights",
        "m.safetensors",
        "--resolution",
        "21",
        "--seed",
        "4",
        "-o",
        "p.png",
        "--export-landscape",
        "p.json",
        "--save-directions",
        "d1.safetensors,d2.safetensors",
        "--page",
        "p.html",
        "--export-accuracy",
        "acc.npy",
    ];
    run_ok(d, &plane);
    // Accuracy over the grid: a fraction of the 240 training points at every grid point.
    let (rows, cols, accuracy) = read_npy(&d.join("acc.npy"));
    assert_eq!((rows, cols), (21, 21));
    assert!(accuracy
        .iter()
        .all(|a| (0.0..=1.0).contains(a) && (a * 240.0 - (a * 240.0).round()).abs() < 1e-9));
    let page = std::fs::read_to_string(d.join("p.html")).unwrap();
    assert!(
        page.contains("filter-normalized random plane, seed 4") && page.contains("\"weights\":114"),
        "the page describes the network"
    );
    let first: Value = serde_json::from_slice(&std::fs::read(d.join("p.json")).unwrap()).unwrap();
    assert_eq!(first["plane"]["kind"], "normalized");
    assert_eq!(first["plane"]["seed"], 4);
    // Filter-normalized, biases zeroed: the saved directions have the weights' names and shapes.
    assert_eq!(safetensors_header(&d.join("d1.safetensors"))["2.weight"]["shape"], serde_json::json!([8, 8]));
    // The same plane from the saved direction files: the same numbers, exactly.
    run_ok(
        d,
        &[
            "net",
            "plane",
            "--points",
            "300",
            "--weights",
            "m.safetensors",
            "--resolution",
            "21",
            "--directions",
            "d1.safetensors,d2.safetensors",
            "--export-landscape",
            "q.json",
        ],
    );
    let second: Value = serde_json::from_slice(&std::fs::read(d.join("q.json")).unwrap()).unwrap();
    assert_eq!(first["values"], second["values"]);
    // Along filter-normalized directions one unit away the loss rises above the trained one.
    let centre = first["values"][10][10].as_f64().unwrap();
    let corner = first["values"][0][0].as_f64().unwrap();
    assert!(corner > centre, "{corner} vs {centre}");
}

#[test]
fn bad_network_input_gets_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("junk.safetensors"), b"not a tensor file").unwrap();
    let cases: [(&[&str], &str); 4] = [
        (&["net", "plane", "--weights", "junk.safetensors", "-o", "out.png"], "junk.safetensors"),
        (&["net", "train", "--layers", "2,x,2", "-o", "out.safetensors"], "--layers `2,x,2`"),
        (&["net", "train", "--dataset", "mnist", "-o", "out.safetensors"], "unknown --dataset `mnist`"),
        (&["net", "train", "-o", "out.bin"], "ending in .safetensors"),
    ];
    for (args, needle) in cases {
        let out = lossatlas(d, args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: expected `{needle}` in {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!d.join("out.png").exists() && !d.join("out.safetensors").exists());
    }
}

/// The folder of the numpy-made fixtures.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/net")
}

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

/// A user's PyTorch-layout MLP and CSV data: the plane along two direction files matches numpy's
/// losses at every grid point, in f64 to rounding and in f32 to float32 accuracy.
#[test]
fn a_pytorch_layout_network_on_csv_data_matches_numpy_on_its_plane() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let reference = json(&fixtures().join("reference.json"));
    let directions = format!("{},{}", fixture("clf-d1.safetensors"), fixture("clf-d2.safetensors"));
    let weights = fixture("clf.safetensors");
    let data = fixture("clf.csv");
    for (precision, rel) in [("f64", 1e-12), ("f32", 2e-5)] {
        let out = format!("plane-{precision}.json");
        run_ok(
            d,
            &[
                "net",
                "plane",
                "--weights",
                &weights,
                "--activation",
                "tanh",
                "--data",
                &data,
                "--target",
                "label",
                "--test-fraction",
                "0",
                "--directions",
                &directions,
                "--range",
                "u=-1:1",
                "--range",
                "v=-1:1",
                "--resolution",
                "5",
                "--precision",
                precision,
                "--export-landscape",
                &out,
            ],
        );
        let got = json(&d.join(&out));
        let rows = got["values"].as_array().unwrap();
        let want = reference["clf"]["loss"].as_array().unwrap();
        assert_eq!(rows.len(), 5);
        for (k, (row, want_row)) in rows.iter().zip(want).enumerate() {
            assert_close(&numbers(row), &numbers(want_row), rel, &format!("{precision} row {k}"));
        }
        assert_eq!(got["plane"]["kind"], "given");
    }
    // Regression: a gelu network scored by mse, with the target column named.
    let directions = format!("{},{}", fixture("reg-d1.safetensors"), fixture("reg-d2.safetensors"));
    run_ok(
        d,
        &[
            "net",
            "plane",
            "--weights",
            &fixture("reg.safetensors"),
            "--activation",
            "gelu",
            "--loss",
            "mse",
            "--data",
            &fixture("reg.csv"),
            "--target",
            "y",
            "--inputs",
            "a,b",
            "--test-fraction",
            "0",
            "--directions",
            &directions,
            "--range",
            "u=-1:1",
            "--range",
            "v=-1:1",
            "--resolution",
            "5",
            "--precision",
            "f64",
            "--export-landscape",
            "reg.json",
        ],
    );
    let got = json(&d.join("reg.json"));
    for (k, (row, want_row)) in
        got["values"].as_array().unwrap().iter().zip(reference["reg"]["loss"].as_array().unwrap()).enumerate()
    {
        assert_close(&numbers(row), &numbers(want_row), 1e-12, &format!("mse row {k}"));
    }
}

/// `net line --from`: the interpolation from initial to trained weights matches numpy's loss and
/// accuracy, and the chart and CSV are written.
#[test]
fn a_line_between_two_weight_files_matches_numpy() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let reference = json(&fixtures().join("reference.json"));
    let stdout = run_ok(
        d,
        &[
            "net",
            "line",
            "--weights",
            &fixture("clf.safetensors"),
            "--from",
            &fixture("clf-init.safetensors"),
            "--activation",
            "tanh",
            "--data",
            &fixture("clf.csv"),
            "--test-fraction",
            "0",
            "--range",
            "-0.5:1.5",
            "--resolution",
            "9",
            "--precision",
            "f64",
            "--export",
            "line.json",
            "-o",
            "line.png",
            "--save-direction",
            "dir.safetensors",
        ],
    );
    assert!(stdout.contains("at alpha 0") && stdout.contains("at alpha 1"), "{stdout}");
    let got = json(&d.join("line.json"));
    assert_eq!(got["line"]["kind"], "interpolation");
    assert_close(&numbers(&got["alpha"]), &numbers(&reference["clf"]["line_t"]), 1e-15, "alpha");
    assert_close(&numbers(&got["train"]["loss"]), &numbers(&reference["clf"]["line_loss"]), 1e-12, "loss");
    assert_eq!(numbers(&got["train"]["accuracy"]), numbers(&reference["clf"]["line_accuracy"]));
    assert!(got["test"].is_null(), "no test part with --test-fraction 0");
    assert!(std::fs::read(d.join("line.png")).unwrap().starts_with(b"\x89PNG"));
    assert_eq!(safetensors_header(&d.join("dir.safetensors"))["0.weight"]["dtype"], "F64");
    // The CSV form: a header and one row per alpha.
    run_ok(
        d,
        &[
            "net",
            "line",
            "--weights",
            &fixture("clf.safetensors"),
            "--from",
            &fixture("clf-init.safetensors"),
            "--data",
            &fixture("clf.csv"),
            "--resolution",
            "9",
            "--export",
            "line.csv",
        ],
    );
    let csv = std::fs::read_to_string(d.join("line.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("alpha,train_loss,train_accuracy,test_loss,test_accuracy"));
    assert_eq!(lines.count(), 9);
}

/// The f64 tensors of a safetensors file, concatenated in state_dict order (0.weight, 0.bias, ...).
fn read_direction(path: &Path) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let mut names: Vec<&String> =
        header.as_object().unwrap().keys().filter(|k| *k != "__metadata__").collect();
    names.sort_by_key(|name| {
        let (layer, kind) = name.split_once('.').unwrap();
        (layer.parse::<usize>().unwrap(), kind != "weight")
    });
    let mut out = Vec::new();
    for name in names {
        assert_eq!(header[name]["dtype"], "F64");
        let offsets = numbers(&header[name]["data_offsets"]);
        let (a, b) = (8 + n + offsets[0] as usize, 8 + n + offsets[1] as usize);
        out.extend(bytes[a..b].chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())));
    }
    out
}

/// `net train --record-path` then `net pca`: the path file is a numpy array of every k-th step;
/// the principal directions are orthonormal; each exported projection and distance agree with
/// the snapshot and the saved directions, computed here by hand; the figures are written.
#[test]
fn a_recorded_path_in_its_pca_plane() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(
        d,
        &[
            "net",
            "train",
            "--points",
            "200",
            "--layers",
            "2,6,2",
            "--epochs",
            "40",
            "--batch-size",
            "40",
            "--record-path",
            "path.npy",
            "--record-every",
            "7",
            "--save-initial",
            "init.safetensors",
            "--precision",
            "f64",
            "-o",
            "m.safetensors",
        ],
    );
    let (rows, cols, path) = read_npy(&d.join("path.npy"));
    // 40 epochs x 4 batches = 160 steps: steps 0, 7, ..., 154 and the last, 160.
    let steps: Vec<f64> = (0..rows).map(|r| path[r * cols]).collect();
    let mut want: Vec<f64> = (0..=160).step_by(7).map(|s| s as f64).collect();
    want.push(160.0);
    assert_eq!(steps, want);
    assert_eq!(cols, 1 + 2 * 6 + 6 + 6 * 2 + 2);
    let stdout = run_ok(
        d,
        &[
            "net",
            "pca",
            "--points",
            "200",
            "--weights",
            "m.safetensors",
            "--path",
            "path.npy",
            "--precision",
            "f64",
            "--resolution",
            "15",
            "-o",
            "pca.png",
            "--off-plane",
            "off.png",
            "--surface",
            "pca3d.png",
            "--export-path",
            "proj.json",
            "--export-landscape",
            "grid.json",
            "--save-directions",
            "p1.safetensors,p2.safetensors",
        ],
    );
    assert!(stdout.contains("explain"), "{stdout}");
    for file in ["pca.png", "off.png", "pca3d.png"] {
        assert!(std::fs::read(d.join(file)).unwrap().starts_with(b"\x89PNG"), "{file}");
    }
    assert_eq!(json(&d.join("grid.json"))["plane"]["kind"], "path_pca");
    let (p1, p2) = (read_direction(&d.join("p1.safetensors")), read_direction(&d.join("p2.safetensors")));
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    assert!((dot(&p1, &p1) - 1.0).abs() < 1e-12 && (dot(&p2, &p2) - 1.0).abs() < 1e-12);
    assert!(dot(&p1, &p2).abs() < 1e-12);
    let exported = json(&d.join("proj.json"));
    let ratios = numbers(&exported["explained_variance_ratio"]);
    assert!(ratios.windows(2).all(|w| w[0] >= w[1]) && (ratios.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    let points = exported["points"].as_array().unwrap();
    assert_eq!(points.len(), rows);
    // The plane goes through the trained weights (saved in f32): the last snapshot, to f32 rounding.
    let origin: Vec<f64> = path[(rows - 1) * cols + 1..rows * cols].to_vec();
    for (r, point) in points.iter().enumerate() {
        let offset: Vec<f64> =
            path[r * cols + 1..(r + 1) * cols].iter().zip(&origin).map(|(s, o)| s - o).collect();
        let (u, v) = (dot(&offset, &p1), dot(&offset, &p2));
        let rest: Vec<f64> = offset.iter().zip(&p1).zip(&p2).map(|((x, a), b)| x - u * a - v * b).collect();
        let distance = dot(&rest, &rest).sqrt();
        let scale = dot(&offset, &offset).sqrt().max(1.0);
        for (name, want) in [("u", u), ("v", v), ("distance", distance)] {
            let got = point[name].as_f64().unwrap();
            assert!((got - want).abs() < 1e-6 * scale, "snapshot {r} {name}: {got} vs {want}");
        }
        assert_eq!(point["step"].as_f64().unwrap(), steps[r]);
    }
    // At the end the path is on the plane, and the drawn loss is the true one.
    let last = points.last().unwrap();
    assert!(last["distance"].as_f64().unwrap() < 1e-5);
    let (loss, drawn) = (last["loss"].as_f64().unwrap(), last["plane_loss"].as_f64().unwrap());
    assert!((loss - drawn).abs() < 1e-5 * loss, "{loss} vs {drawn}");
}

/// Bad input to the line, pca and CSV paths: one line naming the problem, exit 2, no output.
#[test]
fn bad_line_pca_and_csv_input_gets_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(
        d,
        &["net", "train", "--points", "100", "--layers", "2,4,2", "--epochs", "2", "-o", "small.safetensors"],
    );
    run_ok(
        d,
        &[
            "net",
            "train",
            "--points",
            "100",
            "--layers",
            "2,5,2",
            "--epochs",
            "3",
            "--record-path",
            "p5.npy",
            "-o",
            "five.safetensors",
        ],
    );
    std::fs::write(d.join("wide.csv"), "a,b,c,label\n1,2,3,0\n4,5,6,1\n7,8,9,0\n").unwrap();
    std::fs::write(d.join("labels.csv"), "a,b,label\n1,2,0\n4,5,7\n7,8,1\n").unwrap();
    let clf = fixture("clf.safetensors");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "net",
                "line",
                "--weights",
                "small.safetensors",
                "--from",
                "five.safetensors",
                "-o",
                "out.png",
            ],
            "interpolate between networks of one shape",
        ),
        (
            vec!["net", "pca", "--weights", "small.safetensors", "--path", "p5.npy", "-o", "out.png"],
            "holds snapshots of",
        ),
        (
            vec!["net", "plane", "--weights", "small.safetensors", "--data", "wide.csv", "-o", "out.png"],
            "3 feature(s) per sample but the network takes 2",
        ),
        (
            vec!["net", "plane", "--weights", "small.safetensors", "--data", "labels.csv", "-o", "out.png"],
            "label 7 is not a class of a network with 2 outputs",
        ),
        (
            vec![
                "net",
                "plane",
                "--weights",
                &clf,
                "--data",
                "labels.csv",
                "--inputs",
                "a,zz",
                "-o",
                "out.png",
            ],
            "no feature column named `zz`",
        ),
        (
            vec!["net", "line", "--weights", "small.safetensors", "--export", "out.txt"],
            "ending in .csv or .json",
        ),
        (
            vec![
                "net",
                "pca",
                "--weights",
                "small.safetensors",
                "--path",
                "small.safetensors",
                "-o",
                "out.png",
            ],
            "small.safetensors",
        ),
        (vec!["net", "train", "--record-path", "out.csv", "-o", "out.safetensors"], "ending in .npy"),
    ];
    for (args, needle) in cases {
        let out = lossatlas(d, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: expected `{needle}` in {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        for file in ["out.png", "out.txt", "out.csv", "out.safetensors"] {
            assert!(!d.join(file).exists(), "{args:?} left {file}");
        }
    }
    // A training run that fails leaves no path file behind.
    let out = lossatlas(
        d,
        &[
            "net",
            "train",
            "--points",
            "100",
            "--optimizer",
            "gd:lr=1e300",
            "--epochs",
            "50",
            "--record-path",
            "gone.npy",
            "-o",
            "gone.safetensors",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!d.join("gone.npy").exists() && !d.join("gone.safetensors").exists());
    let leftovers: Vec<_> = std::fs::read_dir(d)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".lossatlas-"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// `--orthogonalize`: the saved second direction is orthogonal to the first; without it, two
/// random directions in 114 dimensions are not exactly so.
#[test]
fn orthogonalized_directions_are_saved_orthogonal() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(
        d,
        &["net", "train", "--points", "200", "--layers", "2,8,8,2", "--epochs", "5", "-o", "m.safetensors"],
    );
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    for (flag, orthogonal) in [(Some("--orthogonalize"), true), (None, false)] {
        let mut args = vec![
            "net",
            "plane",
            "--points",
            "200",
            "--weights",
            "m.safetensors",
            "--resolution",
            "5",
            "--export-landscape",
            "l.json",
        ];
        args.extend(["--save-directions", "a.safetensors,b.safetensors"]);
        args.extend(flag);
        run_ok(d, &args);
        let (a, b) = (read_direction(&d.join("a.safetensors")), read_direction(&d.join("b.safetensors")));
        let cosine = dot(&a, &b) / (dot(&a, &a) * dot(&b, &b)).sqrt();
        assert_eq!(cosine.abs() < 1e-12, orthogonal, "{flag:?}: cosine {cosine}");
    }
}

/// `net serve`: the live page of a network's plane, its landscape on request, and optimizer paths
/// run in all the weights from a clicked point, starting on the plane and leaving it.
#[test]
fn a_network_plane_served_live() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(
        d,
        &["net", "train", "--points", "200", "--layers", "2,8,2", "--epochs", "20", "-o", "m.safetensors"],
    );
    let weights = d.join("m.safetensors").display().to_string();
    let server = support::Server::start_command(&[
        "net",
        "serve",
        "--port",
        "0",
        "--points",
        "200",
        "--weights",
        &weights,
    ]);
    let page = support::get(server.addr, "/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("\"network\":{"), "the live page describes the network");
    let landscape = support::get(server.addr, "/api/landscape?n=11&umin=-0.5&umax=0.5&vmin=-1&vmax=1").json();
    assert_eq!(landscape["values"].as_array().unwrap().len(), 121);
    assert_eq!(landscape["u"]["min"], -0.5);
    assert_eq!(landscape["network"]["weights"], 2 * 8 + 8 + 8 * 2 + 2);
    let paths =
        support::get(server.addr, "/api/paths?u=0.5&v=-0.25&optimizers=gd,adam&lr=0.5&steps=30").json();
    let paths = paths["paths"].as_array().unwrap();
    assert_eq!(paths.len(), 2);
    // The same point of the same plane from `net plane`, for the starting loss.
    run_ok(
        d,
        &[
            "net",
            "plane",
            "--points",
            "200",
            "--weights",
            "m.safetensors",
            "--range",
            "u=0:1",
            "--range",
            "v=-0.5:0",
            "--resolution",
            "3",
            "--export-landscape",
            "l.json",
        ],
    );
    let at_start = json(&d.join("l.json"))["values"][1][1].as_f64().unwrap();
    for path in paths {
        let points = path["points"].as_array().unwrap();
        assert_eq!(points.len(), 31, "{path}");
        let first = numbers(&points[0]);
        assert_eq!((first[0], first[1]), (0.5, -0.25));
        assert!((first[2] - at_start).abs() < 1e-5 * at_start, "{} vs {at_start}", first[2]);
        assert!(first[3] < 1e-9, "the start lies on the plane");
        let last = numbers(points.last().unwrap());
        assert!(last[2] < first[2], "{} did not descend: {first:?} -> {last:?}", path["label"]);
        assert!(last[3] > 0.0, "the runs leave the plane");
    }
    let refused = support::get(server.addr, "/api/landscape?case=linear");
    assert_eq!(refused.status, 400);
    assert!(refused.json()["error"].as_str().unwrap().contains("one network"));
}
