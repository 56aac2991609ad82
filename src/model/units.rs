//! Physical constants and unit conversions, named `x_from_y` so a conversion reads in the direction it goes.

/// Pascals in one millimetre of mercury.
pub const PA_PER_MMHG: f64 = 133.322;

/// Default blood density (kg/m^3), a stored analysis setting (ENDPOINTS.md).
pub const BLOOD_DENSITY_KG_M3: f64 = 1050.0;

/// Joules in one mmHg.mL (stroke work and pressure-volume area units).
pub const J_PER_MMHG_ML: f64 = 1.3332e-4;

/// Pascals from millimetres of mercury.
pub fn pa_from_mmhg(pressure_mmhg: f64) -> f64 {
    pressure_mmhg * PA_PER_MMHG
}

/// Metres per second from centimetres per second.
pub fn m_s_from_cm_s(velocity_cm_s: f64) -> f64 {
    velocity_cm_s / 100.0
}

/// Joules from mmHg.mL.
pub fn j_from_mmhg_ml(work_mmhg_ml: f64) -> f64 {
    work_mmhg_ml * J_PER_MMHG_ML
}

/// mL/s from L/min.
pub fn ml_s_from_l_min(flow_l_min: f64) -> f64 {
    flow_l_min * 1000.0 / 60.0
}

/// L/min from mL/s.
pub fn l_min_from_ml_s(flow_ml_s: f64) -> f64 {
    flow_ml_s * 60.0 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_invert() {
        assert!((l_min_from_ml_s(ml_s_from_l_min(4.2)) - 4.2).abs() < 1e-12);
        assert!((pa_from_mmhg(1.0) - 133.322).abs() < 1e-12);
        assert!((m_s_from_cm_s(25.0) - 0.25).abs() < 1e-12);
        assert!((j_from_mmhg_ml(10_000.0) - 1.3332).abs() < 1e-12);
    }
}
