//! The follow-up form (randomisation, ECMO decannulation and its outcome, ICU stays, death, 6-month contact) and
//! the clinical endpoints of ENDPOINTS.md section 7 computed from it by [`crate::analysis::clinical`].
//!
//! What is stored is only what the endpoints need: the randomisation time (UTC, the anchor), and every other
//! event as days from randomisation (a date typed into the form is turned into days at once and not kept).
//! There is no field for a date of birth or any other identifier. Each section is one follow-up form of the case
//! file (`randomisation`, `decannulation`, `icu`, `death`, `month_6`), so every change is audited with its reason.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::analysis::Unavailable;
use crate::analysis::clinical::{
    ClinicalHorizons, DecannulationOutcome, EcmoCourse, EventType, IcuStay, SixMonthStatus,
    days_alive_out_of_icu, decannulation_outcome, six_month_status, successful_at_horizon,
};
use crate::store::FollowUp;

/// How the VA-ECMO run ended, as entered on the form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EcmoOutcomeEntry {
    /// Weaned and decannulated.
    Weaned,
    /// Died while on ECMO.
    DiedOnEcmo,
    /// Bridged to a durable left-ventricular assist device.
    BridgedToVad,
    /// Bridged to heart transplantation.
    BridgedToTransplant,
    /// Decannulated, then re-cannulated.
    Recannulated,
    /// Still on ECMO at the last contact.
    StillOnEcmo,
}

impl EcmoOutcomeEntry {
    /// Every outcome, in menu order.
    pub const ALL: [EcmoOutcomeEntry; 6] = [
        EcmoOutcomeEntry::Weaned,
        EcmoOutcomeEntry::DiedOnEcmo,
        EcmoOutcomeEntry::BridgedToVad,
        EcmoOutcomeEntry::BridgedToTransplant,
        EcmoOutcomeEntry::Recannulated,
        EcmoOutcomeEntry::StillOnEcmo,
    ];

    /// The words on the form.
    pub fn label(self) -> &'static str {
        match self {
            EcmoOutcomeEntry::Weaned => "weaned (decannulated)",
            EcmoOutcomeEntry::DiedOnEcmo => "died on ECMO",
            EcmoOutcomeEntry::BridgedToVad => "bridged to durable VAD",
            EcmoOutcomeEntry::BridgedToTransplant => "bridged to transplant",
            EcmoOutcomeEntry::Recannulated => "re-cannulated",
            EcmoOutcomeEntry::StillOnEcmo => "still on ECMO",
        }
    }
}

/// Randomisation (form `randomisation`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RandomisationEntry {
    /// When the trial's system randomised the patient, UTC (RFC 3339): day 0 of every endpoint.
    pub randomised_utc: Option<String>,
}

/// Decannulation (form `decannulation`); days from randomisation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DecannulationEntry {
    /// How the ECMO run ended.
    pub outcome: Option<EcmoOutcomeEntry>,
    /// Day of (the first) decannulation.
    pub decannulation_day: Option<f64>,
    /// Day of re-cannulation, if it happened.
    pub recannulation_day: Option<f64>,
    /// Day of the bridge to VAD or transplant.
    pub bridge_day: Option<f64>,
}

/// ICU stays, with discharges and readmissions (form `icu`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IcuEntry {
    /// Every stay; the first starts at or before randomisation.
    pub stays: Vec<IcuStay>,
}

/// Death (form `death`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeathEntry {
    /// Day of death; `None` while the patient is alive or not known to have died.
    pub death_day: Option<f64>,
}

/// The 6-month contact (form `month_6`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SixMonthEntry {
    /// Last day the patient was known alive.
    pub last_contact_day: Option<f64>,
}

/// The whole follow-up of a case.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FollowUpForm {
    /// Randomisation.
    pub randomisation: RandomisationEntry,
    /// Decannulation and ECMO outcome.
    pub decannulation: DecannulationEntry,
    /// ICU stays.
    pub icu: IcuEntry,
    /// Death.
    pub death: DeathEntry,
    /// 6-month contact.
    pub month_6: SixMonthEntry,
}

/// The sections as stored: form name and its answers.
pub const FORMS: [&str; 5] = ["randomisation", "decannulation", "icu", "death", "month_6"];

/// A follow-up form stored in a shape this version cannot read.
#[derive(Debug, thiserror::Error)]
#[error("follow-up form {form}: {message}")]
pub struct FormError {
    /// The form.
    pub form: String,
    /// What is wrong.
    pub message: String,
}

