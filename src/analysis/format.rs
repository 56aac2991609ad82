//! The one notation and precision policy for every number a person reads: the bedside panel, the live numbers,
//! the review table and the PDF report show an endpoint's value only through this module, so a quantity has one
//! look everywhere. The CSV, JSON and ODM exports do not round: they write Rust's shortest round-trip form (the
//! stored value exactly), and their unit is the same [`Unit::symbol`].
//!
//! The policy (docs/methods.md, "Units and notation"):
//! - each unit has its decimals ([`decimals`]): mmHg, mL, mL/min, mmHg/s, mmHg.mL 0; cm/s, mmHg.s, J/m2/s2 and
//!   days 1; ratios, mmHg/mL, L/min, m/s, mmHg.s/cm and mL O2/min 2; 1/mL 3; the per-PVA ratios 2;
//! - whole-number units (beats, codes, percent, /min) are always whole: EF is a % with 0 decimals;
//! - a value that would show fewer than two significant digits (LVEDP 8.4 mmHg at 0 decimals, an EDPVR beta of
//!   0.031 1/mL) gets two, and below 0.001 it is written in scientific notation with two significant digits
//!   (`3.0e-5`), never as `0.00003` or `0.00`;
//! - a value that rounds to zero is `0`, never `-0`; a change carries its sign (`+1.2`, `-0.4`, `0`);
//! - a missing or non-finite value is [`MISSING`].
//!
//! Why here, in the pure core: the unit is the endpoint's ([`super::endpoints::Unit`]), and every reader (the UI,
//! the review, the report) may import `analysis`; the rules are plain functions of a number and a unit.

use super::endpoints::Unit;

/// What is shown for a missing or non-finite value.
pub const MISSING: &str = "–";

/// Below this magnitude a value is written in scientific notation.
const SCIENTIFIC_BELOW: f64 = 1e-3;

/// The decimals a unit is shown with (before the two-significant-digit rule).
pub fn decimals(unit: Unit) -> usize {
    match unit {
        Unit::Beats | Unit::Code | Unit::Percent | Unit::PerMin => 0,
        Unit::Mmhg | Unit::Ml | Unit::MlPerMin | Unit::MmhgPerS | Unit::MmhgMl | Unit::MmhgPerMin => 0,
        Unit::Ms | Unit::WPerM2S2 => 0,
        Unit::CmPerS | Unit::MmhgS | Unit::JPerM2S2 | Unit::Days => 1,
        Unit::Ratio
        | Unit::Cm
        | Unit::LPerMin
        | Unit::MmhgPerMl
        | Unit::Resistance
        | Unit::MPerS
        | Unit::MlO2PerMin
        | Unit::ApvPerPvaRate
        | Unit::FlowPerPvaRate
        | Unit::CmPerMmhgMl
        | Unit::MlPerMmhgMl => 2,
        Unit::PerMl => 3,
    }
}

/// Whether a unit counts whole things (no decimals, no two-significant-digit rule).
fn whole(unit: Unit) -> bool {
    matches!(unit, Unit::Beats | Unit::Code | Unit::Percent | Unit::PerMin)
}

/// Drops the sign of a text that shows zero (`-0`, `-0.0`).
fn unsigned_zero(text: String) -> String {
    match text.strip_prefix('-') {
        Some(magnitude) if magnitude.chars().all(|c| c == '0' || c == '.') => magnitude.to_owned(),
        _ => text,
    }
}

/// `value` with exactly `decimals` decimals, never `-0`: for numbers that are not endpoint values (times,
/// settings typed back into a field, axis ticks) but must follow the same sign rule.
pub fn fixed(value: f64, decimals: usize) -> String {
    unsigned_zero(format!("{value:.decimals$}"))
}

/// When, as every reader of the case sees it: seconds from the recording's start (no clock time leaves the
/// machine in a marker's text).
pub fn recording_time(recording_s: f64) -> String {
    format!("{} s", fixed(recording_s, 0))
}

