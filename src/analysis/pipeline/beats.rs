//! Per-beat metrics from the beats and phases `signal/` found: the one code path shared by offline analysis
//! (whole recordings) and live monitoring (the newest window).

use serde::{Deserialize, Serialize};

use crate::analysis::coronary::{
    BeatSpan, CoronaryBeat, CoronaryChannels, coronary_beat, volumetric_flow_ml_min,
};
use crate::analysis::pv::pva::{Pva, pva};
use crate::analysis::pv::relations::EdpvrFit;
use crate::analysis::pv::{PvBeat, PvChannels, pv_beat};
use crate::analysis::settings::AnalysisSettings;
use crate::analysis::supply_demand::{
    SupplyDemandBeat, SupplyDemandInputs, diastolic_pressure_time_index_mmhg_s, supply_demand_beat,
    tension_time_index_mmhg_s,
};
use crate::model::{Beat, Fiducial};
use crate::signal::Signals;
use crate::signal::savgol::SavgolFilter;

use super::PipelineError;
use crate::signal::phases::{BeatPhases, PhaseError, PhaseFilters, SharedTraces, beat_phases_shared};

/// One detected beat as reported: where it is and whether quality control accepted it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BeatRecord {
    /// Beat number, from 1 (the first complete beat of the analysed stretch).
    pub number: u32,
    /// Time of the beat's fiducial from the start of the recording, s (pulse onset for arterial pressure,
    /// end-diastole for pressure-volume data, R wave for ECG).
    pub time_s: f64,
    /// Beat length, s.
    pub duration_s: f64,
    /// What the beat is anchored on.
    pub fiducial: Fiducial,
    /// Accepted by quality control (or the reviewer).
    pub accepted: bool,
    /// Why it was rejected (`rr_outlier`, `missing_data`, ...), when it was.
    pub reject_reason: Option<String>,
    /// Arterial pulse pressure below the pulsatility threshold over the beat.
    pub non_pulsatile: bool,
    /// Judged within an irregular (AF-like) rhythm.
    #[serde(default)]
    pub irregular_rhythm: bool,
}

/// The metrics of one beat; a part is absent when its channels are, with the reason in `notes`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BeatMetrics {
    /// Beat number (as in [`BeatRecord::number`]).
    pub number: u32,
    /// Coronary values (APV, Pd/Pa, diastolic APV, ...).
    pub coronary: Option<CoronaryBeat>,
    /// Pressure-volume indices.
    pub pv: Option<PvBeat>,
    /// Pressure-volume area.
    pub pva: Option<Pva>,
    /// Supply/demand values.
    pub supply_demand: Option<SupplyDemandBeat>,
    /// The rule that ended systole for the coronary and supply/demand values
    /// ([`crate::signal::phases::SystoleEnd::key`]: `lv_aortic_crossover`, `lv_aortic_crossover_kink`,
    /// `lv_dpdt_min_no_ejection`, ...); `None` when the beat's phases were not placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub systole_end_rule: Option<String>,
    /// A balloon inflation recognised in the beat's diastole, s after the beat's start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balloon_inflation_s: Option<f64>,
    /// Why a part is missing.
    pub notes: Vec<String>,
}

/// LV pressure and volume as the pressure-volume indices use them, and LV dP/dt (same indexing as the signals).
#[derive(Clone, Copy, Default)]
pub(crate) struct PvTraces<'a> {
    pub lvp_mmhg: Option<&'a [f64]>,
    pub lvv_ml: Option<&'a [f64]>,
    pub dpdt_mmhg_s: Option<&'a [f64]>,
    /// LV pressure smoothed by the phases' smoothing filter (`lvp_mmhg` when the settings smooth it), which the
    /// phase rules read instead of smoothing each beat again.
    pub lvp_smoothed_mmhg: Option<&'a [f64]>,
}

/// The filters of the PV traces: LV pressure and volume smoothed by the stored Savitzky-Golay filter when the
/// settings ask for it (the same local cubic whose slope is dP/dt), and dP/dt. They make the traces of a
/// stretch at a time ([`Self::traces`]), the numbers a whole-channel pass gives there.
pub(crate) struct LvFilters {
    /// The smoother, when the settings smooth pressure and volume.
    smoother: Option<SavgolFilter>,
    /// The differentiator, when there is LV pressure.
    differentiator: Option<SavgolFilter>,
}