impl FollowUpForm {
    /// The form from the case file's follow-up records (unknown forms are ignored; a malformed one is an error).
    pub fn from_records(records: &[FollowUp]) -> Result<FollowUpForm, FormError> {
        let mut form = FollowUpForm::default();
        for record in records {
            let parse_error = |error: serde_json::Error| FormError {
                form: record.form.clone(),
                message: error.to_string(),
            };
            let data = record.data.clone();
            match record.form.as_str() {
                "randomisation" => form.randomisation = serde_json::from_value(data).map_err(parse_error)?,
                "decannulation" => form.decannulation = serde_json::from_value(data).map_err(parse_error)?,
                "icu" => form.icu = serde_json::from_value(data).map_err(parse_error)?,
                "death" => form.death = serde_json::from_value(data).map_err(parse_error)?,
                "month_6" => form.month_6 = serde_json::from_value(data).map_err(parse_error)?,
                _ => {}
            }
        }
        Ok(form)
    }

    /// The answers of section `form` (one of [`FORMS`]) as stored.
    pub fn section_json(&self, form: &str) -> Option<serde_json::Value> {
        let value = match form {
            "randomisation" => serde_json::to_value(&self.randomisation),
            "decannulation" => serde_json::to_value(&self.decannulation),
            "icu" => serde_json::to_value(&self.icu),
            "death" => serde_json::to_value(&self.death),
            "month_6" => serde_json::to_value(&self.month_6),
            _ => return None,
        };
        value.ok()
    }

    /// The randomisation time, when entered and readable.
    pub fn randomised(&self) -> Option<DateTime<Utc>> {
        let text = self.randomisation.randomised_utc.as_deref()?;
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The latest day anything is known about the patient (the censoring day of a run still on ECMO).
    fn last_known_day(&self) -> f64 {
        let d = &self.decannulation;
        [
            self.month_6.last_contact_day,
            self.death.death_day,
            d.decannulation_day,
            d.recannulation_day,
            d.bridge_day,
        ]
        .into_iter()
        .flatten()
        .chain(
            self.icu
                .stays
                .iter()
                .flat_map(|s| [Some(s.admission_day), s.discharge_day])
                .flatten(),
        )
        .filter(|d| d.is_finite())
        .fold(0.0, f64::max)
    }

    /// The ECMO course the endpoint is computed from, or why it cannot be.
    pub fn ecmo_course(&self) -> Result<EcmoCourse, Unavailable> {
        let d = &self.decannulation;
        let needs = |what: &str, day: Option<f64>| {
            day.ok_or_else(|| Unavailable::NotApplicable(format!("{what} not entered")))
        };
        let outcome = d
            .outcome
            .ok_or_else(|| Unavailable::NotApplicable("ECMO outcome not entered".into()))?;
        let mut course = EcmoCourse {
            death_day: self.death.death_day,
            last_follow_up_day: self.last_known_day(),
            ..EcmoCourse::default()
        };
        match outcome {
            EcmoOutcomeEntry::Weaned => {
                course.decannulation_day = Some(needs("decannulation day", d.decannulation_day)?);
                course.recannulation_day = d.recannulation_day;
                course.vad_or_transplant_day = d.bridge_day;
            }
            EcmoOutcomeEntry::Recannulated => {
                course.decannulation_day = Some(needs("decannulation day", d.decannulation_day)?);
                course.recannulation_day = Some(needs("re-cannulation day", d.recannulation_day)?);
            }
            EcmoOutcomeEntry::DiedOnEcmo => {
                needs("day of death (Death section)", self.death.death_day)?;
            }
            EcmoOutcomeEntry::BridgedToVad | EcmoOutcomeEntry::BridgedToTransplant => {
                course.vad_or_transplant_day = Some(needs("bridge day", d.bridge_day)?);
            }
            EcmoOutcomeEntry::StillOnEcmo => {}
        }
        Ok(course)
    }

    /// The clinical endpoints (ENDPOINTS.md section 7) over the trial's `horizons` (the case's analysis setting).
    pub fn endpoints(&self, horizons: &ClinicalHorizons) -> ClinicalEndpoints {
        let decannulation = self
            .ecmo_course()
            .and_then(|course| decannulation_outcome(&course, horizons));
        let entered = self.decannulation.outcome;
        let outcome_differs = match (&decannulation, entered) {
            (Ok(computed), Some(entered)) => !matches!(
                (computed, entered),
                (
                    DecannulationOutcome::Decannulated { .. },
                    EcmoOutcomeEntry::Weaned
                ) | (
                    DecannulationOutcome::DiedOnEcmo { .. },
                    EcmoOutcomeEntry::DiedOnEcmo
                ) | (
                    DecannulationOutcome::BridgedToVadOrTransplant { .. },
                    EcmoOutcomeEntry::BridgedToVad | EcmoOutcomeEntry::BridgedToTransplant
                ) | (
                    DecannulationOutcome::RecannulatedWithin48h { .. },
                    EcmoOutcomeEntry::Recannulated
                ) | (
                    DecannulationOutcome::StillOnEcmo { .. },
                    EcmoOutcomeEntry::StillOnEcmo
                )
            ),
            _ => false,
        };
        let days_alive_out_of_icu = if self.icu.stays.is_empty() && self.death.death_day.is_none() {
            Err(Unavailable::NotApplicable("no ICU stay entered".into()))
        } else {
            days_alive_out_of_icu(
                &self.icu.stays,
                self.death.death_day,
                self.last_known_day(),
                horizons,
            )
        };
        let success_30 = self
            .ecmo_course()
            .and_then(|course| successful_at_horizon(&course, horizons));
        let six_month = match (self.death.death_day, self.month_6.last_contact_day) {
            (None, None) => Err(Unavailable::NotApplicable(
                "6-month contact (or death) not entered".into(),
            )),
            (death, contact) => six_month_status(death, contact.or(death).unwrap_or(0.0)),
        };
        ClinicalEndpoints {
            decannulation: decannulation.clone().into(),
            outcome_differs_from_entry: outcome_differs,
            days_alive_out_of_icu_30: days_alive_out_of_icu.into(),
            decannulation_event: decannulation.as_ref().ok().map(|outcome| DecannulationEvent {
                event_type: outcome.event_type(),
                code: outcome.event_type().code(),
                time_days: outcome.event_time_days(),
            }),
            successful_decannulation_30: success_30.into(),
            six_month_status: six_month.into(),
            horizons: *horizons,
        }
    }
}

/// A value, or why it is missing (serialises as `{"value": ...}` or `{"unavailable": ...}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Computed<T> {
    /// The value.
    Value(T),
    /// Why there is none.
    Unavailable(Unavailable),
}

