//! Coronary endpoints (ENDPOINTS.md section 4): per-beat APV, mean Pa/Pd, Pd/Pa, diastolic APV and DVTI;
//! time-weighted window values; CDFR (the primary endpoint) over each state's steady window with a moving-block
//! bootstrap CI (blocks of about one ventilator cycle: consecutive beats of a ventilated patient are correlated,
//! and resampling single beats gives too narrow an interval) and stability flags; basal,
//! wave-free and hyperaemic microvascular resistance and the minimal one by the stated choice; the coronary flow
//! reserve of a state with a hyperaemic window; coronary perfusion pressure; volumetric flow.
//!
//! APV is always recomputed from the velocity trace (never taken from a console's display). Resistances are
//! ratios of means over whole beats or pooled wave-free periods: never the minimum of instantaneous Pd/ipv, which
//! is noise.

use serde::{Deserialize, Serialize};

use super::numeric::{SplitMix64, integral, quantile_sorted};
use super::settings::{AnalysisSettings, CdfrReference, MinimalResistanceChoice};
use super::{Provenance, Unavailable};

/// The coronary channels of one recording, at one common rate. Any may be absent.
#[derive(Clone, Copy, Debug, Default)]
pub struct CoronaryChannels<'a> {
    /// Instantaneous peak velocity, cm/s.
    pub ipv_cm_s: Option<&'a [f64]>,
    /// Aortic pressure, mmHg.
    pub pa_mmhg: Option<&'a [f64]>,
    /// Distal coronary pressure, mmHg.
    pub pd_mmhg: Option<&'a [f64]>,
}

/// Where one beat and its diastole lie, as sample indices at the analysis rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BeatSpan {
    /// First sample of the beat (its fiducial).
    pub start: usize,
    /// One past the last sample (the next beat's fiducial).
    pub end: usize,
    /// First sample of diastole (dicrotic notch, or LV dP/dt min when non-pulsatile), if known.
    pub diastole_start: Option<usize>,
    /// The wave-free period `[from, to)` (from 25 % into diastole to 5 ms before its end, by the phase settings),
    /// if known.
    pub wave_free: Option<(usize, usize)>,
}

/// Coronary values of one beat. Integrals are kept beside the means so windows can be time-weighted exactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CoronaryBeat {
    /// Beat length, s.
    pub rr_s: f64,
    /// Velocity-time integral over the beat, cm.
    pub vti_cm: Option<f64>,
    /// Average peak velocity over the beat, `vti / RR`, cm/s.
    pub apv_cm_s: Option<f64>,
    /// Integral of Pa over the beat, mmHg.s.
    pub pa_integral_mmhg_s: Option<f64>,
    /// Mean aortic pressure over the beat, mmHg.
    pub mean_pa_mmhg: Option<f64>,
    /// Integral of Pd over the beat, mmHg.s.
    pub pd_integral_mmhg_s: Option<f64>,
    /// Mean distal pressure over the beat, mmHg.
    pub mean_pd_mmhg: Option<f64>,
    /// Mean Pd / mean Pa.
    pub pd_pa: Option<f64>,
    /// Length of diastole, s.
    pub diastole_s: Option<f64>,
    /// Diastolic velocity-time integral, cm.
    pub dvti_cm: Option<f64>,
    /// Diastolic average peak velocity, cm/s.
    pub diastolic_apv_cm_s: Option<f64>,
    /// Integral of Pa over diastole, mmHg.s.
    pub diastolic_pa_integral_mmhg_s: Option<f64>,
    /// Mean aortic diastolic pressure (augmented under IABP), mmHg.
    pub mean_diastolic_pa_mmhg: Option<f64>,
    /// Length of the wave-free period, s.
    pub wfp_s: Option<f64>,
    /// Integral of Pd over the wave-free period, mmHg.s.
    pub wfp_pd_integral_mmhg_s: Option<f64>,
    /// Integral of ipv over the wave-free period, cm.
    pub wfp_ipv_integral_cm: Option<f64>,
}

fn ratio(numerator: Option<f64>, denominator: Option<f64>) -> Option<f64> {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d > 0.0 => Some(n / d),
        _ => None,
    }
}

/// The coronary values of one beat. Values whose samples are missing, or whose phase is unknown, are `None`.
pub fn coronary_beat(
    channels: CoronaryChannels<'_>,
    span: BeatSpan,
    settings: &AnalysisSettings,
) -> CoronaryBeat {
    let dt = settings.sample_interval_s();
    let within = |series: Option<&[f64]>, from: usize, to: usize| -> Option<f64> {
        let series = series?;
        (from < to && to <= series.len())
            .then(|| integral(&series[from..to], dt))
            .flatten()
    };
    let rr_s = span.end.saturating_sub(span.start) as f64 * dt;
    let vti_cm = within(channels.ipv_cm_s, span.start, span.end);
    let pa_integral = within(channels.pa_mmhg, span.start, span.end);
    let pd_integral = within(channels.pd_mmhg, span.start, span.end);
    let mean_pa = ratio(pa_integral, Some(rr_s));
    let mean_pd = ratio(pd_integral, Some(rr_s));
    let diastole = span.diastole_start.filter(|&d| d >= span.start && d < span.end);
    let diastole_s = diastole.map(|d| (span.end - d) as f64 * dt);
    let dvti = diastole.and_then(|d| within(channels.ipv_cm_s, d, span.end));
    let diastolic_pa = diastole.and_then(|d| within(channels.pa_mmhg, d, span.end));
    let wfp = span
        .wave_free
        .filter(|&(from, to)| from >= span.start && to <= span.end && to > from);
    let wfp_s = wfp.map(|(from, to)| (to - from) as f64 * dt);
    CoronaryBeat {
        rr_s,
        vti_cm,
        apv_cm_s: ratio(vti_cm, Some(rr_s)),
        pa_integral_mmhg_s: pa_integral,
        mean_pa_mmhg: mean_pa,
        pd_integral_mmhg_s: pd_integral,
        mean_pd_mmhg: mean_pd,
        pd_pa: ratio(mean_pd, mean_pa),
        diastole_s,
        dvti_cm: dvti,
        diastolic_apv_cm_s: ratio(dvti, diastole_s),
        diastolic_pa_integral_mmhg_s: diastolic_pa,
        mean_diastolic_pa_mmhg: ratio(diastolic_pa, diastole_s),
        wfp_s,
        wfp_pd_integral_mmhg_s: wfp.and_then(|(from, to)| within(channels.pd_mmhg, from, to)),
        wfp_ipv_integral_cm: wfp.and_then(|(from, to)| within(channels.ipv_cm_s, from, to)),
    }
}

