//! The case report (A4, PDF): a summary page with the case and its sign-off, the averaged PV loops and coronary
//! beats of both states overlaid (baseline grey and dashed, post-unloading in colour and solid, so colour is never
//! the only cue) and the key endpoints; then every endpoint of the table, grouped, with its kind, beats and flags.
//! Every number is from the stored results, formatted as on screen ([`EndpointRow::shown`], [`format`]).

use super::pdf::{Font, Page};
use crate::analysis::format;
use crate::model::SignalKind;
use crate::review::endpoints::{EndpointRow, MEASUREMENT_CONTEXT, MINIMUM_SUPPORT, measurement_context_text};
use crate::review::session::Snapshot;
use crate::review::sign_off::{SignOffState, attested_sentence};
use crate::review::waveforms::{Waveforms, padded_range};

const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 40.0;
const BLACK: [f32; 3] = [0.0, 0.0, 0.0];
const GREY: [f32; 3] = [0.55, 0.55, 0.55];
const POST: [f32; 3] = [0.85, 0.35, 0.05];
const ALERT: [f32; 3] = [0.75, 0.0, 0.0];
/// Baseline traces are dashed.
const BASELINE_DASH: (f32, f32) = (3.0, 2.0);

/// The window values shown in the report's table, by key (all of them are in the exports).
const REPORT_KEYS: [&str; 20] = [
    "apv",
    "diastolic_apv",
    "pd_pa",
    "mean_pd",
    "heart_rate_coronary",
    "minimal_mr",
    "bmr",
    "coronary_perfusion_pressure",
    "lvedp",
    "edv",
    "esv",
    "sv",
    "ef",
    "lvesp",
    "dpdt_max",
    "ea",
    "sw",
    "pva",
    "ees",
    "tau_weiss",
];

/// A plot area on the page with data ranges.
struct Plot {
    x: f32,
    y: f32,
    width: f32,
    height: f32,
    x_range: (f64, f64),
    y_range: (f64, f64),
}

impl Plot {
    fn point(&self, x: f64, y: f64) -> (f32, f32) {
        let fx = ((x - self.x_range.0) / (self.x_range.1 - self.x_range.0)) as f32;
        let fy = ((y - self.y_range.0) / (self.y_range.1 - self.y_range.0)) as f32;
        if !(0.0..=1.0).contains(&fx) || !(0.0..=1.0).contains(&fy) {
            return (f32::NAN, f32::NAN);
        }
        (self.x + fx * self.width, self.y + fy * self.height)
    }

    /// Frame, axis end labels and the title.
    fn frame(&self, page: &mut Page, title: &str, x_label: &str, y_label: &str) {
        page.stroke_rgb(GREY);
        page.line_width(0.5);
        page.dash(None);
        page.rect(self.x, self.y, self.width, self.height, false);
        page.fill_rgb(BLACK);
        page.text(self.x, self.y + self.height + 6.0, 9.0, Font::Bold, title);
        page.fill_rgb(GREY);
        let label = format::tick;
        page.text(self.x, self.y - 10.0, 7.0, Font::Regular, &label(self.x_range.0));
        page.text_right(
            self.x + self.width,
            self.y - 10.0,
            7.0,
            Font::Regular,
            &label(self.x_range.1),
        );
        page.text_right(self.x - 3.0, self.y, 7.0, Font::Regular, &label(self.y_range.0));
        page.text_right(
            self.x - 3.0,
            self.y + self.height - 7.0,
            7.0,
            Font::Regular,
            &label(self.y_range.1),
        );
        page.text(
            self.x + self.width / 2.0 - 20.0,
            self.y - 10.0,
            7.0,
            Font::Regular,
            x_label,
        );
        page.text(
            self.x + 3.0,
            self.y + self.height - 9.0,
            7.0,
            Font::Regular,
            y_label,
        );
    }

    fn curve(&self, page: &mut Page, points: &[(f64, f64)], baseline: bool) {
        page.stroke_rgb(if baseline { GREY } else { POST });
        page.line_width(if baseline { 1.0 } else { 1.4 });
        page.dash(baseline.then_some(BASELINE_DASH));
        let mapped: Vec<(f32, f32)> = points.iter().map(|&(x, y)| self.point(x, y)).collect();
        page.polyline(&mapped);
        page.dash(None);
    }
}

