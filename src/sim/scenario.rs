//! The named scenarios: a patient preset, the devices and manoeuvres at the start, and controls applied at
//! set times.

use super::Control;
use super::coronary::CoronaryParams;
use super::patient::Patient;
use super::rhythm::Rhythm;
use crate::model::{IabpSettings, ImpellaModel, ImpellaSettings, UnloadingDevice};

/// A scenario's name and what it shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScenarioInfo {
    /// Name used by `--scenario` and [`super::Simulator::new`].
    pub name: &'static str,
    /// One line for `--list-scenarios`.
    pub description: &'static str,
}

const SCENARIOS: [ScenarioInfo; 13] = [
    ScenarioInfo {
        name: "healthy",
        description: "Published defaults of Regazzoni et al. 2020: healthy adult, 75 bpm, no support, no ventilation",
    },
    ScenarioInfo {
        name: "shock",
        description: "Cardiogenic shock without mechanical support: MAP ~65 mmHg, LVEDP ~21 mmHg, EF ~18 %, ventilated",
    },
    ScenarioInfo {
        name: "shock-ecmo",
        description: "Cardiogenic shock on VA-ECMO at 3.5 L/min, ventilated (the trial's baseline state)",
    },
    ScenarioInfo {
        name: "shock-ecmo-iabp",
        description: "shock-ecmo with an IABP pumping 1:1, 40 mL, well timed",
    },
    ScenarioInfo {
        name: "shock-ecmo-impella",
        description: "shock-ecmo with an Impella CP at P-8",
    },
    ScenarioInfo {
        name: "shock-ecmo-occlusion",
        description: "shock-ecmo with a preload reduction (IVC occlusion, ~10 beats) starting at 5 s",
    },
    ScenarioInfo {
        name: "shock-ecmo-hyperaemia",
        description: "shock-ecmo in steady adenosine hyperaemia (microvascular resistance ~3.5x lower)",
    },
    ScenarioInfo {
        name: "shock-ecmo-full-flow",
        description: "shock-ecmo at 4.5 L/min: arterial pulse nearly flat, aortic valve barely opening, LV distending",
    },
    ScenarioInfo {
        name: "shock-ecmo-iabp-late-deflation",
        description: "shock-ecmo-iabp with deflation 120 ms late (balloon still full in early systole)",
    },
    ScenarioInfo {
        name: "shock-ecmo-impella-suction",
        description: "Bleeding (about 500 mL lost) on VA-ECMO at 4.5 L/min with an Impella CP at P-9: suction",
    },
    ScenarioInfo {
        name: "shock-ecmo-af",
        description: "shock-ecmo in atrial fibrillation at a mean 110/min (irregular RR, no atrial kick)",
    },
    ScenarioInfo {
        name: "shock-ecmo-ectopics",
        description: "shock-ecmo with ventricular ectopics (about 10 per 100 beats, compensatory pauses)",
    },
    ScenarioInfo {
        name: "shock-ecmo-paced",
        description: "shock-ecmo paced at 80/min (pacing spikes, fixed RR)",
    },
];

/// Every scenario, in menu order.
pub fn scenarios() -> &'static [ScenarioInfo] {
    &SCENARIOS
}

/// The scenario names, in menu order.
pub fn names() -> Vec<&'static str> {
    SCENARIOS.iter().map(|info| info.name).collect()
}

/// What a scenario starts with.
pub struct Setup {
    /// The patient.
    pub patient: Patient,
    /// VA-ECMO flow, L/min (0: no ECMO).
    pub ecmo_l_min: f64,
    /// Unloading device.
    pub device: UnloadingDevice,
    /// Adenosine hyperaemia from the start.
    pub hyperaemia: bool,
    /// Mechanical ventilation.
    pub ventilation: bool,
    /// Controls applied at these times (s since the start of the run).
    pub timed: Vec<(f64, Control)>,
    /// The heart's rhythm.
    pub rhythm: Rhythm,
}