impl<T> From<Result<T, Unavailable>> for Computed<T> {
    fn from(result: Result<T, Unavailable>) -> Computed<T> {
        match result {
            Ok(value) => Computed::Value(value),
            Err(reason) => Computed::Unavailable(reason),
        }
    }
}

/// Event type and time of the decannulation endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecannulationEvent {
    /// Censored, success or competing.
    pub event_type: EventType,
    /// 0 censored, 1 success, 2 competing.
    pub code: u8,
    /// Days from randomisation to the event (or censoring).
    pub time_days: f64,
}

fn not_computed() -> Computed<bool> {
    Computed::Unavailable(Unavailable::NotApplicable("computed by an older version".into()))
}

/// The clinical endpoints of a case.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClinicalEndpoints {
    /// Time to decannulation with its competing outcome.
    pub decannulation: Computed<DecannulationOutcome>,
    /// The computed outcome is not the one entered (e.g. "weaned" but re-cannulated within 48 h): the endpoint
    /// uses the computed one; the form should be checked.
    pub outcome_differs_from_entry: bool,
    /// Days alive and out of ICU at 30 days.
    pub days_alive_out_of_icu_30: Computed<f64>,
    /// The decannulation outcome as a competing-risks analysis reads it: event type and time, separately.
    #[serde(default)]
    pub decannulation_event: Option<DecannulationEvent>,
    /// Successful decannulation at 30 days (alive, free of re-cannulation and other support on day 30).
    #[serde(default = "not_computed")]
    pub successful_decannulation_30: Computed<bool>,
    /// Vital status at 6 months.
    pub six_month_status: Computed<SixMonthStatus>,
    /// The horizons the endpoints were computed over (the trial setting in force); results stored before the
    /// setting existed read as the defaults they were computed with.
    #[serde(default)]
    pub horizons: ClinicalHorizons,
}

/// Reads a day as typed on the form: a number of days (`5.5`), a date (`2026-03-14`, midnight UTC) or a date
/// and time (`2026-03-14 08:30`, UTC), dates counted from `randomised`. Only the day count is kept.
pub fn parse_day(text: &str, randomised: Option<DateTime<Utc>>) -> Result<f64, String> {
    let text = text.trim();
    if let Ok(days) = text.parse::<f64>() {
        return if days.is_finite() && days >= 0.0 {
            Ok(days)
        } else {
            Err(format!("{text}: days from randomisation must be 0 or more"))
        };
    }
    let at = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.and_time(chrono::NaiveTime::MIN)))
        .map_err(|_| format!("{text}: enter days (e.g. 5.5) or a date (YYYY-MM-DD [HH:MM], UTC)"))?
        .and_utc();
    let randomised = randomised.ok_or("enter the randomisation time first: dates are counted from it")?;
    let days = (at - randomised).num_seconds() as f64 / 86_400.0;
    if days < 0.0 {
        return Err(format!("{text} is before randomisation"));
    }
    Ok((days * 1000.0).round() / 1000.0)
}

