//! Window values of an analysed stretch: time-weighted coronary values and resistances, mean pressure-volume
//! indices, the fits, wave intensity and single-beat elastance on ensemble beats, supply/demand, and the notes
//! that explain every missing number.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::beats::{BeatContext, LvBuffers};
use super::blocks::Blocks;
use super::channels::Prepared;
use super::{Analysed, AnalysisRequest};
use crate::analysis::coronary::{
    CoronaryWindow, MicrovascularResistance, coronary_perfusion_pressure_mmhg, coronary_window,
    microvascular_resistance, volumetric_flow_ml_min,
};
use crate::analysis::numeric::sum;
use crate::analysis::pv::pva::{coupling, mechanical_efficiency};
use crate::analysis::pv::relations::{EdpvrFit, EspvrFit, PrswFit};
use crate::analysis::pv::single_beat::{SingleBeatEes, single_beat_ees};
use crate::analysis::pv::{PvBeat, PvChannels, pv_beat};
use crate::analysis::supply_demand::{Mvo2Estimate, mvo2_estimate, supply_per_pva_rate};
use crate::analysis::wia::{WaveIntensity, wave_intensity};
use crate::analysis::{Provenance, Unavailable};
use crate::model::units::{PA_PER_MMHG, m_s_from_cm_s};
use crate::model::{Beat, Fiducial, SignalKind};
use crate::signal::ensemble::ensemble_average;
use crate::signal::savgol::SavgolFilter;
use crate::signal::usability::ChannelReport;
use crate::signal::window::{Pick, SteadyWindow, steady_window};

/// Where the V0 used for end-systole and PVA came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum V0Source {
    /// The ESPVR of the chosen occlusion beats in this recording.
    Espvr,
    /// A fixed value entered in the settings.
    Fixed,
    /// The case's ESPVR (the baseline preload reduction of analysis window `window_id`).
    CaseEspvr {
        /// The window whose ESPVR gave V0.
        window_id: i64,
    },
    /// No ESPVR: 0 mL, as ENDPOINTS.md section 3 says.
    Zero,
}

impl V0Source {
    /// In words, for the tables and the report.
    pub fn text(&self) -> String {
        match self {
            V0Source::Espvr => "this window's ESPVR".to_owned(),
            V0Source::Fixed => "fixed in the settings".to_owned(),
            V0Source::CaseEspvr { window_id } => format!("the case's ESPVR (window {window_id})"),
            V0Source::Zero => "0 mL (no ESPVR in the case)".to_owned(),
        }
    }
}

/// Mean pressure-volume indices over the accepted beats of the window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PvWindow {
    /// Beats averaged.
    pub num_beats: usize,
    /// Which beats: all accepted ones, or those outside the occlusion.
    pub beats_used: String,
    /// Heart rate, beats/min (60 x beats / their total duration).
    pub heart_rate_bpm: f64,
    /// Mean LVEDP, mmHg.
    pub lvedp_mmhg: f64,
    /// Mean EDV, mL.
    pub edv_ml: f64,
    /// Mean LVESP, mmHg.
    pub lvesp_mmhg: f64,
    /// Mean ESV, mL.
    pub esv_ml: f64,
    /// Mean LVSP, mmHg.
    pub lvsp_mmhg: f64,
    /// Mean SV, mL.
    pub sv_ml: f64,
    /// Mean EF (beats with EDV > 0).
    #[serde(alias = "ef")]
    pub ef_fraction: Option<f64>,
    /// Mean native CO, L/min (the LV's own output, not systemic flow on ECMO).
    pub native_co_l_min: f64,
    /// Mean dP/dt max, mmHg/s.
    #[serde(alias = "dpdt_max_mmhg_s")]
    pub dpdt_max_mmhg_per_s: f64,
    /// Mean dP/dt min, mmHg/s.
    #[serde(alias = "dpdt_min_mmhg_s")]
    pub dpdt_min_mmhg_per_s: f64,
    /// Mean Ea, mmHg/mL (beats with SV > 0).
    pub ea_mmhg_per_ml: Option<f64>,
    /// Mean stroke work, mmHg.mL.
    pub sw_mmhg_ml: f64,
    /// Mean Weiss tau, ms, over the beats with isovolumic relaxation (those flagged invalid are left out and
    /// counted in `num_tau_invalid`).
    pub tau_weiss_ms: Option<f64>,
    /// Mean Glantz tau, ms.
    pub tau_glantz_ms: Option<f64>,
    /// Mean logistic tau, ms.
    pub tau_logistic_ms: Option<f64>,
    /// Beats whose tau is flagged invalid (volume moved by more than the set fraction of SV during relaxation):
    /// left out of the tau means.
    pub num_tau_invalid: usize,
    /// Mean PVA, mmHg.mL.
    pub pva_mmhg_ml: Option<f64>,
    /// Whether PVA includes the EDPVR correction (`false`: chord only, flagged).
    pub pva_includes_edpvr: bool,
    /// Mean SW / mean PVA.
    pub mechanical_efficiency: Option<f64>,
    /// V0 used, mL.
    pub v0_ml: f64,
    /// Where V0 came from.
    pub v0_source: V0Source,
    /// Warnings of the beats (counted).
    pub warnings: Vec<String>,
    /// Method, settings hash, algorithm version.
    pub provenance: Provenance,
}

