//! Issue 14 (hardening), through the real binary: a run writes all its outputs or none, leaves no
//! temporary file when it fails or is interrupted, refuses one file given for two outputs, writes
//! through a symbolic link; every error is one line with the fix, values may start with `-`, and
//! echoed inputs are cut short and escaped.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::lossatlas;

/// Every entry of `dir`, hidden ones included.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Asserts a refusal: exit 2, one line on stderr holding `needle`, and returns that line.
fn refused(out: &Output, needle: &str) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("note:")).collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    assert!(lines[0].starts_with("error: ") && lines[0].contains(needle), "expected `{needle}` in: {stderr}");
    assert!(!stderr.contains(".lossatlas-") && !stderr.contains(".tmp"), "a temporary name leaked: {stderr}");
    lines[0].to_string()
}

/// A folder this process cannot create files in: a read-only one, or /proc when running as root
/// (root writes into read-only folders).
fn unwritable_folder(dir: &Path) -> PathBuf {
    let folder = dir.join("read-only");
    std::fs::create_dir(&folder).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    if std::fs::write(folder.join("probe"), b"x").is_ok() {
        return PathBuf::from("/proc");
    }
    folder
}

#[test]
fn a_failing_output_leaves_the_other_outputs_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.png"), b"old").unwrap();
    let bad = unwritable_folder(dir.path()).join("y.svg");
    let out = lossatlas(dir.path(), &["contour", "-o", "good.png", "-o", bad.to_str().unwrap()]);
    let line = refused(&out, "cannot write");
    assert_eq!(line.matches("os error").count(), 1, "{line}");
    assert_eq!(std::fs::read(dir.path().join("good.png")).unwrap(), b"old", "good.png was rewritten");
    assert_eq!(entries(dir.path()), ["good.png", "read-only"]);
}

#[test]
fn one_file_given_for_two_outputs_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = lossatlas(dir.path(), &["contour", "-o", "out.png", "-o", "./out.png"]);
    refused(&out, "`./out.png` is given for two outputs");
    let out = lossatlas(
        dir.path(),
        &["descend", "--start", "1,2", "-o", "out.png", "--surface", "sub/../out.png", "--steps", "5"],
    );
    // sub/ does not exist, so that spelling is refused as a missing folder; with it, as the same file.
    refused(&out, "does not exist");
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let out = lossatlas(
        dir.path(),
        &["descend", "--start", "1,2", "-o", "out.png", "--surface", "sub/../out.png", "--steps", "5"],
    );
    refused(&out, "given for two outputs");
    assert_eq!(entries(dir.path()), ["sub"]);
}

#[cfg(unix)]
#[test]
fn an_output_that_is_a_symlink_is_written_through() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("real")).unwrap();
    std::fs::write(dir.path().join("real/target.png"), b"old").unwrap();
    std::os::unix::fs::symlink("real/target.png", dir.path().join("link.png")).unwrap();
    let out = lossatlas(dir.path(), &["contour", "--resolution", "21", "-o", "link.png"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let link = std::fs::symlink_metadata(dir.path().join("link.png")).unwrap();
    assert!(link.file_type().is_symlink(), "the link was replaced by a regular file");
    let png = std::fs::read(dir.path().join("real/target.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "the link's target was not replaced by the picture");
    assert_eq!(entries(&dir.path().join("real")), ["target.png"]);
}

#[cfg(unix)]
#[test]
fn an_output_that_is_a_named_pipe_or_device_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let made = Command::new("mkfifo").arg(dir.path().join("pipe.png")).status().unwrap();
    assert!(made.success());
    refused(&lossatlas(dir.path(), &["contour", "-o", "pipe.png"]), "not a regular file");
    let pipe = std::fs::symlink_metadata(dir.path().join("pipe.png")).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&pipe.file_type()), "the pipe was replaced");
    assert_eq!(entries(dir.path()), ["pipe.png"]);
}