fn pv_plot(page: &mut Page, waves: &Waveforms, x: f32, y: f32, width: f32, height: f32) {
    let states = [(&waves.baseline, true), (&waves.post, false)];
    let all = || states.iter().flat_map(|(w, _)| w.pv_loop.iter());
    let x_range = padded_range(all().map(|p| p.0));
    let y_range = padded_range(all().map(|p| p.1).chain(std::iter::once(0.0)));
    let plot = Plot {
        x,
        y,
        width,
        height,
        x_range,
        y_range,
    };
    plot.frame(page, "PV loop (averaged steady beat)", "volume, mL", "mmHg");
    for (state, baseline) in states {
        plot.curve(page, &state.pv_loop, baseline);
        if let Some((ees, v0)) = state.espvr {
            let line: Vec<(f64, f64)> = (0..=40)
                .map(|i| {
                    let v = x_range.0 + (x_range.1 - x_range.0) * f64::from(i) / 40.0;
                    (v, ees * (v - v0))
                })
                .collect();
            page.line_width(0.6);
            plot.curve(page, &line, baseline);
        }
    }
    if all().next().is_none() {
        page.fill_rgb(GREY);
        page.text(
            x + 10.0,
            y + height / 2.0,
            9.0,
            Font::Regular,
            "no steady PV window analysed",
        );
    }
}

fn coronary_plot(
    page: &mut Page,
    waves: &Waveforms,
    kind: SignalKind,
    title: &str,
    unit: &str,
    area: (f32, f32, f32, f32),
) {
    let (baseline, post) = (
        waves.baseline.coronary_points(kind),
        waves.post.coronary_points(kind),
    );
    let both = || baseline.iter().chain(&post);
    let plot = Plot {
        x: area.0,
        y: area.1,
        width: area.2,
        height: area.3,
        x_range: (0.0, both().map(|p| p.0).fold(0.1, f64::max)),
        y_range: padded_range(both().map(|p| p.1)),
    };
    plot.frame(page, title, "s from R wave", unit);
    plot.curve(page, &baseline, true);
    plot.curve(page, &post, false);
    if baseline.is_empty() && post.is_empty() {
        page.fill_rgb(GREY);
        page.text(
            area.0 + 10.0,
            area.1 + area.3 / 2.0,
            9.0,
            Font::Regular,
            "not recorded",
        );
    }
}

/// The row of `key` in `state`.
fn row<'a>(rows: &'a [EndpointRow], key: &str, state: &str) -> Option<&'a EndpointRow> {
    rows.iter().find(|r| r.key == key && r.state == state)
}

fn table(page: &mut Page, rows: &[EndpointRow], top: f32) -> f32 {
    let columns = [MARGIN, 265.0, 340.0, 415.0, 490.0];
    let mut y = top;
    let size = 8.5;
    page.fill_rgb(BLACK);
    for (i, header) in ["Endpoint", "Baseline", "Post", "Change", "Unit"]
        .iter()
        .enumerate()
    {
        if i == 0 || i == 4 {
            page.text(columns[i], y, size, Font::Bold, header);
        } else {
            page.text_right(columns[i] + 50.0, y, size, Font::Bold, header);
        }
    }
    y -= 4.0;
    page.stroke_rgb(GREY);
    page.line_width(0.5);
    page.polyline(&[(MARGIN, y), (PAGE_WIDTH - MARGIN, y)]);
    y -= 11.0;
    for key in REPORT_KEYS {
        let (Some(b), Some(p), Some(c)) = (
            row(rows, key, "baseline"),
            row(rows, key, "post"),
            row(rows, key, "change"),
        ) else {
            continue;
        };
        page.fill_rgb(BLACK);
        page.text(columns[0], y, size, Font::Regular, &labelled(b));
        for (i, r) in [b, p, c].iter().enumerate() {
            page.text_right(columns[i + 1] + 50.0, y, size, Font::Regular, &r.shown(rows));
        }
        page.fill_rgb(GREY);
        page.text(columns[4], y, size, Font::Regular, b.unit.symbol());
        y -= 11.0;
        if let Some(line) = intervals([b, p]) {
            page.text(columns[1], y + 2.0, size - 1.5, Font::Regular, &line);
            y -= 9.0;
        }
        if y < 90.0 {
            break;
        }
    }
    y
}

/// A row's label with its kind (for resistances) and a mark when it carries flags.
fn labelled(row: &EndpointRow) -> String {
    let mut label = match &row.kind {
        Some(kind) if !row.label.contains(kind.as_str()) => format!("{} [{kind}]", row.label),
        _ => row.label.clone(),
    };
    if !row.flags.is_empty() {
        label.push_str(" *");
    }
    label
}

