//! Writing a run's files all together or not at all.
//!
//! A run's outputs are claimed before any work ([`claim`]: the folder exists and takes a new file,
//! and no other output of the run names the same file), written into hidden temporary files
//! beside their targets as the run makes them ([`write_atomic`]), and renamed over their targets
//! only when the whole run has succeeded ([`commit`], called by `main`). A failure anywhere, a
//! panic, or an interrupt (Ctrl-C, SIGTERM, SIGHUP: [`delete_on_interrupt`]) deletes the
//! temporary files and leaves every existing file as it was. An output that is a symbolic link is
//! written through: the file it points to is replaced and the link stays, as `cp` and shell
//! redirection do.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use anyhow::{bail, Result};

/// The run's outputs: claimed targets, and the files written so far, not yet renamed.
#[derive(Debug, Default)]
struct Registry {
    /// Every claimed target, as `same_file` compares them.
    claimed: Vec<PathBuf>,
    /// Written temporary files and where they go.
    staged: Vec<Staged>,
}

#[derive(Debug)]
struct Staged {
    /// The temporary file; deleted when dropped.
    temp: tempfile::TempPath,
    /// The real file it replaces (symbolic links followed).
    target: PathBuf,
    /// The target as `same_file` compares them.
    key: PathBuf,
    /// The path as the user gave it, for messages.
    shown: PathBuf,
}

/// Held while a temporary file is created and registered, while the files are renamed, and by the
/// interrupt handler while it deletes them: so an interrupt sees every temporary file, and finds
/// the outputs either all renamed or none.
static REGISTRY: Mutex<Registry> = Mutex::new(Registry { claimed: Vec::new(), staged: Vec::new() });

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Deletes the run's temporary files and exits with 130 when the run is interrupted (Ctrl-C,
/// SIGTERM, SIGHUP).
pub fn delete_on_interrupt() {
    let installed = ctrlc::set_handler(|| {
        let mut registry = registry();
        let had_outputs = !registry.claimed.is_empty() || !registry.staged.is_empty();
        for staged in registry.staged.drain(..) {
            let _ = staged.temp.close();
        }
        eprintln!("{}", if had_outputs { "interrupted; no output was written" } else { "interrupted" });
        // Exits with the lock held, so no new temporary file can appear meanwhile.
        std::process::exit(130);
    });
    if let Err(error) = installed {
        eprintln!("note: an interrupt may leave temporary files behind ({error})");
    }
}

/// Checks, before any work, that `path` can be written as one of this run's outputs: its folder
/// exists and takes a new file, it is not a folder, and no other output of the run is the same file.
pub fn claim(path: &Path) -> Result<()> {
    let (target, key) = resolve(path)?;
    let mut registry = registry();
    if registry.claimed.contains(&key) {
        bail!("`{}` is given for two outputs; give each output its own file", path.display());
    }
    let dir = folder(&target);
    // The folder's permission bits do not tell (root, read-only mounts, ACLs): try it.
    if let Err(error) = create_temp(dir) {
        bail!("cannot write `{}`: {error}", path.display());
    }
    registry.claimed.push(key);
    Ok(())
}

/// Writes `bytes` as the output `path`: into a hidden temporary file beside the target now, renamed
/// over it by [`commit`] when the whole run succeeds, deleted if it does not.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let (mut file, _) = stage(path)?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .map_err(|e| anyhow::anyhow!("cannot write `{}`: {}", path.display(), plain(&e)))
}

/// The hidden temporary file that stands for the output `path`, for a writer that fills it as the
/// run goes (a training path): renamed over `path` by [`commit`], deleted if the run fails.
pub fn stage_stream(path: &Path) -> Result<PathBuf> {
    Ok(stage(path)?.1)
}

/// Where the output `path` is while the run is still going: the temporary file it was written
/// to, if this run has written it and not yet renamed it. A later step of the same run (the
/// tour's network stops) reads it there.
pub fn staged(path: &Path) -> Option<PathBuf> {
    let (_, key) = resolve(path).ok()?;
    registry().staged.iter().find(|s| s.key == key).map(|s| s.temp.to_path_buf())
}

/// The path a file read by this run is known by: for the temporary file of an output this run
/// has staged (see [`staged`]), the output's path as it was given; any other path unchanged. What
/// a report says it read must name the file the user will find, not a temporary one.
pub fn known_as(path: &Path) -> PathBuf {
    let registry = registry();
    let staged = registry.staged.iter().find(|s| s.temp.as_os_str() == path.as_os_str());
    staged.map_or_else(|| path.to_path_buf(), |s| s.shown.clone())
}

