//! The coronary measurement context: where the Doppler wire measures (vessel and segment, wire position) and how
//! the pressures were set up (zeroed, Pd equalised to Pa, with the ratio read at equalisation). CDFR compares two
//! resting windows and is valid only in the same vessel at the same position, so the context is entered as values
//! at the baseline coronary step and shown beside the post-unloading capture. The zero and the equalisation are
//! actions at the consoles step ([`PressureZero`], [`Equalisation`]: what the app did to the channels, with
//! when), which the context then carries; without them the operator states zeroing and types the ratio read on
//! the console.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::state::Moment;
use crate::analysis::endpoints::Unit;
use crate::analysis::format;

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
    /// The zero the app made at the consoles step, when it made one (`zeroed` is then true); `None` when
    /// zeroing was only stated (e.g. done on the console).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zero: Option<PressureZero>,
    /// The equalisation the app made at the consoles step (`pd_pa_at_equalisation` is then its ratio read);
    /// `None` when the ratio was typed from the console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equalisation: Option<Equalisation>,
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
        match &self.equalisation {
            Some(equalisation) => write!(f, "; {equalisation}")?,
            None => write!(
                f,
                "; Pd/Pa {} at equalisation",
                format::number(self.pd_pa_at_equalisation, Unit::Ratio)
            )?,
        }
        match (&self.zero, self.zeroed) {
            (Some(zero), _) => write!(f, "; {zero}"),
            (None, true) => write!(f, "; pressures zeroed"),
            (None, false) => write!(f, "; pressures NOT zeroed"),
        }
    }
}

/// The correction one pressure channel's zero applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelZero {
    /// The channel, e.g. `pa`.
    pub channel: String,
    /// Added to every reading from the zero on (minus what the transducer read open to air), mmHg.
    pub offset_mmhg: f64,
}

/// The pressure channels zeroed against atmosphere by the app (the consoles step's "Zero pressures").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PressureZero {
    /// When.
    pub at: Moment,
    /// Every pressure channel zeroed, with its offset.
    pub channels: Vec<ChannelZero>,
}

impl fmt::Display for PressureZero {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let offsets: Vec<String> = self
            .channels
            .iter()
            .map(|zero| {
                format!(
                    "{} {}",
                    zero.channel,
                    format::change(zero.offset_mmhg, Unit::Mmhg)
                )
            })
            .collect();
        write!(
            f,
            "pressures zeroed at {} (offsets {} {})",
            format::recording_time(self.at.recording_s),
            offsets.join(", "),
            Unit::Mmhg.symbol()
        )
    }
}

/// Pd equalised to Pa by the app (the consoles step's "Equalise Pd to Pa"): the ratio the live analysis read
/// with the wire's sensor at the catheter tip, and the gain put on Pd so that it reads 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Equalisation {
    /// When.
    pub at: Moment,
    /// Pd/Pa read before equalising.
    pub pd_pa_read: f64,
    /// The factor Pd's readings are multiplied by from then on (1 / `pd_pa_read`).
    pub pd_gain: f64,
}

impl Equalisation {
    /// The gain on Pd that makes a Pd/Pa read as `pd_pa_read` read 1, or why there is none (a ratio outside
    /// [`CoronaryContext::PD_PA_RANGE`] is not a sensor at the catheter tip to be equalised).
    pub fn gain_for(pd_pa_read: f64) -> Result<f64, String> {
        let (lo, hi) = CoronaryContext::PD_PA_RANGE;
        if pd_pa_read.is_finite() && (lo..=hi).contains(&pd_pa_read) {
            Ok(1.0 / pd_pa_read)
        } else {
            Err(format!(
                "Pd/Pa reads {}, outside {lo}-{hi}: not equalised (is the sensor at the catheter tip, both \
                 pressures zeroed?)",
                format::number(pd_pa_read, Unit::Ratio)
            ))
        }
    }
}

impl fmt::Display for Equalisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Pd/Pa {} at equalisation (Pd gain {} applied at {})",
            format::number(self.pd_pa_read, Unit::Ratio),
            format::fixed(self.pd_gain, 3),
            format::recording_time(self.at.recording_s)
        )
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
            zero: None,
            equalisation: None,
        };
        assert_eq!(
            context.to_string(),
            "mid LAD, wire past D1; Pd/Pa 1.00 at equalisation; pressures zeroed"
        );
    }

    #[test]
    fn the_consoles_actions_read_with_their_values_and_time() {
        let at = |recording_s| Moment {
            utc: chrono::Utc::now(),
            recording_s,
        };
        let context = CoronaryContext {
            vessel: Vessel::Rca,
            segment: VesselSegment::Proximal,
            wire_position: String::new(),
            pd_pa_at_equalisation: 0.96,
            zeroed: true,
            zero: Some(PressureZero {
                at: at(41.6),
                channels: vec![
                    ChannelZero {
                        channel: "pa".into(),
                        offset_mmhg: -2.14,
                    },
                    ChannelZero {
                        channel: "pd".into(),
                        offset_mmhg: 0.8,
                    },
                    ChannelZero {
                        channel: "lvp".into(),
                        offset_mmhg: 12.4,
                    },
                ],
            }),
            equalisation: Some(Equalisation {
                at: at(95.2),
                pd_pa_read: 0.96,
                pd_gain: Equalisation::gain_for(0.96).unwrap(),
            }),
        };
        assert_eq!(
            context.to_string(),
            "proximal RCA; Pd/Pa 0.96 at equalisation (Pd gain 1.042 applied at 95 s); pressures zeroed at 42 s \
             (offsets pa -2.1, pd +0.80, lvp +12 mmHg)"
        );
        // An equalised sensor reads 1; a ratio no sensor at the catheter tip reads is refused in words.
        assert!((0.96 * Equalisation::gain_for(0.96).unwrap() - 1.0).abs() < 1e-12);
        for far in [0.62, 1.3, f64::NAN] {
            let refusal = Equalisation::gain_for(far).unwrap_err();
            assert!(refusal.contains("not equalised"), "{refusal}");
        }
    }
}
