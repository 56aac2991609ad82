//! Clinical endpoint arithmetic (ENDPOINTS.md section 7) on plain inputs from the follow-up forms: time to
//! successful VA-ECMO decannulation (alive and free of re-cannulation and other mechanical support for 48 h, and
//! at 30 days), with competing outcomes explicit and "still on ECMO" censored, each outcome with its event type
//! and time; days alive and out of ICU at 30 days ("incomplete" until follow-up reaches day 30 or death); and the
//! 6-month status. All times are days from randomisation (day 0).
//!
//! The horizons (48 h, 30 days, 30 days) are a trial setting, [`ClinicalHorizons`], stored with the case's
//! analysis settings and echoed in every clinical result: a trial that defines success at 72 h or counts days
//! alive out of ICU at 28 days changes the setting, not the code.

use serde::{Deserialize, Serialize};

use super::Unavailable;

/// The horizons of the clinical endpoints, a trial setting (defaults in docs/methods.md section 8).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClinicalHorizons {
    /// A decannulation is successful when the patient is alive and free of re-cannulation and of other mechanical
    /// support this long after it, days (default 2: 48 h).
    pub success_confirmation_days: f64,
    /// The day from randomisation at which "successful decannulation" is also judged (default 30).
    pub success_horizon_days: f64,
    /// The horizon of "days alive and out of ICU", days from randomisation (default 30).
    pub alive_out_of_icu_horizon_days: f64,
}

impl Default for ClinicalHorizons {
    fn default() -> ClinicalHorizons {
        ClinicalHorizons {
            success_confirmation_days: 2.0,
            success_horizon_days: 30.0,
            alive_out_of_icu_horizon_days: 30.0,
        }
    }
}

impl ClinicalHorizons {
    /// The confirmation window in hours.
    pub fn confirmation_hours(&self) -> f64 {
        24.0 * self.success_confirmation_days
    }

    /// The horizons in words, as the clinical results and the case's choices echo them.
    pub fn describe(&self) -> String {
        format!(
            "success = alive and free of re-cannulation and other support {:.0} h after decannulation, also judged on \
             day {:.0}; days alive and out of ICU at day {:.0}",
            self.confirmation_hours(),
            self.success_horizon_days,
            self.alive_out_of_icu_horizon_days
        )
    }

    /// Whether every horizon is a positive number of days (`Err` names the one that is not).
    pub fn check(&self) -> Result<(), Unavailable> {
        for (name, days) in [
            ("success confirmation window", self.success_confirmation_days),
            ("successful decannulation horizon", self.success_horizon_days),
            (
                "days alive and out of ICU horizon",
                self.alive_out_of_icu_horizon_days,
            ),
        ] {
            if !(days.is_finite() && days > 0.0) {
                return Err(Unavailable::NonPositive(format!("{name} ({days} days)")));
            }
        }
        Ok(())
    }
}

/// Six months, in days from randomisation.
pub const SIX_MONTHS_DAYS: f64 = 182.0;

/// The ECMO course as recorded on the follow-up form; every field is days from randomisation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EcmoCourse {
    /// First decannulation, if any.
    pub decannulation_day: Option<f64>,
    /// Re-cannulation after that decannulation, if any.
    pub recannulation_day: Option<f64>,
    /// Death, if it occurred.
    pub death_day: Option<f64>,
    /// Bridge to a durable VAD or heart transplant, if it occurred.
    pub vad_or_transplant_day: Option<f64>,
    /// Last day the patient's status is known.
    pub last_follow_up_day: f64,
}

