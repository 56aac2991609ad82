//! A window's complete, labelled endpoint set: every value the analysis computed for it, each with its unit (one
//! spelling per unit, [`Unit::symbol`]), group, method, kind (for resistances), the beats used and excluded, the
//! flags that qualify it (uncalibrated volume, estimate, not isovolumic, not steady, ...) and, for the values that
//! depend on V0, where V0 came from. The bedside panel, the review table, `heracles analyze`, the CSV/JSON exports
//! and the PDF report all show these, so a number never means two things in two places.
//!
//! Why one list rather than each view picking fields from the report: the views used to choose (and label, and
//! convert) on their own, and they disagreed (EF as a fraction here and a % there, two spellings of the resistance
//! unit, tau means that silently included non-isovolumic beats). Here each value is described once. Pure.

use serde::{Deserialize, Serialize};

use super::coronary::ResistanceKind;
use super::pipeline::{Report, V0Source};
use super::settings::AnalysisSettings;
use crate::model::WindowKind;

/// The groups of the endpoint table, in display order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// The primary endpoint (CDFR) and its companion ratio.
    Primary,
    /// Coronary pressure and flow velocity, resistances.
    Coronary,
    /// Pressure-volume indices of the steady beats.
    Pv,
    /// ESPVR, EDPVR, PRSW, coupling, single-beat Ees.
    Relations,
    /// PVA, stroke work, efficiency, MVO2.
    Energetics,
    /// Coronary supply against myocardial demand.
    SupplyDemand,
    /// Wave intensity of the ensemble beat.
    WaveIntensity,
    /// Follow-up endpoints.
    Clinical,
}

impl Group {
    /// Every group, in display order.
    pub const ALL: [Group; 8] = [
        Group::Primary,
        Group::Coronary,
        Group::Pv,
        Group::Relations,
        Group::Energetics,
        Group::SupplyDemand,
        Group::WaveIntensity,
        Group::Clinical,
    ];

    /// Stored and exported key.
    pub fn key(self) -> &'static str {
        match self {
            Group::Primary => "primary",
            Group::Coronary => "coronary",
            Group::Pv => "pv",
            Group::Relations => "relations",
            Group::Energetics => "energetics",
            Group::SupplyDemand => "supply_demand",
            Group::WaveIntensity => "wave_intensity",
            Group::Clinical => "clinical",
        }
    }

    /// Heading on screen and in the report.
    pub fn title(self) -> &'static str {
        match self {
            Group::Primary => "Primary endpoint",
            Group::Coronary => "Coronary",
            Group::Pv => "Pressure-volume",
            Group::Relations => "Relations (ESPVR, EDPVR, PRSW)",
            Group::Energetics => "Energetics",
            Group::SupplyDemand => "Supply and demand",
            Group::WaveIntensity => "Wave intensity",
            Group::Clinical => "Clinical",
        }
    }
}

/// The unit of an endpoint. [`Unit::symbol`] is the only place a unit is spelt: on screen, in the report, in the
/// CSV, in every JSON document (a unit serialises as its symbol) and in the ODM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unit {
    /// A dimensionless ratio.
    Ratio,
    /// A coded value (e.g. 0 censored, 1 success, 2 competing).
    Code,
    /// A count of beats.
    Beats,
    /// Percent.
    Percent,
    /// cm/s.
    CmPerS,
    /// cm.
    Cm,
    /// mmHg.
    Mmhg,
    /// beats per minute.
    PerMin,
    /// mL.
    Ml,
    /// L/min.
    LPerMin,
    /// mL/min.
    MlPerMin,
    /// mmHg/s.
    MmhgPerS,
    /// mmHg/mL.
    MmhgPerMl,
    /// 1/mL.
    PerMl,
    /// mmHg.mL.
    MmhgMl,
    /// ms.
    Ms,
    /// Microvascular resistance, mmHg.s/cm.
    Resistance,
    /// mmHg.s.
    MmhgS,
    /// mmHg/min (rate-pressure product).
    MmhgPerMin,
    /// (cm/s)/(mmHg.mL/min).
    ApvPerPvaRate,
    /// (mL/min)/(mmHg.mL/min).
    FlowPerPvaRate,
    /// cm/(mmHg.mL).
    CmPerMmhgMl,
    /// mL/(mmHg.mL).
    MlPerMmhgMl,
    /// m/s.
    MPerS,
    /// W m^-2 s^-2.
    WPerM2S2,
    /// J m^-2 s^-2.
    JPerM2S2,
    /// mL O2/min.
    MlO2PerMin,
    /// days.
    Days,
}

