//! The case's endpoints as one CDISC ODM 1.3.2 document (`<case>_endpoints.odm.xml`), for the trial database
//! (King's CTU's EDC, REDCap): the study's metadata (events, forms, item groups, items with data type, unit and
//! method) and the case's clinical data, so a data manager can build the form from the file and load the values.
//!
//! Every value is the endpoint table's ([`crate::review::endpoints::EndpointRow`], the rows the CSV and JSON
//! exports write), never recomputed. The mapping (docs/export.md, "CDISC ODM"):
//! - study `HERACLES` (IRAS 300145); sites as AdminData Locations `LOC.<site code>`; the subject is the
//!   pseudonymous case id;
//! - study events `SE.BASELINE`, `SE.POST_UNLOADING`, `SE.FOLLOW_UP`, each with one form (`FORM.<event>`): a row of
//!   state `baseline` goes to the baseline event; `post`, `change` (post - baseline) and `min_support` (the resting
//!   window at minimum support, the within-session CDFR reference: items `IT.<KEY>.MIN_SUPPORT`) to post-unloading; the
//!   case-level rows (CDFR, which compares the two states) to post-unloading, except the clinical group, which is
//!   follow-up;
//! - item groups `IG.<GROUP>` per endpoint group; item `IT.<KEY>` for an endpoint's value, `IT.<KEY>.CHANGE` for
//!   its change, each with companions `.CATEGORY` (a coded value in words: the 6-month status), `.KIND`, `.BEATS_USED`, `.BEATS_EXCLUDED`, `.FLAGS`, `.CI95_LOW`,
//!   `.CI95_HIGH`, `.V0_SOURCE` and `.NOTE` (why a value is missing, or what it means);
//! - a missing value is `IsNull="Yes"` with its reason in `.NOTE`, never a number;
//! - the coronary measurement context is the text item `IT.MEASUREMENT_CONTEXT` on the baseline event (vessel,
//!   segment, wire position) and the post-unloading event (whether the same vessel was confirmed; its `.FLAGS`
//!   say `same_vessel_not_confirmed` when not, as CDFR's do).
//!
//! The document is deterministic for an unchanged case: `FileOID` carries the results digest and
//! `CreationDateTime` is the time of the case's newest audited change. Text is escaped by the small writer
//! below; every free text written is screened for identifiers first ([`super::screen`]).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::analysis::endpoints::{Group, Unit};
use crate::model::Site;
use crate::review::endpoints::{EndpointRow, MEASUREMENT_CONTEXT, MINIMUM_SUPPORT};
use crate::review::session::Snapshot;

/// The study's OID.
pub const STUDY_OID: &str = "HERACLES";

/// The IRAS (Integrated Research Application System) number of the trial.
pub const IRAS_NUMBER: &str = "300145";

/// The ODM namespace of version 1.3.x.
const NAMESPACE: &str = "http://www.cdisc.org/ns/odm/v1.3";

/// A study event of the HERACLES schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Baseline,
    PostUnloading,
    FollowUp,
}

impl Event {
    const ALL: [Event; 3] = [Event::Baseline, Event::PostUnloading, Event::FollowUp];

    fn key(self) -> &'static str {
        match self {
            Event::Baseline => "BASELINE",
            Event::PostUnloading => "POST_UNLOADING",
            Event::FollowUp => "FOLLOW_UP",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Event::Baseline => "Baseline (VA-ECMO, before LV unloading)",
            Event::PostUnloading => "Post-unloading (IABP or Impella running)",
            Event::FollowUp => "Follow-up",
        }
    }

    /// The event a row of the endpoint table belongs to.
    fn of(row: &EndpointRow) -> Event {
        match row.state.as_str() {
            "baseline" => Event::Baseline,
            "case" if row.group == Group::Clinical.key() => Event::FollowUp,
            _ => Event::PostUnloading,
        }
    }
}

/// A companion item of an endpoint's value: what a statistician needs beside the number.
#[derive(Clone, Copy, Debug)]
struct Companion {
    suffix: &'static str,
    name: &'static str,
    data_type: &'static str,
    /// Whether it carries the value's unit.
    has_unit: bool,
}