/// How the ECMO run ended, for the time-to-successful-decannulation endpoint. Success = decannulated, then alive
/// and free of re-cannulation and of any other mechanical support for 48 h; a decannulation followed within 48 h
/// by death, re-cannulation or other support is a failed attempt, not a success.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DecannulationOutcome {
    /// Successful decannulation (alive, no re-cannulation and no other mechanical support within 48 h).
    Decannulated {
        /// Time to decannulation, days.
        days: f64,
    },
    /// Died while on ECMO (competing).
    DiedOnEcmo {
        /// Days from randomisation to death.
        days: f64,
    },
    /// Bridged to a durable VAD or transplant while on ECMO (competing).
    BridgedToVadOrTransplant {
        /// Days from randomisation to the bridge.
        days: f64,
    },
    /// Decannulated, then re-cannulated within 48 h (competing: the attempt failed).
    RecannulatedWithin48h {
        /// Days to the (failed) decannulation.
        decannulation_days: f64,
        /// Days to the re-cannulation.
        recannulation_days: f64,
    },
    /// Decannulated, then another mechanical support (VAD, transplant) within 48 h (competing).
    SupportWithin48h {
        /// Days to the (failed) decannulation.
        decannulation_days: f64,
        /// Days to the support.
        support_days: f64,
    },
    /// Decannulated, then died within 48 h (competing: not a success).
    DiedWithin48hOfDecannulation {
        /// Days to the decannulation.
        decannulation_days: f64,
        /// Days to death.
        death_days: f64,
    },
    /// Still on ECMO at the last follow-up: censored there (not a competing outcome).
    StillOnEcmo {
        /// Last day known on ECMO.
        censored_at_days: f64,
    },
    /// Decannulated, but follow-up ends before 48 h had passed: success unconfirmed, censored at the last day.
    DecannulatedUnconfirmed {
        /// Days to the decannulation.
        decannulation_days: f64,
        /// Last day known.
        censored_at_days: f64,
    },
}

/// What an outcome is for a competing-risks analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// Censored (code 0): still on ECMO, or success not yet confirmable.
    Censored,
    /// The event of interest (code 1): successful decannulation.
    Success,
    /// A competing event (code 2): death, bridge, failed decannulation.
    Competing,
}

impl EventType {
    /// The conventional code (0 censored, 1 event, 2 competing).
    pub fn code(self) -> u8 {
        match self {
            EventType::Censored => 0,
            EventType::Success => 1,
            EventType::Competing => 2,
        }
    }
}

impl DecannulationOutcome {
    /// Censored, success or competing.
    pub fn event_type(&self) -> EventType {
        match self {
            DecannulationOutcome::Decannulated { .. } => EventType::Success,
            DecannulationOutcome::StillOnEcmo { .. }
            | DecannulationOutcome::DecannulatedUnconfirmed { .. } => EventType::Censored,
            _ => EventType::Competing,
        }
    }

    /// The time of the event (success: decannulation; competing: the competing event itself, e.g. the day of death
    /// or re-cannulation; censored: the censoring day), days from randomisation.
    pub fn event_time_days(&self) -> f64 {
        match *self {
            DecannulationOutcome::Decannulated { days }
            | DecannulationOutcome::DiedOnEcmo { days }
            | DecannulationOutcome::BridgedToVadOrTransplant { days } => days,
            DecannulationOutcome::RecannulatedWithin48h {
                recannulation_days, ..
            } => recannulation_days,
            DecannulationOutcome::SupportWithin48h { support_days, .. } => support_days,
            DecannulationOutcome::DiedWithin48hOfDecannulation { death_days, .. } => death_days,
            DecannulationOutcome::StillOnEcmo { censored_at_days }
            | DecannulationOutcome::DecannulatedUnconfirmed { censored_at_days, .. } => censored_at_days,
        }
    }
}

fn check_day(name: &str, day: Option<f64>) -> Result<(), Unavailable> {
    match day {
        Some(d) if !d.is_finite() || d < 0.0 => Err(Unavailable::NonPositive(format!("{name} (day {d})"))),
        _ => Ok(()),
    }
}

fn check_course(course: &EcmoCourse) -> Result<(), Unavailable> {
    check_day("decannulation day", course.decannulation_day)?;
    check_day("re-cannulation day", course.recannulation_day)?;
    check_day("death day", course.death_day)?;
    check_day("VAD/transplant day", course.vad_or_transplant_day)?;
    check_day("last follow-up day", Some(course.last_follow_up_day))?;
    if let (Some(decannulation), Some(recannulation)) = (course.decannulation_day, course.recannulation_day)
        && recannulation < decannulation
    {
        return Err(Unavailable::NotApplicable(
            "re-cannulation recorded before decannulation".into(),
        ));
    }
    Ok(())
}