impl Unit {
    /// Every unit.
    pub const ALL: [Unit; 28] = [
        Unit::Ratio,
        Unit::Code,
        Unit::Beats,
        Unit::Percent,
        Unit::CmPerS,
        Unit::Cm,
        Unit::Mmhg,
        Unit::PerMin,
        Unit::Ml,
        Unit::LPerMin,
        Unit::MlPerMin,
        Unit::MmhgPerS,
        Unit::MmhgPerMl,
        Unit::PerMl,
        Unit::MmhgMl,
        Unit::Ms,
        Unit::Resistance,
        Unit::MmhgS,
        Unit::MmhgPerMin,
        Unit::ApvPerPvaRate,
        Unit::FlowPerPvaRate,
        Unit::CmPerMmhgMl,
        Unit::MlPerMmhgMl,
        Unit::MPerS,
        Unit::WPerM2S2,
        Unit::JPerM2S2,
        Unit::MlO2PerMin,
        Unit::Days,
    ];

    /// The unit as written everywhere (empty for a ratio).
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::Ratio => "",
            Unit::Code => "code",
            Unit::Beats => "beats",
            Unit::Percent => "%",
            Unit::CmPerS => "cm/s",
            Unit::Cm => "cm",
            Unit::Mmhg => "mmHg",
            Unit::PerMin => "/min",
            Unit::Ml => "mL",
            Unit::LPerMin => "L/min",
            Unit::MlPerMin => "mL/min",
            Unit::MmhgPerS => "mmHg/s",
            Unit::MmhgPerMl => "mmHg/mL",
            Unit::PerMl => "1/mL",
            Unit::MmhgMl => "mmHg.mL",
            Unit::Ms => "ms",
            Unit::Resistance => "mmHg.s/cm",
            Unit::MmhgS => "mmHg.s",
            Unit::MmhgPerMin => "mmHg/min",
            Unit::ApvPerPvaRate => "(cm/s)/(mmHg.mL/min)",
            Unit::FlowPerPvaRate => "(mL/min)/(mmHg.mL/min)",
            Unit::CmPerMmhgMl => "cm/(mmHg.mL)",
            Unit::MlPerMmhgMl => "mL/(mmHg.mL)",
            Unit::MPerS => "m/s",
            Unit::WPerM2S2 => "W/m2/s2",
            Unit::JPerM2S2 => "J/m2/s2",
            Unit::MlO2PerMin => "mL O2/min",
            Unit::Days => "days",
        }
    }

    /// The unit of `text`: its symbol, or the snake-case name results stored before units were written as
    /// symbols (`cm_per_s`).
    pub fn from_text(text: &str) -> Option<Unit> {
        Unit::ALL
            .into_iter()
            .find(|unit| unit.symbol() == text)
            .or_else(|| Unit::ALL.into_iter().find(|unit| unit.legacy_key() == text))
    }

    /// The variant's name in snake case, as the derived serde form wrote it.
    fn legacy_key(self) -> String {
        let mut key = String::new();
        for (i, c) in format!("{self:?}").chars().enumerate() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    key.push('_');
                }
                key.push(c.to_ascii_lowercase());
            } else {
                key.push(c);
            }
        }
        key
    }
}

impl Serialize for Unit {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.symbol())
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Unit, D::Error> {
        let text = String::deserialize(deserializer)?;
        Unit::from_text(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown unit {text:?}")))
    }
}

/// What qualifies a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "flag", rename_all = "snake_case")]
pub enum Flag {
    /// Conductance volume not calibrated (no alpha / parallel conductance stored): volumes are relative.
    UncalibratedVolume,
    /// An estimate by a model (single-beat Ees, MVO2 from published constants), not a measurement.
    Estimate,
    /// Beats without isovolumic relaxation (volume moved by more than the set fraction of SV) were excluded.
    NotIsovolumic {
        /// How many.
        num_beats: usize,
    },
    /// No steady window (the steady-state criteria were never met): values are over all accepted beats.
    NotSteady,
    /// PVA without the EDPVR correction (no EDPVR in this window).
    PvaChordOnly,
    /// The LV's output through the valve and the pump (an Impella empties the LV into the aorta): not the
    /// heart's own ejection into the aorta, and never systemic flow on ECMO.
    IncludesPumpOutflow,
    /// V0 = 0 mL because the case has no ESPVR.
    V0Zero,
    /// Measured under a pumping balloon: diastole carries its inflation and deflation waves.
    BalloonPumping,
    /// Most beats of the window were in an irregular (AF-like) rhythm: no beat was rejected for its RR alone,
    /// and the value averages beats of varying filling.
    IrregularRhythm,
}

