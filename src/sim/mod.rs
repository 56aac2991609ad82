//! The simulated patient: a closed-loop lumped model of the circulation (Regazzoni et al. 2020) in cardiogenic
//! shock on VA-ECMO, with an optional IABP or Impella, an instrumented coronary artery, an ECG and sensor
//! models. It is the workstation's default source, the trainer's patient and the analysis code's ground truth.
//!
//! Pure and deterministic: the output depends only on the scenario, the seed, the sensor level and the controls
//! applied, never on how the run is split into [`Simulator::generate`] calls. The equations are integrated
//! with classical RK4 at 0.5 ms and reported at 1 kHz.
//!
//! Map: [`patient`] (parameters and presets), [`circulation`] (equations and the RK4 step), [`rhythm`] (beat
//! clock, ventilation), [`devices`] (ECMO, Impella, IABP), [`coronary`] (the wired coronary artery), [`ecg`],
//! [`sensors`] (the measurement chain), [`rng`] (the seeded generator), [`scenario`] (the named set-ups), [`truth`]
//! (per-beat truth). The rhythm (sinus, atrial fibrillation, ventricular ectopics, pacing: [`Rhythm`]) is part of
//! the set-up; its draws come from the seed, so a seed fixes every RR.

pub mod circulation;
pub mod coronary;
pub mod devices;
pub mod ecg;
pub mod patient;
pub mod rhythm;
pub mod rng;
pub mod scenario;
pub mod sensors;
pub mod truth;

use crate::model::{Block, ChannelSpec, SignalKind, SourceSpec, UnloadingDevice};

use circulation::{Aux, Drive, Inputs, Model, State, ix, rk4_step};
use devices::{Ecmo, HqLine, Iabp, Impella};
pub use rhythm::Rhythm;
use rhythm::{BeatClock, BeatKind, RhythmGenerator, Ventilation};
pub use scenario::{ScenarioInfo, Setup, scenarios};
use sensors::Sensors;
pub use sensors::{NUM_CHANNELS, SensorCalibration, SensorLevel};

/// Samples per second of every output channel.
pub const OUTPUT_RATE_HZ: f64 = 1000.0;
/// Integration steps per output sample (RK4 at 0.5 ms).
const SUBSTEPS_PER_SAMPLE: usize = 2;
/// Integration step, s.
const DT_S: f64 = 1.0 / (OUTPUT_RATE_HZ * SUBSTEPS_PER_SAMPLE as f64);
/// Time constants of adenosine hyperaemia coming on and wearing off, s.
const HYPERAEMIA_ONSET_S: f64 = 5.0;
const HYPERAEMIA_OFFSET_S: f64 = 15.0;

/// What can go wrong when making a simulator.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SimError {
    /// No scenario has this name.
    #[error("unknown scenario `{0}`; known scenarios: {list}", list = scenario::names().join(", "))]
    UnknownScenario(String),
}

/// A change applied to the running patient (the GUI's demo mode, the protocol, the trainer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Control {
    /// New VA-ECMO flow target, L/min; the pump ramps to it over seconds.
    EcmoFlow {
        /// Target flow, L/min (negative taken as 0).
        target_l_min: f64,
    },
    /// Insert, change or remove the unloading device.
    Device(UnloadingDevice),
    /// Adenosine hyperaemia on or off (comes on over a few seconds, wears off more slowly).
    Hyperaemia(bool),
    /// A preload reduction: an inferior vena cava occlusion held for about 10 beats, then released.
    PreloadReduction,
    /// Mechanical ventilation (respiratory swings of intrathoracic pressure and heart rate) on or off.
    Ventilation(bool),
    /// The pressure transducers' stopcocks turned to air (true: pa, pd and lvp read atmosphere, i.e. their zero
    /// offsets, drift and noise, what a zero against atmosphere measures) or back to the patient (false).
    OpenToAir(bool),
}

