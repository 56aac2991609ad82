//! Where the upload goes and how it logs in. The settings (server URL, kind, user, the calling AE title for a
//! PACS) are a small TOML file in the configuration folder (`upload.toml`); the password or token never is. It
//! comes, in this order, from `HERACLES_UPLOAD_PASSWORD`, a secrets file beside the settings (`upload-secret`,
//! written with mode 0600; a file that the group or others can read is refused, not used), or the terminal's
//! prompt (the CLI). Nothing here ever puts a secret in a case file, a log line or a command-line argument.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::transport::{ArchiveKind, Credentials};

/// The environment variable that holds the password (or token) for the upload.
pub const PASSWORD_ENV: &str = "HERACLES_UPLOAD_PASSWORD";
/// The settings file's name in the configuration folder.
pub const SETTINGS_FILE_NAME: &str = "upload.toml";
/// The secrets file's name in the configuration folder.
pub const SECRET_FILE_NAME: &str = "upload-secret";
/// The calling AE title used toward a PACS unless the settings name another.
pub const DEFAULT_AE_TITLE: &str = "HERACLES";

/// How the upload logs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    /// HTTP basic authentication with the user and the password.
    #[default]
    Basic,
    /// A bearer token (the "password" is the token; the user is only shown).
    Bearer,
    /// No authentication (a PACS on the hospital network, a test server).
    None,
}

/// The upload's settings file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UploadSettings {
    /// The archive's URL (`https://...` for Orthanc or the DICOMweb root; `dicom://AE@host:port` for a PACS).
    pub server: String,
    /// What kind of archive it is.
    pub kind: ArchiveKind,
    /// The account name (shown, stored; its password is not).
    pub user: String,
    /// How to log in.
    pub auth: AuthKind,
    /// This workstation's AE title toward a PACS.
    pub calling_ae_title: String,
}

impl Default for UploadSettings {
    fn default() -> Self {
        UploadSettings {
            server: String::new(),
            kind: ArchiveKind::default(),
            user: String::new(),
            auth: AuthKind::default(),
            calling_ae_title: DEFAULT_AE_TITLE.to_owned(),
        }
    }
}

/// Why the settings or the secret could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The settings file is not valid TOML of the expected shape.
    #[error("{path}: {detail}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The secrets file can be read by others.
    #[error(
        "{path}: the upload secret is readable by the group or others (mode {mode:o}); it was not used: run \
         `chmod 600` on it, or delete it and enter the password again"
    )]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// No configuration folder is known for this platform.
    #[error("no configuration folder is known for this platform; pass --config-dir")]
    NoConfigDir,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> SettingsError + '_ {
    move |source| SettingsError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The configuration folder: `override_dir` when given (`--config-dir`, `HERACLES_CONFIG_DIR`), otherwise the
/// platform's configuration folder for heracles.
pub fn config_dir(override_dir: Option<&Path>) -> Result<PathBuf, SettingsError> {
    if let Some(dir) = override_dir {
        return Ok(dir.to_owned());
    }
    directories::ProjectDirs::from("org", "HERACLES trial", "heracles")
        .map(|dirs| dirs.config_dir().to_owned())
        .ok_or(SettingsError::NoConfigDir)
}

