//! The online analysis: what the live screen's numbers and PV loop come from.
//!
//! The engine copies the newest [`WINDOW_S`] seconds of each source out of the ring buffers every [`INTERVAL`]
//! and hands them to its analysis thread (a bounded queue of one, newest wins). There the offline analysis code
//! runs unchanged on the window ([`crate::analysis::pipeline::live::latest_beats`]: beats found on the whole
//! window, metrics for the newest [`NUM_NEWEST_BEATS`]) and each number becomes the mean over the accepted ones
//! among them, with its method; a channel that [`crate::signal::usability`] finds unusable, or beats that quality
//! control rejected, give "no value" with the reason instead of a number. Latency: a beat is reported once the
//! next fiducial is confirmed, then within one interval.
//!
//! Sources are analysed separately (their clocks are not aligned); a number comes from the first source that
//! carries its channels.

use std::ops::Range;
use std::time::Duration;

use crate::analysis::endpoints::Unit;
use crate::analysis::pipeline::live::{LatestBeats, LiveWindow, latest_beats};
use crate::analysis::{ALGORITHM_VERSION, AnalysisSettings};
use crate::model::SignalKind;
use crate::signal::usability::assess;

use super::live_source::LiveSource;

/// Seconds of signal the analysis looks at: the beat detectors need ~10-15 s to settle.
pub const WINDOW_S: f64 = 15.0;

/// How often a fresh window is analysed.
pub const INTERVAL: Duration = Duration::from_millis(200);

/// Live numbers average the accepted beats among this many newest beats.
pub const NUM_NEWEST_BEATS: usize = 5;

/// ECMO flow is averaged over this many seconds (it has no beats).
const ECMO_FLOW_MEAN_S: f64 = 5.0;

/// The channels the analysis reads.
const ANALYSED: [SignalKind; 7] = SignalKind::ALL;

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
    /// Stroke work (area of the PV loop), mmHg.mL.
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

    /// Its unit (shown as [`Unit::symbol`], the value formatted by [`crate::analysis::format`]).
    pub fn unit(self) -> Unit {
        match self {
            LiveQuantity::HeartRate => Unit::PerMin,
            LiveQuantity::MeanArterialPressure | LiveQuantity::Lvedp | LiveQuantity::Lvesp => Unit::Mmhg,
            LiveQuantity::PdPa => Unit::Ratio,
            LiveQuantity::Apv => Unit::CmPerS,
            LiveQuantity::StrokeVolume => Unit::Ml,
            LiveQuantity::StrokeWork => Unit::MmhgMl,
            LiveQuantity::EcmoFlow => Unit::LPerMin,
        }
    }

    /// The channels the quantity needs.
    pub fn channels(self) -> &'static [SignalKind] {
        match self {
            LiveQuantity::HeartRate => &[],
            LiveQuantity::MeanArterialPressure => &[SignalKind::Pa],
            LiveQuantity::PdPa => &[SignalKind::Pa, SignalKind::Pd],
            LiveQuantity::Apv => &[SignalKind::Ipv],
            LiveQuantity::Lvedp | LiveQuantity::Lvesp => &[SignalKind::Lvp],
            LiveQuantity::StrokeVolume | LiveQuantity::StrokeWork => &[SignalKind::Lvp, SignalKind::Lvv],
            LiveQuantity::EcmoFlow => &[SignalKind::EcmoFlow],
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
    /// Start of the oldest beat the value averages, s on its source's time axis (sample index / rate), so a
    /// reader can tell whether every beat came after a calibration; `None` with a reason, and for ECMO flow (a
    /// plain mean of the newest seconds).
    pub from_s: Option<f64>,
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

/// The newest samples of one source, copied out of its ring buffers for the analysis thread.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceWindow {
    /// Absolute index of the first sample.
    pub first_sample: u64,
    /// Samples per second.
    pub sample_rate_hz: f64,
    /// The analysed channels the source carries, all of the same length.
    pub channels: Vec<(SignalKind, Vec<f64>)>,
}

impl SourceWindow {
    /// The newest `window_s` seconds of `live`'s analysed channels; `None` when it has none or no samples.
    pub fn newest(live: &LiveSource, window_s: f64) -> Option<SourceWindow> {
        let end = live.end_sample();
        let from = end.saturating_sub((window_s * live.spec.sample_rate_hz) as u64);
        let mut buffer = Vec::new();
        let mut first_sample = end;
        let channels: Vec<(SignalKind, Vec<f64>)> = ANALYSED
            .iter()
            .filter_map(|&kind| {
                let ring = live.channels.get(live.spec.channel_index(kind)?)?;
                first_sample = ring.copy_range(from, end, &mut buffer);
                Some((kind, buffer.iter().map(|&x| f64::from(x)).collect()))
            })
            .collect();
        (!channels.is_empty() && first_sample < end).then_some(SourceWindow {
            first_sample,
            sample_rate_hz: live.spec.sample_rate_hz,
            channels,
        })
    }