/// Ground truth at one instant, for tests and the trainer (never shown as a measurement).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Truth {
    /// Time since the start of the run, s.
    pub time_s: f64,
    /// R waves (LV contraction onsets) since the start of the run.
    pub beat_number: u64,
    /// What started the current beat (sinus, AF, ectopic, paced).
    pub beat_kind: BeatKind,
    /// Heart rate of the current beat, beats/min.
    pub heart_rate_bpm: f64,
    /// LV volume, mL.
    pub lv_volume_ml: f64,
    /// LV pressure, mmHg.
    pub lv_pressure_mmhg: f64,
    /// LV activation, 0 (relaxed) ... 1 (peak contraction).
    pub lv_activation: f64,
    /// Left atrial pressure, mmHg.
    pub la_pressure_mmhg: f64,
    /// Ascending-aortic pressure (Pa), mmHg.
    pub aortic_pressure_mmhg: f64,
    /// Descending-aortic pressure (at the balloon and the ECMO return), mmHg.
    pub descending_aortic_pressure_mmhg: f64,
    /// Distal coronary pressure (Pd), mmHg.
    pub distal_pressure_mmhg: f64,
    /// Slope of the LV ESPVR at V0 (EA + passive slope at V0; exact and constant for healthy), mmHg/mL.
    pub lv_ees_mmhg_per_ml: f64,
    /// LV unstressed volume V0, mL.
    pub lv_v0_ml: f64,
    /// Coronary flow in the wired artery, mL/min.
    pub coronary_flow_ml_min: f64,
    /// Cross-sectional mean coronary velocity, cm/s.
    pub coronary_mean_velocity_cm_s: f64,
    /// Peak (centreline) coronary velocity = 2 x mean velocity (ENDPOINTS.md, profile factor 0.5), cm/s.
    pub coronary_peak_velocity_cm_s: f64,
    /// Whether the aortic valve is open (LV pressure above aortic pressure).
    pub aortic_valve_open: bool,
    /// Whether the mitral valve is open.
    pub mitral_valve_open: bool,
    /// ECMO flow actually pumped, L/min.
    pub ecmo_flow_l_min: f64,
    /// Impella flow (negative: backflow), L/min.
    pub impella_flow_l_min: f64,
    /// Whether the Impella inlet is being sucked shut (flow collapsing because the LV is nearly empty).
    pub impella_suction: bool,
    /// IABP balloon volume, mL.
    pub iabp_volume_ml: f64,
    /// Intrathoracic pressure from ventilation, mmHg.
    pub intrathoracic_pressure_mmhg: f64,
    /// Whether an IVC occlusion is in progress.
    pub preload_reduction: bool,
    /// The noise-free ECG, mV.
    pub ecg_mv: f64,
}

/// One output sample: what the channels show and what is true.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Sample index since the start of the run.
    pub index: u64,
    /// Channel values in [`Simulator::source_spec`] order, as the sensors report them.
    pub measured: [f64; NUM_CHANNELS],
    /// The truth at this sample.
    pub truth: Truth,
}

/// An IVC occlusion: the vena cava is narrowed over 0.3 s, held, and released over 1 s.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Occlusion {
    start_s: f64,
    hold_s: f64,
}

/// Factor on venous resistance and inertance at full occlusion.
const OCCLUSION_FACTOR: f64 = 20.0;
const OCCLUSION_RAMP_IN_S: f64 = 0.3;
const OCCLUSION_RAMP_OUT_S: f64 = 1.0;
const OCCLUSION_BEATS: f64 = 10.0;

impl Occlusion {
    fn obstruction(&self, t_s: f64) -> f64 {
        let x = t_s - self.start_s;
        let closing = devices::smoothstep(x / OCCLUSION_RAMP_IN_S);
        let opening = devices::smoothstep((x - OCCLUSION_RAMP_IN_S - self.hold_s) / OCCLUSION_RAMP_OUT_S);
        1.0 + (OCCLUSION_FACTOR - 1.0) * closing * (1.0 - opening)
    }

    fn is_over(&self, t_s: f64) -> bool {
        t_s >= self.start_s + OCCLUSION_RAMP_IN_S + self.hold_s + OCCLUSION_RAMP_OUT_S
    }
}

/// The source id of the simulated patient's channels (a case file with a source of this id holds a simulated
/// patient, whichever way it was recorded).
pub const SOURCE_ID: &str = "sim";

