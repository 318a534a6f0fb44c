//! Sets `TOPO_GIT_COMMIT` for `topo --version`: the short commit of the checkout being built, or
//! `unknown` when there is none (a source tarball, a crate unpacked by `cargo install`, no git).
//!
//! Only the checkout whose top level is this crate's directory counts, so a tarball unpacked
//! inside some other repository does not claim that repository's commit. The script reruns when
//! `HEAD` or the ref it points to moves (a commit, a checkout), not on every build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=TOPO_GIT_COMMIT");
    let commit = match std::env::var("TOPO_GIT_COMMIT") {
        // A packager building without .git can say which commit it is.
        Ok(given) if !given.trim().is_empty() => given.trim().to_owned(),
        _ => {
            let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
            from_git(&dir).unwrap_or_else(|| "unknown".to_owned())
        }
    };
    println!("cargo:rustc-env=TOPO_GIT_COMMIT={commit}");
}

/// The short commit of the checkout at `dir`, after registering the files that move with it.
fn from_git(dir: &Path) -> Option<String> {
    let toplevel = git(dir, &["rev-parse", "--show-toplevel"])?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(Path::new(&toplevel), dir) {
        return None;
    }
    // `--git-path` resolves worktrees too: HEAD is per worktree, refs are shared.
    watch(dir, "HEAD");
    if let Some(reference) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watch(dir, &reference);
    }
    watch(dir, "packed-refs");
    git(dir, &["rev-parse", "--short", "HEAD"])
}

/// `cargo:rerun-if-changed` for a file of the git directory. A missing file would make cargo
/// rerun the script on every build, so a ref that is only in `packed-refs` (a fresh clone) is
/// watched through the nearest directory that exists, where the next commit writes it.
fn watch(dir: &Path, git_path: &str) {
    let Some(path) = git(dir, &["rev-parse", "--git-path", git_path]) else {
        return;
    };
    // Relative to `dir` (the `-C` directory) unless git printed an absolute path.
    let path = dir.join(path);
    let watched = if path.is_file() || git_path == "packed-refs" {
        Some(path.as_path()).filter(|p| p.is_file())
    } else {
        path.ancestors().skip(1).find(|p| p.is_dir())
    };
    if let Some(watched) = watched {
        println!("cargo:rerun-if-changed={}", watched.display());
    }
}

/// `git -C dir ARGS`, its trimmed stdout when it succeeded and printed something.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}
