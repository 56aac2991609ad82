//! The transition function: one event in, the next state and the effects out, or a refusal with its reason.

use chrono::Duration;

use crate::model::{CaseId, EcmoSettings, StepId, UnloadingDevice};

use super::capture::WindowKind;
use super::context::{ChannelZero, CoronaryContext, Equalisation, PressureZero};
use super::eligibility::Criterion;
use super::event::{Effect, Event, Refusal};
use super::state::{
    Allocation, Arm, Capture, CaptureStatus, CaseInfo, FinishReason, Moment, Note, Pending, PendingAction,
    SavedWindow, SignOff, State, Visit, Warning,
};
use super::steps::{EQUALISED_CHECK, ZEROED_CHECK, guide, required_window};

/// Longest text accepted for a reference, an operator or a name.
const MAX_SHORT_TEXT: usize = 64;

/// How far ahead of this workstation's clock the randomisation system's clock may be.
const MAX_CLOCK_SKEW_MIN: i64 = 5;

/// Applies `event`, which happened at `at`, to `state`. Returns the next state and the effects the app must
/// record or carry out, or the reason the event is refused (the state is then unchanged).
pub fn handle(state: &State, event: Event, at: Moment) -> Result<(State, Vec<Effect>), Refusal> {
    let mut machine = Machine {
        state: state.clone(),
        effects: Vec::new(),
        at,
    };
    machine.apply(event)?;
    Ok((machine.state, machine.effects))
}

struct Machine {
    state: State,
    effects: Vec<Effect>,
    at: Moment,
}

