//! Device profiles: what a console delivers (channel names, units, rate), how it is connected (framing, baud,
//! text column map) and how each channel starts out calibrated. Profiles are data files (`assets/profiles/*.toml`),
//! embedded as defaults and overridable by files of the same id in a profile folder, so a site can describe a new
//! console without a new build.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::{ChannelSpec, SourceSpec};

use super::calibration::Calibration;
use super::serial::{Framing, SerialConfig};
use super::text_stream::{ColumnMap, TextStreamConfig};

/// The profiles shipped with heracles: (file name, contents).
const BUILTIN: [(&str, &str); 3] = [
    (
        "coronary.toml",
        include_str!("../../assets/profiles/coronary.toml"),
    ),
    ("pv.toml", include_str!("../../assets/profiles/pv.toml")),
    ("bridge.toml", include_str!("../../assets/profiles/bridge.toml")),
];

/// How a profile's console frames its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileFraming {
    /// The heracles stream protocol.
    Heracles,
    /// One sample per text line.
    Text,
}

/// One channel of a profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileChannel {
    /// Channel id, e.g. `pa`.
    pub name: String,
    /// Physical unit, e.g. `mmHg`.
    pub unit: String,
    /// Text framing only: zero-based column of the line.
    #[serde(default)]
    pub column: Option<usize>,
    /// Text framing only: multiplier from the number in the line to the unit.
    #[serde(default = "one")]
    pub scale: f64,
    /// Text framing only: added after scaling.
    #[serde(default)]
    pub offset: f64,
    /// Calibration in force until the operator calibrates (identity when absent).
    #[serde(default)]
    pub calibration: Option<Calibration>,
}

fn one() -> f64 {
    1.0
}

fn default_delimiter() -> char {
    '\t'
}

/// A device profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Stable id of the source in cases, e.g. `coronary`.
    pub id: String,
    /// Name on the source chip and in the settings view.
    pub label: String,
    /// Protocol on the wire.
    pub framing: ProfileFraming,
    /// Baud rate.
    pub baud: u32,
    /// Samples per second (expected for the heracles protocol, whose descriptor states the real rate; the rate of
    /// the lines for text framing).
    pub sample_rate_hz: f64,
    /// Heracles framing only: follow this source id on the link (default: the first seen).
    #[serde(default)]
    pub source_id: Option<u16>,
    /// Text framing only: field separator (a space means any run of blanks).
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// The channels, in the order the console sends them.
    pub channels: Vec<ProfileChannel>,
}

/// A profile that cannot be used.
#[derive(Debug, Error)]
pub enum ProfileError {
    /// Reading a profile file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The TOML does not describe a profile.
    #[error("{name}: {message}")]
    Invalid {
        /// File name or path.
        name: String,
        /// What is wrong (TOML errors include line and column).
        message: String,
    },
}

impl Profile {
    /// Parses a profile from TOML; `name` names it in errors.
    pub fn from_toml(text: &str, name: &str) -> Result<Profile, ProfileError> {
        let profile: Profile = toml::from_str(text).map_err(|error| ProfileError::Invalid {
            name: name.to_owned(),
            message: error.to_string(),
        })?;
        profile.validate().map_err(|message| ProfileError::Invalid {
            name: name.to_owned(),
            message,
        })?;
        Ok(profile)
    }

    /// Reads a profile file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
            path: path.to_owned(),
            source,
        })?;
        Profile::from_toml(&text, &path.display().to_string())
    }

    fn validate(&self) -> Result<(), String> {
        if self.id.trim().is_empty() {
            return Err("the profile needs an id".into());
        }
        if !(self.sample_rate_hz.is_finite() && self.sample_rate_hz > 0.0) {
            return Err(format!("sample rate {} Hz is not positive", self.sample_rate_hz));
        }
        if self.channels.is_empty() {
            return Err("the profile has no channels".into());
        }
        for channel in &self.channels {
            if self.framing == ProfileFraming::Text && channel.column.is_none() {
                return Err(format!(
                    "channel {}: a text profile needs the column of every channel",
                    channel.name
                ));
            }
            if !(channel.scale.is_finite() && channel.offset.is_finite()) {
                return Err(format!(
                    "channel {}: scale and offset must be finite",
                    channel.name
                ));
            }
            if let Some(Calibration::Volume { alpha, .. }) = channel.calibration
                && !(alpha.is_finite() && alpha > 0.0)
            {
                return Err(format!("channel {}: alpha must be positive", channel.name));
            }
        }
        Ok(())
    }

    /// The source this profile describes (before any descriptor arrives).
    pub fn spec(&self) -> SourceSpec {
        SourceSpec {
            id: self.id.clone(),
            label: self.label.clone(),
            sample_rate_hz: self.sample_rate_hz,
            channels: self
                .channels
                .iter()
                .map(|c| ChannelSpec {
                    name: c.name.clone(),
                    unit: c.unit.clone(),
                })
                .collect(),
        }
    }

    /// How to read this console from `path` (at the profile's baud rate unless `baud` is given).
    pub fn serial_config(&self, path: &str, baud: Option<u32>) -> SerialConfig {
        let framing = match self.framing {
            ProfileFraming::Heracles => Framing::Heracles {
                source_id: self.source_id,
            },
            ProfileFraming::Text => Framing::Text(TextStreamConfig {
                delimiter: self.delimiter,
                sample_rate_hz: self.sample_rate_hz,
                columns: self
                    .channels
                    .iter()
                    .map(|c| ColumnMap {
                        column: c.column.unwrap_or_default(),
                        name: c.name.clone(),
                        unit: c.unit.clone(),
                        scale: c.scale,
                        offset: c.offset,
                    })
                    .collect(),
            }),
        };
        SerialConfig {
            path: path.to_owned(),
            baud: baud.unwrap_or(self.baud),
            framing,
            spec: self.spec(),
        }
    }

    /// The calibration a channel starts with (identity when the profile gives none or lacks the channel).
    pub fn default_calibration(&self, channel: &str) -> Calibration {
        self.channels
            .iter()
            .find(|c| c.name == channel)
            .and_then(|c| c.calibration)
            .unwrap_or_default()
    }

    /// How what a console announced differs from what this profile expects, in words for the operator (empty
    /// when it matches).
    pub fn mismatches(&self, announced: &SourceSpec) -> Vec<String> {
        let mut problems = Vec::new();
        if (announced.sample_rate_hz - self.sample_rate_hz).abs() > 1e-9 * self.sample_rate_hz {
            problems.push(format!(
                "{} sends at {} Hz; the profile expects {} Hz",
                self.label, announced.sample_rate_hz, self.sample_rate_hz
            ));
        }
        for expected in &self.channels {
            match announced.channels.iter().find(|c| c.name == expected.name) {
                None => problems.push(format!("{} sends no `{}` channel", self.label, expected.name)),
                Some(channel) if channel.unit != expected.unit => problems.push(format!(
                    "`{}` arrives in {}, the profile expects {}",
                    expected.name, channel.unit, expected.unit
                )),
                Some(_) => {}
            }
        }
        problems
    }
}