/// The outcome of the ECMO run, success confirmed over `horizons.success_confirmation_days` (48 h by default; the
/// outcome names say 48h, the stored setting says how long). Events after the first terminal one are irrelevant
/// to it.
pub fn decannulation_outcome(
    course: &EcmoCourse,
    horizons: &ClinicalHorizons,
) -> Result<DecannulationOutcome, Unavailable> {
    check_course(course)?;
    horizons.check()?;
    let on_ecmo_until = course.decannulation_day.unwrap_or(f64::INFINITY);
    // A bridge or death before (or on the day of) decannulation ends the run on ECMO; the earlier one counts.
    let terminal = [
        course
            .vad_or_transplant_day
            .filter(|&d| d <= on_ecmo_until)
            .map(|days| (days, DecannulationOutcome::BridgedToVadOrTransplant { days })),
        course
            .death_day
            .filter(|&d| d <= on_ecmo_until)
            .map(|days| (days, DecannulationOutcome::DiedOnEcmo { days })),
    ];
    if let Some((_, outcome)) = terminal.into_iter().flatten().min_by(|a, b| a.0.total_cmp(&b.0)) {
        return Ok(outcome);
    }
    let Some(decannulation) = course.decannulation_day else {
        return Ok(DecannulationOutcome::StillOnEcmo {
            censored_at_days: course.last_follow_up_day,
        });
    };
    let horizon = decannulation + horizons.success_confirmation_days;
    // The first failure within 48 h of decannulation, if any.
    let failures = [
        course.recannulation_day.filter(|&d| d <= horizon).map(|d| {
            (
                d,
                DecannulationOutcome::RecannulatedWithin48h {
                    decannulation_days: decannulation,
                    recannulation_days: d,
                },
            )
        }),
        course.vad_or_transplant_day.filter(|&d| d <= horizon).map(|d| {
            (
                d,
                DecannulationOutcome::SupportWithin48h {
                    decannulation_days: decannulation,
                    support_days: d,
                },
            )
        }),
        course.death_day.filter(|&d| d <= horizon).map(|d| {
            (
                d,
                DecannulationOutcome::DiedWithin48hOfDecannulation {
                    decannulation_days: decannulation,
                    death_days: d,
                },
            )
        }),
    ];
    if let Some((_, outcome)) = failures.into_iter().flatten().min_by(|a, b| a.0.total_cmp(&b.0)) {
        return Ok(outcome);
    }
    if course.last_follow_up_day < horizon {
        return Ok(DecannulationOutcome::DecannulatedUnconfirmed {
            decannulation_days: decannulation,
            censored_at_days: course.last_follow_up_day,
        });
    }
    Ok(DecannulationOutcome::Decannulated { days: decannulation })
}

/// Successful decannulation at the horizon (day 30 by default): decannulated, and on that day alive and free of
/// re-cannulation and of any other mechanical support. `Err` ("incomplete") while follow-up has not reached the
/// horizon and nothing decided it.
pub fn successful_at_horizon(course: &EcmoCourse, horizons: &ClinicalHorizons) -> Result<bool, Unavailable> {
    check_course(course)?;
    horizons.check()?;
    let horizon = horizons.success_horizon_days;
    let failed = [
        course.death_day,
        course.recannulation_day,
        course.vad_or_transplant_day,
    ]
    .into_iter()
    .flatten()
    .any(|d| d <= horizon);
    if failed {
        return Ok(false);
    }
    if course.last_follow_up_day < horizon {
        return Err(Unavailable::NotApplicable(format!(
            "incomplete: follow-up reaches day {:.0} of {horizon:.0}",
            course.last_follow_up_day
        )));
    }
    Ok(course.decannulation_day.is_some_and(|d| d <= horizon))
}

/// One ICU stay, days from randomisation; an open stay has no discharge yet.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IcuStay {
    /// Admission day.
    pub admission_day: f64,
    /// Discharge day, if discharged.
    pub discharge_day: Option<f64>,
}

/// Days alive and out of ICU at the horizon H (day 30 by default): `H - ICU days within days 0-H`, and 0 if the
/// patient died by day H. Overlapping stays are counted once; an open stay runs to day H. "Incomplete" (`Err`)
/// until follow-up (`last_follow_up_day`) reaches day H or the patient died.
pub fn days_alive_out_of_icu(
    stays: &[IcuStay],
    death_day: Option<f64>,
    last_follow_up_day: f64,
    horizons: &ClinicalHorizons,
) -> Result<f64, Unavailable> {
    check_day("death day", death_day)?;
    check_day("last follow-up day", Some(last_follow_up_day))?;
    horizons.check()?;
    let horizon = horizons.alive_out_of_icu_horizon_days;
    if death_day.is_some_and(|d| d <= horizon) {
        return Ok(0.0);
    }
    if last_follow_up_day < horizon {
        return Err(Unavailable::NotApplicable(format!(
            "incomplete: follow-up reaches day {last_follow_up_day:.0} of {horizon:.0}"
        )));
    }
    let mut intervals = Vec::with_capacity(stays.len());
    for stay in stays {
        check_day("ICU admission day", Some(stay.admission_day))?;
        check_day("ICU discharge day", stay.discharge_day)?;
        let end = stay.discharge_day.unwrap_or(horizon);
        if end < stay.admission_day {
            return Err(Unavailable::NotApplicable(
                "ICU discharge before admission".into(),
            ));
        }
        intervals.push((stay.admission_day.min(horizon), end.min(horizon)));
    }
    intervals.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut icu_days, mut covered_to) = (0.0, 0.0f64);
    for (from, to) in intervals {
        let from = from.max(covered_to);
        if to > from {
            icu_days += to - from;
            covered_to = to;
        }
    }
    Ok(horizon - icu_days)
}

