//! What each protocol step asks of the operator: instructions, the channels it needs, its checklist and the windows
//! it captures. Static text, so the step panel, the case file and the tests all read the same definitions.

use crate::model::{SAME_VESSEL_CHECK, SignalKind, StepId};

use super::capture::WindowKind;

/// The guide for one step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepGuide {
    /// What to do now, in one or two sentences.
    pub instructions: &'static str,
    /// The channels the step needs (their live status is shown beside them).
    pub channels: &'static [SignalKind],
    /// Items the operator ticks; unticked items ask for confirmation before leaving the step.
    pub checklist: &'static [&'static str],
    /// The windows the step can capture (the required one first).
    pub captures: &'static [WindowKind],
}

/// The consoles step's checklist item that the "Zero pressures" action ticks.
pub const ZEROED_CHECK: &str = "Pressures zeroed at mid-chest level";

/// The consoles step's checklist item that the "Equalise Pd to Pa" action ticks.
pub const EQUALISED_CHECK: &str = "Pd equalised to Pa at the catheter tip";

const ALL_CHANNELS: &[SignalKind] = &[
    SignalKind::Ecg,
    SignalKind::Pa,
    SignalKind::Pd,
    SignalKind::Ipv,
    SignalKind::Lvp,
    SignalKind::Lvv,
    SignalKind::EcmoFlow,
];
const CORONARY: &[WindowKind] = &[WindowKind::CoronaryRest, WindowKind::CoronaryHyperaemia];
/// After unloading, the coronary step can also capture the resting window at minimum support (the within-session
/// CDFR reference).
const POST_CORONARY: &[WindowKind] = &[
    WindowKind::CoronaryRest,
    WindowKind::CoronaryHyperaemia,
    WindowKind::CoronaryRestMinimumSupport,
];
const PV: &[WindowKind] = &[WindowKind::PvSteady, WindowKind::PvPreloadReduction];

/// The guide for `step`.
pub fn guide(step: StepId) -> StepGuide {
    match step {
        StepId::CaseSetup => StepGuide {
            instructions: "Enter the pseudonymous case id from the trial system, the site and the operator. \
                           Never enter a name, date of birth or hospital number.",
            channels: &[],
            checklist: &[],
            captures: &[],
        },
        StepId::Eligibility => StepGuide {
            instructions: "Answer every inclusion and exclusion criterion. An ineligible patient cannot go on to \
                           randomisation; the reason is recorded.",
            channels: &[],
            checklist: &[],
            captures: &[],
        },
        StepId::Preparation => StepGuide {
            instructions: "Connect the coronary and pressure-volume consoles, zero the pressures at mid-chest, \
                           equalise Pd to Pa at the catheter tip, calibrate the conductance volume and record the \
                           ECMO flow and pump speed.",
            channels: ALL_CHANNELS,
            checklist: &[
                "Coronary console connected",
                "Pressure-volume console connected",
                ZEROED_CHECK,
                EQUALISED_CHECK,
                "Conductance volume calibrated (or accepted uncalibrated)",
                "ECMO flow and rpm recorded",
            ],
            captures: &[],
        },
        StepId::BaselineCoronary => StepGuide {
            instructions: "On VA-ECMO alone, position the Doppler wire in the target vessel, record the vessel, \
                           segment, wire position, Pd/Pa at equalisation and zeroing, and capture a resting steady \
                           window. Optionally capture a hyperaemic window during adenosine.",
            channels: &[
                SignalKind::Ecg,
                SignalKind::Pa,
                SignalKind::Pd,
                SignalKind::Ipv,
                SignalKind::EcmoFlow,
            ],
            checklist: &[
                "Stable Doppler envelope",
                "No change in ECMO flow or ventilation during the capture",
            ],
            captures: CORONARY,
        },
        StepId::BaselinePv => StepGuide {
            instructions: "With the conductance catheter in the LV, capture a steady window of loops. Optionally \
                           capture a preload reduction (IVC occlusion) for the ESPVR, during an end-expiratory \
                           ventilator hold.",
            channels: &[
                SignalKind::Ecg,
                SignalKind::Lvp,
                SignalKind::Lvv,
                SignalKind::EcmoFlow,
            ],
            checklist: &[
                "Catheter position stable, all segments in the LV",
                "Loops stable, no ectopy",
            ],
            captures: PV,
        },
        StepId::Randomisation => StepGuide {
            instructions: "Randomise in the trial's web system, then record the allocation, its reference and \
                           time here. The workstation does not randomise.",
            channels: &[],
            checklist: &["Allocation obtained from the trial's web system"],
            captures: &[],
        },
        StepId::DeviceInsertion => StepGuide {
            instructions: "Insert the allocated device, then record its type and settings and the ECMO flow and \
                           rpm. Wait for a steady state before the post-unloading measurements.",
            channels: &[
                SignalKind::Ecg,
                SignalKind::Pa,
                SignalKind::Lvp,
                SignalKind::EcmoFlow,
            ],
            checklist: &[
                "Device position confirmed",
                "Device at its target setting",
                "ECMO flow adjusted and recorded",
                "Steady state reached",
            ],
            captures: &[],
        },
        StepId::PostCoronary => StepGuide {
            instructions: "With the device running, capture a resting coronary window in the same vessel and wire \
                           position as at baseline. Optionally repeat hyperaemia. Optionally, for the within-session \
                           CDFR reference, record the device at its minimum support (IABP on standby, Impella at \
                           P-2 or its lowest level above P-0, never P-0), wait for a steady state, capture a resting \
                           window at minimum support, then return the device to its target setting.",
            channels: &[
                SignalKind::Ecg,
                SignalKind::Pa,
                SignalKind::Pd,
                SignalKind::Ipv,
                SignalKind::EcmoFlow,
            ],
            checklist: &[SAME_VESSEL_CHECK, "Stable Doppler envelope"],
            captures: POST_CORONARY,
        },
        StepId::PostPv => StepGuide {
            instructions: "Capture a steady window of loops with the device running. Optionally capture a preload \
                           reduction, during an end-expiratory ventilator hold.",
            channels: &[
                SignalKind::Ecg,
                SignalKind::Lvp,
                SignalKind::Lvv,
                SignalKind::EcmoFlow,
            ],
            checklist: &["Catheter position unchanged", "Loops stable, no ectopy"],
            captures: PV,
        },
        StepId::Review => StepGuide {
            instructions: "Check the endpoints: CDFR with its confidence interval and flags, microvascular \
                           resistance and the pressure-volume changes. Repeat a step if a window is poor.",
            channels: &[],
            checklist: &["Baseline and post-unloading windows inspected"],
            captures: &[],
        },
        StepId::SignOff => StepGuide {
            instructions: "Sign the case off. Later changes are made in offline review, with an audit trail.",
            channels: &[],
            checklist: &[],
            captures: &[],
        },
    }
}

/// The window a capture step cannot be completed without, if the step has one.
pub fn required_window(step: StepId) -> Option<WindowKind> {
    guide(step).captures.iter().copied().find(|kind| kind.required())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capture_steps_need_the_channels_of_their_windows() {
        for step in StepId::ALL {
            let guide = guide(step);
            for kind in guide.captures {
                for channel in kind.channels() {
                    assert!(
                        guide.channels.contains(channel),
                        "{step:?} captures {kind:?} without {channel:?}"
                    );
                }
            }
            assert_eq!(
                required_window(step).is_some(),
                !guide.captures.is_empty(),
                "{step:?}"
            );
        }
    }
}
