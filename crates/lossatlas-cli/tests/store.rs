//! Landscape stores through the binary: shards in any order and a run killed part way give the
//! same numbers, bit for bit, as one uninterrupted run; stores merge; a finished store draws
//! without the model; a store of another landscape, a foreign folder and a bad shard spec are
//! refused with one line and leave the store as it was. The same for formula grids (contour,
//! surface and basins share a store), which also draw from a finished store (`--from-store`), a
//! read-only store that is unfinished is refused and one that is finished still draws, and a
//! large network plane's memory is bounded by its chunk, not its grid.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::{files, lossatlas, run_ok};

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

/// A formula landscape's flags (the seed data under tanh(k*x+b)) with `extra` after them.
fn formula<'a>(command: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![command, "--model", "tanh(k*x+b)", "--range", "k=-3:3", "--range", "b=-2:2"];
    args.extend(["--resolution", "301"]);
    args.extend(extra);
    args
}

/// Every file of a folder (relative path and bytes), in order: what "unchanged" means for a store.
#[test]
fn formula_grids_shard_resume_share_stores_and_draw_from_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    run_ok(d, &formula("contour", &["-o", "plain.png", "--export-landscape", "whole.npy"]));
    let whole = std::fs::read(d.join("whole.npy")).unwrap();
    // 301 x 301 points in chunks of 13 rows: 24 chunks, shard 1 of 2 first.
    let stdout = run_ok(d, &formula("contour", &["--store", "st", "--shard", "1/2", "-o", "s.png"]));
    assert!(stdout.contains("12 of 24 chunks are still to do"), "{stdout}");
    assert!(!d.join("s.png").exists(), "no figure before the store is complete");
    let out = lossatlas(
        d,
        &formula(
            "contour",
            &["--store", "st", "--shard", "0/2", "-o", "s.png", "--export-landscape", "s.npy"],
        ),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("computed 12 chunk(s); complete"));
    assert_eq!(std::fs::read(d.join("s.npy")).unwrap(), whole, "sharded store = one plain run");
    // The store's definition does not name the command: surface and basins of the same landscape
    // resume it with nothing to compute.
    for command in ["surface", "basins"] {
        let out = lossatlas(d, &formula(command, &["--store", "st", "-o", &format!("{command}.png")]));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{command}: {stderr}");
        assert!(stderr.contains("computed 0 chunk(s); complete"), "{command}: {stderr}");
    }
    // A finished store draws without the model: contour (all its options) and surface.
    run_ok(
        d,
        &["contour", "--from-store", "st", "--filled", "-o", "from.png", "--export-landscape", "from.npy"],
    );
    assert_eq!(std::fs::read(d.join("from.npy")).unwrap(), whole);
    run_ok(d, &["surface", "--from-store", "st", "-o", "from-surface.png"]);
    for png in ["s.png", "surface.png", "basins.png", "from.png", "from-surface.png"] {
        assert!(std::fs::read(d.join(png)).unwrap().starts_with(b"\x89PNG"), "{png}");
    }
    // Another formula is another landscape.
    let before = files(&d.join("st"));
    let out = lossatlas(
        d,
        &[
            "contour",
            "--model",
            "tanh(k*x)+b",
            "--range",
            "k=-3:3",
            "--range",
            "b=-2:2",
            "--resolution",
            "301",
            "--store",
            "st",
            "-o",
            "x.png",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("model is \"tanh(k*x+b)\" in the store"), "{stderr}");
    assert_eq!(files(&d.join("st")), before, "the store is unchanged");
    // --from-store computes nothing, so it takes no model or grid flags.
    let out = lossatlas(d, &["contour", "--from-store", "st", "--analysis", "-o", "x.png"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!d.join("x.png").exists());
}

#[test]
fn compare_and_page_compute_into_stores_and_resume_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let compare = formula("compare", &["--transform", "none,zscore", "--store", "st", "-o", "c.png"]);
    let first = lossatlas(d, &compare);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    // One store per panel, each a landscape of its own, drawn from later without the model.
    run_ok(
        d,
        &formula("contour", &["--transform", "zscore", "--export-landscape", "plain.npy", "-o", "p.png"]),
    );
    run_ok(d, &["contour", "--from-store", "st/zscore", "--export-landscape", "stored.npy", "-o", "s.png"]);
    assert_eq!(std::fs::read(d.join("stored.npy")).unwrap(), std::fs::read(d.join("plain.npy")).unwrap());
    let png = std::fs::read(d.join("c.png")).unwrap();
    let again = lossatlas(d, &compare);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(stderr.matches("computed 0 chunk(s); complete").count(), 2, "{stderr}");
    assert_eq!(std::fs::read(d.join("c.png")).unwrap(), png, "the resumed stores draw the same figure");
    // The page's grid too: a second run computes nothing and writes the same page.
    let page = ["page", "--resolution", "101", "--store", "pg", "-o", "page.html"];
    run_ok(d, &page);
    let html = std::fs::read(d.join("page.html")).unwrap();
    let out = lossatlas(d, &page);
    assert!(String::from_utf8_lossy(&out.stderr).contains("computed 0 chunk(s); complete"));
    assert_eq!(std::fs::read(d.join("page.html")).unwrap(), html);
}

