//! Networks from ONNX files through the real binary, checked against onnxruntime's numbers
//! (fixtures/onnx/make_fixtures.py): a small CNN with batch norm on .npz images, the MLP of
//! fixtures/net as ONNX giving the safetensors network's plane, a 1D interpolation from the
//! initial to the trained export, `net inspect`, and bad input.
#![cfg(feature = "onnx")]

mod support;

use std::path::{Path, PathBuf};

use support::{assert_close, json, lossatlas, numbers, read_npy, run_ok};

fn fixture(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    dir.join(name).display().to_string()
}

fn reference() -> serde_json::Value {
    json(&PathBuf::from(fixture("onnx/reference.json")))
}

/// The rows of a reference grid, flattened (rows are beta, as the landscape's).
fn grid(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().unwrap().iter().flat_map(numbers).collect()
}

#[test]
fn a_cnn_plane_along_direction_files_matches_onnxruntime() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (d1, d2) = (fixture("onnx/cnn-d1.safetensors"), fixture("onnx/cnn-d2.safetensors"));
    let stdout = run_ok(
        d,
        &[
            "net",
            "plane",
            "--weights",
            &fixture("onnx/cnn.onnx"),
            "--data",
            &fixture("onnx/cnn.npz"),
            "--test-fraction",
            "0",
            "--directions",
            &format!("{d1},{d2}"),
            "--resolution",
            "5",
            "--export-landscape",
            "cnn.npy",
            "--export-accuracy",
            "accuracy.npy",
            "-o",
            "cnn.png",
            "--surface",
            "cnn-3d.png",
        ],
    );
    let want = &reference()["cnn"];
    let (rows, cols, loss) = read_npy(&d.join("cnn.npy"));
    assert_eq!((rows, cols), (5, 5));
    // float32 logits from two runtimes: the same to float32 accuracy.
    assert_close(&loss, &grid(&want["loss"]), 2e-5, "cnn loss");
    let (_, _, accuracy) = read_npy(&d.join("accuracy.npy"));
    assert_close(&accuracy, &grid(&want["accuracy"]), 1e-12, "cnn accuracy");
    assert!(stdout.contains("cnn.onnx") && stdout.contains("loss at the trained weights"), "{stdout}");
    for png in ["cnn.png", "cnn-3d.png"] {
        assert!(std::fs::metadata(d.join(png)).unwrap().len() > 10_000, "{png}");
    }
}

#[test]
fn random_filter_normalized_directions_are_saved_with_the_initializer_names() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let common = ["net", "plane", "--weights", &fixture("onnx/cnn.onnx"), "--data", &fixture("onnx/cnn.npz")];
    let mut first = common.to_vec();
    first.extend([
        "--seed",
        "4",
        "--resolution",
        "3",
        "--export-landscape",
        "a.npy",
        "--save-directions",
        "d1.safetensors,d2.safetensors",
    ]);
    run_ok(d, &first);
    // The saved directions recompute the same plane exactly.
    let mut again = common.to_vec();
    again.extend([
        "--directions",
        "d1.safetensors,d2.safetensors",
        "--resolution",
        "3",
        "--export-landscape",
        "b.npy",
    ]);
    run_ok(d, &again);
    assert_eq!(read_npy(&d.join("a.npy")), read_npy(&d.join("b.npy")));
    // Every weight tensor's filters (first axis) have the norm of the weights' filters; biases
    // and batch-norm tensors (rank 1) are zero, as Li et al.'s --ignore biasbn.
    let (names, tensors) = safetensors_f64(&d.join("d1.safetensors"));
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "bn1.bias",
            "bn1.weight",
            "conv1.bias",
            "conv1.weight",
            "conv2.bias",
            "conv2.weight",
            "fc.bias",
            "fc.weight"
        ]
    );
    for (name, (shape, values)) in names.iter().zip(&tensors) {
        let zero = values.iter().all(|&v| v == 0.0);
        assert_eq!(zero, shape.len() == 1, "{name} {shape:?}");
    }
    let inspect = run_ok(d, &["net", "inspect", &fixture("onnx/cnn.onnx")]);
    for name in
        ["conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "conv2.weight", "fc.weight", "fc.bias"]
    {
        assert!(inspect.contains(name), "{name} missing from:\n{inspect}");
    }
    assert!(!inspect.contains("running_mean"), "running statistics are not parameters:\n{inspect}");
    assert!(inspect.contains("Conv x2") && inspect.contains("data input `x`: (batch, 1, 8, 8)"), "{inspect}");
    assert!(inspect.contains("output: 5 values per sample"), "{inspect}");
}