impl Flag {
    /// Stored and exported key.
    pub fn key(&self) -> &'static str {
        match self {
            Flag::UncalibratedVolume => "uncalibrated_volume",
            Flag::Estimate => "estimate",
            Flag::NotIsovolumic { .. } => "not_isovolumic",
            Flag::NotSteady => "not_steady",
            Flag::PvaChordOnly => "pva_chord_only",
            Flag::IncludesPumpOutflow => "includes_pump_outflow",
            Flag::V0Zero => "v0_zero",
            Flag::BalloonPumping => "balloon_pumping",
            Flag::IrregularRhythm => "irregular_rhythm",
        }
    }

    /// In words, for the hover text and the report.
    pub fn text(&self) -> String {
        match self {
            Flag::UncalibratedVolume => "uncalibrated volume (relative mL)".into(),
            Flag::Estimate => "estimate".into(),
            Flag::NotIsovolumic { num_beats } => {
                format!("{num_beats} beat(s) not isovolumic, excluded")
            }
            Flag::NotSteady => "not steady".into(),
            Flag::PvaChordOnly => "PVA without EDPVR (chord only)".into(),
            Flag::IncludesPumpOutflow => "includes the pump's outflow".into(),
            Flag::V0Zero => "V0 = 0 mL (no ESPVR)".into(),
            Flag::BalloonPumping => "balloon pumping".into(),
            Flag::IrregularRhythm => "irregular rhythm (AF-like)".into(),
        }
    }
}

/// The unloading device in place while a window was recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unloading {
    /// No device, or not known (VA-ECMO alone, or an imported recording).
    #[default]
    None,
    /// An intra-aortic balloon pump.
    Iabp,
    /// An Impella.
    Impella,
}

/// What the window's values depend on beyond its samples: recorded by the case, given to the analysis.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WindowContext {
    /// Whether the conductance volume was calibrated (alpha and parallel conductance) for this window.
    pub volume_calibrated: bool,
    /// The device in place.
    pub unloading: Unloading,
}

/// One endpoint of one window (or of the case).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Stable key, e.g. `apv`.
    pub key: String,
    /// Name on screen.
    pub label: String,
    /// Where it is shown.
    pub group: Group,
    /// Its unit.
    pub unit: Unit,
    /// The number (`None`: not computed, see `note`).
    pub value: Option<f64>,
    /// 95 % confidence interval, when the method gives one.
    pub ci95: Option<[f64; 2]>,
    /// How it was computed.
    pub method: String,
    /// For resistances: which resistance (HMR, WFP-MR, BMR).
    pub kind: Option<ResistanceKind>,
    /// Beats the value is computed from.
    pub num_beats_used: Option<usize>,
    /// Beats of the window left out of it (rejected by QC or by the reviewer, outside the occlusion, not
    /// isovolumic...).
    pub num_beats_excluded: Option<usize>,
    /// What qualifies the value.
    pub flags: Vec<Flag>,
    /// Where V0 came from (end-systole and PVA depend on it).
    pub v0_source: Option<V0Source>,
    /// Why there is no value, or a caveat.
    pub note: Option<String>,
}

impl Endpoint {
    /// An endpoint with no value yet.
    pub fn new(key: &str, label: &str, group: Group, unit: Unit) -> Endpoint {
        Endpoint {
            key: key.to_owned(),
            label: label.to_owned(),
            group,
            unit,
            value: None,
            ci95: None,
            method: String::new(),
            kind: None,
            num_beats_used: None,
            num_beats_excluded: None,
            flags: Vec::new(),
            v0_source: None,
            note: None,
        }
    }

    /// The value as shown (with unit, [`super::format::with_unit`]), or `no value`.
    pub fn display(&self) -> String {
        match self.value {
            Some(value) => super::format::with_unit(value, self.unit),
            None => "no value".to_owned(),
        }
    }

    /// The unit as written.
    pub fn unit_symbol(&self) -> &'static str {
        self.unit.symbol()
    }

    fn with(mut self, value: Option<f64>, method: &str) -> Endpoint {
        self.value = value.filter(|v| v.is_finite());
        self.method = method.to_owned();
        if self.value.is_none() && self.note.is_none() {
            self.note = Some("not computed: see the analysis notes".to_owned());
        }
        self
    }

    fn beats(mut self, used: usize, excluded: usize) -> Endpoint {
        self.num_beats_used = Some(used);
        self.num_beats_excluded = Some(excluded);
        self
    }

    fn flagged(mut self, flags: &[Flag]) -> Endpoint {
        for flag in flags {
            if !self.flags.contains(flag) {
                self.flags.push(flag.clone());
            }
        }
        self
    }

    fn v0(mut self, source: Option<V0Source>) -> Endpoint {
        self.v0_source = source;
        self
    }
}