const BASELINE_ECMO_L_MIN: f64 = 3.5;
const FULL_ECMO_L_MIN: f64 = 4.5;

fn impella_cp(p_level: u8) -> UnloadingDevice {
    UnloadingDevice::Impella(ImpellaSettings {
        model: ImpellaModel::ImpellaCp,
        p_level,
        displayed_flow_l_min: None,
    })
}

/// The set-up of scenario `name`, if there is one.
pub fn setup(name: &str) -> Option<Setup> {
    let shock_on_ecmo = |ecmo_l_min: f64, device: UnloadingDevice| Setup {
        patient: Patient {
            coronary: CoronaryParams::intermediate_stenosis(),
            ..Patient::cardiogenic_shock()
        },
        ecmo_l_min,
        device,
        hyperaemia: false,
        ventilation: true,
        timed: Vec::new(),
        rhythm: Rhythm::Sinus,
    };
    let setup = match name {
        "healthy" => Setup {
            patient: Patient::healthy(),
            ecmo_l_min: 0.0,
            device: UnloadingDevice::None,
            hyperaemia: false,
            ventilation: false,
            timed: Vec::new(),
            rhythm: Rhythm::Sinus,
        },
        "shock" => shock_on_ecmo(0.0, UnloadingDevice::None),
        "shock-ecmo" => shock_on_ecmo(BASELINE_ECMO_L_MIN, UnloadingDevice::None),
        "shock-ecmo-iabp" => shock_on_ecmo(
            BASELINE_ECMO_L_MIN,
            UnloadingDevice::Iabp(IabpSettings::default()),
        ),
        "shock-ecmo-impella" => shock_on_ecmo(BASELINE_ECMO_L_MIN, impella_cp(8)),
        "shock-ecmo-occlusion" => Setup {
            timed: vec![(5.0, Control::PreloadReduction)],
            ..shock_on_ecmo(BASELINE_ECMO_L_MIN, UnloadingDevice::None)
        },
        "shock-ecmo-hyperaemia" => Setup {
            hyperaemia: true,
            ..shock_on_ecmo(BASELINE_ECMO_L_MIN, UnloadingDevice::None)
        },
        "shock-ecmo-full-flow" => shock_on_ecmo(FULL_ECMO_L_MIN, UnloadingDevice::None),
        "shock-ecmo-iabp-late-deflation" => shock_on_ecmo(
            BASELINE_ECMO_L_MIN,
            UnloadingDevice::Iabp(IabpSettings {
                deflation_offset_ms: 120.0,
                ..IabpSettings::default()
            }),
        ),
        "shock-ecmo-impella-suction" => {
            let mut setup = shock_on_ecmo(FULL_ECMO_L_MIN, impella_cp(9));
            // About 540 mL less blood in the systemic veins (compliance 60 mL/mmHg).
            setup.patient.initial.pressures_mmhg[1] -= 9.0;
            setup
        }
        "shock-ecmo-af" => Setup {
            rhythm: Rhythm::AtrialFibrillation { mean_rate_bpm: 110.0 },
            ..shock_on_ecmo(BASELINE_ECMO_L_MIN, UnloadingDevice::None)
        },
        "shock-ecmo-ectopics" => Setup {
            rhythm: Rhythm::VentricularEctopics { per_100_beats: 10.0 },
            ..shock_on_ecmo(BASELINE_ECMO_L_MIN, UnloadingDevice::None)
        },
        "shock-ecmo-paced" => Setup {
            rhythm: Rhythm::Paced { rate_bpm: 80.0 },
            ..shock_on_ecmo(BASELINE_ECMO_L_MIN, UnloadingDevice::None)
        },
        _ => return None,
    };
    Some(setup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_scenario_has_a_setup() {
        for info in scenarios() {
            assert!(setup(info.name).is_some(), "{}", info.name);
        }
        assert!(setup("nonsense").is_none());
    }
}