/// The simulated patient and its sensors.
#[derive(Clone, Debug)]
pub struct Simulator {
    model: Model,
    state: State,
    clock: BeatClock,
    rhythm: RhythmGenerator,
    ventilation: Option<Ventilation>,
    ecmo: Ecmo,
    impella: Impella,
    iabp: Iabp,
    hyperaemia: bool,
    microvascular_scale: f64,
    occlusion: Option<Occlusion>,
    sensors: Sensors,
    /// Samples simulated before t = 0 (settling the patient).
    origin_sample: u64,
    /// R waves before t = 0.
    origin_r_waves: u64,
    /// Samples simulated in total (warm-up included).
    num_steps: u64,
    aortic_valve_was_open: bool,
    timed_controls: Vec<(u64, Control)>,
    /// The drive at the end of the last sample, for the sample that starts there (none after a control).
    next_drive: Option<Drive>,
}

/// What the beat clock says about one instant, taken before the step that leaves it.
#[derive(Clone, Copy, Debug)]
struct BeatSnapshot {
    beat_start_s: f64,
    r_peaks: [(f64, BeatKind); 3],
    rr_s: f64,
    r_waves: u64,
    kind: BeatKind,
}

impl Simulator {
    /// The patient of scenario `scenario` (see [`scenarios`]), with sensor noise drawn from `seed`.
    pub fn new(scenario: &str, seed: u64, sensors: SensorLevel) -> Result<Simulator, SimError> {
        let setup =
            scenario::setup(scenario).ok_or_else(|| SimError::UnknownScenario(scenario.to_owned()))?;
        Ok(Simulator::from_setup(setup, seed, sensors))
    }

    /// A patient set up as `setup` says (a scenario's set-up, or one made for a test or a lesson).
    pub fn from_setup(setup: scenario::Setup, seed: u64, sensors: SensorLevel) -> Simulator {
        let model = Model::new(setup.patient);
        let rhythm = RhythmGenerator::new(setup.rhythm, seed);
        let (kind, rr_s) = rhythm.first(model.patient.rr_s());
        let mut sim = Simulator {
            state: model.initial_state(),
            clock: BeatClock::new(0.0, rr_s, kind),
            rhythm,
            ventilation: None,
            ecmo: Ecmo::running_at(setup.ecmo_l_min),
            impella: Impella::running(HqLine::OFF),
            iabp: Iabp::idle(),
            hyperaemia: false,
            microvascular_scale: 1.0,
            occlusion: None,
            sensors: Sensors::new(sensors, seed, OUTPUT_RATE_HZ),
            origin_sample: 0,
            origin_r_waves: 0,
            num_steps: 0,
            aortic_valve_was_open: false,
            timed_controls: Vec::new(),
            next_drive: None,
            model,
        };
        sim.control(Control::Device(setup.device));
        sim.control(Control::Hyperaemia(setup.hyperaemia));
        sim.control(Control::Ventilation(setup.ventilation));
        // Settle: devices at their set points at once, then run the warm-up beats unobserved.
        sim.impella.tick(f64::INFINITY);
        sim.microvascular_scale = sim.microvascular_target();
        let warmup_samples =
            (f64::from(sim.model.patient.warmup_beats) * rr_s * OUTPUT_RATE_HZ).round() as u64;
        for _ in 0..warmup_samples {
            sim.step();
        }
        sim.origin_sample = sim.num_steps;
        sim.origin_r_waves = sim.snapshot(sim.physics_time_s()).r_waves;
        sim.timed_controls = setup
            .timed
            .iter()
            .map(|&(time_s, control)| ((time_s * OUTPUT_RATE_HZ).round() as u64, control))
            .collect();
        sim
    }

    /// The channels: id [`SOURCE_ID`], 1 kHz, ecg (mV), pa, pd (mmHg), ipv (cm/s), lvp (mmHg), lvv (mL),
    /// ecmo_flow (L/min).
    pub fn source_spec(&self) -> SourceSpec {
        SourceSpec {
            id: SOURCE_ID.to_owned(),
            label: "Simulated patient".to_owned(),
            sample_rate_hz: OUTPUT_RATE_HZ,
            channels: CHANNEL_KINDS.iter().map(|&kind| ChannelSpec::of(kind)).collect(),
        }
    }

    /// The next `num_samples` samples of every channel, as the sensors report them; `first_sample` continues
    /// from the previous call (0 at the start).
    pub fn generate(&mut self, num_samples: usize) -> Block {
        let first_sample = self.num_steps - self.origin_sample;
        let mut channels: Vec<Vec<f32>> = (0..NUM_CHANNELS)
            .map(|_| Vec::with_capacity(num_samples))
            .collect();
        self.advance(num_samples, |sample| {
            for (channel, value) in channels.iter_mut().zip(sample.measured) {
                channel.push(value as f32);
            }
        });
        Block {
            first_sample,
            channels,
        }
    }