/// Reads the randomisation time: `YYYY-MM-DD HH:MM` (UTC) or RFC 3339.
pub fn parse_randomisation(text: &str) -> Result<DateTime<Utc>, String> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").map(|t| t.and_utc()))
        .map_err(|_| format!("{text}: enter the randomisation time as YYYY-MM-DD HH:MM (UTC)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> FollowUpForm {
        FollowUpForm {
            randomisation: RandomisationEntry {
                randomised_utc: Some("2026-03-01T10:00:00Z".into()),
            },
            decannulation: DecannulationEntry {
                outcome: Some(EcmoOutcomeEntry::Weaned),
                decannulation_day: Some(6.0),
                ..Default::default()
            },
            icu: IcuEntry {
                stays: vec![
                    IcuStay {
                        admission_day: 0.0,
                        discharge_day: Some(12.0),
                    },
                    IcuStay {
                        admission_day: 20.0,
                        discharge_day: Some(23.0),
                    },
                ],
            },
            death: DeathEntry::default(),
            month_6: SixMonthEntry {
                last_contact_day: Some(190.0),
            },
        }
    }

    #[test]
    fn endpoints_from_a_complete_form() {
        let endpoints = form().endpoints(&ClinicalHorizons::default());
        assert_eq!(
            endpoints.decannulation,
            Computed::Value(DecannulationOutcome::Decannulated { days: 6.0 })
        );
        // 30 - (12 + 3) ICU days.
        assert_eq!(endpoints.days_alive_out_of_icu_30, Computed::Value(15.0));
        assert_eq!(endpoints.six_month_status, Computed::Value(SixMonthStatus::Alive));
        assert!(!endpoints.outcome_differs_from_entry);
    }

    #[test]
    fn a_weaning_followed_by_recannulation_within_48h_is_not_a_success() {
        let mut f = form();
        f.decannulation.recannulation_day = Some(7.5);
        let endpoints = f.endpoints(&ClinicalHorizons::default());
        assert!(matches!(
            endpoints.decannulation,
            Computed::Value(DecannulationOutcome::RecannulatedWithin48h { .. })
        ));
        assert!(endpoints.outcome_differs_from_entry);
    }

    #[test]
    fn death_zeroes_days_out_of_icu_and_missing_entries_say_why() {
        let mut f = form();
        f.decannulation.outcome = Some(EcmoOutcomeEntry::DiedOnEcmo);
        let missing = f.endpoints(&ClinicalHorizons::default());
        assert!(matches!(missing.decannulation, Computed::Unavailable(_)));
        f.death.death_day = Some(4.0);
        let endpoints = f.endpoints(&ClinicalHorizons::default());
        assert_eq!(
            endpoints.decannulation,
            Computed::Value(DecannulationOutcome::DiedOnEcmo { days: 4.0 })
        );
        assert_eq!(endpoints.days_alive_out_of_icu_30, Computed::Value(0.0));
        assert_eq!(
            endpoints.six_month_status,
            Computed::Value(SixMonthStatus::Dead { day: 4.0 })
        );
        let empty = FollowUpForm::default().endpoints(&ClinicalHorizons::default());
        assert!(matches!(empty.decannulation, Computed::Unavailable(_)));
        assert!(matches!(empty.six_month_status, Computed::Unavailable(_)));
    }

    #[test]
    fn days_are_typed_as_numbers_or_dates_from_randomisation() {
        let randomised = parse_randomisation("2026-03-01 10:00").unwrap();
        assert_eq!(parse_day("5.5", None), Ok(5.5));
        assert_eq!(parse_day("2026-03-06 22:00", Some(randomised)), Ok(5.5));
        assert_eq!(parse_day("2026-03-02", Some(randomised)), Ok(0.583));
        assert!(parse_day("2026-02-27", Some(randomised)).is_err());
        assert!(parse_day("2026-03-06", None).is_err());
        assert!(parse_day("-1", None).is_err());
        assert!(parse_day("soon", Some(randomised)).is_err());
    }

    #[test]
    fn sections_round_trip_through_stored_records() {
        let f = form();
        let records: Vec<FollowUp> = FORMS
            .iter()
            .enumerate()
            .map(|(i, name)| FollowUp {
                id: i as i64,
                form: (*name).into(),
                data: f.section_json(name).unwrap(),
                entered_by: "fellow".into(),
                entered_utc: "2026-09-01T00:00:00Z".into(),
            })
            .collect();
        assert_eq!(FollowUpForm::from_records(&records).unwrap(), f);
    }
}