/// The 95 % confidence intervals of an endpoint's baseline and post rows, when either has one (Ees, PRSW Mw): a
/// line under its row, each in CDFR's notation.
fn intervals(states: [&EndpointRow; 2]) -> Option<String> {
    let shown: Vec<String> = states
        .iter()
        .filter_map(|row| Some(format!("{} {}", row.state, format::interval(row.ci95?, row.unit))))
        .collect();
    (!shown.is_empty()).then(|| shown.join("; "))
}

/// Truncates `text` to fit `width` points.
fn fitted(text: &str, width: f32, size: f32) -> String {
    let mut out: String = text.to_owned();
    while super::pdf::text_width(&out, size, Font::Regular) > width && out.len() > 3 {
        out.pop();
        while !out.is_char_boundary(out.len()) {
            out.pop();
        }
    }
    if out.len() < text.len() {
        out.push_str("...");
    }
    out
}

/// The full endpoint table, grouped, on as many pages as it needs: every computed endpoint with baseline, post,
/// change, unit, kind, beats used/excluded and flags; then the case rows and the method of each.
fn table_pages(rows: &[EndpointRow], case_id: &str) -> Vec<Page> {
    let mut pages = Vec::new();
    let size = 7.0;
    let columns = [MARGIN, 250.0, 300.0, 350.0, 400.0, 455.0];
    let mut page = Page::new(PAGE_WIDTH, PAGE_HEIGHT);
    let mut y = PAGE_HEIGHT - MARGIN;
    let header = |page: &mut Page, y: f32| {
        page.fill_rgb(BLACK);
        page.text(MARGIN, y, 11.0, Font::Bold, &format!("{case_id}: every endpoint"));
        let y = y - 14.0;
        for (i, h) in [
            "Endpoint [kind]",
            "Baseline",
            "Post",
            "Change",
            "Unit",
            "n used/excl, flags",
        ]
        .iter()
        .enumerate()
        {
            page.text(columns[i], y, size, Font::Bold, h);
        }
        y - 10.0
    };
    y = header(&mut page, y);
    let mut group = "";
    let mut seen: Vec<&str> = Vec::new();
    if let Some((lines, _)) = measurement_context_text(rows) {
        page.fill_rgb(BLACK);
        for line in lines {
            page.text(
                MARGIN,
                y,
                size,
                Font::Regular,
                &fitted(&line, PAGE_WIDTH - 2.0 * MARGIN, size),
            );
            y -= 10.0;
        }
    }
    let minimum_support: Vec<&EndpointRow> = rows.iter().filter(|r| r.state == MINIMUM_SUPPORT).collect();
    if !minimum_support.is_empty() {
        page.fill_rgb(BLACK);
        page.text(
            MARGIN,
            y,
            size + 1.0,
            Font::Bold,
            "Post-unloading at minimum support (within-session CDFR reference)",
        );
        y -= 10.0;
        for row in minimum_support {
            page.fill_rgb(BLACK);
            page.text(
                columns[0],
                y,
                size,
                Font::Regular,
                &fitted(&labelled(row), 205.0, size),
            );
            page.text_right(columns[2] + 42.0, y, size, Font::Regular, &row.shown(rows));
            page.fill_rgb(GREY);
            page.text(
                columns[4],
                y,
                size,
                Font::Regular,
                &fitted(row.unit.symbol(), 52.0, size),
            );
            let counts = row
                .num_beats_used
                .map(|used| format!("{used}/{}", row.num_beats_excluded.unwrap_or(0)))
                .unwrap_or_default();
            let flags: Vec<String> = row.flags.iter().map(|f| f.replace('_', " ")).collect();
            page.text(
                columns[5],
                y,
                size,
                Font::Regular,
                &fitted(format!("{counts} {}", flags.join(", ")).trim(), 100.0, size),
            );
            y -= 9.0;
        }
    }
    for row in rows
        .iter()
        .filter(|r| r.state != "change" && r.state != MINIMUM_SUPPORT && r.key != MEASUREMENT_CONTEXT)
    {
        if seen.contains(&row.key.as_str()) {
            continue;
        }
        seen.push(&row.key);
        if y < 70.0 {
            pages.push(std::mem::replace(&mut page, Page::new(PAGE_WIDTH, PAGE_HEIGHT)));
            y = header(&mut page, PAGE_HEIGHT - MARGIN);
        }
        if row.group != group {
            group = row.group.as_str();
            let title = crate::analysis::endpoints::Group::ALL
                .into_iter()
                .find(|g| g.key() == group)
                .map_or_else(|| group.to_owned(), |g| g.title().to_owned());
            page.fill_rgb(BLACK);
            page.text(MARGIN, y, size + 1.0, Font::Bold, &title);
            y -= 10.0;
        }
        let find = |state: &str| rows.iter().find(|r| r.key == row.key && r.state == state);
        page.fill_rgb(BLACK);
        page.text(
            columns[0],
            y,
            size,
            Font::Regular,
            &fitted(&labelled(row), 205.0, size),
        );
        let cells: [String; 3] = if row.state == "case" {
            [row.shown(rows), String::new(), String::new()]
        } else {
            ["baseline", "post", "change"].map(|s| find(s).map(|r| r.shown(rows)).unwrap_or_default())
        };
        for (i, cell) in cells.iter().enumerate() {
            page.text_right(columns[i + 1] + 42.0, y, size, Font::Regular, cell);
        }
        page.fill_rgb(GREY);
        page.text(
            columns[4],
            y,
            size,
            Font::Regular,
            &fitted(row.unit.symbol(), 52.0, size),
        );
        let base = find("baseline").unwrap_or(row);
        let post = find("post");
        let counts = [Some(base), post]
            .into_iter()
            .flatten()
            .filter_map(|r| {
                Some(format!(
                    "{}/{}",
                    r.num_beats_used?,
                    r.num_beats_excluded.unwrap_or(0)
                ))
            })
            .collect::<Vec<_>>()
            .join(" ");
        let mut flags: Vec<String> = [Some(base), post]
            .into_iter()
            .flatten()
            .flat_map(|r| r.flags.iter().map(|f| f.replace('_', " ")))
            .collect();
        flags.dedup();
        let extra = match (&row.note, row.state.as_str()) {
            (Some(note), "case") => note.clone(),
            _ => format!("{counts} {}", flags.join(", ")),
        };
        page.text(
            columns[5],
            y,
            size,
            Font::Regular,
            &fitted(extra.trim(), 100.0, size),
        );
        y -= 9.0;
        if let Some(line) = post.and_then(|post| intervals([base, post])) {
            page.text(columns[1], y + 1.0, size - 1.0, Font::Regular, &line);
            y -= 8.0;
        }
    }
    page.fill_rgb(GREY);
    page.text(
        MARGIN,
        48.0,
        7.0,
        Font::Regular,
        "* flagged (see the last column). Methods, V0 sources and notes are in the CSV/JSON export; definitions in docs/methods.md.",
    );
    pages.push(page);
    pages
}