/// Sum of `numerator / denominator` pairs over the beats that have both: the time-weighted mean.
fn pooled(beats: &[CoronaryBeat], pair: impl Fn(&CoronaryBeat) -> (Option<f64>, Option<f64>)) -> Option<f64> {
    let (mut numerator, mut denominator) = (0.0, 0.0);
    for beat in beats {
        if let (Some(n), Some(d)) = pair(beat) {
            numerator += n;
            denominator += d;
        }
    }
    ratio(Some(numerator), Some(denominator))
}

/// Time-weighted coronary values over the accepted beats of a window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoronaryWindow {
    /// Beats pooled.
    pub num_beats: usize,
    /// Sum of their RR intervals, s.
    pub duration_s: f64,
    /// Heart rate, 60 x beats / duration, beats/min.
    pub heart_rate_bpm: f64,
    /// `sum(VTI) / sum(RR)`, cm/s.
    pub apv_cm_s: Option<f64>,
    /// `sum(DVTI) / sum(diastole)`, cm/s.
    pub diastolic_apv_cm_s: Option<f64>,
    /// Time-weighted mean Pa, mmHg.
    pub mean_pa_mmhg: Option<f64>,
    /// Time-weighted mean Pd, mmHg.
    pub mean_pd_mmhg: Option<f64>,
    /// Mean Pd / mean Pa over the window.
    pub pd_pa: Option<f64>,
    /// Time-weighted mean aortic diastolic pressure, mmHg.
    pub mean_diastolic_pa_mmhg: Option<f64>,
    /// Mean Pd over the pooled wave-free periods, mmHg.
    pub wfp_mean_pd_mmhg: Option<f64>,
    /// Mean ipv over the pooled wave-free periods, cm/s.
    pub wfp_mean_ipv_cm_s: Option<f64>,
    /// How the values were computed.
    pub provenance: Provenance,
}

/// Pools accepted beats into window values: each is `sum(integral) / sum(duration)` over the beats where the
/// quantity exists, so long beats weigh more, as they do in the physiology.
pub fn coronary_window(
    accepted: &[CoronaryBeat],
    settings_hash: &str,
) -> Result<CoronaryWindow, Unavailable> {
    if accepted.is_empty() {
        return Err(Unavailable::too_few("accepted beats", 0, 1));
    }
    let duration_s: f64 = accepted.iter().map(|b| b.rr_s).sum();
    if duration_s <= 0.0 {
        return Err(Unavailable::NonPositive("window duration".into()));
    }
    let mean_pa = pooled(accepted, |b| (b.pa_integral_mmhg_s, Some(b.rr_s)));
    let mean_pd = pooled(accepted, |b| (b.pd_integral_mmhg_s, Some(b.rr_s)));
    Ok(CoronaryWindow {
        num_beats: accepted.len(),
        duration_s,
        heart_rate_bpm: 60.0 * accepted.len() as f64 / duration_s,
        apv_cm_s: pooled(accepted, |b| (b.vti_cm, Some(b.rr_s))),
        diastolic_apv_cm_s: pooled(accepted, |b| (b.dvti_cm, b.diastole_s)),
        mean_pa_mmhg: mean_pa,
        mean_pd_mmhg: mean_pd,
        pd_pa: ratio(mean_pd, mean_pa),
        mean_diastolic_pa_mmhg: pooled(accepted, |b| (b.diastolic_pa_integral_mmhg_s, b.diastole_s)),
        wfp_mean_pd_mmhg: pooled(accepted, |b| (b.wfp_pd_integral_mmhg_s, b.wfp_s)),
        wfp_mean_ipv_cm_s: pooled(accepted, |b| (b.wfp_ipv_integral_cm, b.wfp_s)),
        provenance: Provenance::with_hash(
            "time-weighted window: sum(integral over beat) / sum(RR) over accepted beats",
            settings_hash.to_owned(),
        ),
    })
}

/// One protocol state as CDFR sees it: its beats, in order, and the ECMO flow during them.
#[derive(Clone, Copy, Debug)]
pub struct CoronaryState<'a> {
    /// The consecutive accepted beats of the state's steady window, in order (all accepted beats when the state
    /// never became steady; then `steady` is false). Order matters: the bootstrap resamples blocks of them.
    pub beats: &'a [CoronaryBeat],
    /// Whether `beats` are a steady window (else the CDFR is flagged `not_steady`).
    pub steady: bool,
    /// Mean ECMO pump flow over the window, L/min, if recorded.
    pub ecmo_flow_l_min: Option<f64>,
}

/// Why a CDFR needs a second look.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "flag", rename_all = "snake_case")]
pub enum CdfrFlag {
    /// ECMO flow changed between the states by more than the limit.
    EcmoFlowChanged {
        /// Post minus baseline, L/min.
        change_l_min: f64,
    },
    /// ECMO flow was not recorded for one or both states, so its stability is unknown.
    EcmoFlowNotRecorded,
    /// Heart rate changed between the states by more than the limit.
    HeartRateChanged {
        /// (post - baseline) / baseline.
        change_fraction: f64,
    },
    /// A state never became steady (no run of consecutive accepted beats met the steady-window criteria): its
    /// APV is over all its accepted beats.
    NotSteady {
        /// The reference state was not steady.
        reference: bool,
        /// The post-unloading state was not steady.
        post: bool,
    },
    /// A state has fewer accepted beats than a steady window requires.
    FewBeats {
        /// Beats in the smaller state.
        num_beats: usize,
        /// The steady-window minimum.
        min_beats: usize,
    },
}

