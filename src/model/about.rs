//! What this build is: version, commit and licence, for `heracles --version`, the About box and exported files,
//! so a result can always be traced to the code that produced it.

/// The crate version (`Cargo.toml`).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The git commit the binary was built from (`unknown` outside a git checkout). Set by `build.rs`.
pub const COMMIT: &str = env!("HERACLES_COMMIT");

/// Version and commit in one line, e.g. `0.1.0 (commit 4af4cd5e1a2b)`.
pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("HERACLES_COMMIT"),
    ")"
);

/// The licence the program is distributed under (SPDX identifier, `Cargo.toml`).
pub const LICENCE: &str = env!("CARGO_PKG_LICENSE");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_line_names_the_version_and_a_commit() {
        assert!(VERSION_LINE.starts_with(VERSION));
        assert!(!COMMIT.is_empty());
        assert!(VERSION_LINE.contains(COMMIT));
        assert_eq!(LICENCE, "Apache-2.0");
    }
}
