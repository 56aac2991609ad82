//! Export bundles of a case.
//!
//! [`export_case`] writes, for one case file, any of: the endpoint table as CSV and JSON
//! (`<case>_endpoints.csv`, `<case>_endpoints.json`), the per-beat table (`<case>_beats.csv`), the waveforms as a
//! WFDB format-16 record (`<case>.hea` + `<case>.dat`), a case report (`<case>_report.pdf`: a summary page, then every endpoint)
//! and the endpoints as CDISC ODM 1.3.2 for the trial database (`<case>_endpoints.odm.xml`, [`odm`]), plus a
//! `MANIFEST.sha256` of what it wrote. Every number comes from the case file's stored results; nothing is
//! recomputed on the way out.
//!
//! Every export follows the one de-identification policy of [`policy`] (dates in UTC, staff by role, the case's
//! origin stated). No export carries a patient identifier: the case id is pseudonymous, no date of birth or name exists in the
//! case file, and every free-text field that would be exported (annotations, markers, reviewer reasons, channel
//! names, sign-off statements) is checked with the store's identifier checks first. If one looks like it holds an
//! NHS number or a date of birth the export is refused, naming the field, and nothing is written.
//!
//! [`dicom`] makes the same case a DICOM study (waveforms, the report, the case file itself) for the core lab's
//! archive, under the same identifier screen and `verify` refusal.

pub mod dicom;
pub mod odm;
pub mod pdf;
pub mod policy;
pub mod report;
pub mod tables;
pub mod waveforms;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::formats::FormatError;
use crate::review::analysis::ReviewError;
use crate::review::session::{Snapshot, snapshot_of};
use crate::store::{CaseFile, StoreError, TextWarning, text_warnings};

/// Why an export did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The case file could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored results could not be read.
    #[error(transparent)]
    Review(#[from] ReviewError),
    /// The waveform record could not be written.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A free-text field looks like it holds a patient identifier.
    #[error("export refused: {field}: {warning}")]
    Identifier {
        /// Which field, e.g. `annotation at 12.0 s`.
        field: String,
        /// What it looks like (the identifier itself is masked).
        warning: TextWarning,
    },
    /// The case file fails verification: nothing is exported from a file whose samples or records may have been
    /// changed or lost.
    #[error(
        "export refused: {path} fails verification ({num_problems} problems; first: {first}); run `heracles case verify`"
    )]
    FailsVerify {
        /// The case file.
        path: PathBuf,
        /// How many problems verification found.
        num_problems: usize,
        /// The first problem, in words.
        first: String,
    },
    /// A file of the bundle already exists.
    #[error("{0} already exists; export into an empty folder")]
    Exists(PathBuf),
    /// The case has no analysed window, so there is nothing to export but waveforms.
    #[error(
        "the case has no analysed windows: review it first (its windows are analysed when opened for review)"
    )]
    NothingAnalysed,
}

impl ExportError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
        move |source| ExportError::Io {
            path: path.to_owned(),
            source,
        }
    }
}

/// Which parts to export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExportWhat {
    /// Endpoint table, CSV and JSON.
    pub endpoints: bool,
    /// Per-beat table, CSV.
    pub beats: bool,
    /// Waveforms, WFDB format 16.
    pub wfdb: bool,
    /// Case report, PDF (summary page and every endpoint).
    pub report: bool,
    /// Endpoints as a CDISC ODM 1.3.2 document (metadata and clinical data) for the trial database.
    pub odm: bool,
}

impl ExportWhat {
    /// Everything.
    pub const ALL: ExportWhat = ExportWhat {
        endpoints: true,
        beats: true,
        wfdb: true,
        report: true,
        odm: true,
    };

    /// The endpoints as CDISC ODM only.
    pub const ODM: ExportWhat = ExportWhat {
        endpoints: false,
        beats: false,
        wfdb: false,
        report: false,
        odm: true,
    };

    /// Whether any part needs the stored analysis (everything but the waveforms).
    pub fn needs_analysis(self) -> bool {
        self.endpoints || self.beats || self.report || self.odm
    }
}

impl FromStr for ExportWhat {
    type Err = String;

    /// A comma-separated list of `endpoints`, `beats`, `wfdb`, `report`, `odm` (or `all`).
    fn from_str(text: &str) -> Result<ExportWhat, String> {
        let mut what = ExportWhat {
            endpoints: false,
            beats: false,
            wfdb: false,
            report: false,
            odm: false,
        };
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                "endpoints" => what.endpoints = true,
                "beats" => what.beats = true,
                "wfdb" => what.wfdb = true,
                "report" => what.report = true,
                "odm" => what.odm = true,
                "all" => what = ExportWhat::ALL,
                other => {
                    return Err(format!(
                        "unknown export part {other:?}: expected endpoints, beats, wfdb, report, odm or all"
                    ));
                }
            }
        }
        if !(what.needs_analysis() || what.wfdb) {
            return Err("nothing to export: name at least one of endpoints, beats, wfdb, report, odm".into());
        }
        Ok(what)
    }
}