/// Coronary device flow reserve, the primary endpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CdfrResult {
    /// `APV(post) / APV(reference)`, time-weighted over each state's window.
    pub cdfr: f64,
    /// Bootstrap 95 % confidence interval (2.5th and 97.5th percentiles), resampling blocks of consecutive beats
    /// within each state ([`block_bootstrap_ratio`]).
    pub ci95: [f64; 2],
    /// Diastolic-APV ratio, post / reference.
    pub diastolic_apv_ratio: Option<f64>,
    /// Which reference state the denominator is.
    pub reference: CdfrReference,
    /// Reference APV, cm/s.
    pub reference_apv_cm_s: f64,
    /// Post-unloading APV, cm/s.
    pub post_apv_cm_s: f64,
    /// Accepted beats in the reference state.
    pub num_reference_beats: usize,
    /// Accepted beats in the post state.
    pub num_post_beats: usize,
    /// Heart rate of the reference state, beats/min.
    pub reference_heart_rate_bpm: f64,
    /// Heart rate of the post state, beats/min.
    pub post_heart_rate_bpm: f64,
    /// Stability flags; empty when both states were comparable.
    pub flags: Vec<CdfrFlag>,
    /// Bootstrap resamples.
    pub bootstrap_iterations: usize,
    /// Bootstrap seed.
    pub bootstrap_seed: u64,
    /// Bootstrap block length in beats, `[reference, post]` (the block setting over each state's median RR).
    #[serde(default)]
    pub bootstrap_block_beats: [usize; 2],
    /// Method, settings hash, algorithm version.
    pub provenance: Provenance,
}

/// `(sum VTI, sum RR)` of the beats with a velocity.
fn velocity_beats(beats: &[CoronaryBeat]) -> Vec<(f64, f64)> {
    beats
        .iter()
        .filter_map(|b| b.vti_cm.map(|vti| (vti, b.rr_s)))
        .filter(|&(_, rr)| rr > 0.0)
        .collect()
}

fn time_weighted(pairs: &[(f64, f64)]) -> f64 {
    let (vti, rr) = pairs
        .iter()
        .fold((0.0, 0.0), |(v, r), &(vi, ri)| (v + vi, r + ri));
    vti / rr
}

/// One state's beats for the bootstrap: `(VTI, RR)` pairs in order and the block length in beats.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockSeries {
    /// `(VTI cm, RR s)` per beat, consecutive.
    pub pairs: Vec<(f64, f64)>,
    /// Block length, beats (1 ..= number of beats).
    pub block_beats: usize,
}

impl BlockSeries {
    /// The series with blocks of about `block_s` seconds: `block_s` over the median RR, rounded, at least 1 beat
    /// and at most all of them.
    pub fn new(pairs: Vec<(f64, f64)>, block_s: f64) -> BlockSeries {
        let mut rr: Vec<f64> = pairs.iter().map(|&(_, rr)| rr).collect();
        rr.sort_by(f64::total_cmp);
        let median_rr = if rr.is_empty() {
            f64::NAN
        } else {
            quantile_sorted(&rr, 0.5)
        };
        let beats = (block_s / median_rr).round();
        let block_beats = if beats.is_finite() && beats >= 1.0 {
            (beats as usize).min(pairs.len().max(1))
        } else {
            1
        };
        BlockSeries { pairs, block_beats }
    }

    /// One circular moving-block resample's time-weighted APV: blocks of `block_beats` consecutive beats starting
    /// at uniform random beats (wrapping round the end), until as many beats as the series has.
    fn resample(&self, random: &mut SplitMix64) -> f64 {
        let n = self.pairs.len();
        let (mut vti, mut rr) = (0.0, 0.0);
        let mut taken = 0;
        while taken < n {
            let start = random.below(n);
            for k in 0..self.block_beats.min(n - taken) {
                let (v, r) = self.pairs[(start + k) % n];
                vti += v;
                rr += r;
            }
            taken += self.block_beats;
        }
        vti / rr
    }
}

/// Percentile 95 % interval of the time-weighted APV ratio `post / reference` by the circular moving-block
/// bootstrap (Politis and Romano's circular blocks; each state resampled on its own), from `seed`'s SplitMix64
/// stream: the same inputs and seed give the same interval. `[NaN, NaN]` when no resample is finite.
pub fn block_bootstrap_ratio(
    reference: &BlockSeries,
    post: &BlockSeries,
    iterations: usize,
    seed: u64,
) -> [f64; 2] {
    let mut random = SplitMix64::new(seed);
    let mut ratios: Vec<f64> = (0..iterations)
        .map(|_| {
            let reference_apv = reference.resample(&mut random);
            post.resample(&mut random) / reference_apv
        })
        .filter(|r| r.is_finite())
        .collect();
    ratios.sort_by(f64::total_cmp);
    if ratios.is_empty() {
        [f64::NAN, f64::NAN]
    } else {
        [quantile_sorted(&ratios, 0.025), quantile_sorted(&ratios, 0.975)]
    }
}

