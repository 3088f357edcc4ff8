//! `mpirun -n 3 lossatlas net plane ... --store DIR` (a build with the `mpi` feature, on one
//! machine with --oversubscribe): the ranks share the chunks, each computed once, and the store
//! they fill is byte for byte the store of a single process. CI runs this with
//! `cargo test -p lossatlas-cli --features mpi --test mpi`; it needs Open MPI's `mpirun`.

mod support;

use std::process::Command;

use support::{files, run_ok};

fn plane_args(store: &str) -> Vec<&str> {
    vec![
        "net",
        "plane",
        "--points",
        "300",
        "--weights",
        "m.safetensors",
        "--resolution",
        "201",
        "--store",
        store,
    ]
}

/// Every file of a store folder (relative path and bytes), in order.
#[test]
fn three_ranks_fill_the_store_one_process_fills() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let train =
        ["net", "train", "--points", "300", "--layers", "2,16,16,2", "--epochs", "20", "-o", "m.safetensors"];
    run_ok(d, &train);
    let single = run_ok(d, &plane_args("one"));
    assert!(single.contains("lowest on the plane"), "{single}");

    let out = Command::new("mpirun")
        .current_dir(d)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .args(["-n", "3", "--oversubscribe", env!("CARGO_BIN_EXE_lossatlas")])
        .args(plane_args("many"))
        .output()
        .expect("mpirun runs (install openmpi-bin)");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "mpirun: {stdout}\n{stderr}");
    // 201 x 201 points in chunks of 20 rows: 11 chunks, each computed by exactly one rank (the
    // count is summed over the ranks), and only rank 0 reports and draws.
    assert!(stderr.contains("computed 11 chunk(s); complete"), "{stderr}");
    assert_eq!(stdout.matches("lowest on the plane").count(), 1, "{stdout}");

    let (one, many) = (files(&d.join("one")), files(&d.join("many")));
    assert_eq!(one.len(), many.len());
    for ((a, x), (b, y)) in one.iter().zip(&many) {
        assert_eq!(a, b);
        assert!(x == y, "{a} differs between the single process and the three ranks");
    }
}
