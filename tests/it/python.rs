//! The Python validators the tests read DICOM and ODM back with (pydicom, lxml with odmlib's ODM 1.3.2 schemas):
//! the venv `.ci/run` creates and names in `$HERACLES_TEST_PYTHON`. A test that needs it fails without it rather
//! than pass having checked nothing.

use std::ffi::OsStr;
use std::process::Command;

/// Runs `script` (which prints one JSON document) with `args` in the test venv's Python and returns the document;
/// fails the test, with Python's error output, when the script fails.
pub(crate) fn run_json(script: &str, args: &[&OsStr]) -> serde_json::Value {
    let python = std::env::var("HERACLES_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "HERACLES_TEST_PYTHON is not set: it names a Python with pydicom, numpy, lxml and odmlib (.ci/run \
             creates one; e.g. export HERACLES_TEST_PYTHON=$CARGO_TARGET_DIR/ci-venv/bin/python)"
        )
    });
    let output = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}
