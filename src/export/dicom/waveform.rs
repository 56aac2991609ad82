//! The case's waveforms as Hemodynamic Waveform Storage objects (PS3.3 A.34.6, modality HD).
//!
//! - **Rate.** The IOD allows at most 400 Hz; every channel leaves at [`RATE_HZ`] = 250 Hz, whatever its native
//!   rate. A rate that is a whole multiple of 250 Hz is low-passed by a Kaiser-window FIR designed at that rate
//!   (pass band to 100 Hz, stop band from 125 Hz = the new Nyquist frequency, 60 dB; [`crate::signal::antialias`]) and
//!   decimated; any other whole rate is first brought to 1 kHz by the analysis' own band-limited resampler
//!   ([`crate::signal::resample`]) and then filtered and decimated the same way. Output sample `k` of an instance that
//!   starts at `t0` on the case's time axis is the filtered signal at `t0 + k / 250 s`; instances are cut from one
//!   continuous filtered signal (each read with a 1 s margin), so a boundary leaves no seam.
//! - **Samples.** 16-bit signed (SS), 16 bits stored, scaled per channel and instance by a Channel Sensitivity of
//!   1, 2 or 5 x 10^n units per step chosen so the largest magnitude fits in 32 000 steps (every sample within
//!   half a step of the filtered value), Channel Baseline 0, correction factor 1, in UCUM units (`mm[Hg]`,
//!   `cm/s`, `mL`, `L/min`, `mV`).
//! - **Sources** (CID 3003, SNOMED CT): Pa = aortic pressure 128444004, LV pressure 128438003, Pd = hemodynamic
//!   pressure 128433007, Doppler velocity and ECMO flow = hemodynamic flow 128434001, LV volume = hemodynamic
//!   waveform 128432002; other channels: hemodynamic pressure for a pressure unit, hemodynamic waveform
//!   otherwise. CID 3003 has no ECG code; its use in this IOD is Defined (extensible, PS3.16), so the ECG is
//!   coded from CID 3001 as MDC 2:0 "Unspecified lead" (the console does not say which lead) and stays in the
//!   same object, on the same sample clock as the pressures it times.
//! - **Groups.** At most 8 channels per multiplex group (in the case's channel order) and 4 groups.
//! - **Series and instances.** One series per trial time point: `BASELINE` (from the first recorded sample, the
//!   case's set-up, not the console's start: no leading padding; up to the start of the device insertion step)
//!   and `POST-UNLOADING` (from it), or one `CASE` series when the protocol's steps were not recorded on the time
//!   axis (a headless or imported recording). Each is cut into instances of at most
//!   [`MAX_INSTANCE_S`] = 10 min: 150 000 samples per channel, about 2.4 MB for 8 channels, a size every archive
//!   and viewer handles and a re-sent part of an interrupted upload stays small, while a 2-hour case is only about
//!   a dozen objects.
//! - **Gaps** (samples never recorded) are written as the padding value -32768 (Waveform Padding Value), so sample
//!   positions stay the case's time axis, and each gap is also a `SEGMENT` annotation naming its reason. An
//!   instance with no recorded sample at all is not written.
//! - **Annotations** (Waveform Annotation Sequence, all channels of every group, 1-based sample positions):
//!   markers and protocol events in words as the review shows them (annotation group 1), protocol steps as
//!   segments (group 2), reviewers' annotations (group 3), gaps (group 4).

use std::collections::HashMap;

use dicom_core::VR;
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use sha2::{Digest, Sha256};

use super::elements::{
    base_object, code_item, date, date_time, put_bytes, put_sequence, put_str, put_u16, put_u32, time_of_day,
};
use super::{CaseContext, DicomError, DicomInstance, SeriesInfo, uids};
use crate::model::{SignalKind, StepId};
use crate::signal::antialias::LowPassFir;
use crate::signal::resample::Resampler;
use crate::store::CaseFile;

