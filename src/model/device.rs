//! Settings of the circulatory support devices (VA-ECMO, IABP, Impella), shared by the protocol's device step,
//! the case file and the simulator.

use serde::{Deserialize, Serialize};

/// IABP trigger ratio: inflations per heart beat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IabpRatio {
    /// Every beat.
    OneToOne,
    /// Every second beat.
    OneToTwo,
    /// Every third beat.
    OneToThree,
    /// Balloon connected, not pumping.
    Standby,
}

impl IabpRatio {
    /// Every ratio, in menu order.
    pub const ALL: [IabpRatio; 4] = [
        IabpRatio::OneToOne,
        IabpRatio::OneToTwo,
        IabpRatio::OneToThree,
        IabpRatio::Standby,
    ];

    /// How the console shows it (`1:1`, ..., `standby`).
    pub fn label(self) -> &'static str {
        match self {
            IabpRatio::OneToOne => "1:1",
            IabpRatio::OneToTwo => "1:2",
            IabpRatio::OneToThree => "1:3",
            IabpRatio::Standby => "standby",
        }
    }

    /// Beats per inflation (`None` in standby).
    pub fn beats_per_inflation(self) -> Option<u32> {
        match self {
            IabpRatio::OneToOne => Some(1),
            IabpRatio::OneToTwo => Some(2),
            IabpRatio::OneToThree => Some(3),
            IabpRatio::Standby => None,
        }
    }
}

/// Intra-aortic balloon pump settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IabpSettings {
    /// Trigger ratio.
    pub ratio: IabpRatio,
    /// Balloon volume (augmentation), mL; 40 mL by default.
    pub balloon_volume_ml: f64,
    /// Inflation timing error relative to aortic-valve closure, ms (negative = early).
    pub inflation_offset_ms: f64,
    /// Deflation timing error relative to the ideal point just before systole, ms (positive = late).
    pub deflation_offset_ms: f64,
}

impl Default for IabpSettings {
    fn default() -> IabpSettings {
        IabpSettings {
            ratio: IabpRatio::OneToOne,
            balloon_volume_ml: 40.0,
            inflation_offset_ms: 0.0,
            deflation_offset_ms: 0.0,
        }
    }
}

/// Impella pump model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImpellaModel {
    /// Impella 2.5 (up to ~2.5 L/min).
    Impella25,
    /// Impella CP (up to ~3.7-4.0 L/min).
    ImpellaCp,
}

impl ImpellaModel {
    /// Every model, in menu order.
    pub const ALL: [ImpellaModel; 2] = [ImpellaModel::Impella25, ImpellaModel::ImpellaCp];

    /// Name as printed on the console.
    pub fn label(self) -> &'static str {
        match self {
            ImpellaModel::Impella25 => "Impella 2.5",
            ImpellaModel::ImpellaCp => "Impella CP",
        }
    }
}

/// Impella settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImpellaSettings {
    /// Pump model.
    pub model: ImpellaModel,
    /// Performance level P-0 ... P-9 (P-8 is the highest on the 2.5).
    pub p_level: u8,
    /// Flow shown by the console, L/min, when the operator records it.
    pub displayed_flow_l_min: Option<f64>,
}

/// The left-ventricular unloading device, if any.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum UnloadingDevice {
    /// VA-ECMO alone.
    None,
    /// Intra-aortic balloon pump.
    Iabp(IabpSettings),
    /// Impella pump.
    Impella(ImpellaSettings),
}

impl UnloadingDevice {
    /// The device and its main settings in a few words, e.g. `Impella CP P-6` or `IABP 1:1, 40 mL`.
    pub fn describe(&self) -> String {
        match self {
            UnloadingDevice::None => "VA-ECMO alone".to_owned(),
            UnloadingDevice::Iabp(iabp) => {
                format!("IABP {}, {:.0} mL", iabp.ratio.label(), iabp.balloon_volume_ml)
            }
            UnloadingDevice::Impella(impella) => format!("{} P-{}", impella.model.label(), impella.p_level),
        }
    }
}

/// VA-ECMO settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EcmoSettings {
    /// Pump flow, L/min.
    pub flow_l_min: f64,
    /// Pump speed, revolutions per minute, when recorded.
    pub rpm: Option<f64>,
}

impl EcmoSettings {
    /// The settings in words, e.g. `3.50 L/min, 3400 rpm`.
    pub fn describe(&self) -> String {
        match self.rpm {
            Some(rpm) => format!("{:.2} L/min, {rpm:.0} rpm", self.flow_l_min),
            None => format!("{:.2} L/min", self.flow_l_min),
        }
    }
}