const COMPANIONS: [Companion; 9] = [
    Companion {
        suffix: "CATEGORY",
        name: "the coded value in words (6-month status: alive, dead, lost to follow-up)",
        data_type: "text",
        has_unit: false,
    },
    Companion {
        suffix: "KIND",
        name: "kind (resistance: HMR, WFP-MR or BMR)",
        data_type: "text",
        has_unit: false,
    },
    Companion {
        suffix: "BEATS_USED",
        name: "beats used",
        data_type: "integer",
        has_unit: false,
    },
    Companion {
        suffix: "BEATS_EXCLUDED",
        name: "beats excluded",
        data_type: "integer",
        has_unit: false,
    },
    Companion {
        suffix: "FLAGS",
        name: "flags (semicolon-separated keys)",
        data_type: "text",
        has_unit: false,
    },
    Companion {
        suffix: "CI95_LOW",
        name: "95 % confidence interval, lower limit",
        data_type: "float",
        has_unit: true,
    },
    Companion {
        suffix: "CI95_HIGH",
        name: "95 % confidence interval, upper limit",
        data_type: "float",
        has_unit: true,
    },
    Companion {
        suffix: "V0_SOURCE",
        name: "source of the ESPVR volume intercept V0",
        data_type: "text",
        has_unit: false,
    },
    Companion {
        suffix: "NOTE",
        name: "why the value is missing, or what it means",
        data_type: "text",
        has_unit: false,
    },
];

/// The value of companion `suffix` in `row`, if it has one.
fn companion_value(row: &EndpointRow, suffix: &str) -> Option<String> {
    let number = |value: Option<f64>| value.filter(|v| v.is_finite()).map(|v| v.to_string());
    match suffix {
        "KIND" => row.kind.clone(),
        "BEATS_USED" => row.num_beats_used.map(|n| n.to_string()),
        "BEATS_EXCLUDED" => row.num_beats_excluded.map(|n| n.to_string()),
        "FLAGS" => (!row.flags.is_empty()).then(|| row.flags.join(";")),
        "CI95_LOW" => number(row.ci95.map(|c| c[0])),
        "CI95_HIGH" => number(row.ci95.map(|c| c[1])),
        "V0_SOURCE" => row.v0_source.clone(),
        "NOTE" => row.note.clone(),
        "CATEGORY" => row.category.clone(),
        _ => None,
    }
}

/// The text of a row whose value is words, not a number (the measurement context: vessel, segment and wire at
/// baseline, the same-vessel check at post-unloading), item `IT.MEASUREMENT_CONTEXT` of type text.
fn text_item(row: &EndpointRow) -> Option<&str> {
    (row.key == MEASUREMENT_CONTEXT)
        .then_some(row.note.as_deref())
        .flatten()
}

/// The OID of a row's value item: `IT.<KEY>`, `IT.<KEY>.CHANGE` for a change row, `IT.<KEY>.MIN_SUPPORT` for a
/// row of the resting window at minimum support (post-unloading event, beside the value at target support).
pub fn item_oid(row: &EndpointRow) -> String {
    let base = format!("IT.{}", oid_part(&row.key));
    match row.state.as_str() {
        "change" => format!("{base}.CHANGE"),
        MINIMUM_SUPPORT => format!("{base}.MIN_SUPPORT"),
        _ => base,
    }
}

/// The OID of an endpoint group's item group: `IG.<GROUP>`.
pub fn item_group_oid(group: &str) -> String {
    format!("IG.{}", oid_part(group))
}

/// The OID of a study event: `SE.BASELINE`, `SE.POST_UNLOADING` or `SE.FOLLOW_UP`.
pub fn study_event_oid(row: &EndpointRow) -> String {
    format!("SE.{}", Event::of(row).key())
}