impl Machine {
    fn apply(&mut self, event: Event) -> Result<(), Refusal> {
        if self.state.signed_off.is_some() {
            return Err(Refusal::SignedOff);
        }
        let allowed_while_pending = matches!(
            event,
            Event::Confirm | Event::Cancel | Event::Mark { .. } | Event::CaptureProgress(_)
        );
        if self.state.pending.is_some() && !allowed_while_pending {
            return Err(Refusal::AwaitingConfirmation);
        }
        if let Event::SetUpCase {
            case_id,
            site,
            operator,
        } = event
        {
            return self.set_up_case(&case_id, site, &operator);
        }
        if self.state.case.is_none() {
            return Err(Refusal::NoCase);
        }
        match event {
            Event::SetUpCase { .. } => Err(Refusal::CaseAlreadySetUp),
            Event::AnswerCriterion { criterion, answer } => self.answer(criterion, answer),
            Event::CheckItem { item, ticked } => self.check(item, ticked),
            Event::SetEcmo(settings) => {
                validate_ecmo(&settings)?;
                self.state.ecmo = Some(settings);
                self.effects.push(Effect::EcmoRecorded {
                    step: self.state.current,
                    settings,
                    at: self.at,
                });
                Ok(())
            }
            Event::PressuresZeroed { channels } => self.pressures_zeroed(channels),
            Event::PdEqualised { pd_pa_read } => self.pd_equalised(pd_pa_read),
            Event::SetCoronaryContext(context) => {
                self.in_step(StepId::BaselineCoronary, "recording the measurement context")?;
                let context = self.with_consoles(context);
                let (lo, hi) = CoronaryContext::PD_PA_RANGE;
                in_range(context.pd_pa_at_equalisation, lo, hi, "Pd/Pa at equalisation", "")?;
                let wire_position = match context.wire_position.trim() {
                    "" => String::new(),
                    text => short_text(text, "wire position")?,
                };
                let context = CoronaryContext {
                    wire_position,
                    ..context
                };
                self.state.coronary_context = Some(context.clone());
                self.effects
                    .push(Effect::CoronaryContextRecorded { context, at: self.at });
                Ok(())
            }
            Event::RecordAllocation {
                arm,
                reference,
                allocated_utc,
            } => {
                self.in_step(StepId::Randomisation, "recording the allocation")?;
                let reference = short_text(&reference, "randomisation reference")?;
                if allocated_utc > self.at.utc + Duration::minutes(MAX_CLOCK_SKEW_MIN) {
                    return Err(Refusal::AllocationInFuture);
                }
                let allocation = Allocation {
                    arm,
                    reference,
                    allocated_utc,
                    recorded: self.at,
                };
                self.state.allocation = Some(allocation.clone());
                self.effects.push(Effect::AllocationRecorded(allocation));
                Ok(())
            }
            Event::RecordDevice { device, ecmo } => self.record_device(device, ecmo),
            Event::RecordMinimumSupport(device) => self.record_minimum_support(device),
            Event::StartCapture(kind) => self.start_capture(kind),
            Event::CaptureProgress(quality) => {
                let at = self.at;
                let capture = self.running_capture("update")?;
                capture.quality = quality;
                capture.latest = at;
                let elapsed_s = capture.elapsed_s();
                let target = capture.target;
                if elapsed_s >= target.duration_s
                    && capture.quality.longest_accepted_run >= target.min_consecutive_beats
                    && capture.quality.longest_accepted_run_s >= target.min_run_s
                {
                    self.finish_capture(FinishReason::TargetReached);
                } else if elapsed_s >= target.max_duration_s {
                    self.finish_capture(FinishReason::TimedOut);
                }
                Ok(())
            }
            Event::StopCapture => {
                let at = self.at;
                self.running_capture("stop")?.latest = at;
                self.finish_capture(FinishReason::StoppedByOperator);
                Ok(())
            }
            Event::SaveCapture => self.save_capture(),
            Event::DiscardCapture => {
                if self.state.capture.is_none() {
                    return Err(Refusal::NoCapture("discard"));
                }
                self.discard_capture();
                self.restore_target_support();
                Ok(())
            }
            Event::Skip { reason } => self.skip(&reason),
            Event::Mark { text } => {
                let text = text.trim();
                if text.is_empty() {
                    return Err(Refusal::EmptyText("text of the event"));
                }
                let step = self.state.current;
                self.state.notes.push(Note {
                    at: self.at,
                    step,
                    text: text.to_owned(),
                });
                self.effects.push(Effect::Marked {
                    step,
                    text: text.to_owned(),
                    at: self.at,
                });
                Ok(())
            }
            Event::Next => match StepId::ALL.get(self.state.current as usize + 1) {
                Some(next) => self.move_to(*next),
                None => Err(Refusal::AtLastStep),
            },
            Event::Back => match (self.state.current as usize).checked_sub(1) {
                Some(previous) => self.move_to(StepId::ALL[previous]),
                None => Err(Refusal::AtFirstStep),
            },
            Event::GoTo(step) if step == self.state.current => Err(Refusal::AlreadyThere(step.title())),
            Event::GoTo(step) => self.move_to(step),
            Event::SignOff { by } => {
                self.in_step(StepId::SignOff, "signing off")?;
                let by = short_text(&by, "name of the person signing off")?;
                let skipped: Vec<(StepId, String)> = StepId::ALL
                    .into_iter()
                    .filter_map(|step| {
                        self.state
                            .record(step)
                            .skipped
                            .clone()
                            .map(|reason| (step, reason))
                    })
                    .collect();
                let mut warnings = vec![Warning::SignOffIsFinal];
                if !skipped.is_empty() {
                    warnings.push(Warning::StepsSkipped(skipped));
                }
                self.state.pending = Some(Pending {
                    action: PendingAction::SignOff { by },
                    warnings,
                });
                Ok(())
            }
            Event::Confirm => {
                let pending = self.state.pending.take().ok_or(Refusal::NothingToConfirm)?;
                self.perform(pending.action, pending.warnings);
                Ok(())
            }
            Event::Cancel => self
                .state
                .pending
                .take()
                .map(|_| ())
                .ok_or(Refusal::NothingToConfirm),
        }
    }

    fn set_up_case(
        &mut self,
        case_id: &str,
        site: crate::model::Site,
        operator: &str,
    ) -> Result<(), Refusal> {
        if self.state.case.is_some() {
            return Err(Refusal::CaseAlreadySetUp);
        }
        let case_id: CaseId = case_id.trim().parse().map_err(Refusal::InvalidCaseId)?;
        if case_id.site() != site {
            return Err(Refusal::SiteMismatch {
                case_id: case_id.to_string(),
                id_site: case_id.site().label(),
                chosen: site.label(),
            });
        }
        let operator = short_text(operator, "operator").map_err(|_| Refusal::NoOperator)?;
        let case = CaseInfo { case_id, operator };
        self.state.case = Some(case.clone());
        self.effects.push(Effect::CaseCreated { case, at: self.at });
        self.enter(StepId::CaseSetup);
        self.leave(Vec::new());
        self.enter(StepId::Eligibility);
        Ok(())
    }

