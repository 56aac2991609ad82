//! The layer rules of ARCHITECTURE.md, checked by reading the sources: pure modules never touch egui, SQLite,
//! serial ports, the filesystem, processes or threads; only `store` uses rusqlite; only `acquisition` uses
//! serialport; only `app` and `ui` use egui; and each module imports only the modules its ring allows (the pure
//! core nothing outside itself, the I/O edges nothing of the UI, nothing but `cli` the command line). Every module
//! of `src/` must be placed in a ring, so a new module cannot slip past the rules. A unit-test module that closes
//! its file may use the simulator as a test fixture; nothing else is exempt.

use std::fs;
use std::path::{Path, PathBuf};

const PURE: [&str; 5] = ["model", "sim", "signal", "analysis", "protocol"];

/// Paths a pure module must never name.
const IMPURE_PATHS: [&str; 13] = [
    "egui",
    "eframe",
    "egui_plot",
    "rusqlite",
    "serialport",
    "rfd",
    "directories",
    "std::fs",
    "std::thread",
    "std::net",
    "std::process",
    "std::sync::mpsc",
    "std::io::stdin",
];

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// The code lines of a file (comment lines dropped), with their 1-based line numbers.
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim_start().starts_with("//"))
        .map(|(i, line)| (i + 1, line.to_owned()))
        .collect()
}

/// Whether `line` names the crate or module path `name` as a path segment (`name::`, `use name;`, `name::{`).
fn names_path(line: &str, name: &str) -> bool {
    line.match_indices(name).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = &line[at + name.len()..];
        let starts_segment = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let continues_path = after.starts_with("::") || after.starts_with(';') || after.starts_with(" as ");
        // `std::fs` etc. are matched in full; a bare `fs::` after `use std::{..}` is caught by the `use` check.
        let inside_crate = line[..at].ends_with("crate::") && !name.starts_with("crate::");
        starts_segment && continues_path && !inside_crate
    })
}

/// The first line of a file's unit-test module when it closes the file (`#[cfg(test)]`, then `mod NAME {` whose
/// braces first balance on the file's last line); `None` otherwise, so a test module in the middle of a file is
/// checked as shipped code.
fn closing_test_module(path: &Path) -> Option<usize> {
    let text = fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let last = lines.iter().rposition(|line| !line.trim().is_empty())?;
    let start = lines.iter().position(|line| line.trim() == "#[cfg(test)]")?;
    let opening = lines.get(start + 1)?.trim();
    if !(opening.starts_with("mod ") && opening.ends_with('{')) {
        return None;
    }
    let mut depth = 0i64;
    for (index, line) in lines.iter().enumerate().skip(start + 1) {
        depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
        if depth == 0 {
            return (index == last).then_some(start + 1);
        }
    }
    None
}

/// `forbidden` paths named in `module`'s sources. `test_fixtures` are allowed inside a unit-test module that
/// closes its file (the simulated patient as a source of test signals: a test, not the module, depends on it).
fn violations_with(module: &str, forbidden: &[&str], test_fixtures: &[&str]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(module);
    let mut found = Vec::new();
    let files = if root.is_dir() {
        rust_files(&root)
    } else {
        vec![root.with_extension("rs")]
    };
    for file in files {
        let tests_from = closing_test_module(&file).unwrap_or(usize::MAX);
        for (number, line) in code_lines(&file) {
            for name in forbidden {
                if number >= tests_from && test_fixtures.contains(name) {
                    continue;
                }
                let grouped_std = name.strip_prefix("std::").is_some_and(|rest| {
                    line.contains("use std::{") && names_path(&line, rest.split("::").next().unwrap_or(rest))
                });
                if names_path(&line, name) || grouped_std {
                    found.push(format!(
                        "{}:{number}: names `{name}`: {}",
                        file.display(),
                        line.trim()
                    ));
                }
            }
        }
    }
    found
}

fn violations(module: &str, forbidden: &[&str]) -> Vec<String> {
    violations_with(module, forbidden, &[])
}