/// CDFR between a reference state and the post-unloading state, with its block-bootstrap CI and stability flags.
pub fn cdfr(
    reference: CoronaryState<'_>,
    post: CoronaryState<'_>,
    settings: &AnalysisSettings,
) -> Result<CdfrResult, Unavailable> {
    let cdfr_settings = &settings.cdfr;
    let reference_beats = BlockSeries::new(velocity_beats(reference.beats), cdfr_settings.bootstrap_block_s);
    let post_beats = BlockSeries::new(velocity_beats(post.beats), cdfr_settings.bootstrap_block_s);
    let fewest = reference_beats.pairs.len().min(post_beats.pairs.len());
    if fewest < 2 {
        return Err(Unavailable::too_few("beats with velocity in a state", fewest, 2));
    }
    let reference_apv = time_weighted(&reference_beats.pairs);
    let post_apv = time_weighted(&post_beats.pairs);
    if reference_apv <= 0.0 || !reference_apv.is_finite() {
        return Err(Unavailable::NonPositive("reference APV".into()));
    }
    let ci95 = block_bootstrap_ratio(
        &reference_beats,
        &post_beats,
        cdfr_settings.bootstrap_iterations,
        cdfr_settings.bootstrap_seed,
    );

    let rate = |beats: &[CoronaryBeat]| 60.0 * beats.len() as f64 / beats.iter().map(|b| b.rr_s).sum::<f64>();
    let (reference_hr, post_hr) = (rate(reference.beats), rate(post.beats));
    let mut flags = Vec::new();
    match (reference.ecmo_flow_l_min, post.ecmo_flow_l_min) {
        (Some(before), Some(after))
            if (after - before).abs() > cdfr_settings.ecmo_flow_change_limit_l_min =>
        {
            flags.push(CdfrFlag::EcmoFlowChanged {
                change_l_min: after - before,
            });
        }
        (Some(_), Some(_)) => {}
        _ => flags.push(CdfrFlag::EcmoFlowNotRecorded),
    }
    let hr_change = (post_hr - reference_hr) / reference_hr;
    if hr_change.abs() > cdfr_settings.heart_rate_change_limit_fraction {
        flags.push(CdfrFlag::HeartRateChanged {
            change_fraction: hr_change,
        });
    }
    if !(reference.steady && post.steady) {
        flags.push(CdfrFlag::NotSteady {
            reference: !reference.steady,
            post: !post.steady,
        });
    }
    let min_beats = settings.signal.window.min_beats;
    if fewest < min_beats {
        flags.push(CdfrFlag::FewBeats {
            num_beats: fewest,
            min_beats,
        });
    }
    let diastolic = |beats: &[CoronaryBeat]| pooled(beats, |b| (b.dvti_cm, b.diastole_s));
    Ok(CdfrResult {
        cdfr: post_apv / reference_apv,
        ci95,
        diastolic_apv_ratio: ratio(diastolic(post.beats), diastolic(reference.beats)),
        reference: cdfr_settings.reference,
        reference_apv_cm_s: reference_apv,
        post_apv_cm_s: post_apv,
        num_reference_beats: reference_beats.pairs.len(),
        num_post_beats: post_beats.pairs.len(),
        reference_heart_rate_bpm: reference_hr,
        post_heart_rate_bpm: post_hr,
        flags,
        bootstrap_iterations: cdfr_settings.bootstrap_iterations,
        bootstrap_seed: cdfr_settings.bootstrap_seed,
        bootstrap_block_beats: [reference_beats.block_beats, post_beats.block_beats],
        provenance: Provenance::new(
            &format!(
                "CDFR = time-weighted APV(post) / APV(reference) over each state's steady window; 95 % CI by \
                 circular moving-block bootstrap (blocks of {} s = {} reference / {} post beats), percentile",
                cdfr_settings.bootstrap_block_s, reference_beats.block_beats, post_beats.block_beats
            ),
            settings,
        ),
    })
}

/// Which resistance the minimal microvascular resistance is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResistanceKind {
    /// Hyperaemic microvascular resistance.
    Hmr,
    /// Wave-free-period microvascular resistance at rest.
    WfpMr,
    /// Basal microvascular resistance (whole beats, at rest).
    Bmr,
}

impl ResistanceKind {
    /// As written in the tables (`HMR`, `WFP-MR`, `BMR`).
    pub fn label(self) -> &'static str {
        match self {
            ResistanceKind::Hmr => "HMR",
            ResistanceKind::WfpMr => "WFP-MR",
            ResistanceKind::Bmr => "BMR",
        }
    }
}

/// The minimal microvascular resistance of one state, with its kind.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MinimalResistance {
    /// mmHg.s/cm.
    pub value: f64,
    /// Which resistance it is.
    pub kind: ResistanceKind,
}

/// Why a minimal-MR rule cannot be applied to a case (the choice is refused and nothing is recomputed).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MinimalRuleRefused {
    /// The rule needs a hyperaemic window in both states.
    #[error("the rule '{rule}' needs a hyperaemic coronary window in both states; {missing} has none")]
    NoHyperaemia {
        /// The rule.
        rule: &'static str,
        /// Which state lacks it.
        missing: &'static str,
    },
    /// The rule uses the wave-free period, which is not wave-free under a pumping balloon.
    #[error(
        "the rule '{rule}' uses the wave-free period, which is not wave-free under a pumping balloon (IABP case)"
    )]
    Balloon {
        /// The rule.
        rule: &'static str,
    },
}

/// Checks that `rule` can apply to a case whose states have (or lack) a hyperaemic window and whose post state
/// has (or has not) a pumping balloon.
pub fn check_minimal_rule(
    rule: MinimalResistanceChoice,
    hyperaemia: [bool; 2],
    balloon: bool,
) -> Result<(), MinimalRuleRefused> {
    if balloon && rule.uses_wave_free_period() {
        return Err(MinimalRuleRefused::Balloon { rule: rule.label() });
    }
    if rule == MinimalResistanceChoice::Hmr && !(hyperaemia[0] && hyperaemia[1]) {
        return Err(MinimalRuleRefused::NoHyperaemia {
            rule: rule.label(),
            missing: if hyperaemia[0] {
                "the post-unloading state"
            } else {
                "the baseline state"
            },
        });
    }
    Ok(())
}

/// The minimal microvascular resistance of the baseline and post states by `rule`, chosen for both states
/// together so that both are the same kind (a change is only ever between values of one kind). Each state's
/// value is `None` when its resistance of that kind could not be computed. `Err` when the rule cannot apply.
pub fn minimal_pair(
    states: [&MicrovascularResistance; 2],
    hyperaemia: [bool; 2],
    balloon: bool,
    rule: MinimalResistanceChoice,
) -> Result<(ResistanceKind, [Option<MinimalResistance>; 2]), MinimalRuleRefused> {
    check_minimal_rule(rule, hyperaemia, balloon)?;
    let both_hyperaemia = hyperaemia[0] && hyperaemia[1];
    let kind = match rule {
        MinimalResistanceChoice::Hmr => ResistanceKind::Hmr,
        MinimalResistanceChoice::HmrElseBmr if both_hyperaemia => ResistanceKind::Hmr,
        MinimalResistanceChoice::HmrElseWfpMr if both_hyperaemia => ResistanceKind::Hmr,
        MinimalResistanceChoice::HmrElseBmr | MinimalResistanceChoice::Bmr => ResistanceKind::Bmr,
        MinimalResistanceChoice::HmrElseWfpMr | MinimalResistanceChoice::WfpMr => ResistanceKind::WfpMr,
    };
    let pick = |r: &MicrovascularResistance| {
        let value = match kind {
            ResistanceKind::Hmr => r.hmr,
            ResistanceKind::WfpMr => r.wfp_mr,
            ResistanceKind::Bmr => r.bmr,
        }?;
        Some(MinimalResistance { value, kind })
    };
    Ok((kind, states.map(pick)))
}

