//! The upload queue as a folder (the "outbox"): `heracles export --outbox DIR` writes a bundle beside the outbox,
//! then moves it in with one rename and writes `READY` in it last. Whatever takes bundles out (an uploader to
//! the trial's server, or a person with an encrypted USB stick) takes only folders holding `READY`, checks them
//! against their `MANIFEST.sha256`, and removes them when delivered. A bundle is never half in the outbox.

use std::path::{Path, PathBuf};

use super::{ExportError, ExportWhat, Exported, export_case};

/// The file that marks a bundle as complete.
pub const READY: &str = "READY";

/// Exports `case_path` as a bundle named `<case id>-<n>` (the first free `n` from 1) into `outbox`; returns the
/// bundle's folder and files.
pub fn enqueue(
    case_path: &Path,
    outbox: &Path,
    what: ExportWhat,
) -> Result<(PathBuf, Exported), ExportError> {
    std::fs::create_dir_all(outbox).map_err(ExportError::io(outbox))?;
    let stem = case_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "case".into());
    let staging_root = outbox.join(".staging");
    std::fs::create_dir_all(&staging_root).map_err(ExportError::io(&staging_root))?;
    let mut number = 1;
    let (staging, bundle) = loop {
        let name = format!("{stem}-{number}");
        let (staging, bundle) = (staging_root.join(&name), outbox.join(&name));
        if !bundle.exists() && !staging.exists() {
            break (staging, bundle);
        }
        number += 1;
    };
    let exported = match export_case(case_path, &staging, what) {
        Ok(exported) => exported,
        Err(error) => {
            // Nothing half-written stays behind.
            let _ = std::fs::remove_dir_all(&staging);
            return Err(error);
        }
    };
    std::fs::rename(&staging, &bundle).map_err(ExportError::io(&bundle))?;
    let ready = bundle.join(READY);
    super::write_new(&ready, b"")?;
    let files = exported
        .files
        .iter()
        .filter_map(|f| f.file_name().map(|n| bundle.join(n)))
        .chain(std::iter::once(ready))
        .collect();
    Ok((bundle, Exported { files }))
}
