//! The per-beat table, as LabChart users expect it beside the traces, and as the per-beat CSV export writes it:
//! one row per beat of a window with its verdict and the pipeline's per-beat metrics from the stored report.

use crate::analysis::endpoints::Unit;
use crate::analysis::pipeline::{BeatMetrics, BeatRecord, Report};
use crate::model::{Beat, RejectReason};

/// One numeric column.
pub struct Column {
    /// Header (CSV: with the unit in the name).
    pub header: &'static str,
    /// Short header for the screen.
    pub short: &'static str,
    /// Unit (`tau_isovolumic`: a code, 1 = isovolumic relaxation, tau used; 0 = not, tau excluded from the
    /// means).
    pub unit: Unit,
    /// The value of a beat, when it has one.
    pub value: fn(&BeatMetrics) -> Option<f64>,
}

/// The numeric columns, in order.
pub const COLUMNS: [Column; 18] = [
    Column {
        header: "apv_cm_s",
        short: "APV",
        unit: Unit::CmPerS,
        value: |m| m.coronary?.apv_cm_s,
    },
    Column {
        header: "diastolic_apv_cm_s",
        short: "dAPV",
        unit: Unit::CmPerS,
        value: |m| m.coronary?.diastolic_apv_cm_s,
    },
    Column {
        header: "mean_pa_mmhg",
        short: "Pa",
        unit: Unit::Mmhg,
        value: |m| m.coronary?.mean_pa_mmhg,
    },
    Column {
        header: "mean_pd_mmhg",
        short: "Pd",
        unit: Unit::Mmhg,
        value: |m| m.coronary?.mean_pd_mmhg,
    },
    Column {
        header: "pd_pa",
        short: "Pd/Pa",
        unit: Unit::Ratio,
        value: |m| m.coronary?.pd_pa,
    },
    Column {
        header: "heart_rate_bpm",
        short: "HR",
        unit: Unit::PerMin,
        value: |m| {
            m.pv.as_ref()
                .map(|p| p.heart_rate_bpm)
                .or(m.coronary.map(|c| 60.0 / c.rr_s))
        },
    },
    Column {
        header: "lvedp_mmhg",
        short: "LVEDP",
        unit: Unit::Mmhg,
        value: |m| Some(m.pv.as_ref()?.lvedp_mmhg),
    },
    Column {
        header: "edv_ml",
        short: "EDV",
        unit: Unit::Ml,
        value: |m| Some(m.pv.as_ref()?.edv_ml),
    },
    Column {
        header: "esv_ml",
        short: "ESV",
        unit: Unit::Ml,
        value: |m| Some(m.pv.as_ref()?.esv_ml),
    },
    Column {
        header: "lvesp_mmhg",
        short: "LVESP",
        unit: Unit::Mmhg,
        value: |m| Some(m.pv.as_ref()?.lvesp_mmhg),
    },
    Column {
        header: "lvsp_mmhg",
        short: "LVSP",
        unit: Unit::Mmhg,
        value: |m| Some(m.pv.as_ref()?.lvsp_mmhg),
    },
    Column {
        header: "sv_ml",
        short: "SV",
        unit: Unit::Ml,
        value: |m| Some(m.pv.as_ref()?.sv_ml),
    },
    Column {
        header: "sw_mmhg_ml",
        short: "SW",
        unit: Unit::MmhgMl,
        value: |m| Some(m.pv.as_ref()?.sw_mmhg_ml),
    },
    Column {
        header: "dpdt_max_mmhg_per_s",
        short: "dP/dt+",
        unit: Unit::MmhgPerS,
        value: |m| Some(m.pv.as_ref()?.dpdt_max_mmhg_per_s),
    },
    Column {
        header: "dpdt_min_mmhg_per_s",
        short: "dP/dt-",
        unit: Unit::MmhgPerS,
        value: |m| Some(m.pv.as_ref()?.dpdt_min_mmhg_per_s),
    },
    Column {
        header: "tau_weiss_ms",
        short: "tau",
        unit: Unit::Ms,
        value: |m| Some(m.pv.as_ref()?.tau.weiss.as_ref()?.tau_ms),
    },
    Column {
        header: "pva_mmhg_ml",
        short: "PVA",
        unit: Unit::MmhgMl,
        value: |m| Some(m.pva.as_ref()?.pva_mmhg_ml),
    },
    Column {
        header: "tau_isovolumic",
        short: "iso",
        unit: Unit::Code,
        value: |m| {
            m.pv.as_ref()?
                .tau
                .valid
                .map(|valid| if valid { 1.0 } else { 0.0 })
        },
    },
];

/// One row: the beat as reported, its metrics and the reviewer's words when the reviewer rejected it.
#[derive(Clone, Debug, PartialEq)]
pub struct Row<'a> {
    /// The beat as the report has it.
    pub record: &'a BeatRecord,
    /// Its metrics.
    pub metrics: &'a BeatMetrics,
    /// The reviewer's reason, for a manual rejection.
    pub reviewer_reason: Option<String>,
}

/// The rows of a window's report, joined with the stored beats for the reviewer's reasons.
pub fn rows<'a>(report: &'a Report, stored: &[Beat]) -> Vec<Row<'a>> {
    report
        .beats
        .iter()
        .zip(&report.per_beat)
        .map(|(record, metrics)| Row {
            record,
            metrics,
            reviewer_reason: stored.iter().find(|b| b.number == record.number).and_then(|b| {
                match &b.reject {
                    Some(RejectReason::Manual(reason)) => Some(reason.clone()),
                    _ => None,
                }
            }),
        })
        .collect()
}