/// Mean supply/demand values over the accepted beats.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SupplyDemandWindow {
    /// Beats with supply/demand values.
    pub num_beats: usize,
    /// Mean TTI, mmHg.s.
    pub tti_mmhg_s: Option<f64>,
    /// Mean DPTI, mmHg.s.
    pub dpti_mmhg_s: Option<f64>,
    /// Mean SEVR.
    pub sevr: Option<f64>,
    /// Mean rate-pressure product, mmHg/min.
    pub rate_pressure_product_mmhg_per_min: Option<f64>,
    /// Mean DVTI / PVA per beat, cm/(mmHg.mL).
    pub dvti_per_pva_cm_per_mmhg_ml: Option<f64>,
    /// Mean flow per beat / PVA, mL/(mmHg.mL).
    pub flow_per_pva_ml_per_mmhg_ml: Option<f64>,
    /// Window APV / (mean PVA x HR), (cm/s)/(mmHg.mL/min).
    pub apv_per_pva_rate: Option<f64>,
    /// Volumetric flow / (mean PVA x HR), (mL/min)/(mmHg.mL/min).
    pub flow_per_pva_rate: Option<f64>,
}

/// Window values, fits and notes of a report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Start of the analysed stretch, s from the start of the recording.
    pub from_s: f64,
    /// End of the analysed stretch, s.
    pub to_s: f64,
    /// What the beats are anchored on (`None`: no beats).
    pub fiducial: Option<Fiducial>,
    /// Beats found.
    pub num_beats: usize,
    /// Beats accepted by quality control.
    pub num_accepted: usize,
    /// Rejected beats per reason.
    pub rejected: BTreeMap<String, usize>,
    /// Beats labelled non-pulsatile.
    pub num_non_pulsatile: usize,
    /// Beats judged within an irregular (AF-like) rhythm (RR outlier rules not applied to them).
    #[serde(default)]
    pub num_irregular_rhythm: usize,
    /// Whether the window's rhythm is irregular (AF-like): most of its beats were judged so.
    #[serde(default)]
    pub irregular_rhythm: bool,
    /// Why there are no beats, when there are none.
    pub no_beats_reason: Option<String>,
    /// The verdict on every channel used.
    pub channels: Vec<ChannelReport>,
    /// The first steady window (>= 10 accepted consecutive beats over >= 15 s by default), if any.
    pub steady_window: Option<SteadyWindow>,
    /// Mean ECMO flow over the stretch, L/min (when recorded).
    pub ecmo_flow_l_min: Option<f64>,
    /// Time-weighted coronary values over the accepted beats.
    pub coronary: Option<CoronaryWindow>,
    /// Microvascular resistances (rest; HMR needs a hyperaemic recording).
    pub microvascular_resistance: Option<MicrovascularResistance>,
    /// Mean aortic diastolic pressure - mean LVEDP, mmHg.
    pub coronary_perfusion_pressure_mmhg: Option<f64>,
    /// Volumetric coronary flow from the window APV and the set vessel diameter, mL/min.
    pub volumetric_flow_ml_min: Option<f64>,
    /// Wave intensity of the ensemble beat with its own wave speed.
    pub wave_intensity: Option<WaveIntensity>,
    /// Wave intensity with the baseline wave speed (when the request gives one).
    pub wave_intensity_baseline_c: Option<WaveIntensity>,
    /// Mean pressure-volume indices.
    pub pv: Option<PvWindow>,
    /// The chosen occlusion beats, first and last.
    pub occlusion_beats: Option<[u32; 2]>,
    /// ESPVR of the occlusion beats.
    pub espvr: Option<EspvrFit>,
    /// EDPVR of the occlusion beats.
    pub edpvr: Option<EdpvrFit>,
    /// PRSW of the occlusion beats.
    pub prsw: Option<PrswFit>,
    /// Ea (window mean) / Ees (ESPVR).
    pub ea_ees: Option<f64>,
    /// Single-beat Ees of the ensemble PV beat (an estimate, only with isovolumic phases).
    pub single_beat_ees: Option<SingleBeatEes>,
    /// Mean supply/demand values.
    pub supply_demand: Option<SupplyDemandWindow>,
    /// MVO2 estimate from PVA (only when the settings carry constants).
    pub mvo2: Option<Mvo2Estimate>,
    /// Why values are missing, and what the analysis chose.
    pub notes: Vec<String>,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0 && sum.is_finite()).then(|| sum / n as f64)
}