/// Memory for one stretch's PV traces, reused stretch after stretch.
#[derive(Default)]
pub(crate) struct LvBuffers {
    lvp: Vec<f64>,
    lvv: Vec<f64>,
    dpdt: Vec<f64>,
}

impl LvFilters {
    /// The filters for the LV channels of `signals` (the smoother is checked even without them: settings out of
    /// range stop every analysis alike).
    pub fn new(signals: &Signals<'_>, settings: &AnalysisSettings) -> Result<LvFilters, PipelineError> {
        let rate = settings.analysis_rate_hz();
        let filter = |derivative: usize| {
            SavgolFilter::from_settings(&settings.signal.savgol, derivative, rate)
                .map_err(|error| PipelineError::Settings(error.to_string()))
        };
        let smoother = filter(0)?;
        Ok(LvFilters {
            smoother: settings.smooth_pressure_volume.then_some(smoother),
            differentiator: signals.lvp.map(|_| filter(1)).transpose()?,
        })
    }

    /// The traces over `[from, to)` (absolute indices within `signals`, whole channels) in `buffers`: bit for bit
    /// the samples there of the whole channels filtered ([`SavgolFilter::apply_part_into`]); the raw channels'
    /// samples where nothing is smoothed.
    pub fn traces<'a>(
        &self,
        signals: &Signals<'a>,
        from: u64,
        to: u64,
        buffers: &'a mut LvBuffers,
    ) -> PvTraces<'a> {
        let range = (from - signals.first_sample) as usize..(to - signals.first_sample) as usize;
        let fill = |channel: Option<&[f64]>, filter: Option<&SavgolFilter>, out: &mut Vec<f64>| {
            let (channel, filter) = (channel?, filter?);
            filter.apply_part_into(channel, range.clone(), out);
            Some(())
        };
        let smoothed_lvp = fill(signals.lvp, self.smoother.as_ref(), &mut buffers.lvp);
        let smoothed_lvv = fill(signals.lvv, self.smoother.as_ref(), &mut buffers.lvv);
        let dpdt = fill(signals.lvp, self.differentiator.as_ref(), &mut buffers.dpdt);
        let buffers: &'a LvBuffers = buffers;
        let raw = signals.window(from, to);
        let smoothed_lvp = smoothed_lvp.map(|_| buffers.lvp.as_slice());
        PvTraces {
            lvp_mmhg: smoothed_lvp.or(raw.lvp),
            lvv_ml: smoothed_lvv.map(|_| buffers.lvv.as_slice()).or(raw.lvv),
            dpdt_mmhg_s: dpdt.map(|_| buffers.dpdt.as_slice()),
            lvp_smoothed_mmhg: smoothed_lvp,
        }
    }
}

/// One note per reason the phases of some beats could not be placed, with its count (each beat's own reason is
/// in its metrics' notes).
pub(crate) fn note_phase_failures(phases: &[Result<BeatPhases, PhaseError>], notes: &mut Vec<String>) {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for error in phases.iter().filter_map(|phases| phases.as_ref().err()) {
        *counts.entry(error.to_string()).or_default() += 1;
    }
    for (reason, count) in counts {
        notes.push(format!("phases not placed for {count} beat(s): {reason}"));
    }
}

/// What per-beat computation needs: the channels at the analysis rate (absolute indices from
/// `signals.first_sample`) and the PV traces over the same samples.
#[derive(Clone, Copy)]
pub(crate) struct BeatContext<'a> {
    pub signals: Signals<'a>,
    pub pv: PvTraces<'a>,
    pub settings: &'a AnalysisSettings,
}

