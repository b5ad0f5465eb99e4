//! Outputs written whole or not at all.
//!
//! The bytes go to a temporary file in the output's own directory (so the final step is a
//! rename within one file system, which is atomic on POSIX), are flushed to disk, and the
//! file is then renamed over the output. Readers see the old file or the new one, never a
//! part. A failure removes the temporary file; an interrupted process can leave only a hidden
//! `.einmix-*.tmp` file, never a partial output. Without `--force` the rename refuses to
//! replace a file, even one that appeared while we were fitting.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::error::WriteError;

/// The directory an output goes into (`.` for a bare file name).
fn directory(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Checks, before any work, that `path` can be written: its directory exists, and it does
/// not exist unless `force`.
pub fn check(path: &Path, force: bool) -> Result<(), WriteError> {
    let dir = directory(path);
    if !dir.is_dir() {
        return Err(WriteError::NoDirectory(dir));
    }
    if !force && path.symlink_metadata().is_ok() {
        return Err(WriteError::Exists);
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically.
pub fn atomic(path: &Path, bytes: &[u8], force: bool) -> Result<(), WriteError> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".einmix-").suffix(".tmp");
    #[cfg(unix)]
    {
        // tempfile creates files readable by the owner only; an output should get the
        // permissions of any new file (0666 less the umask, applied by open(2)).
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(directory(path))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    let persisted = if force { tmp.persist(path) } else { tmp.persist_noclobber(path) };
    match persisted {
        Ok(_) => Ok(()),
        // The temporary file is removed when the error (which owns it) is dropped.
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Err(WriteError::Exists),
        Err(e) => Err(WriteError::Io(e.error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_replaces_only_with_force_and_leaves_nothing_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a.csv");
        atomic(&out, b"one", false).unwrap();
        assert!(matches!(atomic(&out, b"two", false), Err(WriteError::Exists)));
        assert_eq!(std::fs::read(&out).unwrap(), b"one");
        atomic(&out, b"two", true).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"two");
        // Renaming a file over a directory fails: no temporary file may remain.
        let blocked = dir.path().join("b.csv");
        std::fs::create_dir(&blocked).unwrap();
        assert!(atomic(&blocked, b"three", true).is_err());
        assert_eq!(entries(dir.path()), vec!["a.csv", "b.csv"]);
    }

    #[test]
    fn check_needs_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(check(&dir.path().join("missing/a.npy"), false), Err(WriteError::NoDirectory(_))));
        assert!(check(&dir.path().join("a.npy"), false).is_ok());
    }
}