    /// Runs `num_samples` samples, handing each (measured channels in f64 and the truth) to `visit`. The same
    /// stepping as [`Simulator::generate`]; for the CSV writer and for tests.
    pub fn advance(&mut self, num_samples: usize, mut visit: impl FnMut(&Sample)) {
        for _ in 0..num_samples {
            let index = self.num_steps - self.origin_sample;
            if let Some(position) = self.timed_controls.iter().position(|&(at, _)| at <= index) {
                let (_, control) = self.timed_controls.remove(position);
                self.control(control);
            }
            let (truth, true_channels) = self.step();
            let measured = self
                .sensors
                .measure(truth.time_s, 1.0 / OUTPUT_RATE_HZ, true_channels);
            visit(&Sample {
                index,
                measured,
                truth,
            });
        }
    }

    /// Applies a change to the running patient, from the next sample on.
    pub fn control(&mut self, control: Control) {
        let now_s = self.physics_time_s();
        self.next_drive = None;
        match control {
            Control::EcmoFlow { target_l_min } => self.ecmo.set_target(target_l_min),
            Control::Device(device) => {
                let (iabp, impella) = match device {
                    UnloadingDevice::None => (None, HqLine::OFF),
                    UnloadingDevice::Iabp(settings) => (Some(settings), HqLine::OFF),
                    UnloadingDevice::Impella(settings) => (None, HqLine::of(&settings)),
                };
                if iabp.is_none() && self.iabp.settings().is_some() {
                    self.model.merge_balloon_segment(&mut self.state);
                }
                self.iabp.set(iabp, now_s);
                if self.impella.line() != impella {
                    self.impella.set_line(impella);
                }
            }
            Control::Hyperaemia(on) => self.hyperaemia = on,
            Control::OpenToAir(open) => self.sensors.open_to_air = open,
            Control::PreloadReduction => {
                let hold_s = OCCLUSION_BEATS * self.clock.rr_s();
                self.occlusion = Some(Occlusion {
                    start_s: now_s,
                    hold_s,
                });
            }
            Control::Ventilation(true) => {
                if !self
                    .ventilation
                    .as_ref()
                    .is_some_and(|vent| vent.is_running(now_s))
                {
                    self.ventilation = Some(Ventilation::starting(now_s));
                }
            }
            Control::Ventilation(false) => {
                if let Some(vent) = &mut self.ventilation {
                    vent.stop(now_s);
                }
            }
        }
    }

    /// Time since the start of the run, s (the time of the next sample).
    pub fn time_s(&self) -> f64 {
        (self.num_steps - self.origin_sample) as f64 / OUTPUT_RATE_HZ
    }

    /// The truth now (at the next sample's time).
    pub fn truth(&self) -> Truth {
        let t_s = self.physics_time_s();
        let mut drive = Drive::default();
        self.drive_into(t_s, &mut drive);
        let (_, aux) = self.model.derivatives(&self.inputs(t_s), &drive, &self.state);
        self.truth_at(t_s, &self.state, &drive, &aux, &self.snapshot(t_s))
    }

    /// The sensor calibration a lab would have to find now.
    pub fn calibration(&self) -> SensorCalibration {
        self.sensors.calibration(self.time_s())
    }

    /// The patient's equations and parameters.
    pub fn model(&self) -> &Model {
        &self.model
    }

    fn physics_time_s(&self) -> f64 {
        self.num_steps as f64 / OUTPUT_RATE_HZ
    }