#[test]
fn pure_modules_do_no_io() {
    let found: Vec<String> = PURE
        .iter()
        .flat_map(|module| violations(module, &IMPURE_PATHS))
        .collect();
    assert!(
        found.is_empty(),
        "pure modules must not do I/O or use threads:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_store_uses_sqlite_only_acquisition_uses_serial_only_ui_uses_egui() {
    let modules = [
        "acquisition",
        "analysis",
        "app",
        "cli",
        "formats",
        "model",
        "protocol",
        "signal",
        "sim",
    ];
    let mut found = Vec::new();
    for module in modules.iter().chain(["ui", "export"].iter()) {
        found.extend(violations(module, &["rusqlite"]));
    }
    for module in modules
        .iter()
        .chain(["store", "ui", "export"].iter())
        .filter(|m| **m != "acquisition")
    {
        found.extend(violations(module, &["serialport"]));
    }
    for module in modules
        .iter()
        .chain(["store", "export"].iter())
        .filter(|m| **m != "app")
    {
        found.extend(violations(module, &["egui", "eframe", "egui_plot"]));
    }
    assert!(found.is_empty(), "layer rule broken:\n{}", found.join("\n"));
}

/// What an I/O edge may import.
const EDGE_MAY_IMPORT: &[&str] = &[
    "model",
    "sim",
    "signal",
    "analysis",
    "acquisition",
    "formats",
    "store",
    "review",
    "export",
    "upload",
];

/// Every top-level module of the library and the crate modules it may import (`crate::NAME`): the pure core in
/// its own order, then the I/O edges, the UI and the command line (ARCHITECTURE.md, "Rules").
const MAY_IMPORT: [(&str, &[&str]); 14] = [
    ("model", &[]),
    ("sim", &["model"]),
    ("signal", &["model"]),
    ("analysis", &["model", "signal"]),
    ("protocol", &["model", "signal", "analysis"]),
    // The I/O edges may use the pure core (but not the protocol) and each other, never the UI or the command
    // line: `store` implements the engine's `RecordSink`, `acquisition` stores calibrations in the case file,
    // `review` applies them to what it shows.
    ("formats", EDGE_MAY_IMPORT),
    ("acquisition", EDGE_MAY_IMPORT),
    ("store", EDGE_MAY_IMPORT),
    ("review", EDGE_MAY_IMPORT),
    ("export", EDGE_MAY_IMPORT),
    ("upload", EDGE_MAY_IMPORT),
    (
        "app",
        &[
            "model",
            "sim",
            "signal",
            "analysis",
            "protocol",
            "acquisition",
            "formats",
            "store",
            "review",
            "export",
            "upload",
            "ui",
        ],
    ),
    (
        "ui",
        &[
            "model",
            "sim",
            "signal",
            "analysis",
            "protocol",
            "acquisition",
            "formats",
            "store",
            "review",
            "export",
            "upload",
        ],
    ),
    (
        "cli",
        &[
            "model",
            "sim",
            "signal",
            "analysis",
            "protocol",
            "acquisition",
            "formats",
            "store",
            "review",
            "export",
            "upload",
            "app",
        ],
    ),
];

#[test]
fn every_module_is_placed_and_imports_only_what_its_ring_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let placed: Vec<&str> = MAY_IMPORT.iter().map(|(module, _)| *module).collect();
    for entry in fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if name == "lib" || name == "main" {
            continue;
        }
        assert!(
            placed.contains(&name.as_str()),
            "src/{name} is in no ring: place it in ARCHITECTURE.md and in MAY_IMPORT"
        );
    }
    let mut found = Vec::new();
    for (module, allowed) in MAY_IMPORT {
        let forbidden: Vec<String> = placed
            .iter()
            .filter(|other| **other != module && !allowed.contains(other))
            .map(|other| format!("crate::{other}"))
            .collect();
        let forbidden: Vec<&str> = forbidden.iter().map(String::as_str).collect();
        found.extend(violations_with(module, &forbidden, &["crate::sim"]));
    }
    assert!(found.is_empty(), "import across the rings:\n{}", found.join("\n"));
}

#[test]
fn the_checker_catches_what_it_should() {
    assert!(names_path("use egui::Color32;", "egui"));
    assert!(names_path(
        "    let x = rusqlite::Connection::open(p);",
        "rusqlite"
    ));
    assert!(names_path("use std::fs;", "std::fs"));
    assert!(names_path("std::thread::sleep(d);", "std::thread"));
    assert!(!names_path("use crate::model::egui_like;", "egui"));
    assert!(!names_path("let my_egui::x = 1;", "egui"));
    assert!(names_path("use crate::store::CaseFile;", "crate::store"));
    assert!(names_path("    crate::app::Command::ShowStart", "crate::app"));
    assert!(!names_path("use crate::storage::x;", "crate::store"));
}
