//! The live endpoint panel's content, built from the analysed windows of the case: the CDFR with its CI and
//! flags, the microvascular resistances (minimal MR with a hyperaemic window when one was captured), the
//! pressure-volume indices, supply/demand, and the baseline and post-unloading loops. Each row carries the
//! method that produced it; a value that could not be computed is absent (the panel says "no value").

use crate::analysis::coronary::{CdfrFlag, CdfrResult, CoronaryWindow, microvascular_resistance};
use crate::analysis::pipeline::Summary;
use crate::analysis::settings::AnalysisSettings;
use crate::model::StepId;
use crate::protocol::WindowKind;
use crate::ui::protocol::{Cdfr, EndpointRow, EndpointView};

use super::case_writer::AnalysedWindow;

/// The windows of one state (baseline or post-unloading).
struct State<'a> {
    rest: Option<&'a AnalysedWindow>,
    hyperaemia: Option<&'a AnalysedWindow>,
    pv: Option<&'a AnalysedWindow>,
}

impl<'a> State<'a> {
    fn of(windows: &'a [AnalysedWindow], coronary: StepId, pv: StepId) -> State<'a> {
        let newest = |step, kind| windows.iter().rev().find(|w| w.step == step && w.kind == kind);
        State {
            rest: newest(coronary, WindowKind::CoronaryRest),
            hyperaemia: newest(coronary, WindowKind::CoronaryHyperaemia),
            pv: newest(pv, WindowKind::PvSteady),
        }
    }

    fn coronary(&self) -> Option<&'a CoronaryWindow> {
        self.rest?.report.summary.coronary.as_ref()
    }

    /// The PV summary: the steady PV window, else the resting coronary window (both consoles record together).
    fn pv_summary(&self) -> Option<&'a Summary> {
        [self.pv, self.rest]
            .into_iter()
            .flatten()
            .map(|w| &w.report.summary)
            .find(|s| s.pv.is_some())
    }

    fn loop_points(&self) -> Vec<[f64; 2]> {
        [self.pv, self.rest]
            .into_iter()
            .flatten()
            .map(|w| w.loop_points.clone())
            .find(|p| !p.is_empty())
            .unwrap_or_default()
    }
}