/// Upper-case letters, digits and `_` for an OID part.
fn oid_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// A unit symbol's OID: `MU.` and the symbol spelt in capitals (`mmHg/mL` -> `MU.MMHG_PER_ML`).
fn unit_oid(symbol: &str) -> String {
    let spelt = symbol
        .replace('%', "PERCENT")
        .replace('/', "_PER_")
        .replace(['(', ')'], "");
    let part = oid_part(&spelt);
    let mut squeezed = String::new();
    for c in part.chars() {
        if !(c == '_' && (squeezed.is_empty() || squeezed.ends_with('_'))) {
            squeezed.push(c);
        }
    }
    format!("MU.{}", squeezed.trim_end_matches('_'))
}

/// The title of a group key.
fn group_title(key: &str) -> String {
    Group::ALL
        .into_iter()
        .find(|group| group.key() == key)
        .map_or_else(|| key.to_owned(), |group| group.title().to_owned())
}

/// Escapes text for XML content or a double-quoted attribute. Characters XML 1.0 cannot carry (control
/// characters other than tab, line feed and carriage return) become a space; tab, LF and CR are written as
/// character references so an attribute keeps them.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A tiny indenting XML writer: elements with attributes, text, nothing else.
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn new() -> Xml {
        Xml {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
            depth: 0,
        }
    }

    fn start_tag(&mut self, name: &str, attributes: &[(&str, &str)]) {
        let _ = write!(self.out, "{}<{name}", "  ".repeat(self.depth));
        for (key, value) in attributes {
            let _ = write!(self.out, " {key}=\"{}\"", escape(value));
        }
    }

    /// `<name attributes>` and one level deeper.
    fn open(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.start_tag(name, attributes);
        self.out.push_str(">\n");
        self.depth += 1;
    }

    /// `</name>`.
    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        let _ = writeln!(self.out, "{}</{name}>", "  ".repeat(self.depth));
    }

    /// `<name attributes/>`.
    fn empty(&mut self, name: &str, attributes: &[(&str, &str)]) {
        self.start_tag(name, attributes);
        self.out.push_str("/>\n");
    }

    /// `<name attributes>text</name>`.
    fn text(&mut self, name: &str, attributes: &[(&str, &str)], text: &str) {
        self.start_tag(name, attributes);
        let _ = writeln!(self.out, ">{}</{name}>", escape(text));
    }

    /// A `Description` (or `Symbol`) holding one English `TranslatedText`.
    fn translated(&mut self, name: &str, text: &str) {
        self.open(name, &[]);
        self.text("TranslatedText", &[("xml:lang", "en")], text);
        self.close(name);
    }
}

/// One value item of the metadata: an endpoint's value or change, with the rows that fill it.
struct ItemInfo<'a> {
    oid: String,
    group: String,
    first: &'a EndpointRow,
}

/// The free text the document carries, with where it comes from, for [`super::screen`].
pub fn free_text(snapshot: &Snapshot) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for row in &snapshot.endpoints {
        fields.push((format!("label of {}", row.key), row.label.clone()));
        fields.push((format!("method of {}", row.key), row.method.clone()));
        if let Some(note) = &row.note {
            fields.push((format!("note of {}", row.key), note.clone()));
        }
        if let Some(kind) = &row.kind {
            fields.push((format!("kind of {}", row.key), kind.clone()));
        }
        if let Some(source) = &row.v0_source {
            fields.push((format!("V0 source of {}", row.key), source.clone()));
        }
        for flag in &row.flags {
            fields.push((format!("flag of {}", row.key), flag.clone()));
        }
    }
    for annotation in &snapshot.annotations {
        fields.push((
            format!("annotation at {:.1} s", annotation.start_s),
            annotation.text.clone(),
        ));
    }
    fields
}