/// Microvascular resistances, mmHg.s/cm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MicrovascularResistance {
    /// Basal: mean Pd / APV over whole beats at rest.
    pub bmr: Option<f64>,
    /// Mean Pd / mean ipv over the pooled wave-free periods at rest.
    pub wfp_mr: Option<f64>,
    /// Mean Pd / APV during adenosine hyperaemia (when recorded).
    pub hmr: Option<f64>,
    /// The secondary endpoint, by the stored choice.
    pub minimal: Option<f64>,
    /// Which resistance `minimal` is.
    pub minimal_kind: Option<ResistanceKind>,
    /// LVEDP used for the back-pressure correction, mmHg.
    pub lvedp_mmhg: Option<f64>,
    /// (mean Pd - LVEDP) / APV at rest.
    pub bmr_back_pressure_corrected: Option<f64>,
    /// (mean Pd - LVEDP) / APV in hyperaemia.
    pub hmr_back_pressure_corrected: Option<f64>,
    /// Why any value above is missing.
    pub notes: Vec<String>,
    /// Method, settings hash, algorithm version.
    pub provenance: Provenance,
}

/// BMR, WFP-MR, HMR, the minimal resistance by the stored choice, and the back-pressure-corrected variants.
/// `hyperaemia` is the adenosine window when the protocol recorded one; `lvedp_mmhg` the LVEDP of the state.
pub fn microvascular_resistance(
    rest: &CoronaryWindow,
    hyperaemia: Option<&CoronaryWindow>,
    lvedp_mmhg: Option<f64>,
    settings: &AnalysisSettings,
) -> MicrovascularResistance {
    let mut notes = Vec::new();
    let bmr = ratio(rest.mean_pd_mmhg, rest.apv_cm_s);
    let wfp_mr = ratio(rest.wfp_mean_pd_mmhg, rest.wfp_mean_ipv_cm_s);
    let hmr = hyperaemia.and_then(|h| ratio(h.mean_pd_mmhg, h.apv_cm_s));
    if bmr.is_none() {
        notes.push("BMR: needs Pd and a positive APV at rest".to_owned());
    }
    if wfp_mr.is_none() {
        notes.push("WFP-MR: needs Pd, ipv and diastole timing at rest".to_owned());
    }
    if hyperaemia.is_some() && hmr.is_none() {
        notes.push("HMR: hyperaemia recorded but Pd or APV unusable".to_owned());
    }
    // One state alone: the rule read for this state (the case's pair is chosen by `minimal_pair`).
    let (minimal, minimal_kind) = match (settings.minimal_resistance, hyperaemia) {
        (
            MinimalResistanceChoice::HmrElseBmr
            | MinimalResistanceChoice::HmrElseWfpMr
            | MinimalResistanceChoice::Hmr,
            Some(_),
        ) => (hmr, Some(ResistanceKind::Hmr)),
        (MinimalResistanceChoice::HmrElseWfpMr | MinimalResistanceChoice::WfpMr, _) => {
            (wfp_mr, Some(ResistanceKind::WfpMr))
        }
        _ => (bmr, Some(ResistanceKind::Bmr)),
    };
    let corrected = |window: Option<&CoronaryWindow>| {
        let window = window?;
        ratio(Some(window.mean_pd_mmhg? - lvedp_mmhg?), window.apv_cm_s)
    };
    if lvedp_mmhg.is_none() {
        notes.push("back-pressure correction: no LVEDP for this state".to_owned());
    }
    MicrovascularResistance {
        bmr,
        wfp_mr,
        hmr,
        minimal,
        minimal_kind: minimal.and(minimal_kind),
        lvedp_mmhg,
        bmr_back_pressure_corrected: corrected(Some(rest)),
        hmr_back_pressure_corrected: corrected(hyperaemia),
        notes,
        provenance: Provenance::new(
            "ratios of time-weighted means (whole beats; pooled wave-free periods); minimal by the case's rule \
             (setting minimal_resistance)",
            settings,
        ),
    }
}

/// Coronary flow reserve of one state: `APV(hyperaemia) / APV(rest)`, each time-weighted over its window, both in
/// the same vessel and wire position (the state's resting and adenosine windows). The reserve of the
/// microcirculation the resistances describe, which the cardiologist reads beside HMR after a hyperaemic capture.
pub fn cfr(rest: &CoronaryWindow, hyperaemia: &CoronaryWindow) -> Result<f64, Unavailable> {
    let hyperaemic = hyperaemia
        .apv_cm_s
        .ok_or_else(|| Unavailable::NotApplicable("no APV in the hyperaemic window".into()))?;
    ratio(Some(hyperaemic), rest.apv_cm_s).ok_or_else(|| Unavailable::NonPositive("resting APV".into()))
}

/// Coronary perfusion pressure: mean aortic diastolic pressure (augmented, under IABP) minus LVEDP, mmHg.
pub fn coronary_perfusion_pressure_mmhg(mean_diastolic_pa_mmhg: f64, lvedp_mmhg: f64) -> f64 {
    mean_diastolic_pa_mmhg - lvedp_mmhg
}