/// Median of the values (`None` when empty).
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

fn pv_window(
    analysed: &Analysed,
    used: &[usize],
    beats_used: String,
    settings_hash: &str,
) -> Option<PvWindow> {
    let beats: Vec<&PvBeat> = used
        .iter()
        .filter_map(|&k| analysed.metrics[k].pv.as_ref())
        .collect();
    if beats.is_empty() {
        return None;
    }
    let pvas: Vec<_> = used.iter().filter_map(|&k| analysed.metrics[k].pva).collect();
    let of = |f: fn(&PvBeat) -> f64| mean(beats.iter().map(|b| f(b))).unwrap_or(f64::NAN);
    let sw = of(|b| b.sw_mmhg_ml);
    let pva = mean(pvas.iter().map(|p| p.pva_mmhg_ml));
    let mut warnings = BTreeMap::<&str, usize>::new();
    for beat in &beats {
        for warning in &beat.warnings {
            // Count by the warning's kind (the text before its first number or colon).
            let key = warning.split([':', '(']).next().unwrap_or(warning).trim();
            *warnings.entry(key).or_default() += 1;
        }
    }
    let total_rr: f64 = beats.iter().map(|b| b.rr_s).sum();
    // tau is averaged over the beats with isovolumic relaxation only; the others are counted.
    let isovolumic: Vec<&&PvBeat> = beats.iter().filter(|b| b.tau.valid != Some(false)).collect();
    Some(PvWindow {
        num_beats: beats.len(),
        beats_used,
        heart_rate_bpm: 60.0 * beats.len() as f64 / total_rr,
        lvedp_mmhg: of(|b| b.lvedp_mmhg),
        edv_ml: of(|b| b.edv_ml),
        lvesp_mmhg: of(|b| b.lvesp_mmhg),
        esv_ml: of(|b| b.esv_ml),
        lvsp_mmhg: of(|b| b.lvsp_mmhg),
        sv_ml: of(|b| b.sv_ml),
        ef_fraction: mean(beats.iter().filter_map(|b| b.ef_fraction)),
        native_co_l_min: of(|b| b.native_co_l_min),
        dpdt_max_mmhg_per_s: of(|b| b.dpdt_max_mmhg_per_s),
        dpdt_min_mmhg_per_s: of(|b| b.dpdt_min_mmhg_per_s),
        ea_mmhg_per_ml: mean(beats.iter().filter_map(|b| b.ea_mmhg_per_ml)),
        sw_mmhg_ml: sw,
        tau_weiss_ms: mean(isovolumic.iter().filter_map(|b| b.tau.weiss.map(|f| f.tau_ms))),
        tau_glantz_ms: mean(isovolumic.iter().filter_map(|b| b.tau.glantz.map(|f| f.tau_ms))),
        tau_logistic_ms: mean(isovolumic.iter().filter_map(|b| b.tau.logistic.map(|f| f.tau_ms))),
        num_tau_invalid: beats.iter().filter(|b| b.tau.valid == Some(false)).count(),
        pva_mmhg_ml: pva,
        pva_includes_edpvr: !pvas.is_empty() && pvas.iter().all(|p| p.includes_edpvr),
        mechanical_efficiency: pva.and_then(|pva| mechanical_efficiency(sw, pva)),
        v0_ml: analysed.v0_ml,
        v0_source: analysed.v0_source,
        warnings: warnings
            .into_iter()
            .map(|(kind, n)| format!("{kind}: {n} beat(s)"))
            .collect(),
        provenance: Provenance::with_hash(
            "means of per-beat indices (ED = beat fiducial, ES = max P/(V - V0), SW = shoelace, dP/dt by \
             Savitzky-Golay, tau by Weiss/Glantz/logistic from dP/dt min to next EDP + margin)",
            settings_hash.to_owned(),
        ),
    })
}