    fn answer(&mut self, criterion: Criterion, answer: bool) -> Result<(), Refusal> {
        self.in_step(StepId::Eligibility, "answering eligibility criteria")?;
        self.state.eligibility.set(criterion, answer);
        let verdict = self.state.eligibility.verdict();
        self.effects.push(Effect::CriterionAnswered {
            criterion,
            answer,
            verdict,
            at: self.at,
        });
        Ok(())
    }

    fn check(&mut self, item: usize, ticked: bool) -> Result<(), Refusal> {
        let step = self.state.current;
        let text = guide(step).checklist.get(item).ok_or(Refusal::NoSuchItem {
            step: step.title(),
            item,
        })?;
        if let Some(slot) = self.state.record_mut(step).checklist.get_mut(item) {
            *slot = ticked;
        }
        self.effects.push(Effect::ChecklistChanged {
            step,
            item: (*text).to_owned(),
            ticked,
            at: self.at,
        });
        Ok(())
    }

    /// Records the app's zero of the pressures (consoles step) and ticks the step's zeroing item.
    fn pressures_zeroed(&mut self, channels: Vec<ChannelZero>) -> Result<(), Refusal> {
        self.in_step(StepId::Preparation, "zeroing the pressures")?;
        if channels.is_empty() {
            return Err(Refusal::InvalidSetting {
                what: "zero",
                why: "no pressure channel was zeroed".to_owned(),
            });
        }
        for zero in &channels {
            in_range(zero.offset_mmhg, -300.0, 300.0, "zero offset", "mmHg")?;
        }
        let zero = PressureZero {
            at: self.at,
            channels,
        };
        self.state.zero = Some(zero.clone());
        self.effects.push(Effect::PressuresZeroed(zero));
        self.update_context();
        self.tick(ZEROED_CHECK)
    }

    /// `context` with what the app did at the consoles step as its zero and equalisation, whatever the context
    /// says: one record of each.
    fn with_consoles(&self, context: CoronaryContext) -> CoronaryContext {
        let zero = self.state.zero.clone();
        let equalisation = self.state.equalisation.clone();
        CoronaryContext {
            zeroed: context.zeroed || zero.is_some(),
            pd_pa_at_equalisation: equalisation
                .as_ref()
                .map_or(context.pd_pa_at_equalisation, |e| e.pd_pa_read),
            zero,
            equalisation,
            ..context
        }
    }

    /// After a zero or an equalisation: a measurement context recorded already takes it at once (and is recorded
    /// again), so it never keeps a zero or a ratio that is no longer in force.
    fn update_context(&mut self) {
        if let Some(context) = self.state.coronary_context.clone() {
            let context = self.with_consoles(context);
            self.state.coronary_context = Some(context.clone());
            self.effects
                .push(Effect::CoronaryContextRecorded { context, at: self.at });
        }
    }

    /// Records the app's equalisation of Pd to Pa (consoles step) and ticks the step's equalisation item.
    fn pd_equalised(&mut self, pd_pa_read: f64) -> Result<(), Refusal> {
        self.in_step(StepId::Preparation, "equalising Pd to Pa")?;
        let pd_gain = Equalisation::gain_for(pd_pa_read).map_err(|why| Refusal::InvalidSetting {
            what: "Pd/Pa at equalisation",
            why,
        })?;
        let equalisation = Equalisation {
            at: self.at,
            pd_pa_read,
            pd_gain,
        };
        self.state.equalisation = Some(equalisation.clone());
        self.effects.push(Effect::PdEqualised(equalisation));
        self.update_context();
        self.tick(EQUALISED_CHECK)
    }

    /// Ticks the current step's checklist item `text`, if it is not ticked yet.
    fn tick(&mut self, text: &str) -> Result<(), Refusal> {
        let step = self.state.current;
        match guide(step).checklist.iter().position(|item| *item == text) {
            Some(item)
                if !self
                    .state
                    .record(step)
                    .checklist
                    .get(item)
                    .copied()
                    .unwrap_or(false) =>
            {
                self.check(item, true)
            }
            _ => Ok(()),
        }
    }