#[cfg(unix)]
#[test]
fn an_interrupted_run_leaves_no_file_behind() {
    for signal in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let tour = dir.path().join("tour");
        let child = Command::new(env!("CARGO_BIN_EXE_lossatlas"))
            .args(["tour", "--out", tour.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The tour writes about thirty files over several seconds: interrupt it once the first
        // one (or its temporary file) is there.
        let began = Instant::now();
        while !tour.is_dir() || entries(&tour).is_empty() {
            assert!(began.elapsed() < Duration::from_secs(60), "the tour wrote nothing in 60 s");
            std::thread::sleep(Duration::from_millis(5));
        }
        let kill =
            Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
        assert!(kill.success());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(130), "SIG{signal}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(entries(&tour), Vec::<String>::new(), "SIG{signal} left files behind");
    }
}

#[test]
fn usage_errors_are_one_line_with_where_to_look() {
    let dir = tempfile::tempdir().unwrap();
    let line = refused(&lossatlas(dir.path(), &["contour", "--bogus", "-o", "out.png"]), "'--bogus'");
    assert!(line.ends_with("see `lossatlas contour --help`"), "{line}");
    refused(&lossatlas(dir.path(), &["contour"]), "--output <FILE>");
    refused(
        &lossatlas(dir.path(), &["contour", "--range-x", "1", "-o", "out.png"]),
        "a similar argument exists: '--range'",
    );
    refused(
        &lossatlas(dir.path(), &["descend", "--steps", "many", "--start", "1,2", "-o", "out.png"]),
        "'many'",
    );
    refused(&lossatlas(dir.path(), &["nosuch"]), "see `lossatlas --help`");
    for flag in ["--help", "--version"] {
        let out = lossatlas(dir.path(), &[flag]);
        assert!(out.status.success() && !out.stdout.is_empty(), "lossatlas {flag}");
    }
    let out = lossatlas(dir.path(), &["contour", "--help"]);
    assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("--levels"));
    assert_eq!(entries(dir.path()), Vec::<String>::new());
}

#[test]
fn values_may_start_with_a_minus() {
    let dir = tempfile::tempdir().unwrap();
    let ok = |args: &[&str]| {
        let out = lossatlas(dir.path(), args);
        assert!(out.status.success(), "lossatlas {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    ok(&["contour", "--model", "-a^2+b*x", "--resolution", "21", "-o", "model.png"]);
    ok(&["contour", "--levels", "-1,0,1", "--range", "k=-1:2", "--resolution", "21", "-o", "levels.svg"]);
    ok(&["contour", "--title", "-loss-", "--resolution", "21", "-o", "title.svg"]);
    ok(&["descend", "--start", "-1,2", "--steps", "5", "-o", "start.svg"]);
    let svg = std::fs::read_to_string(dir.path().join("title.svg")).unwrap();
    assert!(svg.contains("-loss-"));
}

#[test]
fn echoed_inputs_are_cut_short_escaped_and_os_errors_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let long = format!("a*x+{}+", "b".repeat(3000));
    let line = refused(&lossatlas(dir.path(), &["contour", "--model", &long, "-o", "out.png"]), "formula");
    assert!(line.len() < 400 && line.contains("..."), "{} characters: {line}", line.len());
    let line =
        refused(&lossatlas(dir.path(), &["contour", "--model", "a*x+b\x1b[31m", "-o", "out.png"]), "\\u{1b}");
    assert!(!line.contains('\x1b'), "{line:?}");
    let line = refused(
        &lossatlas(dir.path(), &["contour", "--data", "no-such.csv", "-o", "out.png"]),
        "no-such.csv",
    );
    assert_eq!(line.matches("os error").count(), 1, "{line}");
    refused(
        &lossatlas(
            dir.path(),
            &["descend", "--optimizer", "gd:lr=0.1,lr=0.2", "--start", "1,2", "-o", "out.png"],
        ),
        "sets `lr` twice",
    );
    assert_eq!(entries(dir.path()), Vec::<String>::new());
}