fn supply_demand_window(
    analysed: &Analysed,
    used: &[usize],
    apv: Option<f64>,
    flow: Option<f64>,
    pv: Option<&PvWindow>,
) -> Option<SupplyDemandWindow> {
    let values: Vec<_> = used
        .iter()
        .filter_map(|&k| analysed.metrics[k].supply_demand.as_ref())
        .collect();
    if values.is_empty() {
        return None;
    }
    let rate_of = |supply: Option<f64>| {
        let pv = pv?;
        supply_per_pva_rate(supply?, pv.pva_mmhg_ml?, pv.heart_rate_bpm)
    };
    Some(SupplyDemandWindow {
        num_beats: values.len(),
        tti_mmhg_s: mean(values.iter().filter_map(|v| v.tti_mmhg_s)),
        dpti_mmhg_s: mean(values.iter().filter_map(|v| v.dpti_mmhg_s)),
        sevr: mean(values.iter().filter_map(|v| v.sevr)),
        rate_pressure_product_mmhg_per_min: mean(
            values.iter().filter_map(|v| v.rate_pressure_product_mmhg_per_min),
        ),
        dvti_per_pva_cm_per_mmhg_ml: mean(values.iter().filter_map(|v| v.dvti_per_pva_cm_per_mmhg_ml)),
        flow_per_pva_ml_per_mmhg_ml: mean(values.iter().filter_map(|v| v.flow_per_pva_ml_per_mmhg_ml)),
        apv_per_pva_rate: rate_of(apv),
        flow_per_pva_rate: rate_of(flow),
    })
}

