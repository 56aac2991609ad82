//! What the online analysis tells the live screen: the large live numbers, each with the method that produced it
//! or the reason there is none, and the newest beats of the LV pressure-volume source (for the PV loop).

use std::ops::Range;

use crate::model::SignalKind;

/// A quantity on the live numbers panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LiveQuantity {
    /// Heart rate, beats per minute.
    HeartRate,
    /// Mean aortic pressure, mmHg.
    MeanArterialPressure,
    /// Resting distal-to-aortic pressure ratio, whole-cycle.
    PdPa,
    /// Average peak Doppler velocity, cm/s.
    Apv,
    /// LV end-diastolic pressure, mmHg.
    Lvedp,
    /// LV end-systolic pressure, mmHg.
    Lvesp,
    /// Stroke volume from the conductance volume, mL.
    StrokeVolume,
    /// Stroke work (area of the PV loop), mmHg·mL.
    StrokeWork,
    /// ECMO pump flow, L/min.
    EcmoFlow,
}

impl LiveQuantity {
    /// Every quantity, in the order of the numbers panel.
    pub const ALL: [LiveQuantity; 9] = [
        LiveQuantity::HeartRate,
        LiveQuantity::MeanArterialPressure,
        LiveQuantity::PdPa,
        LiveQuantity::Apv,
        LiveQuantity::Lvedp,
        LiveQuantity::Lvesp,
        LiveQuantity::StrokeVolume,
        LiveQuantity::StrokeWork,
        LiveQuantity::EcmoFlow,
    ];

    /// Short name on the panel.
    pub fn label(self) -> &'static str {
        match self {
            LiveQuantity::HeartRate => "HR",
            LiveQuantity::MeanArterialPressure => "MAP",
            LiveQuantity::PdPa => "Pd/Pa",
            LiveQuantity::Apv => "APV",
            LiveQuantity::Lvedp => "LVEDP",
            LiveQuantity::Lvesp => "LVESP",
            LiveQuantity::StrokeVolume => "SV",
            LiveQuantity::StrokeWork => "SW",
            LiveQuantity::EcmoFlow => "ECMO",
        }
    }

    /// Unit shown beside the value (empty for a ratio).
    pub fn unit(self) -> &'static str {
        match self {
            LiveQuantity::HeartRate => "bpm",
            LiveQuantity::MeanArterialPressure | LiveQuantity::Lvedp | LiveQuantity::Lvesp => "mmHg",
            LiveQuantity::PdPa => "",
            LiveQuantity::Apv => "cm/s",
            LiveQuantity::StrokeVolume => "mL",
            LiveQuantity::StrokeWork => "mmHg·mL",
            LiveQuantity::EcmoFlow => "L/min",
        }
    }

    /// Decimal places shown.
    pub fn decimals(self) -> usize {
        match self {
            LiveQuantity::PdPa => 2,
            LiveQuantity::EcmoFlow => 1,
            _ => 0,
        }
    }

    /// The signal the quantity is derived from (its colour on screen).
    pub fn signal(self) -> SignalKind {
        match self {
            LiveQuantity::HeartRate => SignalKind::Ecg,
            LiveQuantity::MeanArterialPressure => SignalKind::Pa,
            LiveQuantity::PdPa => SignalKind::Pd,
            LiveQuantity::Apv => SignalKind::Ipv,
            LiveQuantity::Lvedp | LiveQuantity::Lvesp => SignalKind::Lvp,
            LiveQuantity::StrokeVolume | LiveQuantity::StrokeWork => SignalKind::Lvv,
            LiveQuantity::EcmoFlow => SignalKind::EcmoFlow,
        }
    }
}

/// One live number: a value with the method that produced it, or the reason there is none.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveNumber {
    /// What it is.
    pub quantity: LiveQuantity,
    /// The value in [`LiveQuantity::unit`], or why the signal is unusable.
    pub value: Result<f64, String>,
    /// Method and settings, in words (shown on hover).
    pub method: String,
}

/// The newest results of the online analysis.
#[derive(Clone, Debug, PartialEq)]
pub struct LiveAnalysis {
    /// The numbers available now (a quantity absent here is shown as "—").
    pub numbers: Vec<LiveNumber>,
    /// The newest beats of the source carrying LV pressure and volume, as sample ranges, oldest first.
    pub lv_beats: Vec<Range<u64>>,
    /// Why there are no numbers at all, when there are none (shown on the panel).
    pub status: Option<String>,
}

impl Default for LiveAnalysis {
    fn default() -> LiveAnalysis {
        LiveAnalysis {
            numbers: Vec::new(),
            lv_beats: Vec::new(),
            status: Some("no beats yet".to_owned()),
        }
    }
}

impl LiveAnalysis {
    /// The number for `quantity`, if the analysis gave one (a value or a reason).
    pub fn number(&self, quantity: LiveQuantity) -> Option<&LiveNumber> {
        self.numbers.iter().find(|number| number.quantity == quantity)
    }
}
