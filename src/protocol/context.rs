//! The coronary measurement context: where the Doppler wire measures (vessel and segment, wire position) and how
//! the pressures were set up (zeroed, Pd equalised to Pa, with the ratio read at equalisation). CDFR compares two
//! resting windows and is valid only in the same vessel at the same position, so the context is entered as values
//! at the baseline coronary step and shown beside the post-unloading capture.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The coronary artery the wire is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Vessel {
    /// Left anterior descending.
    Lad,
    /// Left circumflex.
    Lcx,
    /// Right coronary artery.
    Rca,
}

impl Vessel {
    /// Every vessel, in menu order.
    pub const ALL: [Vessel; 3] = [Vessel::Lad, Vessel::Lcx, Vessel::Rca];

    /// The abbreviation cardiologists use.
    pub fn label(self) -> &'static str {
        match self {
            Vessel::Lad => "LAD",
            Vessel::Lcx => "LCx",
            Vessel::Rca => "RCA",
        }
    }
}

/// The segment of the vessel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VesselSegment {
    /// Proximal.
    Proximal,
    /// Mid.
    Mid,
    /// Distal.
    Distal,
}

impl VesselSegment {
    /// Every segment, in menu order.
    pub const ALL: [VesselSegment; 3] = [VesselSegment::Proximal, VesselSegment::Mid, VesselSegment::Distal];

    /// In words.
    pub fn label(self) -> &'static str {
        match self {
            VesselSegment::Proximal => "proximal",
            VesselSegment::Mid => "mid",
            VesselSegment::Distal => "distal",
        }
    }
}

/// Where and how the coronary measurements are made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoronaryContext {
    /// The vessel.
    pub vessel: Vessel,
    /// The segment the sensors sit in.
    pub segment: VesselSegment,
    /// The wire position in words (e.g. "2 cm past the first diagonal"); may be empty.
    pub wire_position: String,
    /// Pd/Pa read after equalising Pd to Pa at the catheter tip (1.00 when equalised exactly).
    pub pd_pa_at_equalisation: f64,
    /// Whether the pressures were zeroed at mid-chest level.
    pub zeroed: bool,
}

impl CoronaryContext {
    /// Lowest and highest plausible Pd/Pa at equalisation.
    pub const PD_PA_RANGE: (f64, f64) = (0.8, 1.2);
}

impl fmt::Display for CoronaryContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.segment.label(), self.vessel.label())?;
        let wire = self.wire_position.trim();
        if !wire.is_empty() {
            write!(f, ", wire {wire}")?;
        }
        write!(f, "; Pd/Pa {:.2} at equalisation", self.pd_pa_at_equalisation)?;
        if self.zeroed {
            write!(f, "; pressures zeroed")
        } else {
            write!(f, "; pressures NOT zeroed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_reads_as_a_cardiologist_says_it() {
        let context = CoronaryContext {
            vessel: Vessel::Lad,
            segment: VesselSegment::Mid,
            wire_position: " past D1 ".into(),
            pd_pa_at_equalisation: 1.0,
            zeroed: true,
        };
        assert_eq!(
            context.to_string(),
            "mid LAD, wire past D1; Pd/Pa 1.00 at equalisation; pressures zeroed"
        );
    }
}