/// What an export wrote.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Exported {
    /// The files, in the order written (the manifest last).
    pub files: Vec<PathBuf>,
}

/// The free text an export would carry, with where it comes from.
fn exported_text(
    file: &CaseFile,
    snapshot: &Snapshot,
    what: ExportWhat,
) -> Result<Vec<(String, String)>, ExportError> {
    let mut fields = Vec::new();
    if what.endpoints || what.report {
        for annotation in &snapshot.annotations {
            fields.push((
                format!("annotation at {:.1} s", annotation.start_s),
                annotation.text.clone(),
            ));
        }
        for event in &snapshot.events {
            fields.push((format!("marker at {:.1} s", event.time_s), event.text.clone()));
            fields.push((
                format!("marker kind at {:.1} s", event.time_s),
                event.kind.clone(),
            ));
        }
        for status in &snapshot.sign_offs {
            fields.push(("sign-off name".into(), status.sign_off.who.clone()));
            // The sentence only: the digest line under it is this program's hexadecimal SHA-256, whose digit
            // runs can look like a compact date.
            fields.push((
                "sign-off statement".into(),
                crate::review::sign_off::attested_sentence(&status.sign_off.statement).to_owned(),
            ));
        }
        for row in &snapshot.endpoints {
            fields.extend(
                row.note
                    .iter()
                    .map(|note| (format!("note of {}", row.key), note.clone())),
            );
        }
    }
    if what.beats || what.endpoints {
        for (window_id, beats) in &snapshot.beats {
            for beat in beats {
                if let Some(crate::model::RejectReason::Manual(reason)) = &beat.reject {
                    fields.push((
                        format!("reviewer's reason for beat {} of window {window_id}", beat.number),
                        reason.clone(),
                    ));
                }
            }
        }
    }
    if what.odm {
        fields.extend(odm::free_text(snapshot));
    }
    if what.wfdb {
        for channel in file.channels()? {
            fields.push(("channel name".into(), channel.name.clone()));
            fields.push(("channel unit".into(), channel.unit.clone()));
        }
    }
    Ok(fields)
}

/// Refuses the export when a field that would be exported looks like it holds an identifier.
pub fn screen(fields: &[(String, String)]) -> Result<(), ExportError> {
    for (field, text) in fields {
        if let Some(warning) = text_warnings(text).into_iter().next() {
            return Err(ExportError::Identifier {
                field: field.clone(),
                warning,
            });
        }
    }
    Ok(())
}

/// The hex SHA-256 of a file's bytes.
fn file_sha256(path: &Path) -> Result<String, ExportError> {
    let bytes = std::fs::read(path).map_err(ExportError::io(path))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Writes `bytes` to `path`, refusing to replace an existing file.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|error| match error.kind() {
            std::io::ErrorKind::AlreadyExists => ExportError::Exists(path.to_owned()),
            _ => ExportError::io(path)(error),
        })?;
    file.write_all(bytes).map_err(ExportError::io(path))?;
    file.sync_all().map_err(ExportError::io(path))
}

/// Opens the case file at `case_path` read-only, refusing it when it fails verification: nothing leaves a file
/// whose samples or records may have been changed or lost.
fn open_verified(case_path: &Path) -> Result<CaseFile, ExportError> {
    let file = CaseFile::open_read_only(case_path)?;
    let report = file.verify()?;
    if let Some(first) = report.problems.first() {
        return Err(ExportError::FailsVerify {
            path: case_path.to_owned(),
            num_problems: report.problems.len(),
            first: first.message.clone(),
        });
    }
    Ok(file)
}