/// Vital status at six months.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SixMonthStatus {
    /// Known alive at or after six months.
    Alive,
    /// Died within six months.
    Dead {
        /// Day of death.
        day: f64,
    },
    /// Not known: last contact before six months and no death recorded.
    LostToFollowUp {
        /// Last day known alive.
        last_known_alive_day: f64,
    },
}

impl SixMonthStatus {
    /// The codes of [`SixMonthStatus::code`], as a data set's label says them.
    pub const CODES: &'static str = "0 alive, 1 dead, 2 lost to follow-up";

    /// The status as a code for a data set: 0 alive, 1 dead, 2 lost to follow-up.
    pub fn code(&self) -> u8 {
        match self {
            SixMonthStatus::Alive => 0,
            SixMonthStatus::Dead { .. } => 1,
            SixMonthStatus::LostToFollowUp { .. } => 2,
        }
    }

    /// The status in words: `alive`, `dead`, `lost to follow-up`.
    pub fn words(&self) -> &'static str {
        match self {
            SixMonthStatus::Alive => "alive",
            SixMonthStatus::Dead { .. } => "dead",
            SixMonthStatus::LostToFollowUp { .. } => "lost to follow-up",
        }
    }

    /// The day behind the status, in words (`died on day 100`, `last known alive on day 90`); none when alive.
    pub fn day_words(&self) -> Option<String> {
        match self {
            SixMonthStatus::Alive => None,
            SixMonthStatus::Dead { day } => Some(format!("died on day {day}")),
            SixMonthStatus::LostToFollowUp { last_known_alive_day } => {
                Some(format!("last known alive on day {last_known_alive_day}"))
            }
        }
    }
}