#[test]
fn a_killed_formula_run_resumes_to_the_uninterrupted_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Many samples, so that each chunk takes a while and the run can be caught part way.
    let data = ["--generate", "sin(b*cos(a*x))", "--true", "a=1.2,b=2.5", "--samples", "2000"];
    let grid = [
        "--model",
        "sin(b*cos(a*x))",
        "--params",
        "a,b",
        "--range",
        "a=-2:7",
        "--range",
        "b=-2:7",
        "--resolution",
        "401",
    ];
    let args = |extra: &[&'static str]| -> Vec<&'static str> { [&data[..], &grid[..], extra].concat() };
    let mut plain = vec!["contour"];
    plain.extend(args(&["-o", "p.png", "--export-landscape", "whole.npy"]));
    run_ok(d, &plain);
    let mut stored = vec!["contour"];
    stored.extend(args(&["--store", "st", "-o", "s.png", "--export-landscape", "resumed.npy"]));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lossatlas"))
        .current_dir(d)
        .args(&stored)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let began = Instant::now();
    while chunk_files(&d.join("st")) < 2 && began.elapsed() < Duration::from_secs(120) {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it was killed");
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap(); // SIGKILL: no handler runs
    child.wait().unwrap();
    let done = chunk_files(&d.join("st"));
    assert!((2..41).contains(&done), "{done} of 41 chunks when killed");
    assert!(!d.join("s.png").exists(), "a killed run leaves no figure");
    run_ok(d, &stored);
    assert_eq!(std::fs::read(d.join("resumed.npy")).unwrap(), std::fs::read(d.join("whole.npy")).unwrap());
}

/// Runs the binary as a user whom file permissions bind: this one, or, under root (whom they do
/// not bind), the user `nobody` through util-linux's setpriv.
fn as_unprivileged(dir: &Path, args: &[&str]) -> std::process::Output {
    use std::os::unix::fs::MetadataExt;
    if std::fs::metadata("/proc/self").unwrap().uid() != 0 {
        return lossatlas(dir, args);
    }
    std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_lossatlas")])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("setpriv (util-linux) runs the binary as nobody")
}

/// Sets every file and folder under `root` read-only (or writable again).
fn read_only(root: &Path, on: bool) {
    use std::os::unix::fs::PermissionsExt;
    let mode = |is_dir: bool| match (on, is_dir) {
        (true, true) => 0o555,
        (true, false) => 0o444,
        (false, true) => 0o755,
        (false, false) => 0o644,
    };
    fn walk(path: &Path, f: &dyn Fn(&Path, bool)) {
        let is_dir = path.is_dir();
        if is_dir {
            for entry in std::fs::read_dir(path).unwrap() {
                walk(&entry.unwrap().path(), f);
            }
        }
        f(path, is_dir);
    }
    walk(root, &|p, is_dir| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode(is_dir))).unwrap()
    });
}