/// Volumetric coronary flow from APV and vessel diameter: `Q = 60 x 0.5 x APV x pi D^2 / 4`, mL/min. The 0.5
/// turns peak velocity into mean velocity for a parabolic profile.
pub fn volumetric_flow_ml_min(apv_cm_s: f64, diameter_cm: f64) -> f64 {
    60.0 * 0.5 * apv_cm_s * std::f64::consts::PI * diameter_cm * diameter_cm / 4.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AnalysisSettings {
        AnalysisSettings::default()
    }

    /// A beat of `n` samples at 1 kHz: velocity `systolic` for the first 40 %, `diastolic` after.
    fn two_level(n: usize, systolic: f64, diastolic: f64) -> Vec<f64> {
        (0..n)
            .map(|i| if i < n * 2 / 5 { systolic } else { diastolic })
            .collect()
    }

    #[test]
    fn beat_values_match_planted_levels() {
        let ipv = two_level(1000, 10.0, 30.0);
        let pa = two_level(1000, 120.0, 70.0);
        let pd = two_level(1000, 100.0, 60.0);
        let channels = CoronaryChannels {
            ipv_cm_s: Some(&ipv),
            pa_mmhg: Some(&pa),
            pd_mmhg: Some(&pd),
        };
        let span = BeatSpan {
            start: 0,
            end: 1000,
            diastole_start: Some(400),
            wave_free: Some((550, 995)),
        };
        let beat = coronary_beat(channels, span, &settings());
        let close = |a: Option<f64>, b: f64| assert!((a.unwrap() - b).abs() < 1e-9, "{a:?} vs {b}");
        close(Some(beat.rr_s), 1.0);
        close(beat.apv_cm_s, 0.4 * 10.0 + 0.6 * 30.0);
        close(beat.vti_cm, 22.0);
        close(beat.mean_pa_mmhg, 0.4 * 120.0 + 0.6 * 70.0);
        close(beat.mean_pd_mmhg, 0.4 * 100.0 + 0.6 * 60.0);
        close(beat.pd_pa, 76.0 / 90.0);
        close(beat.diastolic_apv_cm_s, 30.0);
        close(beat.dvti_cm, 18.0);
        close(beat.mean_diastolic_pa_mmhg, 70.0);
        // Wave-free period as given by the phases: 25 % into the 600 ms diastole (550) to 5 ms before the end (995).
        close(beat.wfp_s, 0.445);
        close(beat.wfp_pd_integral_mmhg_s, 60.0 * 0.445);
    }

    #[test]
    fn missing_samples_give_no_value_not_a_number() {
        let mut ipv = two_level(500, 10.0, 30.0);
        ipv[100] = f64::NAN;
        let channels = CoronaryChannels {
            ipv_cm_s: Some(&ipv),
            ..Default::default()
        };
        let beat = coronary_beat(
            channels,
            BeatSpan {
                start: 0,
                end: 500,
                diastole_start: Some(200),
                wave_free: None,
            },
            &settings(),
        );
        assert_eq!(beat.apv_cm_s, None);
        assert_eq!(beat.diastolic_apv_cm_s, Some(30.0));
        assert_eq!(beat.pd_pa, None);
        // A beat reaching past the channel gives nothing either.
        let beat = coronary_beat(
            channels,
            BeatSpan {
                start: 400,
                end: 900,
                diastole_start: None,
                wave_free: None,
            },
            &settings(),
        );
        assert_eq!(beat.vti_cm, None);
    }

    fn planted_beat(rr_s: f64, apv: f64, pd: f64) -> CoronaryBeat {
        CoronaryBeat {
            rr_s,
            vti_cm: Some(apv * rr_s),
            pd_integral_mmhg_s: Some(pd * rr_s),
            pa_integral_mmhg_s: Some((pd + 10.0) * rr_s),
            diastole_s: Some(0.6 * rr_s),
            dvti_cm: Some(1.5 * apv * 0.6 * rr_s),
            wfp_s: Some(0.3 * rr_s),
            wfp_pd_integral_mmhg_s: Some(0.9 * pd * 0.3 * rr_s),
            wfp_ipv_integral_cm: Some(1.8 * apv * 0.3 * rr_s),
            ..Default::default()
        }
    }

    #[test]
    fn window_is_time_weighted() {
        // A 2 s beat at 10 cm/s and a 1 s beat at 40 cm/s: time-weighted 20 cm/s (the beat mean would be 25).
        let beats = [planted_beat(2.0, 10.0, 80.0), planted_beat(1.0, 40.0, 80.0)];
        let window = coronary_window(&beats, "h").unwrap();
        assert!((window.apv_cm_s.unwrap() - 20.0).abs() < 1e-12);
        assert!((window.heart_rate_bpm - 40.0).abs() < 1e-12);
        assert!((window.pd_pa.unwrap() - 80.0 / 90.0).abs() < 1e-12);
        assert!(coronary_window(&[], "h").is_err());
    }

    #[test]
    fn resistances_follow_the_stated_choice() {
        let s = settings();
        let rest = coronary_window(&[planted_beat(1.0, 20.0, 80.0); 12], "h").unwrap();
        let hyper = coronary_window(&[planted_beat(1.0, 40.0, 70.0); 12], "h").unwrap();
        let without = microvascular_resistance(&rest, None, Some(25.0), &s);
        assert!((without.bmr.unwrap() - 4.0).abs() < 1e-12);
        assert!((without.wfp_mr.unwrap() - (0.9 * 80.0) / (1.8 * 20.0)).abs() < 1e-12);
        assert_eq!(without.minimal, without.bmr);
        assert_eq!(without.minimal_kind, Some(ResistanceKind::Bmr));
        assert!((without.bmr_back_pressure_corrected.unwrap() - (80.0 - 25.0) / 20.0).abs() < 1e-12);
        assert_eq!(without.hmr, None);
        let with = microvascular_resistance(&rest, Some(&hyper), Some(25.0), &s);
        assert!((with.hmr.unwrap() - 70.0 / 40.0).abs() < 1e-12);
        assert_eq!(with.minimal, with.hmr);
        assert!((with.hmr_back_pressure_corrected.unwrap() - 45.0 / 40.0).abs() < 1e-12);
        let no_lvedp = microvascular_resistance(&rest, None, None, &s);
        assert_eq!(no_lvedp.bmr_back_pressure_corrected, None);
        assert!(!no_lvedp.notes.is_empty());
    }

    #[test]
    fn cfr_is_hyperaemic_over_resting_apv_or_says_why_not() {
        let rest = coronary_window(&[planted_beat(1.0, 20.0, 80.0); 12], "h").unwrap();
        let hyper = coronary_window(&[planted_beat(1.0, 40.0, 70.0); 12], "h").unwrap();
        assert!((cfr(&rest, &hyper).unwrap() - 2.0).abs() < 1e-12);
        let still = CoronaryWindow {
            apv_cm_s: Some(0.0),
            ..rest.clone()
        };
        assert!(matches!(cfr(&still, &hyper), Err(Unavailable::NonPositive(_))));
        let no_velocity = CoronaryWindow {
            apv_cm_s: None,
            ..hyper
        };
        assert!(matches!(
            cfr(&rest, &no_velocity),
            Err(Unavailable::NotApplicable(_))
        ));
    }

    #[test]
    fn the_minimal_pair_is_one_kind_in_both_states_and_refuses_what_cannot_apply() {
        let s = settings();
        let rest = coronary_window(&[planted_beat(1.0, 20.0, 80.0); 12], "h").unwrap();
        let hyper = coronary_window(&[planted_beat(1.0, 40.0, 70.0); 12], "h").unwrap();
        let with = microvascular_resistance(&rest, Some(&hyper), None, &s);
        let without = microvascular_resistance(&rest, None, None, &s);
        // Hyperaemia in one state only: the default rule falls back to BMR in both, never HMR against BMR.
        let (kind, pair) = minimal_pair(
            [&with, &without],
            [true, false],
            false,
            MinimalResistanceChoice::HmrElseBmr,
        )
        .unwrap();
        assert_eq!(kind, ResistanceKind::Bmr);
        assert_eq!(pair.map(|m| m.unwrap().kind), [ResistanceKind::Bmr; 2]);
        assert!((pair[0].unwrap().value - 4.0).abs() < 1e-12);
        // Both with hyperaemia: HMR in both.
        let (kind, pair) = minimal_pair(
            [&with, &with],
            [true, true],
            true,
            MinimalResistanceChoice::HmrElseBmr,
        )
        .unwrap();
        assert_eq!(kind, ResistanceKind::Hmr);
        assert!((pair[1].unwrap().value - 70.0 / 40.0).abs() < 1e-12);
        // WFP-MR under a balloon, HMR without hyperaemia: refused with the reason.
        let refused = minimal_pair(
            [&without, &without],
            [false, false],
            true,
            MinimalResistanceChoice::WfpMr,
        );
        assert!(matches!(refused, Err(MinimalRuleRefused::Balloon { .. })));
        let refused = minimal_pair(
            [&with, &without],
            [true, false],
            false,
            MinimalResistanceChoice::Hmr,
        );
        assert!(refused.unwrap_err().to_string().contains("post-unloading"));
        // Without a balloon, WFP-MR is allowed.
        let (kind, _) = minimal_pair(
            [&without, &without],
            [false, false],
            false,
            MinimalResistanceChoice::HmrElseWfpMr,
        )
        .unwrap();
        assert_eq!(kind, ResistanceKind::WfpMr);
    }

    #[test]
    fn perfusion_pressure_and_volumetric_flow() {
        assert_eq!(coronary_perfusion_pressure_mmhg(62.0, 24.0), 38.0);
        // APV 20 cm/s in a 3 mm vessel: 60 * 0.5 * 20 * pi * 0.09 / 4 = 42.41 mL/min.
        assert!((volumetric_flow_ml_min(20.0, 0.3) - 13.5 * std::f64::consts::PI).abs() < 1e-12);
    }

    /// Deterministic pseudo-normal beats around `apv` (sum of uniforms), RR around 0.8 s.
    fn noisy_state(seed: u64, apv: f64, n: usize) -> Vec<CoronaryBeat> {
        let mut random = SplitMix64::new(seed);
        let mut unit = || {
            (0..12)
                .map(|_| random.below(1 << 20) as f64 / f64::from(1 << 20))
                .sum::<f64>()
                - 6.0
        };
        (0..n)
            .map(|_| planted_beat(0.8 + 0.02 * unit(), apv * (1.0 + 0.1 * unit()), 80.0))
            .collect()
    }

    #[test]
    fn cdfr_is_the_ratio_with_a_ci_containing_the_truth_and_is_reproducible() {
        let s = settings();
        let baseline = noisy_state(1, 20.0, 30);
        let post = noisy_state(2, 26.0, 30);
        let reference = CoronaryState {
            beats: &baseline,
            steady: true,
            ecmo_flow_l_min: Some(3.5),
        };
        let after = CoronaryState {
            beats: &post,
            steady: true,
            ecmo_flow_l_min: Some(3.6),
        };
        let result = cdfr(reference, after, &s).unwrap();
        let sample = time_weighted(&velocity_beats(&post)) / time_weighted(&velocity_beats(&baseline));
        assert!((result.cdfr - sample).abs() < 1e-12);
        assert!(result.ci95[0] < 1.3 && 1.3 < result.ci95[1], "{:?}", result.ci95);
        assert!(result.ci95[0] < result.cdfr && result.cdfr < result.ci95[1]);
        assert!(result.ci95[1] - result.ci95[0] < 0.2, "{:?}", result.ci95);
        assert!(result.flags.is_empty(), "{:?}", result.flags);
        assert_eq!(result.reference, CdfrReference::EcmoAloneBaseline);
        assert!((result.diastolic_apv_ratio.unwrap() - result.cdfr).abs() < 0.1);
        assert_eq!(cdfr(reference, after, &s).unwrap(), result, "same seed, same CI");
        let mut other_seed = s.clone();
        other_seed.cdfr.bootstrap_seed += 1;
        assert_ne!(cdfr(reference, after, &other_seed).unwrap().ci95, result.ci95);
    }

    #[test]
    fn cdfr_flags_unstable_states() {
        let s = settings();
        let baseline: Vec<_> = (0..12).map(|_| planted_beat(0.8, 20.0, 80.0)).collect();
        let post: Vec<_> = (0..5).map(|_| planted_beat(0.6, 25.0, 80.0)).collect();
        let result = cdfr(
            CoronaryState {
                beats: &baseline,
                steady: true,
                ecmo_flow_l_min: Some(4.0),
            },
            CoronaryState {
                beats: &post,
                steady: false,
                ecmo_flow_l_min: Some(3.0),
            },
            &s,
        )
        .unwrap();
        assert!((result.cdfr - 1.25).abs() < 1e-12);
        assert!(
            result
                .flags
                .contains(&CdfrFlag::EcmoFlowChanged { change_l_min: -1.0 })
        );
        assert!(
            result
                .flags
                .iter()
                .any(|f| matches!(f, CdfrFlag::HeartRateChanged { .. }))
        );
        assert!(result.flags.contains(&CdfrFlag::FewBeats {
            num_beats: 5,
            min_beats: 10
        }));
        assert!(result.flags.contains(&CdfrFlag::NotSteady {
            reference: false,
            post: true
        }));
        let unknown = cdfr(
            CoronaryState {
                beats: &baseline,
                steady: true,
                ecmo_flow_l_min: None,
            },
            CoronaryState {
                beats: &baseline,
                steady: true,
                ecmo_flow_l_min: Some(3.0),
            },
            &s,
        )
        .unwrap();
        assert_eq!(unknown.flags, vec![CdfrFlag::EcmoFlowNotRecorded]);
        assert!(
            cdfr(
                CoronaryState {
                    beats: &baseline[..1],
                    steady: true,
                    ecmo_flow_l_min: None
                },
                unknown_state(&post),
                &s
            )
            .is_err()
        );
    }

    /// `n` beats of RR 0.5 s whose APV follows the AR(1) process `x[k] = phi x[k-1] + e[k]` around `apv` (e
    /// uniform, seeded): for `phi` = 0.8 the variance of a mean of many beats is `(1 + phi) / (1 - phi)` = 9 times
    /// what independent beats give, so an honest interval is about 3 times wider than a single-beat one.
    fn ar1_state(seed: u64, apv: f64, phi: f64, n: usize) -> Vec<(f64, f64)> {
        let mut random = SplitMix64::new(seed);
        let mut x = 0.0;
        (0..n)
            .map(|_| {
                let e = random.below(1 << 20) as f64 / f64::from(1 << 20) - 0.5;
                x = phi * x + e;
                (apv * (1.0 + 0.2 * x) * 0.5, 0.5)
            })
            .collect()
    }

    #[test]
    fn the_block_bootstrap_is_wider_than_the_single_beat_one_on_correlated_beats() {
        let s = settings();
        let (iterations, seed) = (s.cdfr.bootstrap_iterations, s.cdfr.bootstrap_seed);
        let (mut block_sum, mut single_sum) = (0.0, 0.0);
        for run in 0..10 {
            let reference = ar1_state(2 * run + 1, 20.0, 0.8, 60);
            let post = ar1_state(2 * run + 2, 26.0, 0.8, 60);
            let blocks = [
                BlockSeries::new(reference.clone(), s.cdfr.bootstrap_block_s),
                BlockSeries::new(post.clone(), s.cdfr.bootstrap_block_s),
            ];
            assert_eq!(blocks[0].block_beats, 10, "5 s of 0.5 s beats");
            let singles = [BlockSeries::new(reference, 0.0), BlockSeries::new(post, 0.0)];
            assert_eq!(singles[0].block_beats, 1);
            let block = block_bootstrap_ratio(&blocks[0], &blocks[1], iterations, seed);
            let single = block_bootstrap_ratio(&singles[0], &singles[1], iterations, seed);
            assert!(
                block[1] - block[0] > single[1] - single[0],
                "{block:?} {single:?}"
            );
            block_sum += block[1] - block[0];
            single_sum += single[1] - single[0];
        }
        // Blocks of 10 among 60 beats recover most of the factor 3 (a block bootstrap underestimates slightly).
        assert!(block_sum > 2.0 * single_sum, "{block_sum} vs {single_sum}");
        // Uncorrelated beats (phi = 0): the two agree within resampling noise.
        let white = |seed| BlockSeries::new(ar1_state(seed, 20.0, 0.0, 60), 5.0);
        let white_single = |seed| BlockSeries::new(ar1_state(seed, 20.0, 0.0, 60), 0.0);
        let block = block_bootstrap_ratio(&white(1), &white(2), iterations, seed);
        let single = block_bootstrap_ratio(&white_single(1), &white_single(2), iterations, seed);
        let ratio = (block[1] - block[0]) / (single[1] - single[0]);
        assert!((0.7..1.3).contains(&ratio), "{ratio}");
    }

    #[test]
    fn the_block_bootstrap_of_constant_beats_has_zero_width_and_is_reproducible() {
        let constant = |apv: f64| BlockSeries::new(vec![(apv * 0.8, 0.8); 25], 5.0);
        let ci = block_bootstrap_ratio(&constant(20.0), &constant(25.0), 500, 7);
        assert!(
            (ci[0] - 1.25).abs() < 1e-12 && (ci[1] - 1.25).abs() < 1e-12,
            "{ci:?}"
        );
        let reference = BlockSeries::new(ar1_state(3, 20.0, 0.8, 40), 5.0);
        let post = BlockSeries::new(ar1_state(4, 24.0, 0.8, 40), 5.0);
        let ci = block_bootstrap_ratio(&reference, &post, 500, 7);
        assert_eq!(
            block_bootstrap_ratio(&reference, &post, 500, 7),
            ci,
            "same seed, same CI"
        );
        assert_ne!(block_bootstrap_ratio(&reference, &post, 500, 8), ci);
        // The block length never exceeds the beats (a short state is one block) and is at least one beat.
        assert_eq!(BlockSeries::new(vec![(1.0, 0.5); 4], 5.0).block_beats, 4);
        assert_eq!(BlockSeries::new(vec![(1.0, 2.0); 4], 0.5).block_beats, 1);
    }

    fn unknown_state(beats: &[CoronaryBeat]) -> CoronaryState<'_> {
        CoronaryState {
            beats,
            steady: true,
            ecmo_flow_l_min: None,
        }
    }
}