#[test]
fn the_same_mlp_as_onnx_and_as_safetensors_gives_the_same_plane() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let directions = format!("{},{}", fixture("net/clf-d1.safetensors"), fixture("net/clf-d2.safetensors"));
    let plane = |weights: &str, out: &str| {
        run_ok(
            d,
            &[
                "net",
                "plane",
                "--weights",
                weights,
                "--data",
                &fixture("net/clf.csv"),
                "--test-fraction",
                "0",
                "--directions",
                &directions,
                "--resolution",
                "5",
                "--export-landscape",
                out,
            ],
        )
    };
    plane(&fixture("onnx/mlp.onnx"), "onnx.npy");
    plane(&fixture("net/clf.safetensors"), "safetensors.npy");
    let (_, _, onnx) = read_npy(&d.join("onnx.npy"));
    let (_, _, mlp) = read_npy(&d.join("safetensors.npy"));
    assert_close(&onnx, &mlp, 1e-5, "ONNX vs safetensors");
    assert_close(&onnx, &grid(&reference()["mlp"]["loss"]), 1e-5, "ONNX vs onnxruntime");
}

#[test]
fn a_line_from_the_initial_to_the_trained_export_moves_batch_norm_too_and_matches_onnxruntime() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let want = &reference()["cnn_line"];
    let ts = numbers(&want["t"]);
    let stdout = run_ok(
        d,
        &[
            "net",
            "line",
            "--weights",
            &fixture("onnx/cnn.onnx"),
            "--from",
            &fixture("onnx/cnn-init.onnx"),
            "--data",
            &fixture("onnx/cnn.npz"),
            "--test-fraction",
            "0",
            "--range",
            "-0.5:1.5",
            "--resolution",
            "9",
            "--export",
            "line.json",
            "-o",
            "line.png",
        ],
    );
    let doc = json(&d.join("line.json"));
    let alpha = numbers(&doc["alpha"]);
    let loss = numbers(&doc["train"]["loss"]);
    let accuracy = numbers(&doc["train"]["accuracy"]);
    for (k, t) in ts.iter().enumerate() {
        let i =
            alpha.iter().position(|a| (a - t).abs() < 1e-12).unwrap_or_else(|| panic!("alpha {t} missing"));
        assert_close(&[loss[i]], &[numbers(&want["loss"])[k]], 2e-5, &format!("line loss at {t}"));
        assert_close(&[accuracy[i]], &[numbers(&want["accuracy"])[k]], 1e-12, &format!("accuracy at {t}"));
    }
    assert!(stdout.contains("at alpha 0") && stdout.contains("at alpha 1"), "{stdout}");
}

#[test]
fn a_model_that_ends_in_its_own_loss_is_fed_the_targets_and_matches_onnxruntime() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let directions =
        format!("{},{}", fixture("onnx/own-loss-d1.safetensors"), fixture("onnx/own-loss-d2.safetensors"));
    let mut args = vec![
        "net",
        "plane",
        "--weights",
        &fixture("onnx/own-loss.onnx"),
        "--data",
        &fixture("net/reg.csv"),
        "--test-fraction",
        "0",
        "--directions",
        &directions,
        "--resolution",
        "5",
        "--export-landscape",
        "own.npy",
    ]
    .into_iter()
    .map(String::from)
    .collect::<Vec<_>>();
    let refused_args: Vec<&str> = args.iter().map(String::as_str).collect();
    // Without --loss output the second input is a surprise, and the fix is named.
    let out = lossatlas(d, &refused_args);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use --loss output"));
    args.extend(["--loss".to_string(), "output".to_string()]);
    run_ok(d, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let (_, _, loss) = read_npy(&d.join("own.npy"));
    assert_close(&loss, &grid(&reference()["own_loss"]["loss"]), 2e-5, "own loss");
}

