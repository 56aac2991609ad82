//! Pseudonymous case identifiers (`HER-<site>-<4 digits>`) and trial sites. No direct identifier of a patient
//! exists anywhere in the model.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A trial site (or the demo and test pseudo-sites).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Site {
    /// St Thomas' Hospital.
    Sth,
    /// King's College Hospital.
    Kch,
    /// Harefield Hospital.
    Har,
    /// Royal Brompton Hospital.
    Rbh,
    /// Demonstration cases on the simulated patient.
    Dem,
    /// Automated tests.
    Tst,
}

impl Site {
    /// Every site, trial sites first.
    pub const ALL: [Site; 6] = [Site::Sth, Site::Kch, Site::Har, Site::Rbh, Site::Dem, Site::Tst];

    /// The four recruiting sites of the trial.
    pub const TRIAL: [Site; 4] = [Site::Sth, Site::Kch, Site::Har, Site::Rbh];

    /// The three-letter code used in case ids.
    pub fn code(self) -> &'static str {
        match self {
            Site::Sth => "STH",
            Site::Kch => "KCH",
            Site::Har => "HAR",
            Site::Rbh => "RBH",
            Site::Dem => "DEM",
            Site::Tst => "TST",
        }
    }

    /// The site's full name.
    pub fn label(self) -> &'static str {
        match self {
            Site::Sth => "St Thomas' Hospital",
            Site::Kch => "King's College Hospital",
            Site::Har => "Harefield Hospital",
            Site::Rbh => "Royal Brompton Hospital",
            Site::Dem => "Demonstration",
            Site::Tst => "Test",
        }
    }

    /// The site whose code is `code` (exact, upper case).
    pub fn from_code(code: &str) -> Option<Site> {
        Site::ALL.into_iter().find(|site| site.code() == code)
    }
}

/// Why a string is not a valid case id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseIdError {
    /// Not of the form `HER-<site>-<4 digits>`.
    #[error("case id {0:?} is not of the form HER-<site>-<4 digits>, e.g. HER-STH-0007")]
    Pattern(String),
    /// The site code is not one of the trial's.
    #[error("unknown site code {0:?}: expected one of STH, KCH, HAR, RBH, DEM, TST")]
    UnknownSite(String),
}

/// A pseudonymous trial case id such as `HER-STH-0007`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseId {
    site: Site,
    number: u16,
}

impl CaseId {
    /// The case id for `site` and `number` (0..=9999).
    pub fn new(site: Site, number: u16) -> Result<CaseId, CaseIdError> {
        if number > 9999 {
            return Err(CaseIdError::Pattern(format!("HER-{}-{number}", site.code())));
        }
        Ok(CaseId { site, number })
    }

    /// The site the case belongs to.
    pub fn site(self) -> Site {
        self.site
    }

    /// The case number within the site.
    pub fn number(self) -> u16 {
        self.number
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HER-{}-{:04}", self.site.code(), self.number)
    }
}

impl FromStr for CaseId {
    type Err = CaseIdError;

    fn from_str(text: &str) -> Result<CaseId, CaseIdError> {
        let pattern_error = || CaseIdError::Pattern(text.to_owned());
        let mut parts = text.split('-');
        let (Some("HER"), Some(site), Some(digits), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(pattern_error());
        };
        if site.len() != 3 || !site.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(pattern_error());
        }
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(pattern_error());
        }
        let site = Site::from_code(site).ok_or_else(|| CaseIdError::UnknownSite(site.to_owned()))?;
        let number = digits.parse().map_err(|_| pattern_error())?;
        CaseId::new(site, number)
    }
}

impl TryFrom<String> for CaseId {
    type Error = CaseIdError;

    fn try_from(text: String) -> Result<CaseId, CaseIdError> {
        text.parse()
    }
}

impl From<CaseId> for String {
    fn from(id: CaseId) -> String {
        id.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let id: CaseId = "HER-STH-0007".parse().unwrap();
        assert_eq!(id.site(), Site::Sth);
        assert_eq!(id.number(), 7);
        assert_eq!(id.to_string(), "HER-STH-0007");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "HER-STH-7",
            "HER-STH-00071",
            "her-sth-0007",
            "HER-STH-00a7",
            "XYZ-STH-0007",
            "HER-STH-0007-1",
        ] {
            assert!(
                matches!(bad.parse::<CaseId>(), Err(CaseIdError::Pattern(_))),
                "{bad}"
            );
        }
        assert_eq!(
            "HER-ABC-0001".parse::<CaseId>(),
            Err(CaseIdError::UnknownSite("ABC".into()))
        );
    }
}

/// Where a case's recording came from: every export says it, so a simulated or imported case is never read as a
/// patient recorded at the bedside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaseOrigin {
    /// Recorded at the bedside from the consoles.
    Recorded,
    /// A demonstration or test case on the simulated patient: no patient.
    Simulated,
    /// Imported from a file (WFDB, Inca, LabChart, ComboMap, CSV, DICOM) by `heracles import`.
    Imported,
}

impl CaseOrigin {
    /// Stable text id (the exports' `case_origin`).
    pub fn key(self) -> &'static str {
        match self {
            CaseOrigin::Recorded => "recorded",
            CaseOrigin::Simulated => "simulated",
            CaseOrigin::Imported => "imported",
        }
    }

    /// What it means, in words a reader of an export understands at once.
    pub fn text(self) -> &'static str {
        match self {
            CaseOrigin::Recorded => "recorded at the bedside from the consoles",
            CaseOrigin::Simulated => "DEMO CASE: simulated patient, not a patient recording",
            CaseOrigin::Imported => "IMPORTED CASE: recording imported from a file, not recorded by heracles",
        }
    }
}