/// Wave intensity of the ensemble Pd/ipv beat of `beats`, with its own wave speed and, if given, the baseline's.
fn ensemble_wave_intensity(
    context: &BeatContext<'_>,
    beats: &[Beat],
    end_systole: Option<f64>,
    baseline_c: Option<f64>,
) -> Result<(WaveIntensity, Option<WaveIntensity>), Unavailable> {
    let end_systole = end_systole
        .ok_or_else(|| Unavailable::NotApplicable("systole could not be timed on any beat".into()))?;
    let settings = context.settings;
    let (Some(pd), Some(ipv)) = (context.signals.pd, context.signals.ipv) else {
        return Err(Unavailable::MissingChannel("Pd and ipv".into()));
    };
    let first = context.signals.first_sample;
    let pressure = ensemble_average(pd, first, beats).ok_or(Unavailable::too_few("usable beats", 0, 1))?;
    let velocity = ensemble_average(ipv, first, beats).ok_or(Unavailable::too_few("usable beats", 0, 1))?;
    let filter = SavgolFilter::from_settings(&settings.wia.derivative, 1, settings.analysis_rate_hz())
        .map_err(|error| Unavailable::NotApplicable(error.to_string()))?;
    let pressure_pa: Vec<f64> = pressure.mean.iter().map(|p| p * PA_PER_MMHG).collect();
    let velocity_m_s: Vec<f64> = velocity.mean.iter().map(|&u| m_s_from_cm_s(u)).collect();
    let (dp, du) = (filter.apply(&pressure_pa), filter.apply(&velocity_m_s));
    let own = wave_intensity(&dp, &du, end_systole as usize, None, settings)?;
    let with_baseline = baseline_c
        .map(|c| wave_intensity(&dp, &du, end_systole as usize, Some(c), settings))
        .transpose()?;
    Ok((own, with_baseline))
}

/// Single-beat Ees on the ensemble pressure-volume beat of `beats` (aligned on ED).
fn ensemble_single_beat_ees(
    context: &BeatContext<'_>,
    beats: &[Beat],
    v0_ml: f64,
) -> Result<SingleBeatEes, Unavailable> {
    let settings = context.settings;
    let (Some(lvp), Some(lvv)) = (context.pv.lvp_mmhg, context.pv.lvv_ml) else {
        return Err(Unavailable::MissingChannel("LV pressure and volume".into()));
    };
    if beats
        .first()
        .is_some_and(|b| b.fiducial == Fiducial::PressureOnset)
    {
        return Err(Unavailable::NotApplicable(
            "beats anchored on the arterial onset, not on end-diastole".into(),
        ));
    }
    let first = context.signals.first_sample;
    let pressure = ensemble_average(lvp, first, beats).ok_or(Unavailable::too_few("usable beats", 0, 1))?;
    let volume = ensemble_average(lvv, first, beats).ok_or(Unavailable::too_few("usable beats", 0, 1))?;
    let filter = SavgolFilter::from_settings(&settings.signal.savgol, 1, settings.analysis_rate_hz())
        .map_err(|error| Unavailable::NotApplicable(error.to_string()))?;
    let dpdt = filter.apply(&pressure.mean);
    let len = pressure.mean.len().min(volume.mean.len());
    let channels = PvChannels {
        lvp_mmhg: &pressure.mean,
        lvv_ml: &volume.mean,
        dpdt_mmhg_s: &dpdt,
    };
    let beat = pv_beat(channels, 0, len.saturating_sub(1), v0_ml, settings)?;
    single_beat_ees(&pressure.mean[..len], &volume.mean[..len], &beat, settings)
}