    fn record_device(&mut self, device: UnloadingDevice, ecmo: EcmoSettings) -> Result<(), Refusal> {
        self.in_step(StepId::DeviceInsertion, "recording the device")?;
        validate_device(&device)?;
        validate_ecmo(&ecmo)?;
        let inserted = Arm::of(&device);
        let allocated = self.state.allocation.as_ref().map(|allocation| allocation.arm);
        match (allocated, inserted) {
            (Some(allocated), Some(inserted)) if allocated != inserted => {
                let warnings = vec![Warning::DeviceDiffersFromAllocation { allocated, inserted }];
                self.state.pending = Some(Pending {
                    action: PendingAction::RecordDevice { device, ecmo },
                    warnings,
                });
            }
            _ => self.perform(PendingAction::RecordDevice { device, ecmo }, Vec::new()),
        }
        Ok(())
    }

    /// Records the device turned down for the within-session CDFR reference: the same device as the device step
    /// recorded, an IABP on standby, an Impella at a level below its target and above P-0 (at P-0 blood flows
    /// back through the pump into the ventricle, so P-0 is not "no support").
    fn record_minimum_support(&mut self, device: UnloadingDevice) -> Result<(), Refusal> {
        self.in_step(StepId::PostCoronary, "recording the minimum support")?;
        if self.state.capture.as_ref().is_some_and(Capture::running) {
            return Err(Refusal::CaptureRunning);
        }
        validate_device(&device)?;
        let invalid = |why: &str| Refusal::InvalidSetting {
            what: "minimum support",
            why: why.to_owned(),
        };
        match (self.state.device, device) {
            (UnloadingDevice::Iabp(_), UnloadingDevice::Iabp(iabp)) => {
                if iabp.ratio != crate::model::IabpRatio::Standby {
                    return Err(invalid("an IABP at minimum support is on standby (not pumping)"));
                }
            }
            (UnloadingDevice::Impella(target), UnloadingDevice::Impella(impella)) => {
                if impella.model != target.model {
                    return Err(invalid(
                        "the Impella recorded at the device step is a different model",
                    ));
                }
                if impella.p_level == 0 {
                    return Err(invalid(
                        "P-0 is not minimum support: blood flows back through the pump; use P-1 or P-2",
                    ));
                }
                if impella.p_level >= target.p_level {
                    return Err(invalid(&format!(
                        "P-{} is not below the target setting P-{}",
                        impella.p_level, target.p_level
                    )));
                }
            }
            (UnloadingDevice::None, _) => {
                return Err(invalid("no unloading device is recorded at the device step"));
            }
            (recorded, _) => {
                return Err(invalid(&format!(
                    "the device step recorded {}, a different device",
                    recorded.describe()
                )));
            }
        }
        self.state.minimum_support = Some(device);
        self.effects
            .push(Effect::MinimumSupportRecorded { device, at: self.at });
        Ok(())
    }

    /// The device goes back to its target setting when it was at minimum support.
    fn restore_target_support(&mut self) {
        if self.state.minimum_support.take().is_some() {
            self.effects.push(Effect::TargetSupportRestored {
                device: self.state.device,
                at: self.at,
            });
        }
    }

    fn start_capture(&mut self, kind: WindowKind) -> Result<(), Refusal> {
        let step = self.state.current;
        if !guide(step).captures.contains(&kind) {
            return Err(Refusal::CaptureNotInStep {
                step: step.title(),
                kind: kind.label(),
            });
        }
        if self.state.capture.as_ref().is_some_and(Capture::running) {
            return Err(Refusal::CaptureRunning);
        }
        match (kind, self.state.minimum_support) {
            (WindowKind::CoronaryRestMinimumSupport, None) => return Err(Refusal::NoMinimumSupport),
            (WindowKind::CoronaryRestMinimumSupport, Some(_)) | (_, None) => {}
            (_, Some(_)) => return Err(Refusal::AtMinimumSupport),
        }
        // Starting again replaces a finished capture that was not saved: that is what "repeat" means.
        if self.state.capture.is_some() {
            self.discard_capture();
        }
        let target = self.state.target(kind);
        self.state.capture = Some(Capture {
            step,
            kind,
            started: self.at,
            latest: self.at,
            target,
            quality: Default::default(),
            status: CaptureStatus::Running,
        });
        self.effects.push(Effect::CaptureStarted {
            step,
            kind,
            at: self.at,
            target,
        });
        Ok(())
    }