/// The endpoint panel's content, or `None` before any baseline window is analysed.
pub fn endpoint_view(
    windows: &[AnalysedWindow],
    cdfr: Option<&Result<CdfrResult, String>>,
    post_label: &str,
    settings: &AnalysisSettings,
) -> Option<EndpointView> {
    let baseline = State::of(windows, StepId::BaselineCoronary, StepId::BaselinePv);
    let post = State::of(windows, StepId::PostCoronary, StepId::PostPv);
    if baseline.rest.is_none() && baseline.pv.is_none() {
        return None;
    }
    let mut rows = Vec::new();
    let mut add =
        |section: &str, name: &str, unit: &str, decimals, values: [Option<f64>; 2], method: String| {
            rows.push(EndpointRow {
                section: section.to_owned(),
                name: name.to_owned(),
                unit: unit.to_owned(),
                baseline: values[0].filter(|v| v.is_finite()),
                post: values[1].filter(|v| v.is_finite()),
                decimals,
                method,
                note: None,
            });
        };
    let states = [&baseline, &post];

    let coronary = states.map(|s| s.coronary());
    let method = coronary
        .iter()
        .flatten()
        .next()
        .map(|c| c.provenance.method.clone())
        .unwrap_or_default();
    let from = |f: fn(&CoronaryWindow) -> Option<f64>| coronary.map(|c| c.and_then(f));
    add(
        "Coronary (rest)",
        "APV",
        "cm/s",
        1,
        from(|c| c.apv_cm_s),
        method.clone(),
    );
    add(
        "Coronary (rest)",
        "Diastolic APV",
        "cm/s",
        1,
        from(|c| c.diastolic_apv_cm_s),
        method.clone(),
    );
    add(
        "Coronary (rest)",
        "Pd/Pa",
        "",
        2,
        from(|c| c.pd_pa),
        method.clone(),
    );
    add(
        "Coronary (rest)",
        "Heart rate",
        "/min",
        0,
        from(|c| Some(c.heart_rate_bpm)),
        method,
    );

    let resistance = states.map(|s| {
        let rest = s.coronary()?;
        let hyperaemia = s.hyperaemia.and_then(|w| w.report.summary.coronary.as_ref());
        let lvedp = s
            .pv_summary()
            .and_then(|summary| summary.pv.as_ref())
            .map(|pv| pv.lvedp_mmhg);
        Some(microvascular_resistance(rest, hyperaemia, lvedp, settings))
    });
    let method = resistance
        .iter()
        .flatten()
        .next()
        .map(|r| r.provenance.method.clone())
        .unwrap_or_default();
    let kind = resistance
        .iter()
        .flatten()
        .find_map(|r| r.minimal_kind)
        .map(|k| format!(" ({k:?})"))
        .unwrap_or_default();
    let mr = |f: fn(&crate::analysis::coronary::MicrovascularResistance) -> Option<f64>| {
        resistance.each_ref().map(|r| r.as_ref().and_then(f))
    };
    let unit = "mmHg.cm-1.s";
    let section = "Microvascular resistance";
    add(
        section,
        &format!("Minimal MR{kind}"),
        unit,
        2,
        mr(|r| r.minimal),
        method.clone(),
    );
    add(section, "BMR", unit, 2, mr(|r| r.bmr), method.clone());
    add(section, "WFP-MR", unit, 2, mr(|r| r.wfp_mr), method.clone());
    add(section, "HMR", unit, 2, mr(|r| r.hmr), method.clone());
    add(
        section,
        "BMR (Pd - LVEDP)",
        unit,
        2,
        mr(|r| r.bmr_back_pressure_corrected),
        method,
    );

    let pv = states.map(|s| s.pv_summary().and_then(|summary| summary.pv.as_ref()));
    let method = pv
        .iter()
        .flatten()
        .next()
        .map(|p| p.provenance.method.clone())
        .unwrap_or_default();
    let of = |f: fn(&crate::analysis::pipeline::PvWindow) -> Option<f64>| pv.map(|p| p.and_then(f));
    let section = "Pressure-volume";
    add(
        section,
        "LVEDP",
        "mmHg",
        1,
        of(|p| Some(p.lvedp_mmhg)),
        method.clone(),
    );
    add(section, "EDV", "mL", 0, of(|p| Some(p.edv_ml)), method.clone());
    add(section, "ESV", "mL", 0, of(|p| Some(p.esv_ml)), method.clone());
    add(section, "SV", "mL", 0, of(|p| Some(p.sv_ml)), method.clone());
    add(
        section,
        "EF",
        "%",
        0,
        of(|p| p.ef.map(|ef| 100.0 * ef)),
        method.clone(),
    );
    add(
        section,
        "SW",
        "mmHg.mL",
        0,
        of(|p| Some(p.sw_mmhg_ml)),
        method.clone(),
    );
    add(
        section,
        "PVA",
        "mmHg.mL",
        0,
        of(|p| p.pva_mmhg_ml),
        method.clone(),
    );
    add(
        section,
        "dP/dt max",
        "mmHg/s",
        0,
        of(|p| Some(p.dpdt_max_mmhg_s)),
        method.clone(),
    );
    add(section, "tau (Weiss)", "ms", 0, of(|p| p.tau_weiss_ms), method);

    let supply = states.map(|s| s.rest.and_then(|w| w.report.summary.supply_demand.as_ref()));
    let section = "Supply and demand";
    let method = "per state, within patient only: coronary flow over myocardial work".to_owned();
    add(
        section,
        "APV / (PVA x HR)",
        "(cm/s)/(mmHg.mL/min)",
        5,
        supply.map(|s| s.and_then(|s| s.apv_per_pva_rate)),
        method.clone(),
    );
    add(
        section,
        "SEVR",
        "",
        2,
        supply.map(|s| s.and_then(|s| s.sevr)),
        method,
    );

    if let Some(last) = rows.iter_mut().find(|row| row.name == "PVA")
        && pv.iter().flatten().any(|p| !p.pva_includes_edpvr)
    {
        last.note = Some("Chord only: no EDPVR from a preload reduction in this state (flagged).".to_owned());
    }
    Some(EndpointView {
        cdfr: cdfr.map(|result| result.as_ref().map(cdfr_view).map_err(Clone::clone)),
        rows,
        baseline_loop: baseline.loop_points(),
        post_loop: post.loop_points(),
        post_label: post_label.to_owned(),
    })
}

fn cdfr_view(result: &CdfrResult) -> Cdfr {
    let flags = result
        .flags
        .iter()
        .map(|flag| match flag {
            CdfrFlag::EcmoFlowChanged { change_l_min } => {
                format!("ECMO flow changed by {change_l_min:+.2} L/min between the states")
            }
            CdfrFlag::EcmoFlowNotRecorded => {
                "ECMO flow not recorded in both states: stability unknown".to_owned()
            }
            CdfrFlag::HeartRateChanged { change_fraction } => {
                format!(
                    "heart rate changed by {:+.0} % between the states",
                    100.0 * change_fraction
                )
            }
            CdfrFlag::FewBeats { num_beats, min_beats } => {
                format!("only {num_beats} accepted beats in a state (a steady window needs {min_beats})")
            }
        })
        .collect();
    Cdfr {
        value: result.cdfr,
        ci95: Some((result.ci95[0], result.ci95[1])),
        flags,
        method: format!(
            "{}\nReference: {:?}; APV {:.1} -> {:.1} cm/s; {} and {} beats; bootstrap {} resamples (seed {})",
            result.provenance.method,
            result.reference,
            result.reference_apv_cm_s,
            result.post_apv_cm_s,
            result.num_reference_beats,
            result.num_post_beats,
            result.bootstrap_iterations,
            result.bootstrap_seed
        ),
    }
}