/// Creates and registers the temporary file of the output `path`, with the mode the output will
/// have, and returns it open for writing with its path.
fn stage(path: &Path) -> Result<(fs::File, PathBuf)> {
    let (target, key) = resolve(path)?;
    let fail = |error: &io::Error| anyhow::anyhow!("cannot write `{}`: {}", path.display(), plain(error));
    let (file, temp_path) = {
        let mut registry = registry();
        if registry.staged.iter().any(|s| s.key == key) {
            bail!("`{}` is given for two outputs; give each output its own file", path.display());
        }
        let (file, temp) = create_temp(folder(&target)).map_err(|e| fail(&e))?;
        let temp_path = temp.to_path_buf();
        registry.staged.push(Staged { temp, target: target.clone(), key, shown: path.to_path_buf() });
        (file, temp_path)
    };
    // A temporary file is private (0600); an output keeps the mode of the file it replaces, and a
    // new one is readable like any other file (0644).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&target).map(|m| m.permissions().mode() & 0o7777).unwrap_or(0o644);
        file.set_permissions(fs::Permissions::from_mode(mode)).map_err(|e| fail(&e))?;
    }
    Ok((file, temp_path))
}

/// Renames every written output over its target, ending the run's outputs.
pub fn commit() -> Result<()> {
    let mut registry = registry();
    registry.claimed.clear();
    for staged in std::mem::take(&mut registry.staged) {
        if let Err(error) = staged.temp.persist(&staged.target) {
            bail!("cannot write `{}`: {}", staged.shown.display(), plain(&error.error));
        }
    }
    Ok(())
}

/// Deletes every written output's temporary file: the run failed, and no existing file changes.
pub fn discard() {
    let mut registry = registry();
    registry.claimed.clear();
    registry.staged.clear();
}

/// `path` with symbolic links followed to the file they name (which may not exist yet), and the
/// same with its folder made canonical: two outputs are the same file when these agree.
fn resolve(path: &Path) -> Result<(PathBuf, PathBuf)> {
    let mut target = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&target) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&target)
                    .map_err(|e| anyhow::anyhow!("cannot write `{}`: {}", path.display(), plain(&e)))?;
                target = folder(&target).join(link);
            }
            _ => break,
        }
    }
    let dir = folder(&target);
    let Some(name) = target.file_name() else {
        bail!("cannot write `{}`: give a file name", path.display());
    };
    match fs::metadata(&target) {
        Ok(meta) if meta.is_dir() => {
            bail!("cannot write `{}`: it is a folder; give a file name", path.display())
        }
        // Renaming over a device or a named pipe (`-o /dev/null`) would replace it with a file.
        Ok(meta) if !meta.is_file() => {
            bail!("cannot write `{}`: it is not a regular file; give a file name", path.display())
        }
        _ => {}
    }
    let Ok(canonical) = dir.canonicalize() else {
        bail!("cannot write `{}`: the folder `{}` does not exist", path.display(), dir.display());
    };
    if !canonical.is_dir() {
        bail!("cannot write `{}`: `{}` is not a folder", path.display(), dir.display());
    }
    let key = canonical.join(name);
    Ok((target, key))
}

/// The folder a file goes into (`.` for a bare name).
fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A new hidden file in `dir` for this process alone, deleted when the returned path is dropped.
/// (`tempfile`'s own errors name the temporary file and hide the OS error's code, so the file is
/// made here.)
fn create_temp(dir: &Path) -> io::Result<(fs::File, tempfile::TempPath)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = dir.join(format!(".lossatlas-{}-{n}.tmp", std::process::id()));
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&path) {
            Ok(file) => match tempfile::TempPath::try_from_path(&path) {
                Ok(temp) => return Ok((file, temp)),
                Err(e) => {
                    let _ = fs::remove_file(&path);
                    return Err(plain(&e));
                }
            },
            // Left by an earlier process with the same id: take the next name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && n < 1000 => continue,
            Err(e) => return Err(plain(&e)),
        }
    }
}

/// The operating system's reason alone, without any file name: a temporary file's name means
/// nothing to the user.
fn plain(error: &io::Error) -> io::Error {
    match error.raw_os_error() {
        Some(code) => io::Error::from_raw_os_error(code),
        None => io::Error::from(error.kind()),
    }
}