/// The names (in the order of their data in the file) and the shapes and values of a float64 safetensors file.
#[allow(clippy::type_complexity)]
fn safetensors_f64(path: &Path) -> (Vec<String>, Vec<(Vec<usize>, Vec<f64>)>) {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let mut entries: Vec<(&String, &serde_json::Value)> =
        header.as_object().unwrap().iter().filter(|(k, _)| *k != "__metadata__").collect();
    entries.sort_by_key(|(_, v)| v["data_offsets"][0].as_u64().unwrap());
    let names = entries.iter().map(|(k, _)| k.to_string()).collect();
    let tensors = entries
        .iter()
        .map(|(_, v)| {
            assert_eq!(v["dtype"], "F64");
            let shape = v["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
            let offsets = numbers(&v["data_offsets"]);
            let (a, b) = (8 + n + offsets[0] as usize, 8 + n + offsets[1] as usize);
            (shape, bytes[a..b].chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect())
        })
        .collect();
    (names, tensors)
}

/// One line naming the problem, exit code 2, no output file.
fn refused(d: &Path, args: &[&str], needle: &str) {
    let out = lossatlas(d, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.contains(needle), "{args:?}: expected `{needle}` in: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!d.join("out.png").exists());
}

#[test]
fn bad_onnx_input_gets_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("fake.onnx"), b"this is not a protobuf at all, just text").unwrap();
    let cnn = fixture("onnx/cnn.onnx");
    let npz = fixture("onnx/cnn.npz");
    let plane = |weights: &str, data: &str| -> Vec<String> {
        ["net", "plane", "--weights", weights, "--data", data, "--resolution", "3", "-o", "out.png"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let args = plane(&d.join("fake.onnx").display().to_string(), &npz);
    refused(d, &args.iter().map(String::as_str).collect::<Vec<_>>(), "not an ONNX model");
    // Data of another shape than the model's input.
    let args = plane(&cnn, &fixture("net/clf.csv"));
    refused(d, &args.iter().map(String::as_str).collect::<Vec<_>>(), "shape");
    // Labels beyond the 5 outputs: the MLP's CSV has 3 classes, fine; make one with label 7.
    let mut csv = std::fs::read_to_string(fixture("net/clf.csv")).unwrap();
    csv.push_str("0.1,0.2,0.3,7\n");
    std::fs::write(d.join("bad.csv"), csv).unwrap();
    let args = plane(&fixture("onnx/mlp.onnx"), "bad.csv");
    refused(d, &args.iter().map(String::as_str).collect::<Vec<_>>(), "label 7");
    // f64 is not what an ONNX model runs in.
    let mut args = plane(&cnn, &npz);
    args.extend(["--precision".to_string(), "f64".to_string()]);
    refused(d, &args.iter().map(String::as_str).collect::<Vec<_>>(), "float32");
    // An operator the runtime does not know, named; a graph without weights.
    let args = plane(&fixture("onnx/unsupported.onnx"), &npz);
    refused(d, &args.iter().map(String::as_str).collect::<Vec<_>>(), "`NotAnOperator`");
    let args = plane(&fixture("onnx/no-weights.onnx"), &npz);
    refused(d, &args.iter().map(String::as_str).collect::<Vec<_>>(), "no float initializers");
    // Direction files of another network.
    let mut args = plane(&cnn, &npz);
    args.extend([
        "--directions".into(),
        format!("{},{}", fixture("net/clf-d1.safetensors"), fixture("net/clf-d2.safetensors")),
    ]);
    refused(d, &args.iter().map(String::as_str).collect::<Vec<_>>(), "needs the weights' names");
}