    fn channel(&self, kind: SignalKind) -> Option<&[f64]> {
        self.channels
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, samples)| samples.as_slice())
    }

    fn duration_s(&self) -> f64 {
        self.channels
            .first()
            .map_or(0.0, |(_, samples)| samples.len() as f64 / self.sample_rate_hz)
    }
}

/// The live numbers and PV beats of the newest windows of every source.
pub fn analyse(windows: &[SourceWindow], settings: &AnalysisSettings) -> LiveAnalysis {
    let mut analysis = LiveAnalysis {
        numbers: Vec::new(),
        lv_beats: Vec::new(),
        status: None,
    };
    let mut waiting = false;
    for window in windows {
        let Some(result) = analyse_window(window, settings) else {
            waiting = true;
            continue;
        };
        for number in result.numbers {
            match analysis
                .numbers
                .iter_mut()
                .find(|n| n.quantity == number.quantity)
            {
                // A value beats a reason; otherwise the first source wins.
                Some(existing) if existing.value.is_err() && number.value.is_ok() => *existing = number,
                Some(_) => {}
                None => analysis.numbers.push(number),
            }
        }
        if analysis.lv_beats.is_empty() {
            analysis.lv_beats = result.lv_beats;
        }
    }
    if analysis.numbers.is_empty() {
        analysis.status = Some(
            if waiting {
                "no beats yet"
            } else {
                "no analysable channels"
            }
            .to_owned(),
        );
    }
    analysis
        .numbers
        .sort_by_key(|n| LiveQuantity::ALL.iter().position(|q| *q == n.quantity));
    analysis
}

/// What one source's window gave.
struct WindowResult {
    numbers: Vec<LiveNumber>,
    lv_beats: Vec<Range<u64>>,
}

/// The numbers of one window; `None` while the window is still filling and no beat was found yet.
fn analyse_window(window: &SourceWindow, settings: &AnalysisSettings) -> Option<WindowResult> {
    let live_window = LiveWindow {
        first_sample: window.first_sample,
        sample_rate_hz: window.sample_rate_hz,
        ecg: window.channel(SignalKind::Ecg),
        pa: window.channel(SignalKind::Pa),
        pd: window.channel(SignalKind::Pd),
        ipv: window.channel(SignalKind::Ipv),
        lvp: window.channel(SignalKind::Lvp),
        lvv: window.channel(SignalKind::Lvv),
    };
    let filling = window.duration_s() < WINDOW_S * 0.99;
    let latest = match latest_beats(&live_window, settings, NUM_NEWEST_BEATS) {
        Ok(latest) => latest,
        Err(error) => {
            let numbers = quantities_of(window)
                .map(|quantity| unusable(quantity, format!("analysis refused the window: {error}")))
                .collect();
            return Some(WindowResult {
                numbers,
                lv_beats: Vec::new(),
            });
        }
    };
    if latest.beats.is_empty() && filling {
        return None;
    }
    let numbers = quantities_of(window)
        .map(|quantity| number(quantity, window, &latest, settings))
        .collect();
    // Beats are at the analysis rate; the PV loop draws from the source's ring buffers.
    let scale = window.sample_rate_hz / settings.analysis_rate_hz();
    let to_source = |index: u64| (index as f64 * scale).round() as u64;
    let lv_beats = if window.channel(SignalKind::Lvp).is_some() && window.channel(SignalKind::Lvv).is_some() {
        latest
            .beats
            .iter()
            .map(|beat| to_source(beat.start)..to_source(beat.end))
            .collect()
    } else {
        Vec::new()
    };
    Some(WindowResult { numbers, lv_beats })
}

/// The quantities whose channels this window carries.
fn quantities_of(window: &SourceWindow) -> impl Iterator<Item = LiveQuantity> + '_ {
    LiveQuantity::ALL
        .into_iter()
        .filter(|q| q.channels().iter().all(|&kind| window.channel(kind).is_some()))
}

fn unusable(quantity: LiveQuantity, reason: String) -> LiveNumber {
    LiveNumber {
        quantity,
        value: Err(reason),
        method: method_of(quantity, 0),
        from_s: None,
    }
}

