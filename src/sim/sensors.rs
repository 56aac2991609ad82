//! The measurement chain between the simulated patient and the channels: what a catheter lab's transducers and
//! consoles do to the true signals. `Clean` passes the truth through; `Realistic` adds, per channel:
//!
//! - pressures: a zero offset, a slow linear drift and white noise; the aortic pressure (a fluid-filled guide
//!   catheter) also goes through an underdamped second-order transducer response (the wire and the
//!   conductance catheter carry micromanometers, whose response is flat over the band);
//! - LV volume (conductance catheter, uncalibrated): `V_meas = alpha V_true + Vp`, in the convention of
//!   ENDPOINTS.md section 5 (`V = (1/alpha)(V_meas - Vp)` calibrates it), with a drifting parallel volume Vp
//!   and noise;
//! - Doppler peak velocity: multiplicative envelope noise, a noise floor, a 40 Hz tracking low-pass and
//!   dropouts (the envelope falls to the noise floor for 80-400 ms, about every 20 s);
//! - ECG: noise, mains hum and baseline wander; ECMO flow: flowmeter noise.
//!
//! All parameters are drawn from the seed when the sensors are made, so a seed fixes every offset and gain.

use super::rhythm::HalfCosine;
use super::rng::Rng;

/// Channels, in `Simulator::source_spec` order.
pub const NUM_CHANNELS: usize = 7;

/// How faithfully the sensors report the patient.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SensorLevel {
    /// The exact truth on every channel.
    Clean,
    /// Offsets, drift, damping, noise, uncalibrated volume and Doppler dropouts, as in a real lab.
    #[default]
    Realistic,
}

/// The sensor parameters a calibration should recover (ground truth for tests of calibration code).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SensorCalibration {
    /// Zero offsets of pa, pd, lvp at the time asked, mmHg.
    pub pressure_offsets_mmhg: [f64; 3],
    /// Conductance slope factor alpha (`V_meas = alpha V_true + Vp`).
    pub volume_alpha: f64,
    /// Parallel-conductance volume Vp at the time asked, mL.
    pub parallel_volume_ml: f64,
}

/// A pressure transducer: offset, drift and noise.
#[derive(Clone, Debug, PartialEq)]
struct PressureChannel {
    offset_mmhg: f64,
    drift_mmhg_per_s: f64,
    noise_mmhg: f64,
}

impl PressureChannel {
    fn draw(
        rng: &mut Rng,
        offset_sd_mmhg: f64,
        drift_sd_mmhg_per_min: f64,
        noise_mmhg: f64,
    ) -> PressureChannel {
        PressureChannel {
            offset_mmhg: offset_sd_mmhg * rng.normal(),
            drift_mmhg_per_s: drift_sd_mmhg_per_min * rng.normal() / 60.0,
            noise_mmhg,
        }
    }

    fn offset_at(&self, t_s: f64) -> f64 {
        self.offset_mmhg + self.drift_mmhg_per_s * t_s
    }

    fn measure(&self, rng: &mut Rng, t_s: f64, value: f64) -> f64 {
        value + self.offset_at(t_s) + self.noise_mmhg * rng.normal()
    }
}

/// Second-order low-pass (a fluid-filled catheter and transducer), bilinear transform with pre-warping.
#[derive(Clone, Debug, PartialEq)]
struct SecondOrder {
    b0: f64,
    a1: f64,
    a2: f64,
    x: [f64; 2],
    y: [f64; 2],
    primed: bool,
}

impl SecondOrder {
    fn new(natural_hz: f64, damping: f64, sample_rate_hz: f64) -> SecondOrder {
        let w = std::f64::consts::TAU * natural_hz;
        let k = w / (w / (2.0 * sample_rate_hz)).tan();
        let den = k * k + 2.0 * damping * w * k + w * w;
        SecondOrder {
            b0: w * w / den,
            a1: 2.0 * (w * w - k * k) / den,
            a2: (k * k - 2.0 * damping * w * k + w * w) / den,
            x: [0.0; 2],
            y: [0.0; 2],
            primed: false,
        }
    }