#[test]
fn bad_shards_and_a_read_only_store_are_refused_and_a_finished_one_still_draws() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Others (nobody) may enter the folder and write the figures into it.
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    for shard in ["3/2", "0/0", "1", "1/x"] {
        let out = lossatlas(d, &formula("contour", &["--store", "st", "--shard", shard, "-o", "x.png"]));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{shard}: {stderr}");
        assert!(stderr.contains("I/N"), "{shard}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(!d.join("x.png").exists() && !d.join("st/zarr.json").exists());
    }
    run_ok(d, &formula("contour", &["--store", "st", "--shard", "0/2", "-o", "x.png"]));
    let before = files(&d.join("st"));
    read_only(&d.join("st"), true);
    let out = as_unprivileged(d, &formula("contour", &["--store", "st", "-o", "x.png"]));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot be written"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!d.join("x.png").exists());
    assert_eq!(files(&d.join("st")), before, "the store is unchanged");
    // Finished, then read-only: it needs no writing, so it draws, by resuming or from the store.
    read_only(&d.join("st"), false);
    run_ok(d, &formula("contour", &["--store", "st", "--shard", "1/2", "-o", "x.png"]));
    std::fs::remove_file(d.join("x.png")).unwrap();
    read_only(&d.join("st"), true);
    for args in [
        formula("contour", &["--store", "st", "-o", "x.png"]),
        vec!["surface", "--from-store", "st", "-o", "y.png"],
    ] {
        let out = as_unprivileged(d, &args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(d.join("x.png").is_file() && d.join("y.png").is_file());
    read_only(&d.join("st"), false);
}

/// The peak memory a run reports with `LOSSATLAS_REPORT_PEAK_MEMORY`, in kB.
fn peak_kb(dir: &Path, args: &[&str]) -> u64 {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lossatlas"))
        .current_dir(dir)
        .env("LOSSATLAS_REPORT_PEAK_MEMORY", "1")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    let line = stderr.lines().find_map(|l| l.strip_prefix("peak memory: ")).expect("a peak memory line");
    line.trim_end_matches(" kB").trim().parse().unwrap_or_else(|_| panic!("{line}"))
}

#[test]
fn a_large_network_planes_memory_is_bounded_by_its_chunk_not_its_grid() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A 784-256-10 network on ten 784-pixel samples: the grid, not the data, is what is large.
    let mut csv: String = (0..784).map(|j| format!("p{j},")).collect();
    csv.push_str("label\n");
    for i in 0..10 {
        for j in 0..784 {
            csv.push_str(&format!("{},", ((i * 7 + j * 13) % 17) as f64 / 17.0));
        }
        csv.push_str(&format!("{}\n", i % 10));
    }
    std::fs::write(d.join("pixels.csv"), csv).unwrap();
    run_ok(
        d,
        &[
            "net",
            "train",
            "--data",
            "pixels.csv",
            "--layers",
            "784,256,10",
            "--epochs",
            "1",
            "-o",
            "big.safetensors",
        ],
    );
    let plane = |resolution: &'static str, store: &'static str, shard: &'static str| {
        vec![
            "net",
            "plane",
            "--data",
            "pixels.csv",
            "--weights",
            "big.safetensors",
            "--resolution",
            resolution,
            "--store",
            store,
            "--shard",
            shard,
        ]
    };
    // The same three chunks of two 2001-point rows, once of a 2001 x 2001 grid (1001 chunks) and
    // once of a 2001 x 201 grid: a whole grid of losses (2001 x 2001 x 8 bytes = 31 MiB) held
    // anywhere would show as the difference.
    let large = peak_kb(d, &plane("2001", "large", "0/400"));
    let small = peak_kb(d, &plane("2001x201", "small", "0/40"));
    assert_eq!(chunk_files(&d.join("large")), 3);
    assert_eq!(chunk_files(&d.join("small")), 3);
    assert!(large < small + 8 * 1024, "peak {large} kB for the large grid, {small} kB for the small one");
    assert!(large < 512 * 1024, "peak {large} kB");
}