    fn running_capture(&mut self, verb: &'static str) -> Result<&mut Capture, Refusal> {
        self.state
            .capture
            .as_mut()
            .filter(|capture| capture.running())
            .ok_or(Refusal::NoCapture(verb))
    }

    fn finish_capture(&mut self, reason: FinishReason) {
        let Some(capture) = self.state.capture.as_mut() else {
            return;
        };
        let ended = capture.latest;
        capture.status = CaptureStatus::Finished { ended, reason };
        self.effects.push(Effect::CaptureFinished {
            step: capture.step,
            kind: capture.kind,
            start: capture.started,
            end: ended,
            reason,
            quality: capture.quality.clone(),
        });
    }

    fn save_capture(&mut self) -> Result<(), Refusal> {
        let capture = self.state.capture.take().ok_or(Refusal::NoCapture("save"))?;
        let CaptureStatus::Finished { ended, reason } = capture.status else {
            self.state.capture = Some(capture);
            return Err(Refusal::CaptureRunning);
        };
        let window = SavedWindow {
            kind: capture.kind,
            start: capture.started,
            end: ended,
            quality: capture.quality,
            target: capture.target,
            finish: reason,
            support: match capture.kind {
                WindowKind::CoronaryRestMinimumSupport => self.state.minimum_support,
                _ => None,
            },
        };
        let record = self.state.record_mut(capture.step);
        if required_window(capture.step) == Some(window.kind) {
            record.skipped = None;
        }
        record.windows.push(window.clone());
        self.effects.push(Effect::WindowSaved {
            step: capture.step,
            window,
        });
        if capture.kind == WindowKind::CoronaryRestMinimumSupport {
            self.restore_target_support();
        }
        Ok(())
    }

    fn discard_capture(&mut self) {
        if let Some(capture) = self.state.capture.take() {
            self.effects.push(Effect::CaptureDiscarded {
                step: capture.step,
                kind: capture.kind,
                start: capture.started,
                at: self.at,
            });
        }
    }

    fn skip(&mut self, reason: &str) -> Result<(), Refusal> {
        let step = self.state.current;
        let kind = required_window(step).ok_or(Refusal::NothingToSkip(step.title()))?;
        if self.state.latest_window(step, kind).is_some() {
            return Err(Refusal::AlreadyMeasured(step.title()));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Refusal::EmptyText("reason for skipping"));
        }
        self.state.record_mut(step).skipped = Some(reason.to_owned());
        self.effects.push(Effect::StepSkipped {
            step,
            reason: reason.to_owned(),
            at: self.at,
        });
        Ok(())
    }

    /// Moves to `target` at once, or asks for confirmation when something would be lost or left undone.
    /// Going back is always possible; going forward needs every step on the way to be complete.
    fn move_to(&mut self, target: StepId) -> Result<(), Refusal> {
        for step in StepId::ALL
            .into_iter()
            .filter(|step| *step >= self.state.current && *step < target)
        {
            if let Some(missing) = self.state.missing(step) {
                return Err(Refusal::Incomplete {
                    step: step.title(),
                    missing,
                });
            }
        }
        let mut warnings = Vec::new();
        if let Some(capture) = &self.state.capture {
            warnings.push(match capture.status {
                CaptureStatus::Running => Warning::CaptureRunning(capture.kind),
                CaptureStatus::Finished { .. } => Warning::UnsavedCapture(capture.kind),
            });
        }
        let unticked = self.state.unticked(self.state.current);
        if target > self.state.current && !unticked.is_empty() {
            warnings.push(Warning::UncheckedItems(unticked));
        }
        if warnings.is_empty() {
            self.perform(PendingAction::Move(target), warnings);
        } else {
            self.state.pending = Some(Pending {
                action: PendingAction::Move(target),
                warnings,
            });
        }
        Ok(())
    }

    /// Carries out an action whose warnings (if any) the operator has acknowledged.
    fn perform(&mut self, action: PendingAction, acknowledged: Vec<Warning>) {
        match action {
            PendingAction::Move(target) => {
                self.discard_capture();
                self.restore_target_support();
                self.leave(acknowledged);
                self.enter(target);
            }
            PendingAction::RecordDevice { device, ecmo } => {
                self.state.device = device;
                self.state.ecmo = Some(ecmo);
                let deviation = acknowledged.into_iter().next();
                self.effects.push(Effect::DeviceRecorded {
                    device,
                    ecmo,
                    deviation,
                    at: self.at,
                });
            }
            PendingAction::SignOff { by } => {
                // The step ends first: the signature is the case's last record, so that nothing the protocol
                // itself writes comes after it.
                self.leave(Vec::new());
                self.state.signed_off = Some(SignOff {
                    by: by.clone(),
                    at: self.at,
                });
                self.effects.push(Effect::SignedOff {
                    by,
                    at: self.at,
                    acknowledged,
                });
            }
        }
    }

    fn enter(&mut self, step: StepId) {
        self.state.current = step;
        let record = self.state.record_mut(step);
        record.visits.push(Visit {
            started: self.at,
            ended: None,
        });
        let visit = record.visits.len();
        self.effects.push(Effect::StepStarted {
            step,
            visit,
            at: self.at,
            device: self.state.device,
            ecmo: self.state.ecmo,
        });
    }

    fn leave(&mut self, acknowledged: Vec<Warning>) {
        let step = self.state.current;
        let unticked = self.state.unticked(step);
        let record = self.state.record_mut(step);
        if let Some(visit) = record.visits.last_mut() {
            visit.ended = Some(self.at);
        }
        let visit = record.visits.len();
        self.effects.push(Effect::StepEnded {
            step,
            visit,
            at: self.at,
            unticked,
            acknowledged,
        });
    }

    fn in_step(&self, expected: StepId, action: &'static str) -> Result<(), Refusal> {
        if self.state.current == expected {
            Ok(())
        } else {
            Err(Refusal::WrongStep {
                action,
                expected: expected.title(),
                current: self.state.current.title(),
            })
        }
    }
}