/// The 6-month status from the death day and the last contact.
pub fn six_month_status(
    death_day: Option<f64>,
    last_contact_day: f64,
) -> Result<SixMonthStatus, Unavailable> {
    check_day("death day", death_day)?;
    check_day("last contact day", Some(last_contact_day))?;
    Ok(match death_day {
        Some(day) if day <= SIX_MONTHS_DAYS => SixMonthStatus::Dead { day },
        _ if last_contact_day >= SIX_MONTHS_DAYS || death_day.is_some() => SixMonthStatus::Alive,
        _ => SixMonthStatus::LostToFollowUp {
            last_known_alive_day: last_contact_day,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: ClinicalHorizons = ClinicalHorizons {
        success_confirmation_days: 2.0,
        success_horizon_days: 30.0,
        alive_out_of_icu_horizon_days: 30.0,
    };

    fn course() -> EcmoCourse {
        EcmoCourse {
            last_follow_up_day: 180.0,
            ..Default::default()
        }
    }

    #[test]
    fn competing_outcomes_are_explicit() {
        let ok = EcmoCourse {
            decannulation_day: Some(5.5),
            ..course()
        };
        assert_eq!(
            decannulation_outcome(&ok, &H).unwrap(),
            DecannulationOutcome::Decannulated { days: 5.5 }
        );
        let late_recannulation = EcmoCourse {
            recannulation_day: Some(9.0),
            ..ok
        };
        assert_eq!(
            decannulation_outcome(&late_recannulation, &H).unwrap(),
            DecannulationOutcome::Decannulated { days: 5.5 }
        );
        let failed = EcmoCourse {
            recannulation_day: Some(7.0),
            ..ok
        };
        assert_eq!(
            decannulation_outcome(&failed, &H).unwrap(),
            DecannulationOutcome::RecannulatedWithin48h {
                decannulation_days: 5.5,
                recannulation_days: 7.0
            }
        );
        let died = EcmoCourse {
            death_day: Some(3.0),
            ..course()
        };
        assert_eq!(
            decannulation_outcome(&died, &H).unwrap(),
            DecannulationOutcome::DiedOnEcmo { days: 3.0 }
        );
        let died_after = EcmoCourse {
            death_day: Some(20.0),
            ..ok
        };
        assert_eq!(
            decannulation_outcome(&died_after, &H).unwrap(),
            DecannulationOutcome::Decannulated { days: 5.5 }
        );
        // Death hours after decannulation is not a success.
        let died_soon = EcmoCourse {
            death_day: Some(5.75),
            ..ok
        };
        let outcome = decannulation_outcome(&died_soon, &H).unwrap();
        assert_eq!(
            outcome,
            DecannulationOutcome::DiedWithin48hOfDecannulation {
                decannulation_days: 5.5,
                death_days: 5.75
            }
        );
        assert_eq!(outcome.event_type(), EventType::Competing);
        assert_eq!(outcome.event_time_days(), 5.75);
        // A VAD the next day is other mechanical support: a failed decannulation.
        assert!(matches!(
            decannulation_outcome(
                &EcmoCourse {
                    vad_or_transplant_day: Some(6.5),
                    ..ok
                },
                &H
            )
            .unwrap(),
            DecannulationOutcome::SupportWithin48h { .. }
        ));
        // Follow-up ending within 48 h of decannulation: censored, not a success.
        let short = EcmoCourse {
            last_follow_up_day: 6.0,
            ..ok
        };
        let outcome = decannulation_outcome(&short, &H).unwrap();
        assert_eq!(outcome.event_type(), EventType::Censored);
        assert_eq!(outcome.event_time_days(), 6.0);
        assert_eq!(decannulation_outcome(&ok, &H).unwrap().event_type().code(), 1);
        let bridged = EcmoCourse {
            vad_or_transplant_day: Some(12.0),
            death_day: Some(40.0),
            ..course()
        };
        assert_eq!(
            decannulation_outcome(&bridged, &H).unwrap(),
            DecannulationOutcome::BridgedToVadOrTransplant { days: 12.0 }
        );
        assert_eq!(
            decannulation_outcome(
                &EcmoCourse {
                    last_follow_up_day: 9.0,
                    ..course()
                },
                &H
            )
            .unwrap(),
            DecannulationOutcome::StillOnEcmo {
                censored_at_days: 9.0
            }
        );
        assert_eq!(
            DecannulationOutcome::StillOnEcmo {
                censored_at_days: 9.0
            }
            .event_type(),
            EventType::Censored
        );
        assert!(
            decannulation_outcome(
                &EcmoCourse {
                    decannulation_day: Some(-1.0),
                    ..course()
                },
                &H
            )
            .is_err()
        );
        assert!(
            decannulation_outcome(
                &EcmoCourse {
                    recannulation_day: Some(4.0),
                    ..ok
                },
                &H
            )
            .is_err()
        );
    }

    #[test]
    fn days_alive_and_out_of_icu() {
        let stays = [
            IcuStay {
                admission_day: 0.0,
                discharge_day: Some(12.0),
            },
            IcuStay {
                admission_day: 10.0,
                discharge_day: Some(14.0),
            }, // overlaps the first
            IcuStay {
                admission_day: 25.0,
                discharge_day: Some(40.0),
            }, // runs past day 30
        ];
        assert_eq!(
            days_alive_out_of_icu(&stays, None, 30.0, &H).unwrap(),
            30.0 - 14.0 - 5.0
        );
        assert_eq!(days_alive_out_of_icu(&stays, Some(29.0), 29.0, &H).unwrap(), 0.0);
        assert_eq!(days_alive_out_of_icu(&stays, Some(45.0), 45.0, &H).unwrap(), 11.0);
        // Follow-up short of day 30 without a death: incomplete, not a number.
        let incomplete = days_alive_out_of_icu(&stays, None, 21.0, &H).unwrap_err();
        assert!(incomplete.to_string().contains("incomplete"), "{incomplete}");
        let open = [IcuStay {
            admission_day: 0.0,
            discharge_day: None,
        }];
        assert_eq!(days_alive_out_of_icu(&open, None, 40.0, &H).unwrap(), 0.0);
        let backwards = [IcuStay {
            admission_day: 5.0,
            discharge_day: Some(2.0),
        }];
        assert!(days_alive_out_of_icu(&backwards, None, 40.0, &H).is_err());
    }

    #[test]
    fn success_at_30_days_needs_the_patient_alive_and_free_of_support_on_day_30() {
        let ok = EcmoCourse {
            decannulation_day: Some(5.5),
            ..course()
        };
        assert_eq!(successful_at_horizon(&ok, &H), Ok(true));
        let late_recannulation = EcmoCourse {
            recannulation_day: Some(12.0),
            ..ok
        };
        assert_eq!(successful_at_horizon(&late_recannulation, &H), Ok(false));
        let died = EcmoCourse {
            death_day: Some(25.0),
            ..ok
        };
        assert_eq!(successful_at_horizon(&died, &H), Ok(false));
        let short = EcmoCourse {
            last_follow_up_day: 14.0,
            ..ok
        };
        assert!(successful_at_horizon(&short, &H).is_err());
        assert_eq!(successful_at_horizon(&course(), &H), Ok(false)); // still on ECMO at day 30
    }

    #[test]
    fn six_month_status_from_dates() {
        assert_eq!(
            six_month_status(Some(100.0), 100.0).unwrap(),
            SixMonthStatus::Dead { day: 100.0 }
        );
        assert_eq!(six_month_status(None, 190.0).unwrap(), SixMonthStatus::Alive);
        assert_eq!(
            six_month_status(Some(300.0), 300.0).unwrap(),
            SixMonthStatus::Alive
        );
        assert_eq!(
            six_month_status(None, 90.0).unwrap(),
            SixMonthStatus::LostToFollowUp {
                last_known_alive_day: 90.0
            }
        );
        assert!(six_month_status(Some(f64::NAN), 90.0).is_err());
    }

    #[test]
    fn six_month_status_codes_and_words_agree_with_the_label() {
        let statuses = [
            SixMonthStatus::Alive,
            SixMonthStatus::Dead { day: 100.0 },
            SixMonthStatus::LostToFollowUp {
                last_known_alive_day: 90.0,
            },
        ];
        let said: Vec<String> = statuses
            .iter()
            .map(|s| format!("{} {}", s.code(), s.words()))
            .collect();
        assert_eq!(said.join(", "), SixMonthStatus::CODES);
        assert_eq!(
            statuses.map(|s| s.day_words()),
            [
                None,
                Some("died on day 100".to_owned()),
                Some("last known alive on day 90".to_owned())
            ]
        );
    }

    #[test]
    fn the_horizons_are_a_setting() {
        let ok = EcmoCourse {
            decannulation_day: Some(5.5),
            ..course()
        };
        // Death 2.5 days after decannulation: a success at 48 h, a failure with a 72-h confirmation window.
        let died = EcmoCourse {
            death_day: Some(8.0),
            ..ok
        };
        assert_eq!(
            decannulation_outcome(&died, &H).unwrap(),
            DecannulationOutcome::Decannulated { days: 5.5 }
        );
        let h72 = ClinicalHorizons {
            success_confirmation_days: 3.0,
            ..H
        };
        assert_eq!(h72.confirmation_hours(), 72.0);
        assert_eq!(
            decannulation_outcome(&died, &h72).unwrap().event_type(),
            EventType::Competing
        );
        // A re-cannulation on day 29: a failure at 30 days, a success at 28.
        let late = EcmoCourse {
            recannulation_day: Some(29.0),
            ..ok
        };
        let h28 = ClinicalHorizons {
            success_horizon_days: 28.0,
            alive_out_of_icu_horizon_days: 28.0,
            ..H
        };
        assert_eq!(successful_at_horizon(&late, &H), Ok(false));
        assert_eq!(successful_at_horizon(&late, &h28), Ok(true));
        // Days alive out of ICU at 28 days: 28 - 10 ICU days; incomplete at day 29 for a 30-day horizon.
        let stays = [IcuStay {
            admission_day: 0.0,
            discharge_day: Some(10.0),
        }];
        assert_eq!(days_alive_out_of_icu(&stays, None, 29.0, &h28), Ok(18.0));
        assert!(days_alive_out_of_icu(&stays, None, 29.0, &H).is_err());
        // A horizon that is not a positive number of days is refused, with its name.
        let zero = ClinicalHorizons {
            success_horizon_days: 0.0,
            ..H
        };
        let refused = successful_at_horizon(&ok, &zero).unwrap_err();
        assert!(
            refused.to_string().contains("successful decannulation horizon"),
            "{refused}"
        );
        assert_eq!(ClinicalHorizons::default(), H);
        assert!(H.describe().contains("48 h") && H.describe().contains("day 30"));
    }
}