/// The wave-intensity waves reported, with their keys.
const WAVES: [(crate::analysis::wia::WaveKind, &str, &str); 6] = {
    use crate::analysis::wia::WaveKind as K;
    [
        (K::ForwardCompression, "fcw", "forward compression wave"),
        (K::BackwardCompression, "bcw", "backward compression wave"),
        (K::ForwardExpansion, "few", "forward expansion wave"),
        (K::BackwardDecompression, "bdw", "backward decompression wave"),
        (
            K::DiastolicForwardCompression,
            "dfcw",
            "diastolic forward compression wave (balloon inflation)",
        ),
        (
            K::DiastolicForwardExpansion,
            "dfew",
            "diastolic forward expansion wave (balloon deflation)",
        ),
    ]
};

/// Every endpoint of one analysed window, labelled. `kind` is what the window measures (a preload reduction's
/// relations are its own; its steady-beat indices are over the beats outside the occlusion).
pub fn window_endpoints(report: &Report, kind: Option<WindowKind>, context: &WindowContext) -> Vec<Endpoint> {
    let summary = &report.summary;
    let settings = &report.settings;
    let mut out = Vec::new();
    let num_beats = summary.num_beats;
    let not_steady = if summary.steady_window.is_none() && num_beats > 0 {
        vec![Flag::NotSteady]
    } else {
        Vec::new()
    };
    let balloon = if context.unloading == Unloading::Iabp {
        vec![Flag::BalloonPumping]
    } else {
        Vec::new()
    };

    // Coronary.
    if let Some(c) = &summary.coronary {
        let m = c.provenance.method.as_str();
        let used = c.num_beats;
        let excluded = num_beats.saturating_sub(used);
        let e = |key, label, unit, value: Option<f64>| {
            Endpoint::new(key, label, Group::Coronary, unit)
                .with(value, m)
                .beats(used, excluded)
                .flagged(&not_steady)
        };
        out.push(e("apv", "APV", Unit::CmPerS, c.apv_cm_s));
        out.push(
            e(
                "diastolic_apv",
                "Diastolic APV",
                Unit::CmPerS,
                c.diastolic_apv_cm_s,
            )
            .flagged(&balloon),
        );
        out.push(e("mean_pa", "Mean Pa", Unit::Mmhg, c.mean_pa_mmhg));
        out.push(e("mean_pd", "Mean Pd", Unit::Mmhg, c.mean_pd_mmhg));
        out.push(e("pd_pa", "Pd/Pa", Unit::Ratio, c.pd_pa));
        out.push(e(
            "mean_diastolic_pa",
            "Mean diastolic Pa",
            Unit::Mmhg,
            c.mean_diastolic_pa_mmhg,
        ));
        out.push(e(
            "heart_rate_coronary",
            "Heart rate (coronary)",
            Unit::PerMin,
            Some(c.heart_rate_bpm),
        ));
        out.push(
            e(
                "wfp_mean_pd",
                "Mean Pd over the WFP",
                Unit::Mmhg,
                c.wfp_mean_pd_mmhg,
            )
            .flagged(&balloon),
        );
        out.push(
            e(
                "wfp_mean_ipv",
                "Mean ipv over the WFP",
                Unit::CmPerS,
                c.wfp_mean_ipv_cm_s,
            )
            .flagged(&balloon),
        );
        if let Some(r) = &summary.microvascular_resistance {
            let m = r.provenance.method.as_str();
            let mut bmr = Endpoint::new("bmr", "BMR", Group::Coronary, Unit::Resistance)
                .with(r.bmr, "mean Pd / APV over whole beats at rest")
                .beats(used, excluded)
                .flagged(&not_steady);
            bmr.kind = Some(ResistanceKind::Bmr);
            out.push(bmr);
            let mut wfp = Endpoint::new("wfp_mr", "WFP-MR", Group::Coronary, Unit::Resistance)
                .with(
                    r.wfp_mr,
                    "mean Pd / mean ipv over the pooled wave-free periods at rest",
                )
                .beats(used, excluded)
                .flagged(&not_steady)
                .flagged(&balloon);
            wfp.kind = Some(ResistanceKind::WfpMr);
            out.push(wfp);
            let mut corrected = Endpoint::new(
                "bmr_back_pressure_corrected",
                "BMR, back-pressure corrected (Pd - LVEDP)",
                Group::Coronary,
                Unit::Resistance,
            )
            .with(r.bmr_back_pressure_corrected, m)
            .beats(used, excluded);
            corrected.kind = Some(ResistanceKind::Bmr);
            out.push(corrected);
        }
        out.push(
            Endpoint::new(
                "coronary_perfusion_pressure",
                "Coronary perfusion pressure (diastolic Pa - LVEDP)",
                Group::Coronary,
                Unit::Mmhg,
            )
            .with(
                summary.coronary_perfusion_pressure_mmhg,
                "mean aortic diastolic pressure - mean LVEDP",
            )
            .beats(used, excluded),
        );
        let mut flow = Endpoint::new(
            "volumetric_flow",
            "Volumetric coronary flow",
            Group::Coronary,
            Unit::MlPerMin,
        );
        if settings.vessel_diameter_cm.is_none() {
            flow.note = Some("no vessel diameter entered for this case".into());
        }
        let method = match settings.vessel_diameter_cm {
            Some(d) => format!("Q = 60 x 0.5 x APV x pi D^2 / 4, D = {d:.2} cm (case choice)"),
            None => "Q = 60 x 0.5 x APV x pi D^2 / 4".to_owned(),
        };
        out.push(
            flow.with(summary.volumetric_flow_ml_min, &method)
                .beats(used, excluded),
        );
    }

    // Pressure-volume.
    let volume_flags = if context.volume_calibrated {
        Vec::new()
    } else {
        vec![Flag::UncalibratedVolume]
    };
    let pump = if context.unloading == Unloading::Impella {
        vec![Flag::IncludesPumpOutflow]
    } else {
        Vec::new()
    };
    if let Some(pv) = &summary.pv {
        let m = pv.provenance.method.as_str();
        let used = pv.num_beats;
        let excluded = num_beats.saturating_sub(used);
        let v0_flags = if pv.v0_source == V0Source::Zero {
            vec![Flag::V0Zero]
        } else {
            Vec::new()
        };
        let e = |key, label, group, unit, value: Option<f64>| {
            Endpoint::new(key, label, group, unit)
                .with(value, m)
                .beats(used, excluded)
                .flagged(&not_steady)
        };
        let pvg = Group::Pv;
        out.push(e(
            "heart_rate_pv",
            "Heart rate (PV)",
            pvg,
            Unit::PerMin,
            Some(pv.heart_rate_bpm),
        ));
        out.push(e("lvedp", "LVEDP", pvg, Unit::Mmhg, Some(pv.lvedp_mmhg)));
        out.push(e("edv", "EDV", pvg, Unit::Ml, Some(pv.edv_ml)).flagged(&volume_flags));
        out.push(
            e("esv", "ESV", pvg, Unit::Ml, Some(pv.esv_ml))
                .flagged(&volume_flags)
                .flagged(&v0_flags)
                .v0(Some(pv.v0_source)),
        );
        out.push(
            e("lvesp", "LVESP", pvg, Unit::Mmhg, Some(pv.lvesp_mmhg))
                .flagged(&v0_flags)
                .v0(Some(pv.v0_source)),
        );
        out.push(e("lvsp", "LVSP", pvg, Unit::Mmhg, Some(pv.lvsp_mmhg)));
        out.push(
            e("sv", "SV", pvg, Unit::Ml, Some(pv.sv_ml))
                .flagged(&volume_flags)
                .flagged(&pump)
                .v0(Some(pv.v0_source)),
        );
        out.push(
            e(
                "ef",
                "EF",
                pvg,
                Unit::Percent,
                pv.ef_fraction.map(|ef| 100.0 * ef),
            )
            .flagged(&volume_flags)
            .flagged(&pump)
            .v0(Some(pv.v0_source)),
        );
        out.push(
            e(
                "native_co",
                "Native CO (SV x HR)",
                pvg,
                Unit::LPerMin,
                Some(pv.native_co_l_min),
            )
            .flagged(&volume_flags)
            .flagged(&pump)
            .v0(Some(pv.v0_source)),
        );
        out.push(e(
            "dpdt_max",
            "dP/dt max",
            pvg,
            Unit::MmhgPerS,
            Some(pv.dpdt_max_mmhg_per_s),
        ));
        out.push(e(
            "dpdt_min",
            "dP/dt min",
            pvg,
            Unit::MmhgPerS,
            Some(pv.dpdt_min_mmhg_per_s),
        ));
        out.push(
            e("ea", "Ea (ESP/SV)", pvg, Unit::MmhgPerMl, pv.ea_mmhg_per_ml)
                .flagged(&volume_flags)
                .v0(Some(pv.v0_source)),
        );
        let tau_used = pv.num_beats.saturating_sub(pv.num_tau_invalid);
        let tau_flags = if pv.num_tau_invalid > 0 {
            vec![Flag::NotIsovolumic {
                num_beats: pv.num_tau_invalid,
            }]
        } else {
            Vec::new()
        };
        for (key, label, value, how) in [
            ("tau_weiss", "tau (Weiss)", pv.tau_weiss_ms, "ln P = a - t/tau"),
            (
                "tau_glantz",
                "tau (Glantz)",
                pv.tau_glantz_ms,
                "dP/dt = -(P - P_B)/tau",
            ),
            (
                "tau_logistic",
                "tau (logistic)",
                pv.tau_logistic_ms,
                "P = P_A/(1 + e^(t/tau_L)) + P_B",
            ),
        ] {
            let mut tau = Endpoint::new(key, label, pvg, Unit::Ms)
                .with(
                    value,
                    &format!("{how}, from dP/dt min to next EDP + margin; mean over isovolumic beats only"),
                )
                .beats(tau_used, num_beats.saturating_sub(tau_used))
                .flagged(&not_steady)
                .flagged(&tau_flags);
            if value.is_none() && tau_used == 0 && pv.num_tau_invalid > 0 {
                tau.note = Some("no beat with isovolumic relaxation (volume moved during the fit)".into());
            }
            out.push(tau);
        }

        // Energetics.
        let pva_flags = if pv.pva_includes_edpvr || pv.pva_mmhg_ml.is_none() {
            Vec::new()
        } else {
            vec![Flag::PvaChordOnly]
        };
        let eg = Group::Energetics;
        out.push(e("sw", "Stroke work", eg, Unit::MmhgMl, Some(pv.sw_mmhg_ml)).flagged(&volume_flags));
        out.push(
            Endpoint::new("pva", "PVA (SW + PE)", eg, Unit::MmhgMl)
                .with(pv.pva_mmhg_ml, "Suga's sweep over systole + EDPVR sliver")
                .beats(used, excluded)
                .flagged(&not_steady)
                .flagged(&volume_flags)
                .flagged(&pva_flags)
                .flagged(&v0_flags)
                .v0(Some(pv.v0_source)),
        );
        out.push(
            Endpoint::new(
                "mechanical_efficiency",
                "Mechanical efficiency (SW/PVA)",
                eg,
                Unit::Ratio,
            )
            .with(pv.mechanical_efficiency, "mean SW / mean PVA")
            .beats(used, excluded)
            .flagged(&pva_flags)
            .v0(Some(pv.v0_source)),
        );
        let mut mvo2 = Endpoint::new("mvo2", "MVO2 estimate (a PVA + b) x HR", eg, Unit::MlO2PerMin);
        if summary.mvo2.is_none() && settings.mvo2.is_none() {
            mvo2.note = Some("not estimated: no MVO2 constants chosen for this case".into());
        }
        let method = summary.mvo2.as_ref().map_or_else(
            || "MVO2 = (a PVA + b) x HR (Suga), only with constants".into(),
            |m| {
                format!(
                    "MVO2 = (a PVA + b) x HR (Suga), {} [case choice]",
                    m.constants.describe()
                )
            },
        );
        out.push(
            mvo2.with(summary.mvo2.as_ref().map(|m| m.ml_o2_per_min), &method)
                .beats(used, excluded)
                .flagged(&[Flag::Estimate])
                .flagged(&volume_flags)
                .v0(Some(pv.v0_source)),
        );
    }

    // Relations.
    let rg = Group::Relations;
    if kind == Some(WindowKind::PvPreloadReduction) || summary.espvr.is_some() {
        let occlusion_beats = summary
            .occlusion_beats
            .map(|[first, last]| (last.saturating_sub(first) + 1) as usize);
        let relation = |key, label, unit, value: Option<f64>, ci95: Option<[f64; 2]>, n, method: &str| {
            let mut endpoint = Endpoint::new(key, label, rg, unit).with(value, method);
            // A slope's regression interval: the method says so.
            if let (Some(ci95), Some(_)) = (ci95, endpoint.value) {
                endpoint.ci95 = Some(ci95);
                endpoint.method = format!("{method}; 95 % CI: the regression's, slope -+ t(0.975, n - 2) SE");
            }
            if let Some(n) = n {
                endpoint = endpoint.beats(n, occlusion_beats.unwrap_or(n).saturating_sub(n));
            }
            if summary.occlusion_beats.is_none() {
                endpoint.note = Some("no occlusion beats chosen".into());
            }
            endpoint.flagged(&volume_flags)
        };
        // Each fit's values, with the fit's method and beat count (or the relation's name when there is no fit).
        let espvr = summary.espvr.as_ref();
        let edpvr = summary.edpvr.as_ref();
        let prsw = summary.prsw.as_ref();
        let fits = [
            (
                espvr.map(|f| f.provenance.method.as_str()).unwrap_or("ESPVR"),
                espvr.map(|f| f.n),
                [
                    (
                        "ees",
                        "Ees (ESPVR)",
                        Unit::MmhgPerMl,
                        espvr.map(|f| f.ees_mmhg_per_ml),
                        espvr.and_then(|f| f.ees_ci95_mmhg_per_ml),
                    ),
                    ("v0", "V0 (ESPVR)", Unit::Ml, espvr.map(|f| f.v0_ml), None),
                    ("espvr_r2", "ESPVR r2", Unit::Ratio, espvr.map(|f| f.r2), None),
                ],
            ),
            (
                edpvr
                    .map(|f| f.provenance.method.as_str())
                    .unwrap_or("EDPVR: EDP = A e^(beta EDV) + C"),
                edpvr.map(|f| f.n),
                [
                    ("edpvr_a", "EDPVR A", Unit::Mmhg, edpvr.map(|f| f.a_mmhg), None),
                    (
                        "edpvr_beta",
                        "EDPVR beta",
                        Unit::PerMl,
                        edpvr.map(|f| f.beta_per_ml),
                        None,
                    ),
                    ("edpvr_r2", "EDPVR r2", Unit::Ratio, edpvr.map(|f| f.r2), None),
                ],
            ),
            (
                prsw.map(|f| f.provenance.method.as_str())
                    .unwrap_or("PRSW: SW = Mw (EDV - Vw)"),
                prsw.map(|f| f.n),
                [
                    (
                        "prsw_mw",
                        "PRSW Mw",
                        Unit::Mmhg,
                        prsw.map(|f| f.mw_mmhg),
                        prsw.and_then(|f| f.mw_ci95_mmhg),
                    ),
                    ("prsw_vw", "PRSW Vw", Unit::Ml, prsw.map(|f| f.vw_ml), None),
                    ("prsw_r2", "PRSW r2", Unit::Ratio, prsw.map(|f| f.r2), None),
                ],
            ),
        ];
        for (method, n, rows) in fits {
            for (key, label, unit, value, ci95) in rows {
                out.push(relation(key, label, unit, value, ci95, n, method));
            }
        }
        out.push(
            Endpoint::new("ea_ees", "Ea/Ees (coupling)", rg, Unit::Ratio)
                .with(summary.ea_ees, "mean Ea of the steady beats / Ees of the ESPVR"),
        );
    }
    if summary.pv.is_some() {
        let single = summary.single_beat_ees.as_ref();
        let mut endpoint = Endpoint::new(
            "single_beat_ees",
            "Ees, single-beat estimate",
            rg,
            Unit::MmhgPerMl,
        )
        .with(
            single.map(|s| s.ees_estimate_mmhg_per_ml),
            single
                .map(|s| s.provenance.method.as_str())
                .unwrap_or("single-beat Ees on the ensemble beat, only with isovolumic phases"),
        )
        .flagged(&[Flag::Estimate])
        .flagged(&volume_flags)
        .flagged(&not_steady);
        if let Some(pv) = &summary.pv {
            endpoint = endpoint.v0(Some(pv.v0_source));
        }
        out.push(endpoint);
    }

    // Supply and demand.
    if let Some(sd) = &summary.supply_demand {
        let used = sd.num_beats;
        let excluded = num_beats.saturating_sub(used);
        let g = Group::SupplyDemand;
        let m = "means of per-beat values over the accepted beats";
        let e = |key, label, unit, value: Option<f64>| {
            Endpoint::new(key, label, g, unit)
                .with(value, m)
                .beats(used, excluded)
                .flagged(&not_steady)
        };
        out.push(e(
            "tti",
            "TTI (integral of LVP over systole)",
            Unit::MmhgS,
            sd.tti_mmhg_s,
        ));
        out.push(
            e(
                "dpti",
                "DPTI (integral of Pa - LVP over diastole)",
                Unit::MmhgS,
                sd.dpti_mmhg_s,
            )
            .flagged(&balloon),
        );
        out.push(e("sevr", "SEVR (DPTI/TTI)", Unit::Ratio, sd.sevr).flagged(&balloon));
        out.push(e(
            "rate_pressure_product",
            "Rate-pressure product",
            Unit::MmhgPerMin,
            sd.rate_pressure_product_mmhg_per_min,
        ));
        let pv_source = summary.pv.as_ref().map(|pv| pv.v0_source);
        out.push(
            e(
                "dvti_per_pva",
                "DVTI / PVA per beat",
                Unit::CmPerMmhgMl,
                sd.dvti_per_pva_cm_per_mmhg_ml,
            )
            .flagged(&volume_flags)
            .v0(pv_source),
        );
        out.push(
            e(
                "flow_per_pva",
                "Flow per beat / PVA",
                Unit::MlPerMmhgMl,
                sd.flow_per_pva_ml_per_mmhg_ml,
            )
            .flagged(&volume_flags)
            .v0(pv_source),
        );
        out.push(
            e(
                "apv_per_pva_rate",
                "APV / (PVA x HR)",
                Unit::ApvPerPvaRate,
                sd.apv_per_pva_rate,
            )
            .flagged(&volume_flags)
            .v0(pv_source),
        );
        out.push(
            e(
                "flow_per_pva_rate",
                "Flow / (PVA x HR)",
                Unit::FlowPerPvaRate,
                sd.flow_per_pva_rate,
            )
            .flagged(&volume_flags)
            .v0(pv_source),
        );
    }

    // Wave intensity.
    if let Some(w) = &summary.wave_intensity {
        let g = Group::WaveIntensity;
        let m = w.provenance.method.as_str();
        let used = summary
            .steady_window
            .as_ref()
            .map_or(summary.num_accepted, |s| s.beat_numbers.len());
        let excluded = num_beats.saturating_sub(used);
        let e = |key: &str, label: &str, unit, value: Option<f64>| {
            Endpoint::new(key, label, g, unit)
                .with(value, m)
                .beats(used, excluded)
                .flagged(&not_steady)
        };
        out.push(e(
            "wave_speed",
            "Wave speed c (single point)",
            Unit::MPerS,
            Some(w.c_single_point_m_s),
        ));
        out.push(e(
            "velocity_lag",
            "Velocity lag corrected",
            Unit::Ms,
            Some(w.velocity_lag_ms),
        ));
        out.push(e(
            "peak_net_wave_intensity",
            "Peak net wave intensity",
            Unit::WPerM2S2,
            Some(w.peak_net_w_m2_s2),
        ));
        out.push(e(
            "perfusion_efficiency",
            "Perfusion efficiency",
            Unit::Ratio,
            Some(w.perfusion_efficiency),
        ));
        for (wave_kind, key, label) in WAVES {
            let wave = w.waves.iter().find(|x| x.kind == wave_kind);
            let expected_balloon = matches!(
                wave_kind,
                crate::analysis::wia::WaveKind::DiastolicForwardCompression
                    | crate::analysis::wia::WaveKind::DiastolicForwardExpansion
            );
            // The diastolic forward waves are the balloon's: reported only where a balloon pumps.
            if expected_balloon && context.unloading != Unloading::Iabp {
                continue;
            }
            let mut peak = e(
                &format!("{key}_peak"),
                &format!("{label}: peak"),
                Unit::WPerM2S2,
                wave.map(|x| x.peak_w_m2_s2),
            );
            let mut cumulative = e(
                &format!("{key}_cumulative"),
                &format!("{label}: cumulative"),
                Unit::JPerM2S2,
                wave.map(|x| x.cumulative_j_m2_s2),
            );
            if wave.is_none() {
                peak.note = Some("wave not found in the ensemble beat".into());
                cumulative.note = peak.note.clone();
            }
            out.push(peak);
            out.push(cumulative);
        }
        if let Some(b) = &summary.wave_intensity_baseline_c {
            out.push(e(
                "perfusion_efficiency_baseline_c",
                "Perfusion efficiency with the baseline wave speed",
                Unit::Ratio,
                Some(b.perfusion_efficiency),
            ));
        }
    }
    if summary.irregular_rhythm {
        for endpoint in out.iter_mut().filter(|e| e.num_beats_used.is_some()) {
            endpoint.flags.push(Flag::IrregularRhythm);
        }
    }
    out
}