/// An axis limit or tick as printed (PDF plots, review traces, live traces): whole numbers without decimals,
/// others with one, never `-0`.
pub fn tick(value: f64) -> String {
    let decimals = if value.fract() == 0.0 { 0 } else { 1 };
    fixed(value, decimals)
}

/// The number as shown, without its unit.
pub fn number(value: f64, unit: Unit) -> String {
    if !value.is_finite() {
        return MISSING.to_owned();
    }
    let d = decimals(unit);
    if whole(unit) {
        return fixed(value, 0);
    }
    let magnitude = value.abs();
    // Two significant digits at least: a value under 10^(1-d) shows fewer at d decimals.
    if magnitude == 0.0 || magnitude >= 10f64.powi(1 - d as i32) {
        return fixed(value, d);
    }
    if magnitude < SCIENTIFIC_BELOW {
        return format!("{value:.1e}");
    }
    // The decimals that put the second significant digit on screen.
    let leading = magnitude.log10().floor() as i32; // e.g. -2 for 0.031
    let needed = (1 - leading).max(d as i32) as usize;
    fixed(value, needed)
}

/// The number and its unit (`72 mmHg`, `1.12`, `8 %`), or [`MISSING`].
pub fn with_unit(value: f64, unit: Unit) -> String {
    let number = number(value, unit);
    match unit.symbol() {
        _ if number == MISSING => number,
        "" => number,
        symbol => format!("{number} {symbol}"),
    }
}

/// A value that may be missing, without its unit.
pub fn optional(value: Option<f64>, unit: Unit) -> String {
    value.map_or_else(|| MISSING.to_owned(), |v| number(v, unit))
}

/// A change (post - baseline), with its sign: `+1.2`, `-0.4`, `0`.
pub fn change(value: f64, unit: Unit) -> String {
    let text = number(value, unit);
    if text == MISSING || text.starts_with('-') || text.chars().all(|c| c == '0' || c == '.') {
        text
    } else {
        format!("+{text}")
    }
}

/// A change beside the baseline value it is the change of, at the precision that value is shown with (a
/// Pd/Pa of 0.93 at baseline and after changes by `0.00`, not by `-5.9e-4`); [`change`] when the baseline is
/// shown in scientific notation or missing (`None`).
pub fn change_from(value: f64, baseline: Option<f64>, unit: Unit) -> String {
    let shown = optional(baseline, unit);
    if shown == MISSING || shown.contains('e') || !value.is_finite() {
        return change(value, unit);
    }
    let decimals = shown.split_once('.').map_or(0, |(_, fraction)| fraction.len());
    let text = fixed(value, decimals);
    if text.starts_with('-') || text.chars().all(|c| c == '0' || c == '.') {
        text
    } else {
        format!("+{text}")
    }
}

/// A relative change in percent, with its sign and no decimals (`+12 %`, `-3 %`, `0 %`).
pub fn percent_change(fraction: f64) -> String {
    format!("{} %", change(100.0 * fraction, Unit::Percent))
}