impl BeatContext<'_> {
    fn local(&self, index: u64) -> usize {
        index.saturating_sub(self.signals.first_sample) as usize
    }

    /// The record of `beat`, with times counted from `start_s` (the time of sample `first_sample`).
    pub fn record(&self, beat: &Beat, start_s: f64) -> BeatRecord {
        let rate = self.settings.analysis_rate_hz();
        BeatRecord {
            number: beat.number,
            time_s: start_s + self.local(beat.start) as f64 / rate,
            duration_s: beat.num_samples() as f64 / rate,
            fiducial: beat.fiducial,
            accepted: beat.accepted(),
            reject_reason: beat.reject.as_ref().map(|r| r.key().to_owned()),
            non_pulsatile: beat.non_pulsatile,
            irregular_rhythm: beat.irregular_rhythm,
        }
    }

    /// The phases of one beat, or why they cannot be placed.
    pub fn beat_phases(&self, filters: &PhaseFilters, beat: &Beat) -> Result<BeatPhases, PhaseError> {
        let rate = self.settings.analysis_rate_hz();
        let shared = SharedTraces {
            lvp_smoothed_mmhg: self.pv.lvp_smoothed_mmhg,
            lvp_dpdt_mmhg_s: self.pv.dpdt_mmhg_s,
        };
        beat_phases_shared(filters, shared, &self.signals, beat, rate, &self.settings.signal)
    }

    /// The pressure-volume span of `beat`, ED to next ED, given its phases and the next beat with its phases.
    /// Beats anchored on ED (R wave or LV end-diastole) span themselves; beats anchored on the arterial onset use
    /// the ED found from LV pressure, up to the next beat's ED when the beats are contiguous.
    pub fn pv_span(
        beat: &Beat,
        phases: Option<&BeatPhases>,
        next: Option<(&Beat, Option<&BeatPhases>)>,
    ) -> Option<(u64, u64)> {
        match beat.fiducial {
            Fiducial::RWave | Fiducial::LvEndDiastole => Some((beat.start, beat.end)),
            Fiducial::PressureOnset => {
                let ed = phases?.end_diastole?;
                let (_, next_phases) = next.filter(|(next, _)| next.start == beat.end)?;
                let next_ed = next_phases?.end_diastole?;
                (next_ed > ed).then_some((ed, next_ed))
            }
        }
    }

    /// The values of `beat` (all but the window's): coronary, pressure-volume (with V0 `v0_ml`), PVA (with
    /// `edpvr`) and supply/demand, from its phases as placed (a failure is its first note) and the next beat with
    /// its phases (where its PV span may end).
    pub fn beat_metrics(
        &self,
        beat: &Beat,
        placed: &Result<BeatPhases, PhaseError>,
        next: Option<(&Beat, Option<&BeatPhases>)>,
        v0_ml: f64,
        edpvr: Option<&EdpvrFit>,
    ) -> BeatMetrics {
        let phases = placed.as_ref().ok();
        // Left out of the diastolic endpoints: the beat says why.
        let mut notes: Vec<String> = placed
            .as_ref()
            .err()
            .map(|error| format!("phases not placed: {error}"))
            .into_iter()
            .collect();
        let span = Self::pv_span(beat, phases, next);
        let pv = self.pv(span, v0_ml, &mut notes);
        let rate = self.settings.analysis_rate_hz();
        let mut metrics = BeatMetrics {
            number: beat.number,
            coronary: self.coronary(beat, phases),
            pv,
            systole_end_rule: phases.map(|p| p.systole_end_method.key().to_owned()),
            balloon_inflation_s: phases
                .and_then(|p| p.balloon_inflation)
                .map(|at| at.saturating_sub(beat.start) as f64 / rate),
            notes,
            ..BeatMetrics::default()
        };
        if let (Some(pv), Some(span)) = (metrics.pv.as_ref(), span) {
            metrics.pva = self.pva(span, pv, edpvr, &mut metrics.notes);
        }
        metrics.supply_demand = self.supply_demand(beat, phases, &metrics);
        metrics
    }

    /// Coronary values of `beat` (when any coronary channel exists).
    pub fn coronary(&self, beat: &Beat, phases: Option<&BeatPhases>) -> Option<CoronaryBeat> {
        let channels = CoronaryChannels {
            ipv_cm_s: self.signals.ipv,
            pa_mmhg: self.signals.pa,
            pd_mmhg: self.signals.pd,
        };
        if channels.ipv_cm_s.is_none() && channels.pa_mmhg.is_none() && channels.pd_mmhg.is_none() {
            return None;
        }
        let span = BeatSpan {
            start: self.local(beat.start),
            end: self.local(beat.end),
            diastole_start: phases.map(|p| self.local(p.systole_end)),
            wave_free: phases
                .and_then(|p| p.wave_free)
                .map(|(a, b)| (self.local(a), self.local(b))),
        };
        Some(coronary_beat(channels, span, self.settings))
    }

    /// Pressure-volume indices over `span` with the given V0 (when LV pressure and volume exist).
    pub fn pv(&self, span: Option<(u64, u64)>, v0_ml: f64, notes: &mut Vec<String>) -> Option<PvBeat> {
        let (lvp, lvv, dpdt) = (self.pv.lvp_mmhg?, self.pv.lvv_ml?, self.pv.dpdt_mmhg_s?);
        let Some((start, end)) = span else {
            notes.push("pressure-volume: end-diastole not found".to_owned());
            return None;
        };
        let channels = PvChannels {
            lvp_mmhg: lvp,
            lvv_ml: lvv,
            dpdt_mmhg_s: dpdt,
        };
        pv_beat(channels, self.local(start), self.local(end), v0_ml, self.settings)
            .map_err(|reason| notes.push(format!("pressure-volume: {reason}")))
            .ok()
    }

    /// PVA of a beat whose indices are known.
    pub fn pva(
        &self,
        span: (u64, u64),
        beat: &PvBeat,
        edpvr: Option<&EdpvrFit>,
        notes: &mut Vec<String>,
    ) -> Option<Pva> {
        let (lvp, lvv) = (self.pv.lvp_mmhg?, self.pv.lvv_ml?);
        let (start, end) = (self.local(span.0), self.local(span.1));
        let es_offset = (beat.es_time_s * self.settings.analysis_rate_hz()).round() as usize;
        pva(
            lvp.get(start..end)?,
            lvv.get(start..end)?,
            es_offset,
            beat.v0_ml,
            edpvr,
        )
        .map_err(|reason| notes.push(format!("PVA: {reason}")))
        .ok()
    }

    /// Supply/demand values of a beat from its phases and the metrics already computed.
    pub fn supply_demand(
        &self,
        beat: &Beat,
        phases: Option<&BeatPhases>,
        metrics: &BeatMetrics,
    ) -> Option<SupplyDemandBeat> {
        let lvp = self.pv.lvp_mmhg?;
        let dt = self.settings.sample_interval_s();
        let (start, end) = (self.local(beat.start), self.local(beat.end));
        let phases = phases?;
        let (systole_start, systole_end) = (self.local(phases.systole_start), self.local(phases.systole_end));
        let lvsp = metrics.pv.as_ref().map(|pv| pv.lvsp_mmhg).or_else(|| {
            let max = lvp
                .get(start..end)?
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max);
            max.is_finite().then_some(max)
        });
        let rr_s = (end - start) as f64 * dt;
        let flow_ml_per_beat = self.settings.vessel_diameter_cm.and_then(|diameter| {
            let apv = metrics.coronary.as_ref()?.apv_cm_s?;
            Some(volumetric_flow_ml_min(apv, diameter) * rr_s / 60.0)
        });
        Some(supply_demand_beat(SupplyDemandInputs {
            tti_mmhg_s: tension_time_index_mmhg_s(lvp, systole_start, systole_end, dt),
            dpti_mmhg_s: self
                .signals
                .pa
                .and_then(|pa| diastolic_pressure_time_index_mmhg_s(pa, lvp, systole_end, end, dt)),
            heart_rate_bpm: (rr_s > 0.0).then(|| 60.0 / rr_s),
            lvsp_mmhg: lvsp,
            dvti_cm: metrics.coronary.as_ref().and_then(|c| c.dvti_cm),
            flow_ml_per_beat,
            pva_mmhg_ml: metrics.pva.as_ref().map(|p| p.pva_mmhg_ml),
        }))
    }
}
