//! The trial's endpoints (ENDPOINTS.md sections 3-7): coronary, wave intensity, pressure-volume, supply/demand and
//! clinical arithmetic. Every result carries its method, settings and algorithm version. Pure.
//!
//! The formula modules work on plain slices and beat boundaries so they can be checked against analytic answers;
//! [`pipeline`] joins them to the beats found by [`crate::signal`] and produces one report per recording or window;
//! [`window::analyse_window`] is the one path from a stored window to its report, and [`endpoints`] labels every
//! value of it (unit, method, kind, beats, flags, V0 source) for every view and export.
//! A number that cannot be computed honestly is absent, with a reason ([`Unavailable`]), never invented.

pub mod clinical;
pub mod coronary;
pub mod endpoints;
pub mod format;
pub(crate) mod numeric;
pub mod pipeline;
pub mod pv;
pub mod settings;
pub mod supply_demand;
pub mod wia;
pub mod window;

pub use settings::{ALGORITHM_VERSION, AnalysisSettings};

use serde::{Deserialize, Serialize};

/// Why a number was not computed. Shown beside the empty cell, so it reads as a sentence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "reason", content = "detail", rename_all = "snake_case")]
pub enum Unavailable {
    /// Not enough samples, beats or points for the method.
    #[error("too few {what}: {have}, need at least {need}")]
    TooFew {
        /// What was counted (`samples`, `beats`, `points`).
        what: String,
        /// How many there were.
        have: usize,
        /// How many the method needs.
        need: usize,
    },
    /// A sample needed by the method is missing (`NaN`) or not finite.
    #[error("missing or non-finite samples in {0}")]
    MissingSamples(String),
    /// A required channel is not in the recording.
    #[error("no {0} channel")]
    MissingChannel(String),
    /// A quantity the formula divides by (or takes the logarithm of) is zero or of the wrong sign.
    #[error("{0} is zero or negative")]
    NonPositive(String),
    /// A fit did not give a usable answer.
    #[error("fit failed: {0}")]
    FitFailed(String),
    /// The method does not apply to this signal (e.g. no isovolumic phase).
    #[error("not applicable: {0}")]
    NotApplicable(String),
}

impl Unavailable {
    /// Shorthand for [`Unavailable::TooFew`].
    pub(crate) fn too_few(what: &str, have: usize, need: usize) -> Unavailable {
        Unavailable::TooFew {
            what: what.to_owned(),
            have,
            need,
        }
    }
}

/// Which method, settings and algorithm version produced a result, so that a case re-analysed later gives the
/// same numbers or says why not. The settings themselves are stored once per report; `settings_hash` ties each
/// result to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The method, in words a physiologist recognises (e.g. `ESPVR: least squares, V0 iterated`).
    pub method: String,
    /// [`ALGORITHM_VERSION`] at the time of computation.
    pub algorithm_version: String,
    /// [`AnalysisSettings::hash`] of the settings used.
    pub settings_hash: String,
}

impl Provenance {
    /// The provenance of a result computed now by `method` with `settings`.
    pub fn new(method: &str, settings: &AnalysisSettings) -> Provenance {
        Provenance::with_hash(method, settings.hash())
    }

    /// As [`Provenance::new`], with the settings hash already computed (the pipeline hashes once per report).
    pub fn with_hash(method: &str, settings_hash: String) -> Provenance {
        Provenance {
            method: method.to_owned(),
            algorithm_version: ALGORITHM_VERSION.to_owned(),
            settings_hash,
        }
    }
}