/// Hemodynamic Waveform Storage.
pub const SOP_CLASS_UID: &str = "1.2.840.10008.5.1.4.1.1.9.2.1";
/// The rate every channel is written at.
pub const RATE_HZ: f64 = 250.0;
/// The longest stretch of the case in one object.
pub const MAX_INSTANCE_S: f64 = 600.0;
/// The anti-aliasing filter: pass band edge, stop band edge (the Nyquist frequency of [`RATE_HZ`]) and
/// stop-band attenuation.
pub const PASS_HZ: f64 = 100.0;
/// See [`PASS_HZ`].
pub const STOP_HZ: f64 = 125.0;
/// See [`PASS_HZ`].
pub const ATTENUATION_DB: f64 = 60.0;
/// The sample value that marks "not recorded".
pub const PADDING: i16 = i16::MIN;
/// The largest magnitude a sample is scaled to (below `i16::MAX`, so rounding never overflows).
const FULL_SCALE: f64 = 32_000.0;
/// Channels per multiplex group and groups per object (PS3.3 A.34.6.4).
pub const MAX_CHANNELS_PER_GROUP: usize = 8;
/// See [`MAX_CHANNELS_PER_GROUP`].
pub const MAX_GROUPS: usize = 4;
/// Seconds read either side of an instance so its filtered edges equal the continuous signal's.
const MARGIN_S: f64 = 1.0;
/// The rate non-multiples of [`RATE_HZ`] are resampled to first.
const INTERMEDIATE_HZ: u64 = 1000;