/// The ODM 1.3.2 document of the case's endpoint table. `results_sha256` is the results digest (it names the
/// file, so a changed result is a new file).
pub fn odm_document(snapshot: &Snapshot, results_sha256: &str) -> String {
    let summary = &snapshot.summary;
    let case_id = summary.case_id.as_str();
    let created = snapshot
        .audit_tail
        .last()
        .map_or(summary.created_utc.as_str(), |entry| entry.utc.as_str());
    let effective_date = created.get(..10).unwrap_or("1970-01-01");
    let digest = results_sha256.get(..16).unwrap_or(results_sha256);
    let file_oid = format!("{STUDY_OID}.{case_id}.{digest}");
    let mdv_oid = format!("MDV.{STUDY_OID}.{}", oid_part(crate::analysis::ALGORITHM_VERSION));
    let rows = &snapshot.endpoints;

    // Items in table order, one per OID; groups in table order.
    let mut items: Vec<ItemInfo> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    for row in rows {
        let oid = item_oid(row);
        if !items.iter().any(|item| item.oid == oid) {
            items.push(ItemInfo {
                oid,
                group: row.group.clone(),
                first: row,
            });
        }
        if !groups.contains(&row.group) {
            groups.push(row.group.clone());
        }
    }
    let mut units: BTreeMap<String, String> = BTreeMap::new();
    for row in rows.iter().filter(|row| !row.unit.symbol().is_empty()) {
        let oid = unit_oid(row.unit.symbol());
        let taken_by_other = units.get(&oid).is_some_and(|symbol| symbol != row.unit.symbol());
        let oid = if taken_by_other {
            format!("{oid}_{}", units.len())
        } else {
            oid
        };
        units.entry(oid).or_insert_with(|| row.unit.symbol().to_owned());
    }
    let unit_of = |symbol: &str| {
        units
            .iter()
            .find(|(_, s)| s.as_str() == symbol)
            .map(|(oid, _)| oid.clone())
    };
    // Groups in each event, in table order.
    let groups_in = |event: Event| -> Vec<String> {
        groups
            .iter()
            .filter(|group| rows.iter().any(|r| &r.group == *group && Event::of(r) == event))
            .cloned()
            .collect()
    };

    let mut xml = Xml::new();
    xml.open(
        "ODM",
        &[
            ("xmlns", NAMESPACE),
            ("ODMVersion", "1.3.2"),
            ("FileType", "Snapshot"),
            ("Granularity", "SingleSubject"),
            ("FileOID", &file_oid),
            ("CreationDateTime", created),
            ("Originator", "heracles"),
            ("SourceSystem", "heracles"),
            ("SourceSystemVersion", crate::model::about::VERSION),
        ],
    );

    xml.open("Study", &[("OID", STUDY_OID)]);
    xml.open("GlobalVariables", &[]);
    xml.text("StudyName", &[], STUDY_OID);
    xml.text(
        "StudyDescription",
        &[],
        &format!(
            "HERACLES: left-ventricular unloading with an IABP or an Impella in VA-ECMO patients in cardiogenic \
             shock; haemodynamic and coronary endpoints. IRAS {IRAS_NUMBER}."
        ),
    );
    xml.text("ProtocolName", &[], &format!("HERACLES (IRAS {IRAS_NUMBER})"));
    xml.close("GlobalVariables");

    xml.open("BasicDefinitions", &[]);
    for (oid, symbol) in &units {
        xml.open("MeasurementUnit", &[("OID", oid), ("Name", symbol)]);
        xml.translated("Symbol", symbol);
        xml.close("MeasurementUnit");
    }
    xml.close("BasicDefinitions");

    xml.open(
        "MetaDataVersion",
        &[
            ("OID", &mdv_oid),
            ("Name", &format!("HERACLES endpoints, {}", crate::analysis::ALGORITHM_VERSION)),
            (
                "Description",
                "Endpoints as the heracles workstation stores them (docs/methods.md); one item per endpoint value, \
                 with its companions",
            ),
        ],
    );
    xml.open("Protocol", &[]);
    for (order, event) in Event::ALL.into_iter().enumerate() {
        let oid = format!("SE.{}", event.key());
        let order = (order + 1).to_string();
        xml.empty(
            "StudyEventRef",
            &[
                ("StudyEventOID", &oid),
                ("OrderNumber", &order),
                ("Mandatory", "Yes"),
            ],
        );
    }
    xml.close("Protocol");
    for event in Event::ALL {
        let oid = format!("SE.{}", event.key());
        xml.open(
            "StudyEventDef",
            &[
                ("OID", &oid),
                ("Name", event.name()),
                ("Repeating", "No"),
                ("Type", "Scheduled"),
            ],
        );
        xml.empty(
            "FormRef",
            &[
                ("FormOID", &format!("FORM.{}", event.key())),
                ("Mandatory", "Yes"),
            ],
        );
        xml.close("StudyEventDef");
    }
    for event in Event::ALL {
        let oid = format!("FORM.{}", event.key());
        xml.open(
            "FormDef",
            &[
                ("OID", &oid),
                ("Name", &format!("{} endpoints", event.name())),
                ("Repeating", "No"),
            ],
        );
        for (order, group) in groups_in(event).iter().enumerate() {
            let order = (order + 1).to_string();
            xml.empty(
                "ItemGroupRef",
                &[
                    ("ItemGroupOID", &item_group_oid(group)),
                    ("OrderNumber", &order),
                    ("Mandatory", "No"),
                ],
            );
        }
        xml.close("FormDef");
    }
    for group in &groups {
        xml.open(
            "ItemGroupDef",
            &[
                ("OID", &item_group_oid(group)),
                ("Name", &group_title(group)),
                ("Repeating", "No"),
            ],
        );
        let mut order = 0;
        for item in items.iter().filter(|item| &item.group == group) {
            let oids = std::iter::once(item.oid.clone())
                .chain(COMPANIONS.iter().map(|c| format!("{}.{}", item.oid, c.suffix)));
            for oid in oids {
                order += 1;
                xml.empty(
                    "ItemRef",
                    &[
                        ("ItemOID", &oid),
                        ("OrderNumber", &order.to_string()),
                        ("Mandatory", "No"),
                    ],
                );
            }
        }
        xml.close("ItemGroupDef");
    }
    for item in &items {
        let row = item.first;
        let change = row.state == "change";
        let name = if change {
            format!("{}, change (post-unloading minus baseline)", row.label)
        } else {
            row.label.clone()
        };
        let unit = unit_of(row.unit.symbol());
        let data_type = text_item(row).map_or(
            if matches!(row.unit, Unit::Beats | Unit::Code) {
                "integer"
            } else {
                "float"
            },
            |_| "text",
        );
        let description = if change {
            format!(
                "{}: the post-unloading value minus the baseline value, both computed as: {}",
                row.label,
                method_of(rows, &row.key)
            )
        } else {
            format!("{}: {}", row.label, method_of(rows, &row.key))
        };
        xml.open(
            "ItemDef",
            &[("OID", &item.oid), ("Name", &name), ("DataType", data_type)],
        );
        xml.translated("Description", &description);
        if let Some(unit) = &unit {
            xml.empty("MeasurementUnitRef", &[("MeasurementUnitOID", unit)]);
        }
        xml.close("ItemDef");
        for companion in COMPANIONS {
            let oid = format!("{}.{}", item.oid, companion.suffix);
            xml.open(
                "ItemDef",
                &[
                    ("OID", &oid),
                    ("Name", &format!("{name}: {}", companion.name)),
                    ("DataType", companion.data_type),
                ],
            );
            xml.translated("Description", &format!("{} of item {}", companion.name, item.oid));
            if companion.has_unit
                && let Some(unit) = &unit
            {
                xml.empty("MeasurementUnitRef", &[("MeasurementUnitOID", unit)]);
            }
            xml.close("ItemDef");
        }
    }
    xml.close("MetaDataVersion");
    xml.close("Study");

    xml.open("AdminData", &[("StudyOID", STUDY_OID)]);
    let case_site = Site::from_code(&summary.site);
    let mut sites: Vec<Site> = Site::TRIAL.to_vec();
    if let Some(site) = case_site
        && !sites.contains(&site)
    {
        sites.push(site);
    }
    for site in &sites {
        xml.open(
            "Location",
            &[
                ("OID", &format!("LOC.{}", site.code())),
                ("Name", site.label()),
                ("LocationType", "Site"),
            ],
        );
        xml.empty(
            "MetaDataVersionRef",
            &[
                ("StudyOID", STUDY_OID),
                ("MetaDataVersionOID", &mdv_oid),
                ("EffectiveDate", effective_date),
            ],
        );
        xml.close("Location");
    }
    xml.close("AdminData");

    xml.open(
        "ClinicalData",
        &[("StudyOID", STUDY_OID), ("MetaDataVersionOID", &mdv_oid)],
    );
    xml.open("SubjectData", &[("SubjectKey", case_id)]);
    xml.empty(
        "SiteRef",
        &[("LocationOID", &format!("LOC.{}", oid_part(&summary.site)))],
    );
    // The first annotation says where the case came from and the export policy; the reviewer's follow.
    xml.open("Annotation", &[("SeqNum", "1")]);
    xml.text(
        "Comment",
        &[("SponsorOrSite", "Sponsor")],
        &format!(
            "case origin: {} ({}). {}.",
            summary.origin.key(),
            summary.origin.text(),
            super::policy::POLICY
        ),
    );
    xml.close("Annotation");
    for (number, annotation) in snapshot.annotations.iter().enumerate() {
        let at = match annotation.end_s {
            Some(end) => format!("{:.1}-{end:.1} s", annotation.start_s),
            None => format!("{:.1} s", annotation.start_s),
        };
        xml.open("Annotation", &[("SeqNum", &(number + 2).to_string())]);
        xml.text(
            "Comment",
            &[("SponsorOrSite", "Site")],
            &format!("reviewer's annotation at {at}: {}", annotation.text),
        );
        xml.close("Annotation");
    }
    for event in Event::ALL {
        let event_rows: Vec<&EndpointRow> = rows.iter().filter(|r| Event::of(r) == event).collect();
        if event_rows.is_empty() {
            continue;
        }
        xml.open(
            "StudyEventData",
            &[("StudyEventOID", &format!("SE.{}", event.key()))],
        );
        xml.open("FormData", &[("FormOID", &format!("FORM.{}", event.key()))]);
        for group in groups_in(event) {
            xml.open("ItemGroupData", &[("ItemGroupOID", &item_group_oid(&group))]);
            for row in event_rows.iter().filter(|r| r.group == group) {
                let oid = item_oid(row);
                let value = match text_item(row) {
                    Some(text) => Some(text.to_owned()),
                    None => row.value.filter(|v| v.is_finite()).map(|v| v.to_string()),
                };
                match value {
                    Some(value) => xml.empty("ItemData", &[("ItemOID", &oid), ("Value", &value)]),
                    None => xml.empty("ItemData", &[("ItemOID", &oid), ("IsNull", "Yes")]),
                }
                for companion in COMPANIONS {
                    if let Some(value) = companion_value(row, companion.suffix) {
                        xml.empty(
                            "ItemData",
                            &[
                                ("ItemOID", &format!("{oid}.{}", companion.suffix)),
                                ("Value", &value),
                            ],
                        );
                    }
                }
            }
            xml.close("ItemGroupData");
        }
        xml.close("FormData");
        xml.close("StudyEventData");
    }
    xml.close("SubjectData");
    xml.close("ClinicalData");
    xml.close("ODM");
    xml.out
}

/// The method of endpoint `key`: its first row's with a method.
fn method_of<'a>(rows: &'a [EndpointRow], key: &str) -> &'a str {
    rows.iter()
        .filter(|row| row.key == key && row.state != "change")
        .map(|row| row.method.as_str())
        .find(|method| !method.is_empty())
        .unwrap_or("see docs/methods.md")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_quotes_and_control_characters() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\te\u{1}"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;&#9;e "
        );
    }

    #[test]
    fn unit_oids_are_distinct_for_every_unit() {
        use crate::analysis::endpoints::Unit;
        // Every unit written with a symbol (a ratio has none; a code is not a measurement unit).
        let all: Vec<Unit> = Unit::ALL
            .into_iter()
            .filter(|u| !matches!(u, Unit::Ratio | Unit::Code))
            .collect();
        let oids: std::collections::HashSet<String> = all.iter().map(|u| unit_oid(u.symbol())).collect();
        assert_eq!(oids.len(), all.len(), "{oids:?}");
        assert_eq!(unit_oid("mmHg/mL"), "MU.MMHG_PER_ML");
        assert_eq!(unit_oid("mmHg.mL"), "MU.MMHG_ML");
        assert_eq!(unit_oid("/min"), "MU.PER_MIN");
    }
}