/// The built-in profiles, then those in `dir` (`*.toml`); a file whose id matches a built-in one replaces it.
/// Files that do not parse are reported, not fatal: the others still load.
pub fn load_profiles(dir: Option<&Path>) -> (Vec<Profile>, Vec<ProfileError>) {
    let mut profiles = Vec::new();
    let mut errors = Vec::new();
    for (name, text) in BUILTIN {
        match Profile::from_toml(text, name) {
            Ok(profile) => profiles.push(profile),
            Err(error) => errors.push(error),
        }
    }
    let Some(dir) = dir else { return (profiles, errors) };
    let mut paths: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .collect(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            errors.push(ProfileError::Io {
                path: dir.to_owned(),
                source,
            });
            Vec::new()
        }
    };
    paths.sort();
    for path in paths {
        match Profile::load(&path) {
            Ok(profile) => match profiles.iter_mut().find(|p| p.id == profile.id) {
                Some(existing) => *existing = profile,
                None => profiles.push(profile),
            },
            Err(error) => errors.push(error),
        }
    }
    (profiles, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profiles_load_and_describe_the_consoles() {
        let (profiles, errors) = load_profiles(None);
        assert!(errors.is_empty(), "{errors:?}");
        let ids: Vec<&str> = profiles.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["coronary", "pv", "bridge"]);
        let names = |id: &str| -> Vec<String> {
            profiles
                .iter()
                .find(|p| p.id == id)
                .unwrap()
                .channels
                .iter()
                .map(|c| c.name.clone())
                .collect()
        };
        assert_eq!(names("coronary"), ["pa", "pd", "ipv", "ecg"]);
        assert_eq!(names("pv"), ["lvp", "lvv", "ecg"]);
        let pv = &profiles[1];
        assert_eq!(
            pv.default_calibration("lvv"),
            Calibration::Volume {
                alpha: 1.0,
                parallel_ml: 0.0
            }
        );
        assert_eq!(pv.default_calibration("ecg"), Calibration::IDENTITY);
        assert!(pv.spec().channels.iter().all(|c| c.signal().is_some()));
    }

    #[test]
    fn files_override_builtins_and_bad_files_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let text = r#"
            id = "coronary"
            label = "Coronary logger (text)"
            framing = "text"
            baud = 115200
            sample_rate_hz = 100.0
            delimiter = ","
            [[channels]]
            name = "pa"
            unit = "mmHg"
            column = 1
            scale = 0.1
        "#;
        std::fs::write(dir.path().join("site.toml"), text).unwrap();
        std::fs::write(
            dir.path().join("broken.toml"),
            "id = \"x\"\nframing = \"carrier pigeon\"\n",
        )
        .unwrap();
        let (profiles, errors) = load_profiles(Some(dir.path()));
        assert_eq!(profiles.len(), 3);
        let coronary = &profiles[0];
        assert_eq!(coronary.label, "Coronary logger (text)");
        let config = coronary.serial_config("/dev/ttyUSB0", None);
        assert_eq!(config.baud, 115_200);
        let Framing::Text(text) = config.framing else {
            panic!("expected text framing")
        };
        assert_eq!(
            (text.delimiter, text.columns[0].column, text.columns[0].scale),
            (',', 1, 0.1)
        );
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("broken.toml"), "{}", errors[0]);
    }

    #[test]
    fn mismatches_are_worded_for_the_operator() {
        let (profiles, _) = load_profiles(None);
        let coronary = &profiles[0];
        let mut announced = coronary.spec();
        assert!(coronary.mismatches(&announced).is_empty());
        announced.sample_rate_hz = 1000.0;
        announced.channels.retain(|c| c.name != "ipv");
        announced.channels[0].unit = "kPa".into();
        let problems = coronary.mismatches(&announced);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(Profile::from_toml("id = \"\"", "empty.toml").is_err());
    }
}
