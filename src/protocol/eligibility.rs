//! The trial's inclusion and exclusion criteria (ENDPOINTS.md section 8) as a checklist, and the verdict they give.
//! An ineligible patient cannot go on to randomisation; the criteria that made them ineligible are the recorded
//! reason.

use serde::{Deserialize, Serialize};

/// Whether a criterion must hold (inclusion) or must not hold (exclusion).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CriterionKind {
    /// The patient is eligible only if this holds.
    Inclusion,
    /// The patient is ineligible if this holds.
    Exclusion,
}

/// One criterion of the HERACLES eligibility checklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Criterion {
    /// Inclusion: age 18 or over with cardiogenic shock of any aetiology.
    AdultCardiogenicShock,
    /// Inclusion: on VA-ECMO, or starting VA-ECMO after PCI.
    OnVaEcmo,
    /// Inclusion: undergoing clinically indicated catheterisation.
    IndicatedCatheterisation,
    /// Exclusion: post-cardiotomy shock.
    PostCardiotomyShock,
    /// Exclusion: left-ventricular thrombus.
    LvThrombus,
    /// Exclusion: age under 18.
    Under18,
    /// Exclusion: pregnancy or peripartum cardiomyopathy.
    PregnancyOrPeripartum,
    /// Exclusion: contraindication to IABP or pLVAD (at least moderate aortic regurgitation, severe peripheral
    /// vascular disease).
    DeviceContraindication,
    /// Exclusion: mechanical aortic valve.
    MechanicalAorticValve,
}

impl Criterion {
    /// Every criterion, inclusion first, in the order of the trial protocol.
    pub const ALL: [Criterion; 9] = [
        Criterion::AdultCardiogenicShock,
        Criterion::OnVaEcmo,
        Criterion::IndicatedCatheterisation,
        Criterion::PostCardiotomyShock,
        Criterion::LvThrombus,
        Criterion::Under18,
        Criterion::PregnancyOrPeripartum,
        Criterion::DeviceContraindication,
        Criterion::MechanicalAorticValve,
    ];

    /// Inclusion or exclusion.
    pub fn kind(self) -> CriterionKind {
        match self {
            Criterion::AdultCardiogenicShock | Criterion::OnVaEcmo | Criterion::IndicatedCatheterisation => {
                CriterionKind::Inclusion
            }
            Criterion::PostCardiotomyShock
            | Criterion::LvThrombus
            | Criterion::Under18
            | Criterion::PregnancyOrPeripartum
            | Criterion::DeviceContraindication
            | Criterion::MechanicalAorticValve => CriterionKind::Exclusion,
        }
    }

    /// The question as the operator reads it.
    pub fn text(self) -> &'static str {
        match self {
            Criterion::AdultCardiogenicShock => "Age 18 or over, in cardiogenic shock of any aetiology",
            Criterion::OnVaEcmo => "On VA-ECMO, or starting VA-ECMO after PCI",
            Criterion::IndicatedCatheterisation => "Undergoing clinically indicated catheterisation",
            Criterion::PostCardiotomyShock => "Post-cardiotomy shock",
            Criterion::LvThrombus => "Left-ventricular thrombus",
            Criterion::Under18 => "Age under 18",
            Criterion::PregnancyOrPeripartum => "Pregnancy or peripartum cardiomyopathy",
            Criterion::DeviceContraindication => {
                "Contraindication to IABP or pLVAD (aortic regurgitation moderate or worse, severe peripheral \
                 vascular disease)"
            }
            Criterion::MechanicalAorticValve => "Mechanical aortic valve",
        }
    }

    /// Stable text id used in case files.
    pub fn key(self) -> &'static str {
        match self {
            Criterion::AdultCardiogenicShock => "adult_cardiogenic_shock",
            Criterion::OnVaEcmo => "on_va_ecmo",
            Criterion::IndicatedCatheterisation => "indicated_catheterisation",
            Criterion::PostCardiotomyShock => "post_cardiotomy_shock",
            Criterion::LvThrombus => "lv_thrombus",
            Criterion::Under18 => "under_18",
            Criterion::PregnancyOrPeripartum => "pregnancy_or_peripartum",
            Criterion::DeviceContraindication => "device_contraindication",
            Criterion::MechanicalAorticValve => "mechanical_aortic_valve",
        }
    }

    /// Whether `answer` (does the criterion hold?) rules the patient out.
    pub fn excludes(self, answer: bool) -> bool {
        match self.kind() {
            CriterionKind::Inclusion => !answer,
            CriterionKind::Exclusion => answer,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The operator's answers: `None` until a criterion is answered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    answers: [Option<bool>; 9],
}

/// What the answers say.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Some criteria are not answered yet (how many).
    Incomplete(usize),
    /// Every inclusion criterion holds and no exclusion criterion does.
    Eligible,
    /// These criteria rule the patient out (an inclusion answered no, or an exclusion answered yes).
    Ineligible(Vec<Criterion>),
}