    /// One output sample: integrates to the next sample time and returns the truth and the true channel values
    /// at the current one. The only stepping function.
    fn step(&mut self) -> (Truth, [f64; NUM_CHANNELS]) {
        let t0_s = self.physics_time_s();
        let inputs = self.inputs(t0_s);
        let snapshot = self.snapshot(t0_s);
        let state0 = self.state;
        // The drive at every half substep of the sample, each computed once (a new beat starting within the
        // sample changes the clock's bookkeeping, not the drive it gives for a time); the first is the last of
        // the sample before (the same instant, to rounding of its time) unless a control came between.
        // Each written in place: a returned drive was copied into the array by loads wider than its stores,
        // which stalled on store forwarding (1-2 % of the run).
        let mut drives = [Drive::default(); 2 * SUBSTEPS_PER_SAMPLE + 1];
        match self.next_drive.take() {
            Some(first) => drives[0] = first,
            None => self.drive_into(t0_s, &mut drives[0]),
        }
        for (i, drive) in drives.iter_mut().enumerate().skip(1) {
            self.drive_into(t0_s + 0.5 * i as f64 * DT_S, drive);
        }
        self.next_drive = Some(drives[2 * SUBSTEPS_PER_SAMPLE]);
        let mut aux0 = Aux::default();
        for substep in 0..SUBSTEPS_PER_SAMPLE {
            let [start, mid, end] = [
                &drives[2 * substep],
                &drives[2 * substep + 1],
                &drives[2 * substep + 2],
            ];
            let (next, aux) = rk4_step(&self.model, &inputs, [start, mid, end], &self.state, DT_S);
            if substep == 0 {
                aux0 = aux;
            }
            self.state = next;
            self.advance_clock(t0_s + (substep + 1) as f64 * DT_S);
        }
        let drive0 = drives[0];
        self.num_steps += 1;

        let truth = self.truth_at(t0_s, &state0, &drive0, &aux0, &snapshot);
        self.after_sample(t0_s, &truth, &snapshot);
        let channels = [
            truth.ecg_mv,
            truth.aortic_pressure_mmhg,
            truth.distal_pressure_mmhg,
            truth.coronary_peak_velocity_cm_s,
            truth.lv_pressure_mmhg,
            truth.lv_volume_ml,
            truth.ecmo_flow_l_min,
        ];
        (truth, channels)
    }

    /// Beat events, valve-closure timing for the balloon, and the slow ramps of devices and manoeuvres.
    fn after_sample(&mut self, t_s: f64, truth: &Truth, snapshot: &BeatSnapshot) {
        if self.aortic_valve_was_open && !truth.aortic_valve_open {
            self.iabp.aortic_valve_closed(t_s, snapshot.beat_start_s);
        }
        self.aortic_valve_was_open = truth.aortic_valve_open;
        let dt_s = 1.0 / OUTPUT_RATE_HZ;
        self.ecmo.tick(dt_s);
        self.impella.tick(dt_s);
        let tau_s = if self.hyperaemia {
            HYPERAEMIA_ONSET_S
        } else {
            HYPERAEMIA_OFFSET_S
        };
        self.microvascular_scale += (self.microvascular_target() - self.microvascular_scale) * (dt_s / tau_s);
        if self.occlusion.is_some_and(|occlusion| occlusion.is_over(t_s)) {
            self.occlusion = None;
        }
    }

    fn advance_clock(&mut self, t_s: f64) {
        if !self.clock.is_due(t_s) {
            return;
        }
        let rest_rr_s = self.model.patient.rr_s();
        let sinus_rr_s = match &self.ventilation {
            Some(vent) => vent.modulated_rr_s(self.model.twitches().1, rest_rr_s, t_s),
            None => rest_rr_s,
        };
        // One draw per beat, in beat order: the rhythm does not depend on how the run is chunked.
        let following = self.rhythm.next(sinus_rr_s);
        if self.clock.advance(t_s, following) {
            // A new beat may schedule an inflation that is already under way (a large early offset).
            self.next_drive = None;
            let lv = &self.model.patient.lv;
            self.iabp.beat_started(
                self.clock.num_beats_started(),
                self.clock.start_s(),
                self.clock.rr_s(),
                lv.onset_s,
                lv.contraction_s,
            );
        }
    }

    fn microvascular_target(&self) -> f64 {
        if self.hyperaemia {
            self.model.patient.coronary.hyperaemic_resistance_ratio
        } else {
            1.0
        }
    }

    fn inputs(&self, t_s: f64) -> Inputs {
        let impella = self.impella.line();
        Inputs {
            ecmo_l_min: self.ecmo.set_flow_l_min(),
            impella: (impella != HqLine::OFF).then_some(impella),
            venous_obstruction: self.occlusion.map_or(1.0, |occlusion| occlusion.obstruction(t_s)),
            microvascular_scale: self.microvascular_scale,
            balloon_catheter: self.iabp.settings().is_some(),
        }
    }