/// The settings choices a result depends on, in words (echoed with every case result).
pub fn choices_in_words(settings: &AnalysisSettings) -> String {
    let reference = settings.cdfr.reference.label();
    let diameter = settings
        .vessel_diameter_cm
        .map_or("none".to_owned(), |d| format!("{d:.2} cm"));
    let mvo2 = settings
        .mvo2
        .as_ref()
        .map_or("none".to_owned(), super::settings::Mvo2Constants::describe);
    format!(
        "CDFR reference: {reference}; minimal MR rule: {}; vessel diameter: {diameter}; MVO2 constants: {mvo2}; \
         clinical horizons: {}",
        settings.minimal_resistance.label(),
        settings.clinical.describe()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_is_written_as_its_symbol_and_read_back_from_it_or_its_old_name() {
        for unit in Unit::ALL {
            let json = serde_json::to_value(unit).unwrap();
            assert_eq!(json, unit.symbol());
            assert_eq!(serde_json::from_value::<Unit>(json).unwrap(), unit);
        }
        // Reports stored before units were written as symbols.
        for (old, unit) in [
            ("cm_per_s", Unit::CmPerS),
            ("ratio", Unit::Ratio),
            ("w_per_m2_s2", Unit::WPerM2S2),
            ("ml_o2_per_min", Unit::MlO2PerMin),
            ("l_per_min", Unit::LPerMin),
        ] {
            assert_eq!(serde_json::from_value::<Unit>(old.into()).unwrap(), unit);
        }
        assert!(serde_json::from_value::<Unit>("furlongs".into()).is_err());
        // One spelling per unit: no two units share a symbol.
        let mut symbols: Vec<&str> = Unit::ALL.iter().map(|u| u.symbol()).collect();
        symbols.sort_unstable();
        symbols.dedup();
        assert_eq!(symbols.len(), Unit::ALL.len());
    }
}