/// The summary of an analysed stretch.
pub(crate) fn summarise(
    blocks: &Blocks<'_>,
    prepared: &Prepared<'_>,
    analysed: &Analysed,
    request: &AnalysisRequest,
    mut notes: Vec<String>,
) -> Summary {
    let context = &blocks.whole;
    let settings = context.settings;
    let settings_hash = settings.hash();
    let rate = settings.analysis_rate_hz();
    let beats = &analysed.beats;
    let accepted: Vec<usize> = (0..beats.len()).filter(|&k| beats[k].accepted()).collect();
    // The PV family is judged on its own signals: a beat rejected for a Doppler dropout keeps its loop.
    let pv_accepted: Vec<usize> = (0..beats.len()).filter(|&k| beats[k].accepted_for_pv()).collect();
    let in_occlusion = |k: usize| {
        request
            .occlusion_beats
            .is_some_and(|(first, last)| (first..=last).contains(&beats[k].number))
    };
    let outside: Vec<usize> = pv_accepted
        .iter()
        .copied()
        .filter(|&k| !in_occlusion(k))
        .collect();
    let (pv_used, pv_label) = if request.occlusion_beats.is_some() && !outside.is_empty() {
        (outside, "accepted beats outside the occlusion".to_owned())
    } else {
        (pv_accepted, "accepted beats".to_owned())
    };

    let coronary_beats: Vec<_> = accepted
        .iter()
        .filter_map(|&k| analysed.metrics[k].coronary)
        .collect();
    let coronary = if coronary_beats.is_empty() {
        None
    } else {
        coronary_window(&coronary_beats, &settings_hash)
            .map_err(|reason| notes.push(format!("coronary: {reason}")))
            .ok()
    };
    let pv = pv_window(analysed, &pv_used, pv_label, &settings_hash);
    let lvedp = pv.as_ref().map(|w| w.lvedp_mmhg);
    let resistance = coronary
        .as_ref()
        .filter(|w| w.mean_pd_mmhg.is_some())
        .map(|w| microvascular_resistance(w, None, lvedp, settings));
    let perfusion = coronary
        .as_ref()
        .and_then(|w| w.mean_diastolic_pa_mmhg)
        .zip(lvedp)
        .map(|(diastolic, lvedp)| coronary_perfusion_pressure_mmhg(diastolic, lvedp));
    let apv = coronary.as_ref().and_then(|w| w.apv_cm_s);
    let flow = settings
        .vessel_diameter_cm
        .zip(apv)
        .map(|(diameter, apv)| volumetric_flow_ml_min(apv, diameter));

    let steady = steady_window(
        &analysed.segmentation.beats,
        rate,
        &settings.signal.window,
        Pick::Earliest,
    );
    if steady.is_none() && !beats.is_empty() {
        notes.push(format!(
            "no steady window (>= {} accepted consecutive beats over >= {} s) in the analysed range: window values \
             are over all accepted beats",
            settings.signal.window.min_beats, settings.signal.window.min_duration_s
        ));
    }
    let window: Vec<usize> = match &steady {
        Some(steady) => (0..beats.len())
            .filter(|&k| steady.beat_numbers.contains(&beats[k].number))
            .collect(),
        None => accepted.clone(),
    };
    let window_beats: Vec<Beat> = window.iter().map(|&k| beats[k].clone()).collect();
    // The ensemble beat's end of systole: the median over the window's beats.
    let end_systole = median(
        window
            .iter()
            .filter_map(|&k| {
                analysed.phases[k]
                    .as_ref()
                    .map(|p| p.systole_end.saturating_sub(beats[k].start) as f64)
            })
            .collect(),
    );
    let (mut wave, mut wave_baseline) = (None, None);
    if context.signals.pd.is_some() && context.signals.ipv.is_some() && !window_beats.is_empty() {
        if analysed.segmentation.fiducial != Some(Fiducial::RWave) {
            notes.push(
                "wave intensity: ensemble aligned on the beats' fiducial, not on the R wave".to_owned(),
            );
        }
        match ensemble_wave_intensity(
            context,
            &window_beats,
            end_systole,
            request.baseline_wave_speed_m_s,
        ) {
            Ok((own, baseline)) => {
                wave = Some(own);
                wave_baseline = baseline;
            }
            Err(reason) => notes.push(format!("wave intensity: {reason}")),
        }
    }
    // The ensemble PV beat for the single-beat estimate: the steady window's beats among those of the PV window
    // (all of them only when there is no steady window; averaging hours of beats adds nothing but time).
    let pv_beats: Vec<Beat> = match &steady {
        Some(steady) => pv_used
            .iter()
            .filter(|&&k| steady.beat_numbers.contains(&beats[k].number))
            .map(|&k| beats[k].clone())
            .collect(),
        None => pv_used.iter().map(|&k| beats[k].clone()).collect(),
    };
    let pv_beats = if pv_beats.is_empty() {
        pv_used.iter().map(|&k| beats[k].clone()).collect()
    } else {
        pv_beats
    };
    let single_beat = if pv.is_some() {
        blocks
            .with_stretch(&pv_beats, &mut LvBuffers::default(), |stretch| {
                ensemble_single_beat_ees(stretch, &pv_beats, analysed.v0_ml)
            })
            .map_err(|reason| notes.push(format!("single-beat Ees: {reason}")))
            .ok()
    } else {
        None
    };
    let supply_demand = supply_demand_window(analysed, &accepted, apv, flow, pv.as_ref());
    let mvo2 = match (&settings.mvo2, &pv) {
        (Some(_), Some(window)) => window.pva_mmhg_ml.and_then(|pva| {
            mvo2_estimate(pva, window.heart_rate_bpm, settings)
                .map_err(|reason| notes.push(format!("MVO2: {reason}")))
                .ok()
        }),
        _ => None,
    };
    if let Some(window) = &pv {
        if !window.pva_includes_edpvr && window.pva_mmhg_ml.is_some() {
            notes.push(
                "PVA without the EDPVR correction (no EDPVR fitted): chord from (V0, 0) to (EDV, EDP)"
                    .to_owned(),
            );
        }
        if window.num_tau_invalid > 0 {
            notes.push(format!(
                "tau flagged invalid on {} of {} beats (left out of the tau means): volume changed by more than {:.0} % of SV during relaxation",
                window.num_tau_invalid,
                window.num_beats,
                100.0 * settings.tau.max_volume_change_fraction_of_sv
            ));
        }
        if window.v0_source == V0Source::Zero {
            notes.push(
                "V0 = 0 mL (no ESPVR): end-systole and PVA use it; choose occlusion beats or fix V0"
                    .to_owned(),
            );
        }
    }
    let ecmo_flow = prepared
        .channel(SignalKind::EcmoFlow)
        .filter(|flow| !flow.is_empty())
        .and_then(|flow| {
            // One vectorised pass; only when samples are missing is the slower filtered mean needed.
            let total = sum(flow) / flow.len() as f64;
            if total.is_finite() {
                Some(total)
            } else {
                mean(flow.iter().copied().filter(|x| x.is_finite()))
            }
        });
    let ea_ees = analysed
        .espvr
        .as_ref()
        .zip(pv.as_ref().and_then(|w| w.ea_mmhg_per_ml))
        .and_then(|(fit, ea)| coupling(ea, fit.ees_mmhg_per_ml));
    let counts = &analysed.segmentation.counts;
    Summary {
        from_s: prepared.start_s,
        to_s: prepared.start_s + prepared.len as f64 / rate,
        fiducial: analysed.segmentation.fiducial,
        num_beats: counts.num_beats,
        num_accepted: counts.num_accepted,
        rejected: counts.rejected.clone(),
        num_non_pulsatile: counts.num_non_pulsatile,
        num_irregular_rhythm: counts.num_irregular_rhythm,
        irregular_rhythm: counts.irregular_rhythm(),
        no_beats_reason: analysed.segmentation.no_beats_reason.clone(),
        channels: analysed.segmentation.channels.clone(),
        steady_window: steady,
        ecmo_flow_l_min: ecmo_flow,
        coronary,
        microvascular_resistance: resistance,
        coronary_perfusion_pressure_mmhg: perfusion,
        volumetric_flow_ml_min: flow,
        wave_intensity: wave,
        wave_intensity_baseline_c: wave_baseline,
        pv,
        occlusion_beats: request.occlusion_beats.map(|(first, last)| [first, last]),
        espvr: analysed.espvr.clone(),
        edpvr: analysed.edpvr.clone(),
        prsw: analysed.prsw.clone(),
        ea_ees,
        single_beat_ees: single_beat,
        supply_demand,
        mvo2,
        notes,
    }
}