impl UploadSettings {
    /// Reads the settings of configuration folder `dir` (the defaults when there is no file yet).
    pub fn load(dir: &Path) -> Result<UploadSettings, SettingsError> {
        let path = dir.join(SETTINGS_FILE_NAME);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(UploadSettings::default());
            }
            Err(error) => return Err(io_error(&path)(error)),
        };
        toml::from_str(&text).map_err(|error| SettingsError::Invalid {
            path,
            detail: error.message().to_owned(),
        })
    }

    /// Writes the settings into configuration folder `dir` (created if missing), replacing the file in one
    /// rename.
    pub fn save(&self, dir: &Path) -> Result<(), SettingsError> {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let path = dir.join(SETTINGS_FILE_NAME);
        let text = toml::to_string(self).map_err(|error| SettingsError::Invalid {
            path: path.clone(),
            detail: error.to_string(),
        })?;
        let partial = dir.join(format!(".{SETTINGS_FILE_NAME}.partial"));
        std::fs::write(&partial, text).map_err(io_error(&partial))?;
        std::fs::rename(&partial, &path).map_err(io_error(&path))
    }

    /// The credentials for `secret` (a password or token) under these settings.
    pub fn credentials(&self, secret: Option<String>) -> Credentials {
        match (self.auth, secret) {
            (AuthKind::None, _) | (_, None) => Credentials::None,
            (AuthKind::Basic, Some(password)) => Credentials::Basic {
                user: self.user.clone(),
                password,
            },
            (AuthKind::Bearer, Some(token)) => Credentials::Bearer(token),
        }
    }
}

/// Reads the secret stored in configuration folder `dir`, if there is one; refuses a file the group or others
/// can read.
pub fn load_secret(dir: &Path) -> Result<Option<String>, SettingsError> {
    let path = dir.join(SECRET_FILE_NAME);
    let metadata = match std::fs::metadata(&path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error(&path)(error)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SettingsError::Exposed { path, mode });
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let text = std::fs::read_to_string(&path).map_err(io_error(&path))?;
    let secret = text.trim_end_matches(['\r', '\n']).to_owned();
    Ok((!secret.is_empty()).then_some(secret))
}

/// Stores `secret` in configuration folder `dir`, readable only by its owner (created with mode 0600, then
/// renamed into place).
pub fn save_secret(dir: &Path, secret: &str) -> Result<(), SettingsError> {
    std::fs::create_dir_all(dir).map_err(io_error(dir))?;
    let path = dir.join(SECRET_FILE_NAME);
    let partial = dir.join(format!(".{SECRET_FILE_NAME}.partial"));
    let _ = std::fs::remove_file(&partial);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&partial).map_err(io_error(&partial))?;
    file.write_all(secret.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_error(&partial))?;
    std::fs::rename(&partial, &path).map_err(io_error(&path))
}

/// The secret from the environment ([`PASSWORD_ENV`]) or else the secrets file of `dir`.
pub fn stored_secret(dir: &Path) -> Result<Option<String>, SettingsError> {
    match std::env::var(PASSWORD_ENV) {
        Ok(secret) if !secret.is_empty() => Ok(Some(secret)),
        _ => load_secret(dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_without_the_password() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            UploadSettings::load(dir.path()).unwrap(),
            UploadSettings::default()
        );
        let settings = UploadSettings {
            server: "https://corelab.example/orthanc".into(),
            kind: ArchiveKind::Dicomweb,
            user: "sth-upload".into(),
            auth: AuthKind::Basic,
            calling_ae_title: "HERACLES_STH".into(),
        };
        settings.save(dir.path()).unwrap();
        assert_eq!(UploadSettings::load(dir.path()).unwrap(), settings);
        let text = std::fs::read_to_string(dir.path().join(SETTINGS_FILE_NAME)).unwrap();
        assert!(!text.contains("password"), "{text}");
        assert_eq!(
            settings.credentials(Some("pw".into())),
            Credentials::Basic {
                user: "sth-upload".into(),
                password: "pw".into()
            }
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_secret_file_is_private_and_a_readable_one_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load_secret(dir.path()).unwrap(), None);
        save_secret(dir.path(), "s3cret").unwrap();
        let path = dir.path().join(SECRET_FILE_NAME);
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(load_secret(dir.path()).unwrap().as_deref(), Some("s3cret"));
        save_secret(dir.path(), "changed").unwrap();
        assert_eq!(load_secret(dir.path()).unwrap().as_deref(), Some("changed"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = load_secret(dir.path()).unwrap_err();
        assert!(
            matches!(error, SettingsError::Exposed { mode: 0o644, .. }),
            "{error}"
        );
        assert!(error.to_string().contains("chmod 600"));
    }
}
