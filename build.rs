//! Build script: records the git commit the binary was built from, for `heracles --version` and the About box.
//! A build outside a git checkout (a source tarball, cargo-deb from an export) says "unknown" instead of failing.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    Some(text.trim().to_owned())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=HERACLES_COMMIT={commit}");
    // Rebuild when HEAD moves (a new commit or a checkout), not when the index does (`git status` touches it, and
    // the whole crate would rebuild): uncommitted edits are therefore not flagged. The paths come from git, so
    // worktrees work too; a commit moves the branch's ref, a checkout moves HEAD.
    if let Some(file) = git(&["rev-parse", "--git-path", "HEAD"]) {
        println!("cargo:rerun-if-changed={file}");
    }
    // A fresh clone keeps its refs in `packed-refs`; a missing path would make cargo rerun this script every build.
    let head_ref = git(&["symbolic-ref", "-q", "HEAD"]);
    for path in head_ref.iter().map(String::as_str).chain(["packed-refs"]) {
        if let Some(file) = git(&["rev-parse", "--git-path", path])
            && std::path::Path::new(&file).exists()
        {
            println!("cargo:rerun-if-changed={file}");
        }
    }
}