/// One quantity from the newest beats of a window, or why it has no value.
fn number(
    quantity: LiveQuantity,
    window: &SourceWindow,
    latest: &LatestBeats,
    settings: &AnalysisSettings,
) -> LiveNumber {
    for &kind in quantity.channels() {
        let Some(samples) = window.channel(kind) else {
            continue;
        };
        let report = assess(kind, samples, window.sample_rate_hz, &settings.signal.usability);
        if !report.usable_for_measures() {
            return unusable(quantity, format!("{}: {}", kind.name(), report.reason()));
        }
    }
    if quantity == LiveQuantity::EcmoFlow {
        return ecmo_flow(window);
    }
    if latest.beats.is_empty() {
        let reason = latest
            .notes
            .first()
            .cloned()
            .unwrap_or_else(|| "no beats detected".to_owned());
        return unusable(quantity, reason);
    }
    let accepted: Vec<usize> = (0..latest.beats.len())
        .filter(|&k| latest.beats[k].accepted())
        .collect();
    if accepted.is_empty() {
        let mut reasons: Vec<&str> = latest
            .beats
            .iter()
            .filter_map(|beat| beat.reject.as_ref().map(|r| r.key()))
            .collect();
        reasons.dedup();
        let reason = format!(
            "the last {} beats were rejected ({})",
            latest.beats.len(),
            reasons.join(", ")
        );
        return unusable(quantity, reason);
    }
    let beat_start_s = |k: usize| latest.records.get(k).map_or(f64::NAN, |record| record.time_s);
    let (values, starts): (Vec<f64>, Vec<f64>) = accepted
        .iter()
        .filter_map(|&k| {
            let metrics = latest.per_beat.get(k)?;
            let coronary = metrics.coronary.as_ref();
            let pv = metrics.pv.as_ref();
            let value = match quantity {
                LiveQuantity::HeartRate => latest.records.get(k).map(|r| 60.0 / r.duration_s),
                LiveQuantity::MeanArterialPressure => coronary?.mean_pa_mmhg,
                LiveQuantity::PdPa => coronary?.pd_pa,
                LiveQuantity::Apv => coronary?.apv_cm_s,
                LiveQuantity::Lvedp => pv.map(|pv| pv.lvedp_mmhg),
                LiveQuantity::Lvesp => pv.map(|pv| pv.lvesp_mmhg),
                LiveQuantity::StrokeVolume => pv.map(|pv| pv.sv_ml),
                LiveQuantity::StrokeWork => pv.map(|pv| pv.sw_mmhg_ml),
                LiveQuantity::EcmoFlow => None,
            };
            value.map(|value| (value, beat_start_s(k)))
        })
        .filter(|(value, _)| value.is_finite())
        .unzip();
    if values.is_empty() {
        let reason = latest
            .notes
            .iter()
            .chain(
                accepted
                    .iter()
                    .filter_map(|&k| latest.per_beat.get(k))
                    .flat_map(|m| &m.notes),
            )
            .next()
            .cloned()
            .unwrap_or_else(|| "not computable on the last beats".to_owned());
        return unusable(quantity, reason);
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let mut method = method_of(quantity, values.len());
    if let Some(fiducial) = latest.fiducial {
        method.push_str(&format!("; beats on {fiducial:?}"));
    }
    let warnings: Vec<&String> = match quantity {
        LiveQuantity::Lvedp | LiveQuantity::Lvesp | LiveQuantity::StrokeVolume | LiveQuantity::StrokeWork => {
            accepted
                .iter()
                .filter_map(|&k| latest.per_beat.get(k)?.pv.as_ref())
                .flat_map(|pv| &pv.warnings)
                .collect()
        }
        _ => Vec::new(),
    };
    if let Some(warning) = warnings.first() {
        method.push_str(&format!("\nWarning: {warning}"));
    }
    LiveNumber {
        quantity,
        value: Ok(mean),
        method,
        from_s: starts.into_iter().reduce(f64::min).filter(|s| s.is_finite()),
    }
}

/// Mean ECMO pump flow over the newest seconds.
fn ecmo_flow(window: &SourceWindow) -> LiveNumber {
    let quantity = LiveQuantity::EcmoFlow;
    let samples = window.channel(SignalKind::EcmoFlow).unwrap_or(&[]);
    let num_newest = ((ECMO_FLOW_MEAN_S * window.sample_rate_hz) as usize).min(samples.len());
    let finite: Vec<f64> = samples[samples.len() - num_newest..]
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .collect();
    if finite.is_empty() {
        return unusable(quantity, "ecmo_flow: no samples".to_owned());
    }
    let mean = finite.iter().sum::<f64>() / finite.len() as f64;
    LiveNumber {
        quantity,
        value: Ok(mean),
        method: format!(
            "{}: mean of the ecmo_flow channel over the last {ECMO_FLOW_MEAN_S:.0} s; {ALGORITHM_VERSION}",
            quantity.label()
        ),
        from_s: None,
    }
}

/// How a quantity is computed, in words, for `num_beats` averaged beats.
fn method_of(quantity: LiveQuantity, num_beats: usize) -> String {
    let what = match quantity {
        LiveQuantity::HeartRate => "60 / beat length",
        LiveQuantity::MeanArterialPressure => "mean aortic pressure over the beat",
        LiveQuantity::PdPa => "whole-cycle mean Pd / mean Pa",
        LiveQuantity::Apv => "average peak velocity: velocity-time integral / beat length",
        LiveQuantity::Lvedp => "LV pressure at end-diastole",
        LiveQuantity::Lvesp => "LV pressure at end-systole",
        LiveQuantity::StrokeVolume => {
            "end-diastolic minus end-systolic volume (conductance volume as calibrated)"
        }
        LiveQuantity::StrokeWork => "stroke work: area of the pressure-volume loop",
        LiveQuantity::EcmoFlow => "mean ECMO pump flow",
    };
    format!(
        "{}: {what}, mean of the {num_beats} accepted beats among the newest {NUM_NEWEST_BEATS}; \
         {ALGORITHM_VERSION}, default settings",
        quantity.label()
    )
}
