//! The one de-identification policy of every export (CSV, JSON, PDF, WFDB, ODM and DICOM), in one place because
//! each writer deciding for itself let them contradict each other (a WFDB header said "no dates" beside a JSON
//! with times and names). What may leave the machine:
//!
//! - about the patient: the pseudonymous case id and its site code, nothing else; every free-text field is
//!   screened for identifiers before anything is written ([`super::screen`]);
//! - dates and times: in UTC, as recorded (the recording's start, the allocation, sign-offs, the follow-up's
//!   dates), never local time; sample and marker times are seconds from the recording's start. Dates stay because
//!   the trial's follow-up counts days from allocation and DICOM and ODM require them; the case is pseudonymous,
//!   not anonymous, and its key stays at the site;
//! - people: by role and a number within the case (`operator 1`, `reviewer 1`), never by name ([`deidentify`]);
//! - where the case came from (recorded, simulated, imported: [`crate::model::CaseOrigin`]), in every file.
//!
//! One exception, stated where it is written: the DICOM study's Raw Data object is the case file itself, the
//! audited source record, whose audit trail names who did what; it is for the core lab's archive.

use std::collections::BTreeMap;

use crate::review::session::Snapshot;
use crate::review::sign_off::{OPERATOR_ROLE, REVIEWER_ROLE, SignOffState};

/// The policy in one sentence, as every exported file states it.
pub const POLICY: &str = "HERACLES export policy: pseudonymous case id only; dates and times in UTC; staff named \
                          by role and number within the case, never by name";

/// The role of a person known only from the audit trail.
const STAFF_ROLE: &str = "staff";

/// Names of people and their labels (`operator 1`), given in order of first appearance.
#[derive(Debug, Default)]
pub(crate) struct Staff {
    labels: BTreeMap<String, String>,
    per_role: BTreeMap<String, usize>,
}

impl Staff {
    /// The label of `name` (a new one in `role` when first seen); an empty name stays empty.
    fn label(&mut self, name: &str, role: &str) -> String {
        let name = name.trim();
        if name.is_empty() {
            return String::new();
        }
        if let Some(label) = self.labels.get(name) {
            return label.clone();
        }
        let number = self.per_role.entry(role.to_owned()).or_insert(0);
        *number += 1;
        let label = format!("{role} {number}");
        self.labels.insert(name.to_owned(), label.clone());
        label
    }

    /// Everyone `snapshot` names, labelled: the case's operator, signers, annotation authors, editors in the
    /// audit trail.
    pub(crate) fn of(snapshot: &Snapshot) -> Staff {
        let mut staff = Staff::default();
        staff.label(&snapshot.summary.operator, OPERATOR_ROLE);
        for status in &snapshot.sign_offs {
            staff.label(&status.sign_off.who, &status.sign_off.role);
        }
        for annotation in &snapshot.annotations {
            staff.label(&annotation.author, REVIEWER_ROLE);
        }
        for entry in &snapshot.audit_tail {
            staff.label(&entry.who, STAFF_ROLE);
        }
        for status in &snapshot.sign_offs {
            if let SignOffState::Invalidated { first_edit, .. } = &status.state {
                staff.label(&first_edit.who, STAFF_ROLE);
            }
        }
        staff
    }

    /// `text` with every known name, as a whole word, replaced by its label (longest names first, so "Dr Ann Lee"
    /// goes before "Ann").
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut names: Vec<(&String, &String)> = self.labels.iter().collect();
        names.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
        names.into_iter().fold(text.to_owned(), |text, (name, label)| {
            replace_word(&text, name, label)
        })
    }
}

/// `text` with `word` replaced by `with` wherever it stands between non-alphanumeric characters.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        let bounded = |c: Option<char>| !c.is_some_and(char::is_alphanumeric);
        out.push_str(&rest[..at]);
        out.push_str(if bounded(before) && bounded(after) {
            with
        } else {
            word
        });
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// Applies the policy's rule on people to `snapshot`, the one source of every export: each name (the case's
/// operator, signers, annotation authors, editors in the audit trail) becomes its role and number, in those
/// fields and wherever it appears in the markers', annotations' and audit rows' text. Numbers and times are
/// untouched.
pub fn deidentify(snapshot: &mut Snapshot) {
    let mut staff = Staff::of(snapshot);
    snapshot.summary.operator = staff.label(&snapshot.summary.operator, OPERATOR_ROLE);
    for status in &mut snapshot.sign_offs {
        status.sign_off.who = staff.label(&status.sign_off.who, &status.sign_off.role);
    }
    for annotation in &mut snapshot.annotations {
        annotation.author = staff.label(&annotation.author, REVIEWER_ROLE);
    }
    for entry in &mut snapshot.audit_tail {
        entry.who = staff.label(&entry.who, STAFF_ROLE);
    }
    for status in &mut snapshot.sign_offs {
        if let SignOffState::Invalidated { first_edit, .. } = &mut status.state {
            first_edit.who = staff.label(&first_edit.who, STAFF_ROLE);
            first_edit.reason = staff.scrub(&first_edit.reason);
        }
    }
    for event in &mut snapshot.events {
        event.text = staff.scrub(&event.text);
    }
    for annotation in &mut snapshot.annotations {
        annotation.text = staff.scrub(&annotation.text);
    }
    for entry in &mut snapshot.audit_tail {
        entry.reason = staff.scrub(&entry.reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_roles_as_whole_words_only() {
        let mut staff = Staff::default();
        assert_eq!(staff.label("Dr Ann Lee", OPERATOR_ROLE), "operator 1");
        assert_eq!(staff.label("Ann", REVIEWER_ROLE), "reviewer 1");
        assert_eq!(staff.label("Bo", REVIEWER_ROLE), "reviewer 2");
        assert_eq!(staff.label("Dr Ann Lee", REVIEWER_ROLE), "operator 1");
        assert_eq!(staff.label("  ", REVIEWER_ROLE), "");
        assert_eq!(
            staff.scrub("Case HER-DEM-0001 set up by Dr Ann Lee; Ann and Bo checked; Annex, Bob, Bo."),
            "Case HER-DEM-0001 set up by operator 1; reviewer 1 and reviewer 2 checked; Annex, Bob, reviewer 2."
        );
    }
}