    fn filter(&mut self, x: f64) -> f64 {
        if !self.primed {
            // Start settled at the first value instead of ringing up from zero.
            self.x = [x; 2];
            self.y = [x; 2];
            self.primed = true;
        }
        let y = self.b0 * (x + 2.0 * self.x[0] + self.x[1]) - self.a1 * self.y[0] - self.a2 * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

/// First-order low-pass.
#[derive(Clone, Debug, PartialEq)]
struct FirstOrder {
    alpha: f64,
    y: Option<f64>,
}

impl FirstOrder {
    fn new(cutoff_hz: f64, sample_rate_hz: f64) -> FirstOrder {
        FirstOrder {
            alpha: 1.0 - (-std::f64::consts::TAU * cutoff_hz / sample_rate_hz).exp(),
            y: None,
        }
    }

    fn filter(&mut self, x: f64) -> f64 {
        let y = self.y.map_or(x, |y| y + self.alpha * (x - y));
        self.y = Some(y);
        y
    }
}

/// Average time between Doppler dropouts, s, and their length range, s.
const DROPOUT_MEAN_INTERVAL_S: f64 = 20.0;
const DROPOUT_LENGTH_S: (f64, f64) = (0.08, 0.4);

/// The realistic measurement chain.
#[derive(Clone, Debug, PartialEq)]
struct Chain {
    rng: Rng,
    pressures: [PressureChannel; 3],
    catheter: SecondOrder,
    volume_alpha: f64,
    parallel_volume_ml: f64,
    parallel_drift_ml_per_s: f64,
    doppler_gain: f64,
    doppler_tracking: FirstOrder,
    dropout_until_s: f64,
    /// Phases of the mains hum and the baseline wander, turns.
    mains_turns: f64,
    wander_turns: f64,
    flowmeter: FirstOrder,
}

/// The sensors of one simulated patient.
#[derive(Clone, Debug, PartialEq)]
pub struct Sensors {
    chain: Option<Box<Chain>>,
    /// The pressure transducers read atmosphere instead of the patient ([`super::Control::OpenToAir`]).
    pub open_to_air: bool,
}

impl Sensors {
    /// Sensors at `level`, their parameters drawn from `seed`.
    pub fn new(level: SensorLevel, seed: u64, sample_rate_hz: f64) -> Sensors {
        let chain = match level {
            SensorLevel::Clean => None,
            SensorLevel::Realistic => {
                let mut rng = Rng::new(seed);
                let pressures = [
                    PressureChannel::draw(&mut rng, 2.0, 0.3, 0.4),
                    PressureChannel::draw(&mut rng, 1.0, 0.2, 0.3),
                    PressureChannel::draw(&mut rng, 1.5, 0.3, 0.3),
                ];
                Some(Box::new(Chain {
                    catheter: SecondOrder::new(
                        rng.uniform_in(15.0, 25.0),
                        rng.uniform_in(0.2, 0.35),
                        sample_rate_hz,
                    ),
                    volume_alpha: rng.uniform_in(0.55, 0.85),
                    parallel_volume_ml: rng.uniform_in(15.0, 45.0),
                    parallel_drift_ml_per_s: 0.5 * rng.normal() / 60.0,
                    doppler_gain: rng.uniform_in(0.95, 1.05),
                    doppler_tracking: FirstOrder::new(40.0, sample_rate_hz),
                    dropout_until_s: f64::NEG_INFINITY,
                    mains_turns: rng.uniform(),
                    wander_turns: rng.uniform(),
                    flowmeter: FirstOrder::new(2.0, sample_rate_hz),
                    pressures,
                    rng,
                }))
            }
        };
        Sensors {
            chain,
            open_to_air: false,
        }
    }

    /// What the channels show for the true values `truth` (ecg, pa, pd, ipv, lvp, lvv, ecmo_flow) at `t_s`.
    pub fn measure(&mut self, t_s: f64, dt_s: f64, truth: [f64; NUM_CHANNELS]) -> [f64; NUM_CHANNELS] {
        let [ecg, pa, pd, ipv, lvp, lvv, ecmo] = truth;
        // Open to air, every pressure transducer reads atmosphere: 0 mmHg plus its own offset and noise.
        let (pa, pd, lvp) = if self.open_to_air {
            (0.0, 0.0, 0.0)
        } else {
            (pa, pd, lvp)
        };
        let Some(chain) = self.chain.as_deref_mut() else {
            return [ecg, pa, pd, ipv, lvp, lvv, ecmo];
        };
        let rng = &mut chain.rng;
        // Sines through the simulator's table ([`HalfCosine::sin_turns`], within 2e-15 of the library's).
        let shape = HalfCosine::shared();
        let wander = 0.08 * shape.sin_turns(0.2 * t_s + chain.wander_turns);
        let mains = 0.01 * shape.sin_turns(50.0 * t_s + chain.mains_turns);
        let ecg = ecg + wander + mains + 0.015 * rng.normal();
        let pa = chain.pressures[0].measure(rng, t_s, chain.catheter.filter(pa));
        let pd = chain.pressures[1].measure(rng, t_s, pd);
        let lvp = chain.pressures[2].measure(rng, t_s, lvp);
        let parallel_ml = chain.parallel_volume_ml + chain.parallel_drift_ml_per_s * t_s;
        let lvv = chain.volume_alpha * lvv + parallel_ml + 0.5 * rng.normal();
        let envelope = chain
            .doppler_tracking
            .filter(chain.doppler_gain * ipv * (1.0 + 0.04 * rng.normal()));
        if t_s >= chain.dropout_until_s && rng.uniform() < dt_s / DROPOUT_MEAN_INTERVAL_S {
            chain.dropout_until_s = t_s + rng.uniform_in(DROPOUT_LENGTH_S.0, DROPOUT_LENGTH_S.1);
        }
        let floor = 0.8 * rng.normal();
        let ipv = if t_s < chain.dropout_until_s {
            floor.abs()
        } else {
            envelope + floor
        };
        let ecmo = chain.flowmeter.filter(ecmo) + 0.03 * rng.normal();
        [ecg, pa, pd, ipv, lvp, lvv, ecmo]
    }

    /// The calibration a lab would have to find at `t_s` (identity for clean sensors).
    pub fn calibration(&self, t_s: f64) -> SensorCalibration {
        match self.chain.as_deref() {
            None => SensorCalibration {
                pressure_offsets_mmhg: [0.0; 3],
                volume_alpha: 1.0,
                parallel_volume_ml: 0.0,
            },
            Some(chain) => SensorCalibration {
                pressure_offsets_mmhg: chain.pressures.each_ref().map(|p| p.offset_at(t_s)),
                volume_alpha: chain.volume_alpha,
                parallel_volume_ml: chain.parallel_volume_ml + chain.parallel_drift_ml_per_s * t_s,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_sensors_pass_the_truth() {
        let mut sensors = Sensors::new(SensorLevel::Clean, 1, 1000.0);
        let truth = [0.1, 90.0, 85.0, 30.0, 100.0, 120.0, 3.5];
        assert_eq!(sensors.measure(0.0, 1e-3, truth), truth);
    }

    #[test]
    fn open_to_air_the_pressures_read_their_zero_offsets() {
        let truth = [0.1, 90.0, 85.0, 30.0, 100.0, 120.0, 3.5];
        let mut clean = Sensors::new(SensorLevel::Clean, 1, 1000.0);
        clean.open_to_air = true;
        assert_eq!(
            clean.measure(0.0, 1e-3, truth),
            [0.1, 0.0, 0.0, 30.0, 0.0, 120.0, 3.5]
        );
        let mut realistic = Sensors::new(SensorLevel::Realistic, 1, 1000.0);
        realistic.open_to_air = true;
        let offsets = realistic.calibration(0.0).pressure_offsets_mmhg;
        let samples: Vec<[f64; NUM_CHANNELS]> =
            (0..2000).map(|_| realistic.measure(0.0, 1e-3, truth)).collect();
        for (channel, offset) in [1, 2, 4].into_iter().zip(offsets) {
            let mean = samples.iter().map(|s| s[channel]).sum::<f64>() / samples.len() as f64;
            assert!(
                (mean - offset).abs() < 0.05,
                "channel {channel}: {mean} vs offset {offset}"
            );
        }
    }

    #[test]
    fn catheter_response_has_unit_gain_and_rings() {
        let mut filter = SecondOrder::new(20.0, 0.25, 1000.0);
        filter.filter(0.0);
        let step: Vec<f64> = (0..2000).map(|_| filter.filter(1.0)).collect();
        let peak = step.iter().cloned().fold(f64::MIN, f64::max);
        assert!((step[1999] - 1.0).abs() < 1e-9);
        // Overshoot of an underdamped second-order system: exp(-pi z / sqrt(1 - z^2)) = 44 % at z = 0.25.
        assert!((peak - 1.444).abs() < 0.02, "overshoot peak {peak}");
    }

    #[test]
    fn realistic_volume_follows_the_stated_calibration() {
        let mut sensors = Sensors::new(SensorLevel::Realistic, 3, 1000.0);
        let cal = sensors.calibration(0.0);
        let n = 20_000;
        let mean = (0..n)
            .map(|_| sensors.measure(0.0, 1e-3, [0.0, 0.0, 0.0, 0.0, 0.0, 100.0, 0.0])[5])
            .sum::<f64>()
            / n as f64;
        assert!((mean - (cal.volume_alpha * 100.0 + cal.parallel_volume_ml)).abs() < 0.05);
    }
}