/// Trimmed, non-empty, at most [`MAX_SHORT_TEXT`] characters.
fn short_text(text: &str, what: &'static str) -> Result<String, Refusal> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Refusal::EmptyText(what));
    }
    if text.chars().count() > MAX_SHORT_TEXT {
        return Err(Refusal::InvalidSetting {
            what,
            why: format!("at most {MAX_SHORT_TEXT} characters"),
        });
    }
    Ok(text.to_owned())
}

/// `value` must be a number within `min..=max` (`unit` for the message).
fn in_range(value: f64, min: f64, max: f64, what: &'static str, unit: &str) -> Result<(), Refusal> {
    if value.is_finite() && (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(Refusal::InvalidSetting {
            what,
            why: format!("{value} is not between {min} and {max} {unit}"),
        })
    }
}

/// Plausible VA-ECMO settings: flow 0-8 L/min, pump speed 0-6000 rpm.
fn validate_ecmo(ecmo: &EcmoSettings) -> Result<(), Refusal> {
    in_range(ecmo.flow_l_min, 0.0, 8.0, "ECMO flow", "L/min")?;
    if let Some(rpm) = ecmo.rpm {
        in_range(rpm, 0.0, 6000.0, "ECMO pump speed", "rpm")?;
    }
    Ok(())
}

/// An unloading device with plausible settings: balloon 20-60 mL and timing within 200 ms; Impella P-0 to P-9
/// (P-8 on the 2.5) and a displayed flow of 0-6 L/min.
fn validate_device(device: &UnloadingDevice) -> Result<(), Refusal> {
    match device {
        UnloadingDevice::None => Err(Refusal::InvalidSetting {
            what: "device",
            why: "choose the IABP or the Impella that was inserted".to_owned(),
        }),
        UnloadingDevice::Iabp(iabp) => {
            in_range(iabp.balloon_volume_ml, 20.0, 60.0, "balloon volume", "mL")?;
            in_range(iabp.inflation_offset_ms, -200.0, 200.0, "inflation timing", "ms")?;
            in_range(iabp.deflation_offset_ms, -200.0, 200.0, "deflation timing", "ms")
        }
        UnloadingDevice::Impella(impella) => {
            let max_level = match impella.model {
                crate::model::ImpellaModel::Impella25 => 8.0,
                crate::model::ImpellaModel::ImpellaCp => 9.0,
            };
            in_range(f64::from(impella.p_level), 0.0, max_level, "P-level", "")?;
            match impella.displayed_flow_l_min {
                Some(flow) => in_range(flow, 0.0, 6.0, "Impella flow", "L/min"),
                None => Ok(()),
            }
        }
    }
}