/// Lays out the report: the summary page, then the full endpoint table.
pub fn case_report(snapshot: &Snapshot, waves: &Waveforms, results_sha256: &str) -> Vec<Page> {
    let mut pages = vec![summary_page(snapshot, waves, results_sha256)];
    pages.extend(table_pages(&snapshot.endpoints, &snapshot.summary.case_id));
    pages
}

/// The first page: case, sign-off, CDFR, loops and coronary beats, the key endpoints.
fn summary_page(snapshot: &Snapshot, waves: &Waveforms, results_sha256: &str) -> Page {
    let mut page = Page::new(PAGE_WIDTH, PAGE_HEIGHT);
    let summary = &snapshot.summary;
    let mut y = PAGE_HEIGHT - MARGIN - 10.0;
    page.fill_rgb(BLACK);
    page.text(
        MARGIN,
        y,
        16.0,
        Font::Bold,
        &format!("HERACLES case report  {}", summary.case_id),
    );
    y -= 16.0;
    let allocation = summary
        .allocation
        .map(|a| a.key().to_uppercase())
        .unwrap_or_else(|| "not recorded".into());
    page.text(
        MARGIN,
        y,
        9.0,
        Font::Regular,
        &format!(
            "Site {}   Allocation {allocation}   Status {}",
            summary.site,
            summary.status.replace('_', " ")
        ),
    );
    // Where the case came from (a demo or imported case in red, bold) and the export policy.
    y -= 11.0;
    let recorded = summary.origin == crate::model::CaseOrigin::Recorded;
    page.fill_rgb(if recorded { BLACK } else { ALERT });
    page.text(
        MARGIN,
        y,
        8.5,
        if recorded { Font::Regular } else { Font::Bold },
        &format!("Case origin: {}", summary.origin.text()),
    );
    y -= 10.0;
    page.fill_rgb(GREY);
    let policy = format!("{}.", super::policy::POLICY);
    page.text(
        MARGIN,
        y,
        7.0,
        Font::Regular,
        &fitted(&policy, PAGE_WIDTH - 2.0 * MARGIN, 7.0),
    );
    y -= 13.0;
    match snapshot.sign_offs.last() {
        None => {
            page.fill_rgb(ALERT);
            page.text(MARGIN, y, 9.0, Font::Bold, "NOT SIGNED OFF");
        }
        Some(status) => {
            let meaning = attested_sentence(&status.sign_off.statement);
            let signed = format!(
                "Signed by {}, {} UTC: {meaning}",
                status.sign_off.who, status.sign_off.utc
            );
            page.fill_rgb(BLACK);
            page.text(MARGIN, y, 8.0, Font::Regular, &signed);
            if let SignOffState::Invalidated {
                first_edit,
                num_edits,
                ..
            } = &status.state
            {
                y -= 11.0;
                page.fill_rgb(ALERT);
                page.text(
                    MARGIN,
                    y,
                    8.5,
                    Font::Bold,
                    &format!(
                        "SIGN-OFF INVALIDATED: {num_edits} edit(s) since, first {} by {} at {} UTC ({})",
                        first_edit.action.replace('_', " "),
                        first_edit.who,
                        first_edit.utc,
                        first_edit.reason
                    ),
                );
            }
        }
    }
    y -= 20.0;

    // Primary endpoint.
    if let Some(cdfr) = snapshot.endpoints.iter().find(|r| r.key == "cdfr") {
        page.fill_rgb(BLACK);
        let ci = cdfr
            .ci95
            .map(|ci| format!("  ({})", format::interval(ci, cdfr.unit)))
            .unwrap_or_default();
        page.text(
            MARGIN,
            y,
            12.0,
            Font::Bold,
            &format!("CDFR {}{ci}", cdfr.shown(&snapshot.endpoints)),
        );
        if let Some(note) = &cdfr.note {
            page.fill_rgb(GREY);
            page.text(MARGIN + 200.0, y, 8.0, Font::Regular, note);
        }
        if !cdfr.flags.is_empty() {
            y -= 12.0;
            page.fill_rgb(ALERT);
            page.text(
                MARGIN,
                y,
                8.5,
                Font::Bold,
                &format!("Flags: {}", cdfr.flags.join(", ").replace('_', " ")),
            );
        }
        y -= 12.0;
        page.fill_rgb(GREY);
        page.text(MARGIN, y, 7.0, Font::Regular, &cdfr.method);
    }
    if let Some((lines, flagged)) = measurement_context_text(&snapshot.endpoints) {
        page.fill_rgb(if flagged { ALERT } else { BLACK });
        let font = if flagged { Font::Bold } else { Font::Regular };
        for line in lines {
            y -= 11.0;
            page.text(
                MARGIN,
                y,
                8.0,
                font,
                &fitted(&line, PAGE_WIDTH - 2.0 * MARGIN, 8.0),
            );
        }
    }
    y -= 22.0;

    // Legend, in words and line style.
    page.fill_rgb(BLACK);
    page.text(
        MARGIN,
        y,
        8.0,
        Font::Regular,
        "Baseline (VA-ECMO alone): grey, dashed.   Post-unloading: orange, solid.",
    );
    y -= 24.0;

    let plot_height = 190.0;
    let plot_top = y;
    pv_plot(
        &mut page,
        waves,
        MARGIN + 25.0,
        plot_top - plot_height,
        230.0,
        plot_height,
    );
    let half = (plot_height - 30.0) / 2.0;
    coronary_plot(
        &mut page,
        waves,
        SignalKind::Pd,
        "Distal coronary pressure (ensemble beat)",
        "mmHg",
        (330.0, plot_top - half, 225.0, half),
    );
    coronary_plot(
        &mut page,
        waves,
        SignalKind::Ipv,
        "Doppler velocity (ensemble beat)",
        "cm/s",
        (330.0, plot_top - plot_height, 225.0, half),
    );
    y = plot_top - plot_height - 36.0;
    table(&mut page, &snapshot.endpoints, y);

    // Footer.
    page.fill_rgb(GREY);
    page.text(
        MARGIN,
        58.0,
        7.0,
        Font::Regular,
        &format!(
            "Analysis version {}. Results SHA-256 {results_sha256}",
            crate::analysis::ALGORITHM_VERSION
        ),
    );
    page.text(
        MARGIN,
        48.0,
        7.0,
        Font::Regular,
        "Pseudonymous case id only; no patient identifiers. Every number is the stored result; all endpoints on the next pages.",
    );
    page
}
