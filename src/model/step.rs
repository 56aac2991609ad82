//! Identifiers of the HERACLES protocol steps (ENDPOINTS.md section 8), shared by the protocol state machine,
//! the case file and the UI.

use serde::{Deserialize, Serialize};

/// One step of the measurement protocol, in protocol order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum StepId {
    /// Pseudonymous case id, site, operator.
    CaseSetup,
    /// Inclusion and exclusion criteria.
    Eligibility,
    /// Consoles connected, pressures zeroed, volume calibrated.
    Preparation,
    /// Baseline coronary steady window (optional hyperaemia).
    BaselineCoronary,
    /// Baseline pressure-volume steady window (optional preload reduction).
    BaselinePv,
    /// Allocation from the trial's randomisation system recorded.
    Randomisation,
    /// Unloading device inserted, its settings and the ECMO settings recorded.
    DeviceInsertion,
    /// Post-unloading coronary steady window.
    PostCoronary,
    /// Post-unloading pressure-volume steady window.
    PostPv,
    /// Results reviewed.
    Review,
    /// Case signed off.
    SignOff,
}

impl StepId {
    /// Every step, in protocol order.
    pub const ALL: [StepId; 11] = [
        StepId::CaseSetup,
        StepId::Eligibility,
        StepId::Preparation,
        StepId::BaselineCoronary,
        StepId::BaselinePv,
        StepId::Randomisation,
        StepId::DeviceInsertion,
        StepId::PostCoronary,
        StepId::PostPv,
        StepId::Review,
        StepId::SignOff,
    ];

    /// Stable text id used in case files and exports.
    pub fn key(self) -> &'static str {
        match self {
            StepId::CaseSetup => "case_setup",
            StepId::Eligibility => "eligibility",
            StepId::Preparation => "preparation",
            StepId::BaselineCoronary => "baseline_coronary",
            StepId::BaselinePv => "baseline_pv",
            StepId::Randomisation => "randomisation",
            StepId::DeviceInsertion => "device_insertion",
            StepId::PostCoronary => "post_coronary",
            StepId::PostPv => "post_pv",
            StepId::Review => "review",
            StepId::SignOff => "sign_off",
        }
    }

    /// Title shown to the operator.
    pub fn title(self) -> &'static str {
        match self {
            StepId::CaseSetup => "Case set-up",
            StepId::Eligibility => "Eligibility",
            StepId::Preparation => "Consoles, zero and calibration",
            StepId::BaselineCoronary => "Baseline coronary",
            StepId::BaselinePv => "Baseline PV loops",
            StepId::Randomisation => "Randomisation",
            StepId::DeviceInsertion => "Device insertion",
            StepId::PostCoronary => "Post-unloading coronary",
            StepId::PostPv => "Post-unloading PV loops",
            StepId::Review => "Review results",
            StepId::SignOff => "Sign-off",
        }
    }

    /// The step whose [`StepId::key`] is `key`.
    pub fn from_key(key: &str) -> Option<StepId> {
        StepId::ALL.into_iter().find(|step| step.key() == key)
    }
}

/// The post-unloading coronary step's checklist item by which the operator confirms the wire is where it was at
/// baseline (CDFR is valid only in the same vessel): the protocol lists it, and the review reads its checklist
/// records to flag CDFR when it was not confirmed.
pub const SAME_VESSEL_CHECK: &str = "Same vessel and wire position as baseline (shown above)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_in_order() {
        for (i, step) in StepId::ALL.into_iter().enumerate() {
            assert_eq!(StepId::from_key(step.key()), Some(step));
            if i > 0 {
                assert!(StepId::ALL[i - 1] < step);
            }
        }
    }
}