/// A 95 % confidence interval: `95 % CI 1.02 to 1.20`.
pub fn interval([low, high]: [f64; 2], unit: Unit) -> String {
    format!("95 % CI {} to {}", number(low, unit), number(high, unit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_table() {
        let cases: &[(f64, Unit, &str)] = &[
            // mmHg: whole numbers, one decimal below 10 (two significant digits).
            (72.44, Unit::Mmhg, "72"),
            (8.44, Unit::Mmhg, "8.4"),
            (0.42, Unit::Mmhg, "0.42"),
            (-0.2, Unit::Mmhg, "-0.20"),
            (-0.0001, Unit::Mmhg, "-1.0e-4"),
            // cm/s: one decimal.
            (24.27, Unit::CmPerS, "24.3"),
            (0.54, Unit::CmPerS, "0.54"),
            // EF in %: whole, everywhere.
            (8.4, Unit::Percent, "8"),
            (57.6, Unit::Percent, "58"),
            (-0.3, Unit::Percent, "0"),
            // Ratios: two decimals, and no "-0".
            (1.123, Unit::Ratio, "1.12"),
            (0.934, Unit::Ratio, "0.93"),
            (-0.001, Unit::Ratio, "-0.0010"),
            (0.0, Unit::Ratio, "0.00"),
            (-0.0, Unit::Ratio, "0.00"),
            (0.05, Unit::Ratio, "0.050"),
            // Resistances.
            (2.345, Unit::Resistance, "2.35"),
            // Small values are never 0.00003 nor 0.00.
            (3.2e-5, Unit::CmPerMmhgMl, "3.2e-5"),
            (3.0e-5, Unit::ApvPerPvaRate, "3.0e-5"),
            (0.0123, Unit::MlPerMmhgMl, "0.012"),
            (0.031, Unit::PerMl, "0.031"),
            (0.0312, Unit::PerMl, "0.031"),
            // Volumes, work, rates.
            (121.6, Unit::Ml, "122"),
            (3.44, Unit::Ml, "3.4"),
            (4321.0, Unit::MmhgMl, "4321"),
            (1234.6, Unit::MmhgPerS, "1235"),
            (-1234.6, Unit::MmhgPerS, "-1235"),
            (3.456, Unit::LPerMin, "3.46"),
            (71.6, Unit::PerMin, "72"),
            (12.0, Unit::Beats, "12"),
            (2.0, Unit::Code, "2"),
            (5.26, Unit::Days, "5.3"),
            (32.6, Unit::Ms, "33"),
            (f64::NAN, Unit::Mmhg, MISSING),
            (f64::INFINITY, Unit::Ratio, MISSING),
        ];
        for &(value, unit, expected) in cases {
            assert_eq!(number(value, unit), expected, "{value} {unit:?}");
        }
    }

    #[test]
    fn units_changes_and_intervals() {
        assert_eq!(with_unit(72.4, Unit::Mmhg), "72 mmHg");
        assert_eq!(with_unit(1.12, Unit::Ratio), "1.12");
        assert_eq!(with_unit(57.6, Unit::Percent), "58 %");
        assert_eq!(with_unit(2.345, Unit::Resistance), "2.35 mmHg.s/cm");
        assert_eq!(with_unit(f64::NAN, Unit::Mmhg), MISSING);
        assert_eq!(optional(None, Unit::Mmhg), MISSING);
        assert_eq!(change(1.24, Unit::CmPerS), "+1.2");
        assert_eq!(change(-0.44, Unit::Ratio), "-0.44");
        assert_eq!(change(-0.001, Unit::Percent), "0");
        assert_eq!(change(0.0, Unit::Ratio), "0.00");
        assert_eq!(change_from(-0.00059, Some(0.93), Unit::Ratio), "0.00");
        assert_eq!(change_from(-0.0123, Some(0.93), Unit::Ratio), "-0.01");
        assert_eq!(change_from(0.0004, Some(0.0052), Unit::ApvPerPvaRate), "+0.0004");
        assert_eq!(change_from(2.6, Some(72.0), Unit::Mmhg), "+3");
        assert_eq!(change_from(1e-5, Some(5e-4), Unit::Ratio), "+1.0e-5");
        assert_eq!(change_from(1e-5, None, Unit::Ratio), "+1.0e-5");
        assert_eq!(percent_change(0.123), "+12 %");
        assert_eq!(percent_change(-0.004), "0 %");
        assert_eq!(interval([1.021, 1.204], Unit::Ratio), "95 % CI 1.02 to 1.20");
        assert_eq!(fixed(-0.04, 1), "0.0");
        assert_eq!(fixed(-0.06, 1), "-0.1");
        assert_eq!(tick(120.0), "120");
        assert_eq!(tick(-0.04), "0.0");
        assert_eq!(tick(2.5), "2.5");
    }
}
