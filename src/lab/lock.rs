//! One command at a time changes a lab: `up` (building or following the topology), `down` and
//! `chassis stop|start|restart` each hold an exclusive lock on `DIR/lab.lock` while they run,
//! so two of them on one lab cannot interleave their steps (and their records in `lab.json`).
//! The lock is the kernel's (`flock`): it goes with the process, so a killed command leaves
//! nothing to clean up. Reading commands (`status`, `verify`) do not take it.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use super::error::LabError;

/// File name inside the lab directory.
const LOCK_FILE: &str = "lab.lock";

/// Held while a command changes the lab; released when dropped.
#[derive(Debug)]
pub(crate) struct LabLock {
    _file: File,
}

/// Takes the lab's lock in `dir` (which must exist), or says another command holds it.
pub(crate) fn acquire(dir: &Path) -> Result<LabLock, LabError> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| LabError::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(LabLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(LabError::Busy(dir.to_owned())),
        Err(TryLockError::Error(e)) => Err(LabError::io(&path, e)),
    }
}

/// [`acquire`] when `dir` exists; nothing to hold (and no lab) when it does not.
pub(crate) fn acquire_existing(dir: &Path) -> Result<Option<LabLock>, LabError> {
    if dir.is_dir() {
        acquire(dir).map(Some)
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = acquire(dir.path()).expect("the first takes it");
        let second = acquire(dir.path());
        assert!(
            matches!(second, Err(LabError::Busy(ref d)) if d == dir.path()),
            "{second:?}"
        );
        drop(first);
        acquire(dir.path()).expect("free again");
    }
}