/// One channel as it is written.
#[derive(Clone, Debug)]
struct ChannelPlan {
    /// Name, unit and rate as stored (they pick the channel out of a [`crate::model::Recording`]).
    name: String,
    unit: String,
    rate_hz: u64,
    /// Channel Label (SH, at most 16 characters).
    label: String,
    /// Channel Source: code value, scheme, meaning.
    source: (&'static str, &'static str, &'static str),
    /// Channel Sensitivity Units: UCUM code and meaning.
    ucum: (String, String),
    /// Filter High Frequency: the anti-aliasing filter's -3 dB frequency, Hz, as DS text.
    high_cut_hz: String,
}

/// A time-anchored text for the Waveform Annotation Sequence.
#[derive(Clone, Debug)]
struct Note {
    /// Which field it comes from, for the identifier screen's message.
    field: String,
    start_s: f64,
    end_s: Option<f64>,
    text: String,
    /// Annotation Group Number: 1 markers, 2 protocol steps, 3 annotations, 4 gaps.
    group: u16,
}

/// A trial time point's stretch of the case.
#[derive(Clone, Debug)]
struct TimePoint {
    id: &'static str,
    description: String,
    from_s: f64,
    to_s: f64,
}

/// What the waveform objects of a case will hold, read before anything is built (so its text can be screened).
#[derive(Clone, Debug)]
pub(crate) struct WaveformPlan {
    channels: Vec<ChannelPlan>,
    notes: Vec<Note>,
    time_points: Vec<TimePoint>,
    /// Instance starts and read margins lie on a grid of `1 / grid_hz` s common to every channel's sample
    /// clock, the 1 kHz intermediate and the 250 Hz output.
    grid_hz: f64,
    /// The first recorded sample's time on the case's clock (on the grid): the objects start there, not at the
    /// console's sample 0, and no read reaches before it (a console started before the case's set-up would
    /// otherwise lead the first object with padding).
    start_s: f64,
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The channel source code of a channel.
fn source_of(name: &str, unit: &str) -> (&'static str, &'static str, &'static str) {
    const AORTIC: (&str, &str, &str) = ("128444004", "SCT", "Aortic pressure waveform");
    const LV_PRESSURE: (&str, &str, &str) = ("128438003", "SCT", "Left ventricle pressure waveform");
    const PRESSURE: (&str, &str, &str) = ("128433007", "SCT", "Hemodynamic pressure waveform");
    const FLOW: (&str, &str, &str) = ("128434001", "SCT", "Hemodynamic flow waveform");
    const WAVEFORM: (&str, &str, &str) = ("128432002", "SCT", "Hemodynamic waveform");
    const ECG: (&str, &str, &str) = ("2:0", "MDC", "Unspecified lead");
    match SignalKind::from_name(name) {
        Some(SignalKind::Pa) => AORTIC,
        Some(SignalKind::Lvp) => LV_PRESSURE,
        Some(SignalKind::Pd) => PRESSURE,
        Some(SignalKind::Ipv | SignalKind::EcmoFlow) => FLOW,
        Some(SignalKind::Lvv) => WAVEFORM,
        Some(SignalKind::Ecg) => ECG,
        None if ucum_of(unit).0 == "mm[Hg]" => PRESSURE,
        None => WAVEFORM,
    }
}

/// The UCUM code and its meaning for a stored unit; a unit outside the table is written as it is (simple units
/// such as `%` or `Hz` are UCUM already), no unit as UCUM's unity `1`.
fn ucum_of(unit: &str) -> (String, String) {
    let (code, meaning) = match unit.trim() {
        "mmHg" | "mm Hg" | "mm[Hg]" => ("mm[Hg]", "mmHg"),
        "cm/s" => ("cm/s", "cm/s"),
        "mL" | "ml" => ("mL", "mL"),
        "L/min" | "l/min" => ("L/min", "L/min"),
        "mV" => ("mV", "mV"),
        "" => ("1", "no unit"),
        other => (other, other),
    };
    (code.to_owned(), meaning.to_owned())
}

/// The time points of the case from its recorded steps, from `start_s` (the first recorded sample) to
/// `duration_s` (see the module documentation).
fn time_points(steps: &[crate::store::StepRecord], start_s: f64, duration_s: f64) -> Vec<TimePoint> {
    let on_grid = |t: f64| (t * RATE_HZ).round() / RATE_HZ;
    let unloading_s = steps
        .iter()
        .filter(|s| s.step >= StepId::DeviceInsertion)
        .filter_map(|s| s.start_s)
        .map(on_grid)
        .fold(None, |min: Option<f64>, t| Some(min.map_or(t, |m| m.min(t))));
    let has_baseline = steps
        .iter()
        .any(|s| matches!(s.step, StepId::BaselineCoronary | StepId::BaselinePv) && s.start_s.is_some());
    const BASELINE: (&str, &str) = ("BASELINE", "Hemodynamic waveforms, baseline");
    const POST: (&str, &str) = ("POST-UNLOADING", "Hemodynamic waveforms, post-unloading");
    const CASE: (&str, &str) = ("CASE", "Hemodynamic waveforms, whole case");
    let spans: Vec<((&str, &str), f64, f64)> = match unloading_s {
        Some(b) if b > start_s && b < duration_s => vec![(BASELINE, start_s, b), (POST, b, duration_s)],
        Some(b) if b <= start_s => vec![(POST, start_s, duration_s)],
        _ if has_baseline => vec![(BASELINE, start_s, duration_s)],
        _ => vec![(CASE, start_s, duration_s)],
    };
    spans
        .into_iter()
        .filter(|(_, from, to)| to > from)
        .map(|((id, description), from_s, to_s)| TimePoint {
            id,
            description: description.to_owned(),
            from_s,
            to_s,
        })
        .collect()
}

/// Reads what the case's waveform objects will hold.
pub(crate) fn plan(file: &CaseFile) -> Result<WaveformPlan, DicomError> {
    let stored = file.channels()?;
    let duration_s = stored
        .iter()
        .map(|c| c.end_sample as f64 / c.sample_rate_hz)
        .fold(0.0, f64::max);
    // The same grouping (name, unit, rate) as the case's recording, from an empty stretch of it.
    let listed = file.recording(Some(0.0), Some(0.0))?;
    let mut channels = Vec::new();
    let mut grid = gcd(RATE_HZ as u64, INTERMEDIATE_HZ);
    for series in listed.segments.iter().flat_map(|s| &s.channels) {
        let rate = series.sample_rate_hz;
        if !(rate.is_finite() && rate > 0.0 && rate.fract() == 0.0) {
            return Err(DicomError::Channel {
                channel: series.name.clone(),
                reason: format!("its rate {rate} Hz is not a whole number of Hz"),
            });
        }
        let rate_hz = rate as u64;
        grid = gcd(grid, rate_hz);
        let filter = LowPassFir::kaiser(PASS_HZ, STOP_HZ, ATTENUATION_DB, design_rate_hz(rate_hz) as f64)
            .map_err(|error| DicomError::Channel {
                channel: series.name.clone(),
                reason: error.to_string(),
            })?;
        let label = SignalKind::from_name(&series.name)
            .map_or_else(|| series.name.clone(), |kind| kind.title().to_owned())
            .chars()
            .take(16)
            .collect();
        channels.push(ChannelPlan {
            name: series.name.clone(),
            unit: series.unit.clone(),
            rate_hz,
            label,
            source: source_of(&series.name, &series.unit),
            ucum: ucum_of(&series.unit),
            high_cut_hz: format!("{:.1}", minus_3_db_hz(&filter)),
        });
    }
    if channels.len() > MAX_CHANNELS_PER_GROUP * MAX_GROUPS {
        return Err(DicomError::Channel {
            channel: channels[MAX_CHANNELS_PER_GROUP * MAX_GROUPS].name.clone(),
            reason: format!(
                "the case has {} channels; a Hemodynamic Waveform object holds at most {}",
                channels.len(),
                MAX_CHANNELS_PER_GROUP * MAX_GROUPS
            ),
        });
    }
    let mut notes = Vec::new();
    for event in file.events()? {
        notes.push(Note {
            field: format!("marker at {:.1} s", event.time_s),
            start_s: event.time_s,
            end_s: None,
            text: crate::review::markers::marker_words(&event.kind, &event.text),
            group: 1,
        });
    }
    let steps = file.steps()?;
    for step in &steps {
        if let Some(start_s) = step.start_s {
            notes.push(Note {
                field: format!("protocol step at {start_s:.1} s"),
                start_s,
                end_s: step.end_s,
                text: format!("Protocol step: {}", step.step.title()),
                group: 2,
            });
        }
    }
    for annotation in file.annotations()? {
        notes.push(Note {
            field: format!("annotation at {:.1} s", annotation.start_s),
            start_s: annotation.start_s,
            end_s: annotation.end_s,
            text: annotation.text,
            group: 3,
        });
    }
    let source_rates: HashMap<i64, f64> = stored.iter().map(|c| (c.source_id, c.sample_rate_hz)).collect();
    for gap in file.gaps()? {
        let Some(rate) = source_rates.get(&gap.source_id) else {
            continue;
        };
        let start_s = gap.first_sample as f64 / rate;
        notes.push(Note {
            field: format!("gap at {start_s:.1} s"),
            start_s,
            end_s: Some((gap.first_sample + gap.num_samples) as f64 / rate),
            text: format!(
                "Not recorded (source {}): {}",
                gap.source,
                gap.detail.as_deref().unwrap_or(&gap.reason.replace('_', " "))
            ),
            group: 4,
        });
    }
    notes.sort_by(|a, b| a.start_s.total_cmp(&b.start_s).then(a.group.cmp(&b.group)));
    let grid_hz = grid as f64;
    // The first point of the grid at or after the first recorded sample (a rounding error is not a step).
    let start_s = crate::export::waveforms::first_recorded_s(&stored)
        .map_or(0.0, |t| (t * grid_hz - 1e-6).ceil().max(0.0) / grid_hz);
    Ok(WaveformPlan {
        channels,
        notes,
        time_points: if duration_s > start_s {
            time_points(&steps, start_s, duration_s)
        } else {
            Vec::new()
        },
        grid_hz,
        start_s,
    })
}

/// The rate a channel recorded at `rate_hz` is low-passed at: its own when a whole multiple of [`RATE_HZ`],
/// otherwise the 1 kHz it is first resampled to.
fn design_rate_hz(rate_hz: u64) -> u64 {
    if rate_hz.is_multiple_of(RATE_HZ as u64) {
        rate_hz
    } else {
        INTERMEDIATE_HZ
    }
}

/// The frequency in the transition band where `filter`'s gain is 1/sqrt(2) (-3 dB), by bisection (the gain falls
/// monotonically from the pass band to the stop band).
fn minus_3_db_hz(filter: &LowPassFir) -> f64 {
    let (mut lo, mut hi) = (PASS_HZ, STOP_HZ);
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        if filter.gain_at(mid) > std::f64::consts::FRAC_1_SQRT_2 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// A Channel Sensitivity of 1, 2 or 5 x 10^n, as written (DS text) and as a number, for samples up to
/// `max_abs` in magnitude.
fn sensitivity(max_abs: f64) -> (String, f64) {
    let step = max_abs.max(1e-3) / FULL_SCALE;
    let mut exponent = step.log10().floor() as i32;
    let mut mantissa = [1u32, 2, 5, 10]
        .into_iter()
        .find(|&m| f64::from(m) * 10f64.powi(exponent) >= step * (1.0 - 1e-12))
        .unwrap_or(10);
    if mantissa == 10 {
        mantissa = 1;
        exponent += 1;
    }
    let value = f64::from(mantissa) * 10f64.powi(exponent);
    let text = format!("{:.*}", (-exponent).max(0) as usize, value);
    let parsed = text.parse().unwrap_or(value);
    (text, parsed)
}

/// A note's text as an ST value: at most 1024 characters (longer ones cut, with an ellipsis).
fn short_text(text: &str) -> String {
    const MAX_CHARS: usize = 1024;
    if text.chars().count() <= MAX_CHARS {
        text.to_owned()
    } else {
        text.chars()
            .take(MAX_CHARS - 1)
            .chain(std::iter::once('…'))
            .collect()
    }
}

/// The 16-bit code of a value at `sensitivity` units per step; `NaN` is [`PADDING`].
fn quantise(value: f64, sensitivity: f64) -> i16 {
    if value.is_nan() {
        PADDING
    } else {
        (value / sensitivity).round().clamp(-32_767.0, 32_767.0) as i16
    }
}

/// One instance's samples per channel at [`RATE_HZ`], `NaN` where nothing was recorded.
struct Stretch {
    from_s: f64,
    values: Vec<Vec<f64>>,
}

impl WaveformPlan {
    /// Names the people in the annotations' text by role, as the export policy says
    /// ([`crate::export::policy`]).
    pub(crate) fn scrub_names(&mut self, staff: &crate::export::policy::Staff) {
        for note in &mut self.notes {
            note.text = staff.scrub(&note.text);
        }
    }

    /// The free text the waveform objects carry, each with the field it comes from.
    pub(crate) fn screened_text(&self) -> Vec<(String, String)> {
        let mut fields: Vec<(String, String)> = self
            .notes
            .iter()
            .map(|note| (note.field.clone(), note.text.clone()))
            .collect();
        for channel in &self.channels {
            fields.push(("channel name".into(), channel.name.clone()));
            fields.push(("channel unit".into(), channel.unit.clone()));
        }
        fields
    }

    /// The channels' samples over `[from_s, to_s)` at [`RATE_HZ`] (see the module documentation).
    fn stretch(
        &self,
        file: &CaseFile,
        duration_s: f64,
        from_s: f64,
        to_s: f64,
        filters: &mut HashMap<u64, LowPassFir>,
    ) -> Result<Stretch, DicomError> {
        let count = ((to_s - from_s) * RATE_HZ).round() as usize;
        let read_from = ((from_s - MARGIN_S).max(self.start_s) * self.grid_hz).floor() / self.grid_hz;
        let read_to = (to_s + MARGIN_S).min(duration_s);
        let recording = file.recording(Some(read_from), Some(read_to))?;
        let segment = recording.segments.first();
        let mut values = Vec::with_capacity(self.channels.len());
        for channel in &self.channels {
            let samples = segment
                .and_then(|s| {
                    s.channels.iter().find(|c| {
                        c.name == channel.name
                            && c.unit == channel.unit
                            && c.sample_rate_hz == channel.rate_hz as f64
                    })
                })
                .map_or(&[][..], |c| c.samples.as_slice());
            let rate_out = RATE_HZ as u64;
            let rate = design_rate_hz(channel.rate_hz);
            let input: std::borrow::Cow<'_, [f64]> = if rate == channel.rate_hz {
                samples.into()
            } else {
                let resampler =
                    Resampler::new(channel.rate_hz as f64, INTERMEDIATE_HZ as f64).map_err(|error| {
                        DicomError::Channel {
                            channel: channel.name.clone(),
                            reason: error.to_string(),
                        }
                    })?;
                resampler.apply(samples).into()
            };
            let filter = match filters.entry(rate) {
                std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::hash_map::Entry::Vacant(entry) => entry.insert(
                    LowPassFir::kaiser(PASS_HZ, STOP_HZ, ATTENUATION_DB, rate as f64).map_err(|error| {
                        DicomError::Channel {
                            channel: channel.name.clone(),
                            reason: error.to_string(),
                        }
                    })?,
                ),
            };
            let start = ((from_s - read_from) * rate as f64).round() as usize;
            let factor = (rate / rate_out) as usize;
            values.push(filter.decimate(&input, start, factor, count));
        }
        Ok(Stretch { from_s, values })
    }

    /// Names the coronary measurement context in the series descriptions: the vessel measured (`mid LAD`) on the
    /// baseline and whole-case series, and on the post-unloading series too when the same vessel was confirmed
    /// (else `vessel not confirmed`), so the archive shows where CDFR was measured without opening an object.
    pub(crate) fn describe_vessel(&mut self, vessel: Option<&str>, same_vessel_confirmed: bool) {
        let Some(vessel) = vessel else {
            return;
        };
        for time_point in &mut self.time_points {
            let words = if time_point.id != "POST-UNLOADING" || same_vessel_confirmed {
                vessel
            } else {
                "vessel not confirmed"
            };
            time_point.description = format!("{}, {words}", time_point.description);
        }
    }

    /// Every waveform object of the case, series by series in time order.
    pub(crate) fn instances(
        &self,
        file: &CaseFile,
        context: &CaseContext<'_>,
    ) -> Result<Vec<DicomInstance>, DicomError> {
        let duration_s = self.time_points.last().map_or(0.0, |tp| tp.to_s);
        let mut filters = HashMap::new();
        let mut instances = Vec::new();
        for (number, time_point) in self.time_points.iter().enumerate() {
            let role = format!("waveforms {}", time_point.id);
            let series = SeriesInfo {
                uid: uids::series_uid(&context.case_id, &role),
                number: number as u32 + 1,
                modality: "HD",
                description: time_point.description.clone(),
                trial_series_id: time_point.id.to_owned(),
            };
            let mut from_s = time_point.from_s;
            let mut instance_number = 0;
            while from_s < time_point.to_s {
                let to_s = (from_s + MAX_INSTANCE_S).min(time_point.to_s);
                let stretch = self.stretch(file, duration_s, from_s, to_s, &mut filters)?;
                from_s = to_s;
                if stretch.values.iter().flatten().all(|v| v.is_nan()) {
                    continue;
                }
                instance_number += 1;
                let (object, content_sha256) = self.object(context, &series, instance_number, &stretch);
                instances.push(super::finish(
                    object,
                    context,
                    &series,
                    &role,
                    instance_number as usize,
                    &content_sha256,
                )?);
            }
        }
        Ok(instances)
    }

    /// The object of one stretch, and the SHA-256 of its content (samples, channel definitions, annotations).
    fn object(
        &self,
        context: &CaseContext<'_>,
        series: &SeriesInfo,
        instance_number: u32,
        stretch: &Stretch,
    ) -> (InMemDicomObject, String) {
        let mut hasher = Sha256::new();
        let mut o = base_object(context, series, SOP_CLASS_UID, instance_number);
        let start = context.start + chrono::Duration::milliseconds((stretch.from_s * 1000.0).round() as i64);
        // Waveform Identification.
        put_str(&mut o, tags::CONTENT_DATE, VR::DA, &date(start));
        put_str(&mut o, tags::CONTENT_TIME, VR::TM, &time_of_day(start));
        put_str(&mut o, tags::ACQUISITION_DATE_TIME, VR::DT, &date_time(start));
        // Acquisition Context: nothing coded is known about the acquisition context (type 2, empty).
        put_sequence(&mut o, tags::ACQUISITION_CONTEXT_SEQUENCE, Vec::new());
        let count = stretch.values.first().map_or(0, Vec::len);
        let mut groups = Vec::new();
        for (group_index, channels) in self
            .channels
            .iter()
            .zip(&stretch.values)
            .collect::<Vec<_>>()
            .chunks(MAX_CHANNELS_PER_GROUP)
            .enumerate()
        {
            let mut definitions = Vec::new();
            let mut codes: Vec<Vec<i16>> = Vec::new();
            for (number, (channel, values)) in channels.iter().enumerate() {
                let max_abs = values
                    .iter()
                    .filter(|v| v.is_finite())
                    .fold(0.0_f64, |m, v| m.max(v.abs()));
                let (sensitivity_text, sensitivity) = sensitivity(max_abs);
                codes.push(values.iter().map(|&v| quantise(v, sensitivity)).collect());
                let mut d = InMemDicomObject::new_empty();
                put_str(
                    &mut d,
                    tags::WAVEFORM_CHANNEL_NUMBER,
                    VR::IS,
                    &(number + 1).to_string(),
                );
                put_str(&mut d, tags::CHANNEL_LABEL, VR::SH, &channel.label);
                let (value, scheme, meaning) = channel.source;
                put_sequence(
                    &mut d,
                    tags::CHANNEL_SOURCE_SEQUENCE,
                    vec![code_item(value, scheme, meaning)],
                );
                put_str(&mut d, tags::CHANNEL_SENSITIVITY, VR::DS, &sensitivity_text);
                put_sequence(
                    &mut d,
                    tags::CHANNEL_SENSITIVITY_UNITS_SEQUENCE,
                    vec![code_item(&channel.ucum.0, "UCUM", &channel.ucum.1)],
                );
                put_str(&mut d, tags::CHANNEL_SENSITIVITY_CORRECTION_FACTOR, VR::DS, "1");
                put_str(&mut d, tags::CHANNEL_BASELINE, VR::DS, "0");
                put_str(&mut d, tags::CHANNEL_SAMPLE_SKEW, VR::DS, "0");
                put_u16(&mut d, tags::WAVEFORM_BITS_STORED, &[16]);
                put_str(&mut d, tags::FILTER_HIGH_FREQUENCY, VR::DS, &channel.high_cut_hz);
                definitions.push(d);
                for part in [&channel.label, value, scheme, &channel.ucum.0, &sensitivity_text] {
                    hasher.update(part.as_bytes());
                    hasher.update([0u8]);
                }
            }
            let mut data = Vec::with_capacity(count * codes.len() * 2);
            for k in 0..count {
                for channel in &codes {
                    data.extend_from_slice(&channel[k].to_le_bytes());
                }
            }
            hasher.update(&data);
            let mut item = InMemDicomObject::new_empty();
            put_str(&mut item, tags::WAVEFORM_ORIGINALITY, VR::CS, "DERIVED");
            put_u16(
                &mut item,
                tags::NUMBER_OF_WAVEFORM_CHANNELS,
                &[codes.len() as u16],
            );
            put_u32(
                &mut item,
                tags::NUMBER_OF_WAVEFORM_SAMPLES,
                VR::UL,
                &[count as u32],
            );
            put_str(&mut item, tags::SAMPLING_FREQUENCY, VR::DS, &format!("{RATE_HZ}"));
            put_str(
                &mut item,
                tags::MULTIPLEX_GROUP_LABEL,
                VR::SH,
                &format!("HEMODYNAMIC {}", group_index + 1),
            );
            put_sequence(&mut item, tags::CHANNEL_DEFINITION_SEQUENCE, definitions);
            put_u16(&mut item, tags::WAVEFORM_BITS_ALLOCATED, &[16]);
            put_str(&mut item, tags::WAVEFORM_SAMPLE_INTERPRETATION, VR::CS, "SS");
            if codes.iter().flatten().any(|&c| c == PADDING) {
                put_bytes(
                    &mut item,
                    tags::WAVEFORM_PADDING_VALUE,
                    VR::OW,
                    PADDING.to_le_bytes().to_vec(),
                );
            }
            put_bytes(&mut item, tags::WAVEFORM_DATA, VR::OW, data);
            groups.push(item);
        }
        let num_groups = groups.len();
        put_sequence(&mut o, tags::WAVEFORM_SEQUENCE, groups);
        let annotations = self.annotations(stretch.from_s, count, num_groups);
        for (text, _, positions) in &annotations {
            hasher.update(text.as_bytes());
            for p in positions {
                hasher.update(p.to_le_bytes());
            }
        }
        if !annotations.is_empty() {
            let channels: Vec<u16> = (1..=num_groups as u16).flat_map(|g| [g, 0]).collect();
            let items = annotations
                .into_iter()
                .map(|(text, group, positions)| {
                    let mut item = InMemDicomObject::new_empty();
                    put_str(&mut item, tags::UNFORMATTED_TEXT_VALUE, VR::ST, &text);
                    put_u16(&mut item, tags::REFERENCED_WAVEFORM_CHANNELS, &channels);
                    let range = if positions.len() == 1 { "POINT" } else { "SEGMENT" };
                    put_str(&mut item, tags::TEMPORAL_RANGE_TYPE, VR::CS, range);
                    put_u32(&mut item, tags::REFERENCED_SAMPLE_POSITIONS, VR::UL, &positions);
                    put_u16(&mut item, tags::ANNOTATION_GROUP_NUMBER, &[group]);
                    item
                })
                .collect();
            put_sequence(&mut o, tags::WAVEFORM_ANNOTATION_SEQUENCE, items);
        }
        let content_sha256 = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        (o, content_sha256)
    }

    /// The notes that fall in an instance of `count` samples from `from_s`: text, annotation group and 1-based
    /// sample positions (one for a point, first and last for a segment, clipped to the instance).
    fn annotations(&self, from_s: f64, count: usize, num_groups: usize) -> Vec<(String, u16, Vec<u32>)> {
        if count == 0 || num_groups == 0 {
            return Vec::new();
        }
        let to_s = from_s + count as f64 / RATE_HZ;
        let position = |t: f64| ((t - from_s) * RATE_HZ).round().clamp(0.0, (count - 1) as f64) as u32 + 1;
        // The case's first object also holds what was noted before its first sample (the set-up, noted a frame
        // before the first sample reached the recorder), at that sample.
        let notes_from_s = if from_s <= self.start_s {
            f64::NEG_INFINITY
        } else {
            from_s
        };
        self.notes
            .iter()
            .filter_map(|note| match note.end_s {
                Some(end_s) if end_s > note.start_s => {
                    (note.start_s < to_s && end_s > notes_from_s).then(|| {
                        (
                            note.text.clone(),
                            note.group,
                            vec![position(note.start_s), position(end_s - 1.0 / RATE_HZ)],
                        )
                    })
                }
                _ => (notes_from_s..to_s)
                    .contains(&note.start_s)
                    .then(|| (short_text(&note.text), note.group, vec![position(note.start_s)])),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitivities_are_1_2_5_steps_that_fit_the_range() {
        assert_eq!(sensitivity(150.0).0, "0.005");
        assert_eq!(sensitivity(64.0).0, "0.002");
        assert_eq!(sensitivity(32.0).0, "0.001");
        assert_eq!(sensitivity(3.2e5).0, "10");
        for max_abs in [0.0, 1e-9, 0.7, 150.0, 299.9, 2_000.0, 1e6] {
            let (text, value) = sensitivity(max_abs);
            assert!(max_abs / value <= FULL_SCALE * (1.0 + 1e-9), "{max_abs}: {text}");
            assert!(text.len() <= 16, "{text}");
            assert_eq!(text.parse::<f64>().unwrap(), value);
        }
    }

    #[test]
    fn the_filter_high_frequency_is_the_minus_3_db_point() {
        for rate in [250, 500, 1000, 2000] {
            let filter = LowPassFir::kaiser(PASS_HZ, STOP_HZ, ATTENUATION_DB, f64::from(rate)).unwrap();
            let f = minus_3_db_hz(&filter);
            assert!((PASS_HZ..STOP_HZ).contains(&f), "{f}");
            assert!((filter.gain_at(f) - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-6);
        }
        assert_eq!(design_rate_hz(1000), 1000);
        assert_eq!(design_rate_hz(250), 250);
        assert_eq!(design_rate_hz(200), 1000);
        assert_eq!(design_rate_hz(300), 1000);
    }

    #[test]
    fn quantisation_rounds_clamps_and_pads() {
        assert_eq!(quantise(1.0, 0.005), 200);
        assert_eq!(quantise(-1.0024, 0.005), -200);
        assert_eq!(quantise(1e9, 0.005), 32_767);
        assert_eq!(quantise(-1e9, 0.005), -32_767);
        assert_eq!(quantise(f64::NAN, 0.005), PADDING);
    }

    #[test]
    fn units_are_ucum_and_sources_follow_cid_3003() {
        assert_eq!(ucum_of("mmHg").0, "mm[Hg]");
        assert_eq!(ucum_of("L/min").0, "L/min");
        assert_eq!(ucum_of("").0, "1");
        assert_eq!(source_of("pa", "mmHg").0, "128444004");
        assert_eq!(source_of("lvp", "mmHg").0, "128438003");
        assert_eq!(source_of("pd", "mmHg").0, "128433007");
        assert_eq!(source_of("ipv", "cm/s").0, "128434001");
        assert_eq!(source_of("ecmo_flow", "L/min").0, "128434001");
        assert_eq!(source_of("lvv", "mL").0, "128432002");
        assert_eq!(source_of("ra", "mmHg").0, "128433007");
        assert_eq!(source_of("spo2", "%").0, "128432002");
        assert_eq!(source_of("ecg", "mV"), ("2:0", "MDC", "Unspecified lead"));
    }
}
