//! `lossatlas net train` and `lossatlas net plane` through the real binary: weights in PyTorch's
//! state_dict layout, planes that recompute exactly from their saved directions, and bad input.

mod support;

use std::path::Path;

use serde_json::Value;
use support::lossatlas;

fn run_ok(dir: &Path, args: &[&str]) -> String {
    let out = lossatlas(dir, args);
    assert!(out.status.success(), "lossatlas {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

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
    ];
    run_ok(d, &plane);
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