/// Exports the parts `what` of the case file at `case_path` into `out_dir` (created if missing; files already
/// there are never replaced). Refuses a case file that fails verification, and checks every exported free-text
/// field for identifiers before writing anything.
///
/// The bundle is written into a hidden staging folder and appears complete, with its `MANIFEST.sha256`, or not
/// at all: a new `out_dir` is the staging folder renamed; into an existing one the files are renamed one by one,
/// the manifest last (so a bundle without its manifest exists only for the microseconds between renames).
pub fn export_case(case_path: &Path, out_dir: &Path, what: ExportWhat) -> Result<Exported, ExportError> {
    let file = open_verified(case_path)?;
    let mut snapshot = snapshot_of(&file, None)?;
    policy::deidentify(&mut snapshot);
    screen(&exported_text(&file, &snapshot, what)?)?;
    if what.needs_analysis() && snapshot.analysis.reports.is_empty() {
        return Err(ExportError::NothingAnalysed);
    }
    let case_id = snapshot.summary.case_id.clone();
    let fresh = !out_dir.exists();
    let staging = if fresh {
        let name = out_dir
            .file_name()
            .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
        let parent = match out_dir.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(ExportError::io(&parent))?;
        parent.join(format!(".{name}.staging-{}", std::process::id()))
    } else {
        out_dir.join(format!(".staging-{case_id}-{}", std::process::id()))
    };
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(ExportError::io(&staging))?;
    }
    let result = write_bundle(&file, &snapshot, &staging, out_dir, what).and_then(|staged| {
        if fresh {
            std::fs::rename(&staging, out_dir).map_err(ExportError::io(out_dir))?;
        } else {
            for path in &staged.files {
                let target = out_dir.join(path.file_name().unwrap_or_default());
                if target.exists() {
                    return Err(ExportError::Exists(target));
                }
                std::fs::rename(path, &target).map_err(ExportError::io(&target))?;
            }
        }
        if let Some(parent) = out_dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_dir(parent)?;
        }
        sync_dir(out_dir)?;
        Ok(Exported {
            files: staged
                .files
                .iter()
                .map(|path| out_dir.join(path.file_name().unwrap_or_default()))
                .collect(),
        })
    });
    if staging.exists() {
        // Nothing half-written stays behind (after a rename into an existing folder, the empty staging folder).
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Makes renames in `dir` durable.
fn sync_dir(dir: &Path) -> Result<(), ExportError> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(ExportError::io(dir))
}

/// Writes the bundle into `staging` (created), refusing when a file of it already exists in `out_dir`.
fn write_bundle(
    file: &CaseFile,
    snapshot: &Snapshot,
    staging: &Path,
    out_dir: &Path,
    what: ExportWhat,
) -> Result<Exported, ExportError> {
    let case_id = snapshot.summary.case_id.clone();
    let planned: Vec<PathBuf> = [
        (what.endpoints, "_endpoints.csv"),
        (what.endpoints, "_endpoints.json"),
        (what.beats, "_beats.csv"),
        (what.wfdb, ".hea"),
        (what.wfdb, ".dat"),
        (what.report, "_report.pdf"),
        (what.odm, "_endpoints.odm.xml"),
    ]
    .into_iter()
    .filter(|(wanted, _)| *wanted)
    .map(|(_, suffix)| out_dir.join(format!("{case_id}{suffix}")))
    .chain(std::iter::once(out_dir.join("MANIFEST.sha256")))
    .collect();
    if let Some(existing) = planned.iter().find(|p| p.exists()) {
        return Err(ExportError::Exists(existing.clone()));
    }
    std::fs::create_dir_all(staging).map_err(ExportError::io(staging))?;
    let name = |suffix: &str| staging.join(format!("{case_id}{suffix}"));
    let mut exported = Exported::default();
    if what.endpoints {
        let digest = crate::review::sign_off::results_digest(file)?;
        write_new(
            &name("_endpoints.csv"),
            tables::endpoints_csv(snapshot).as_bytes(),
        )?;
        write_new(
            &name("_endpoints.json"),
            tables::endpoints_json(snapshot, &digest).as_bytes(),
        )?;
        exported
            .files
            .extend([name("_endpoints.csv"), name("_endpoints.json")]);
    }
    if what.beats {
        write_new(&name("_beats.csv"), tables::beats_csv(snapshot).as_bytes())?;
        exported.files.push(name("_beats.csv"));
    }
    if what.wfdb {
        let record = waveforms::write_wfdb(file, staging, &case_id)?;
        exported.files.extend([record.header_path, record.data_path]);
    }
    if what.report {
        let digest = crate::review::sign_off::results_digest(file)?;
        let waves = crate::review::waveforms::waveforms(file, &snapshot.analysis)?;
        let pages = report::case_report(snapshot, &waves, &digest);
        write_new(&name("_report.pdf"), &pdf::document_pdf(&pages))?;
        exported.files.push(name("_report.pdf"));
    }
    if what.odm {
        let digest = crate::review::sign_off::results_digest(file)?;
        write_new(
            &name("_endpoints.odm.xml"),
            odm::odm_document(snapshot, &digest).as_bytes(),
        )?;
        exported.files.push(name("_endpoints.odm.xml"));
    }
    let mut manifest = String::new();
    for path in &exported.files {
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        manifest.push_str(&format!("{}  {file_name}\n", file_sha256(path)?));
    }
    // The chain heads as `sha256sum -c` ignores them: kept outside the file, `heracles case verify --against`
    // shows rows removed from the case with every head rewound, which the file alone cannot.
    manifest.push_str(&file.external_anchor()?.manifest_lines());
    let manifest_path = staging.join("MANIFEST.sha256");
    write_new(&manifest_path, manifest.as_bytes())?;
    exported.files.push(manifest_path);
    Ok(exported)
}