/// The verdict in the operator's words, as the step panel shows it and the case file records it:
/// `ELIGIBLE: every criterion met`, `NOT ELIGIBLE: <criterion>; <criterion>` or `<n> criteria still to answer`.
impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Eligible => write!(f, "ELIGIBLE: every criterion met"),
            Verdict::Incomplete(1) => write!(f, "1 criterion still to answer"),
            Verdict::Incomplete(count) => write!(f, "{count} criteria still to answer"),
            Verdict::Ineligible(criteria) => {
                let reasons: Vec<&str> = criteria.iter().map(|criterion| criterion.text()).collect();
                write!(f, "NOT ELIGIBLE: {}", reasons.join("; "))
            }
        }
    }
}

impl Eligibility {
    /// The answer given for `criterion`, if any.
    pub fn answer(&self, criterion: Criterion) -> Option<bool> {
        self.answers[criterion.index()]
    }

    /// Records `answer` (does `criterion` hold?).
    pub fn set(&mut self, criterion: Criterion, answer: bool) {
        self.answers[criterion.index()] = Some(answer);
    }

    /// The verdict. A criterion that rules the patient out decides it even while others are unanswered.
    pub fn verdict(&self) -> Verdict {
        let failing: Vec<Criterion> = Criterion::ALL
            .into_iter()
            .filter(|criterion| {
                self.answer(*criterion)
                    .is_some_and(|answer| criterion.excludes(answer))
            })
            .collect();
        if !failing.is_empty() {
            return Verdict::Ineligible(failing);
        }
        match self.answers.iter().filter(|answer| answer.is_none()).count() {
            0 => Verdict::Eligible,
            unanswered => Verdict::Incomplete(unanswered),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_favourable() -> Eligibility {
        let mut eligibility = Eligibility::default();
        for criterion in Criterion::ALL {
            eligibility.set(criterion, criterion.kind() == CriterionKind::Inclusion);
        }
        eligibility
    }

    #[test]
    fn unanswered_is_incomplete_and_favourable_answers_are_eligible() {
        assert_eq!(Eligibility::default().verdict(), Verdict::Incomplete(9));
        assert_eq!(all_favourable().verdict(), Verdict::Eligible);
        assert_eq!(
            Criterion::ALL
                .iter()
                .filter(|c| c.kind() == CriterionKind::Inclusion)
                .count(),
            3
        );
    }

    #[test]
    fn each_criterion_alone_can_rule_out() {
        for criterion in Criterion::ALL {
            let mut eligibility = all_favourable();
            eligibility.set(criterion, criterion.kind() == CriterionKind::Exclusion);
            assert_eq!(
                eligibility.verdict(),
                Verdict::Ineligible(vec![criterion]),
                "{criterion:?}"
            );
        }
    }

    #[test]
    fn the_verdict_names_every_criterion_that_rules_the_patient_out() {
        let mut eligibility = all_favourable();
        eligibility.set(Criterion::LvThrombus, true);
        eligibility.set(Criterion::AdultCardiogenicShock, false);
        let text = eligibility.verdict().to_string();
        assert!(text.starts_with("NOT ELIGIBLE: "), "{text}");
        for criterion in [Criterion::LvThrombus, Criterion::AdultCardiogenicShock] {
            assert!(text.contains(criterion.text()), "{text}");
        }
        assert_eq!(
            Eligibility::default().verdict().to_string(),
            "9 criteria still to answer"
        );
        let mut one_left = Eligibility::default();
        for criterion in Criterion::ALL.into_iter().skip(1) {
            one_left.set(criterion, criterion.kind() == CriterionKind::Inclusion);
        }
        assert_eq!(one_left.verdict().to_string(), "1 criterion still to answer");
    }

    #[test]
    fn an_exclusion_decides_before_every_answer_is_in() {
        let mut eligibility = Eligibility::default();
        eligibility.set(Criterion::LvThrombus, true);
        assert_eq!(
            eligibility.verdict(),
            Verdict::Ineligible(vec![Criterion::LvThrombus])
        );
    }
}
