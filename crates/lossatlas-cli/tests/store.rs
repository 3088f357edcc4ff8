//! Landscape stores through the binary: shards in any order and a run killed part way give the
//! same numbers, bit for bit, as one uninterrupted run; stores merge; a finished store draws
//! without the model; a store of another landscape, a foreign folder and a bad shard spec are
//! refused with one line and leave the store as it was.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::lossatlas;

fn run_ok(dir: &Path, args: &[&str]) -> String {
    let out = lossatlas(dir, args);
    assert!(out.status.success(), "lossatlas {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn plane_args<'a>(resolution: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args =
        vec!["net", "plane", "--points", "300", "--weights", "m.safetensors", "--resolution", resolution];
    args.extend(extra);
    args
}

/// A trained network in `dir` and the plane's losses computed in one plain run.
fn setup(dir: &Path, resolution: &str) -> Vec<u8> {
    run_ok(
        dir,
        &[
            "net",
            "train",
            "--points",
            "300",
            "--layers",
            "2,16,16,2",
            "--epochs",
            "20",
            "-o",
            "m.safetensors",
        ],
    );
    run_ok(dir, &plane_args(resolution, &["--export-landscape", "whole.npy"]));
    std::fs::read(dir.join("whole.npy")).unwrap()
}

fn chunk_files(store: &Path) -> usize {
    std::fs::read_dir(store.join("loss/c"))
        .map_or(0, |d| d.filter_map(|e| e.ok()).filter(|e| e.path().join("0").is_file()).count())
}

#[test]
fn shards_in_any_order_merge_and_draw_give_the_plain_runs_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let whole = setup(d, "201");
    // Three shards into one store, the last one first; only the run that completes it writes.
    for shard in ["2/3", "0/3"] {
        let stdout = run_ok(
            d,
            &plane_args("201", &["--store", "st", "--shard", shard, "--export-landscape", "s.npy"]),
        );
        assert!(stdout.contains("still to do"), "{stdout}");
        assert!(!d.join("s.npy").exists(), "no export before the store is complete");
    }
    let info = run_ok(d, &["store", "info", "st"]);
    assert!(info.contains("chunks: 7 of 11 finished"), "{info}");
    run_ok(d, &plane_args("201", &["--store", "st", "--shard", "1/3", "--export-landscape", "s.npy"]));
    assert_eq!(std::fs::read(d.join("s.npy")).unwrap(), whole, "sharded store = one plain run");
    // A finished store draws and exports without the network.
    run_ok(d, &["store", "draw", "st", "-o", "st.png", "--export-landscape", "drawn.npy"]);
    assert_eq!(std::fs::read(d.join("drawn.npy")).unwrap(), whole);
    assert!(std::fs::read(d.join("st.png")).unwrap().starts_with(b"\x89PNG"));
    // Two shards in two stores, merged.
    run_ok(d, &plane_args("201", &["--store", "a", "--shard", "0/2"]));
    run_ok(d, &plane_args("201", &["--store", "b", "--shard", "1/2"]));
    let merged = run_ok(d, &["store", "merge", "a", "b"]);
    assert!(merged.contains("11 of 11 chunks finished"), "{merged}");
    run_ok(d, &["store", "draw", "a", "--export-landscape", "merged.npy"]);
    assert_eq!(std::fs::read(d.join("merged.npy")).unwrap(), whole);
}

#[test]
fn a_killed_run_resumes_to_the_uninterrupted_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let whole = setup(d, "501");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lossatlas"))
        .current_dir(d)
        .args(plane_args("501", &["--store", "st"]))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let began = Instant::now();
    while chunk_files(&d.join("st")) < 3 && began.elapsed() < Duration::from_secs(60) {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it was killed");
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap(); // SIGKILL: no handler runs
    child.wait().unwrap();
    let done = chunk_files(&d.join("st"));
    assert!(done >= 3, "the run made no chunks before it was killed");
    assert!(done < 63, "the run finished before it could be killed ({done} chunks); use a larger grid");
    let stdout = run_ok(d, &plane_args("501", &["--store", "st", "--export-landscape", "resumed.npy"]));
    assert!(stdout.contains("lowest on the plane"), "{stdout}");
    assert_eq!(std::fs::read(d.join("resumed.npy")).unwrap(), whole, "resumed store = one plain run");
}

#[test]
fn a_mismatched_store_a_foreign_folder_and_bad_shards_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    setup(d, "141");
    run_ok(d, &plane_args("141", &["--store", "st", "--shard", "0/2"]));
    let before: Vec<_> = (0..chunk_files(&d.join("st"))).collect();
    std::fs::create_dir(d.join("mine")).unwrap();
    std::fs::write(d.join("mine/notes.txt"), "keep").unwrap();
    let cases: [(Vec<&str>, &str); 5] = [
        (plane_args("151", &["--store", "st", "-o", "out.png"]), "holds a different landscape"),
        (plane_args("141", &["--store", "st", "--seed", "9", "-o", "out.png"]), "d1 is"),
        (plane_args("141", &["--store", "mine", "-o", "out.png"]), "not a lossatlas store"),
        (plane_args("141", &["--store", "st", "--shard", "3/2", "-o", "out.png"]), "shard `3/2`"),
        (vec!["store", "info", "mine"], "not a lossatlas store"),
    ];
    for (args, needle) in cases {
        let out = lossatlas(d, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: expected `{needle}` in {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!d.join("out.png").exists());
    }
    assert_eq!((0..chunk_files(&d.join("st"))).collect::<Vec<_>>(), before, "the store is unchanged");
    assert_eq!(std::fs::read_to_string(d.join("mine/notes.txt")).unwrap(), "keep");
    assert_eq!(std::fs::read_dir(d.join("mine")).unwrap().count(), 1);
    // An unfinished store cannot be drawn.
    let out = lossatlas(d, &["store", "draw", "st", "-o", "out.png"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not finished"));
}
