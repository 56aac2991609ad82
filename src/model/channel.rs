//! What a source delivers: its channels (name, unit) at one sample rate.

use serde::{Deserialize, Serialize};

/// The physiological signals the workstation knows by name (ENDPOINTS.md section 1).
///
/// Channel names are free text (a console may deliver anything); a channel whose name matches one of these is
/// used by the analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SignalKind {
    /// ECG lead, mV.
    Ecg,
    /// Aortic pressure at the guide catheter tip, mmHg.
    Pa,
    /// Distal coronary pressure from the wire, mmHg.
    Pd,
    /// Instantaneous peak Doppler velocity, cm/s.
    Ipv,
    /// Left-ventricular pressure, mmHg.
    Lvp,
    /// Left-ventricular volume, mL.
    Lvv,
    /// ECMO pump flow, L/min.
    EcmoFlow,
}

impl SignalKind {
    /// Every known signal, in display order.
    pub const ALL: [SignalKind; 7] = [
        SignalKind::Ecg,
        SignalKind::Pa,
        SignalKind::Pd,
        SignalKind::Ipv,
        SignalKind::Lvp,
        SignalKind::Lvv,
        SignalKind::EcmoFlow,
    ];

    /// The channel id used in files, profiles and the CLI (`pa`, `lvv`, ...).
    pub fn name(self) -> &'static str {
        match self {
            SignalKind::Ecg => "ecg",
            SignalKind::Pa => "pa",
            SignalKind::Pd => "pd",
            SignalKind::Ipv => "ipv",
            SignalKind::Lvp => "lvp",
            SignalKind::Lvv => "lvv",
            SignalKind::EcmoFlow => "ecmo_flow",
        }
    }

    /// The signal's name for people as the cath lab says it (`ECG`, `Pa`, `LV volume`, ...), where
    /// [`SignalKind::name`] is its id in files.
    pub fn title(self) -> &'static str {
        match self {
            SignalKind::Ecg => "ECG",
            SignalKind::Pa => "Pa",
            SignalKind::Pd => "Pd",
            SignalKind::Ipv => "Doppler velocity",
            SignalKind::Lvp => "LV pressure",
            SignalKind::Lvv => "LV volume",
            SignalKind::EcmoFlow => "ECMO flow",
        }
    }

    /// The physical unit of the signal.
    pub fn unit(self) -> &'static str {
        match self {
            SignalKind::Ecg => "mV",
            SignalKind::Pa | SignalKind::Pd | SignalKind::Lvp => "mmHg",
            SignalKind::Ipv => "cm/s",
            SignalKind::Lvv => "mL",
            SignalKind::EcmoFlow => "L/min",
        }
    }

    /// The signal whose channel id is `name` (case-insensitive), if any.
    pub fn from_name(name: &str) -> Option<SignalKind> {
        SignalKind::ALL
            .into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(name))
    }
}

/// One channel of a source.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelSpec {
    /// Channel id, e.g. `pa`; matched against [`SignalKind::name`].
    pub name: String,
    /// Physical unit of the samples, e.g. `mmHg`.
    pub unit: String,
}

impl ChannelSpec {
    /// The channel of a known signal, with its canonical name and unit.
    pub fn of(kind: SignalKind) -> ChannelSpec {
        ChannelSpec {
            name: kind.name().to_owned(),
            unit: kind.unit().to_owned(),
        }
    }

    /// The known signal this channel carries, if its name is one.
    pub fn signal(&self) -> Option<SignalKind> {
        SignalKind::from_name(&self.name)
    }

    /// Whether the channel is a pressure (in mmHg, whatever its name): one that is zeroed against atmosphere.
    pub fn is_pressure(&self) -> bool {
        self.unit == SignalKind::Pa.unit()
    }
}

/// A source of samples (a console, the simulator, a replayed file): all its channels share one sample rate and
/// one sample counter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceSpec {
    /// Stable id of the source within a case, e.g. `sim`, `coronary`, `pv`.
    pub id: String,
    /// Human-readable name shown on the source chip, e.g. `Simulated patient`.
    pub label: String,
    /// Samples per second per channel.
    pub sample_rate_hz: f64,
    /// The channels, in the order their samples appear in a [`crate::model::Block`].
    pub channels: Vec<ChannelSpec>,
}

impl SourceSpec {
    /// Position of the channel carrying `kind`, if this source has one.
    pub fn channel_index(&self, kind: SignalKind) -> Option<usize> {
        self.channels
            .iter()
            .position(|channel| channel.signal() == Some(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in SignalKind::ALL {
            assert_eq!(SignalKind::from_name(kind.name()), Some(kind));
        }
        assert_eq!(SignalKind::from_name("PA"), Some(SignalKind::Pa));
        assert_eq!(SignalKind::from_name("temperature"), None);
    }
}
