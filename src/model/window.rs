//! What an analysis window measures: the one vocabulary the protocol's captures, the case file's stored windows
//! (their `method` is the kind's key) and the review screens share.

use serde::{Deserialize, Serialize};

use super::SignalKind;

/// What a captured (or, in review, added) analysis window measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WindowKind {
    /// Coronary pressure and flow velocity at rest (the CDFR and resting resistance window).
    CoronaryRest,
    /// Coronary pressure and flow velocity during adenosine hyperaemia (HMR), optional.
    CoronaryHyperaemia,
    /// Coronary pressure and flow velocity at rest after unloading, with the device turned down to its minimum
    /// support (IABP on standby, Impella at its lowest P-level above P-0), optional: the denominator of the
    /// within-session CDFR reference (docs/methods.md, CDFR).
    CoronaryRestMinimumSupport,
    /// Pressure-volume loops in a steady state.
    PvSteady,
    /// Pressure-volume loops during a preload reduction (IVC occlusion), optional, for ESPVR/EDPVR/PRSW.
    PvPreloadReduction,
}

impl WindowKind {
    /// Every kind.
    pub const ALL: [WindowKind; 5] = [
        WindowKind::CoronaryRest,
        WindowKind::CoronaryHyperaemia,
        WindowKind::CoronaryRestMinimumSupport,
        WindowKind::PvSteady,
        WindowKind::PvPreloadReduction,
    ];

    /// Name shown on buttons and in the case file.
    pub fn label(self) -> &'static str {
        match self {
            WindowKind::CoronaryRest => "resting coronary window",
            WindowKind::CoronaryHyperaemia => "hyperaemic coronary window",
            WindowKind::CoronaryRestMinimumSupport => "resting coronary window at minimum support",
            WindowKind::PvSteady => "steady PV window",
            WindowKind::PvPreloadReduction => "preload-reduction PV window",
        }
    }

    /// Stable text id used in case files.
    pub fn key(self) -> &'static str {
        match self {
            WindowKind::CoronaryRest => "coronary_rest",
            WindowKind::CoronaryHyperaemia => "coronary_hyperaemia",
            WindowKind::CoronaryRestMinimumSupport => "coronary_rest_minimum_support",
            WindowKind::PvSteady => "pv_steady",
            WindowKind::PvPreloadReduction => "pv_preload_reduction",
        }
    }

    /// The kind whose [`key`](WindowKind::key) is `key` (an analysis window's stored `method`).
    pub fn from_key(key: &str) -> Option<WindowKind> {
        WindowKind::ALL.into_iter().find(|kind| kind.key() == key)
    }

    /// The channels the window is analysed from (ECMO flow is used when present, never required).
    pub fn channels(self) -> &'static [SignalKind] {
        match self {
            WindowKind::CoronaryRest
            | WindowKind::CoronaryHyperaemia
            | WindowKind::CoronaryRestMinimumSupport => {
                &[SignalKind::Ecg, SignalKind::Pa, SignalKind::Pd, SignalKind::Ipv]
            }
            WindowKind::PvSteady | WindowKind::PvPreloadReduction => {
                &[SignalKind::Ecg, SignalKind::Lvp, SignalKind::Lvv]
            }
        }
    }

    /// Whether the window measures coronary pressure and flow velocity (else pressure-volume loops).
    pub fn is_coronary(self) -> bool {
        self.channels().contains(&SignalKind::Ipv)
    }

    /// Whether the step cannot be completed without a saved window of this kind.
    pub fn required(self) -> bool {
        matches!(self, WindowKind::CoronaryRest | WindowKind::PvSteady)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_found_by_its_stored_key_and_keys_are_distinct() {
        for kind in WindowKind::ALL {
            assert_eq!(WindowKind::from_key(kind.key()), Some(kind));
        }
        assert_eq!(WindowKind::from_key("protocol capture: coronary_rest"), None);
        let mut keys: Vec<&str> = WindowKind::ALL.iter().map(|kind| kind.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), WindowKind::ALL.len());
    }
}