    /// The drive at `t_s`, into `out`.
    fn drive_into(&self, t_s: f64, out: &mut Drive) {
        let ([la, lv, ra, rv], shape) = self.model.twitches();
        let at = self.clock.at(t_s);
        let activation = |twitch, atrial| at.activation(twitch, shape, atrial);
        let (la_act, lv_act) = (activation(la, true), activation(lv, false));
        // Chambers that twitch alike share the value.
        let [ra_as_la, rv_as_lv] = self.model.twitches_alike();
        let ra_act = if ra_as_la { la_act } else { activation(ra, true) };
        let rv_act = if rv_as_lv { lv_act } else { activation(rv, false) };
        *out = Drive {
            activation: [la_act, lv_act, ra_act, rv_act],
            tissue_activation: activation(self.model.tissue_twitch(), false),
            intrathoracic_mmhg: self
                .ventilation
                .as_ref()
                .map_or(0.0, |vent| vent.intrathoracic_mmhg(shape, t_s)),
            balloon_ml: self.iabp.volume_ml(t_s),
        }
    }

    fn snapshot(&self, t_s: f64) -> BeatSnapshot {
        let onset_s = self.model.patient.lv.onset_s;
        let start_s = self.clock.start_s();
        let r_s = start_s + onset_s;
        let [prev, current, next] = self.clock.kinds();
        BeatSnapshot {
            beat_start_s: start_s,
            r_peaks: [
                (r_s - self.clock.prev_rr_s(), prev),
                (r_s, current),
                (r_s + self.clock.rr_s(), next),
            ],
            rr_s: self.clock.rr_s(),
            r_waves: self.clock.num_beats_started() - u64::from(t_s < r_s),
            kind: if t_s < r_s { prev } else { current },
        }
    }

    fn truth_at(&self, t_s: f64, y: &State, drive: &Drive, aux: &Aux, snapshot: &BeatSnapshot) -> Truth {
        let coronary = &self.model.patient.coronary;
        let mean_velocity_cm_s = aux.coronary_ml_s / coronary.area_cm2();
        let per_min = 1.0 / devices::ML_S_PER_L_MIN;
        Truth {
            time_s: t_s - self.origin_sample as f64 / OUTPUT_RATE_HZ,
            beat_number: snapshot.r_waves.saturating_sub(self.origin_r_waves),
            beat_kind: snapshot.kind,
            heart_rate_bpm: 60.0 / snapshot.rr_s,
            lv_volume_ml: y[ix::V_LV],
            lv_pressure_mmhg: aux.chamber_mmhg[1],
            lv_activation: drive.activation[1],
            la_pressure_mmhg: aux.chamber_mmhg[0],
            aortic_pressure_mmhg: aux.ao_mmhg,
            descending_aortic_pressure_mmhg: aux.da_mmhg,
            distal_pressure_mmhg: aux.pd_mmhg,
            lv_ees_mmhg_per_ml: self.model.lv_ees_mmhg_per_ml(),
            lv_v0_ml: self.model.patient.lv.v0_ml,
            coronary_flow_ml_min: aux.coronary_ml_s * 60.0,
            coronary_mean_velocity_cm_s: mean_velocity_cm_s,
            coronary_peak_velocity_cm_s: 2.0 * mean_velocity_cm_s,
            aortic_valve_open: aux.chamber_mmhg[1] > aux.ao_mmhg,
            mitral_valve_open: aux.chamber_mmhg[0] > aux.chamber_mmhg[1],
            ecmo_flow_l_min: aux.ecmo_ml_s * per_min,
            impella_flow_l_min: aux.impella_ml_s * per_min,
            impella_suction: aux.impella_inflow < 0.99,
            iabp_volume_ml: drive.balloon_ml,
            intrathoracic_pressure_mmhg: drive.intrathoracic_mmhg,
            preload_reduction: self.occlusion.is_some(),
            ecg_mv: ecg::ecg_mv(t_s, snapshot.r_peaks, snapshot.rr_s)
                + if matches!(self.rhythm.rhythm(), Rhythm::AtrialFibrillation { .. }) {
                    ecg::fibrillatory_mv(t_s)
                } else {
                    0.0
                },
        }
    }
}

/// The channels, in block order.
const CHANNEL_KINDS: [SignalKind; NUM_CHANNELS] = [
    SignalKind::Ecg,
    SignalKind::Pa,
    SignalKind::Pd,
    SignalKind::Ipv,
    SignalKind::Lvp,
    SignalKind::Lvv,
    SignalKind::EcmoFlow,
];
