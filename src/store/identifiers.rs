//! Warnings for free text that looks like it holds a patient identifier. The case file has no field for
//! identifiers; these checks catch them when typed into a note, a marker or a channel name, or carried in by an
//! imported file, so the UI can ask the operator to remove them while they remember, and an export can refuse.
//!
//! What is caught (the corpus in the tests lists planted identifiers and innocent clinical text side by side):
//! - NHS numbers: ten digits passing the modulus-11 check, in one run or in groups joined by the same separator
//!   (space, `-`, `.`, `/`), with a leading `0` or neighbouring numbers; any digits after the word "NHS".
//! - Dates of birth: full dates with a year at least 16 years ago, written `12/03/1956`, `12.03.56`, `1956-03-12`,
//!   `19560312`, `12031956`, `12 March 1956`, `12th Mar 1956`, `March 12, 1956`; and the words "date of birth",
//!   "DOB" or "born".
//! - Names: a capitalised word after a title (`Mr`, `Mrs`, `Ms`, `Dr`, ...) or after "patient", "pt", "name",
//!   "named", "called"; a common forename followed by a capitalised word (`John Smith`); two consecutive
//!   name-shaped words that are neither clinical terms nor everyday words (`Xanthe Okonkwo-Brightwater`); a
//!   label of up to three words (a channel name, a marker kind) holding such a word (`Okonkwo`, `pa Okonkwo`).
//! - Hospital numbers: "MRN", "hospital number", "hosp no", "unit number", "patient id" and the like followed by a
//!   number, and letters directly followed by 6-10 digits (`RXH1234567`).
//! - Phone numbers: 10-11 digits starting with `0`, or `+` and 11-13 digits, in one run or joined groups.
//! - UK postcodes: `SW1A 1AA`, `M1 1AE`, `B338TH`.
//!
//! The checks are deliberately simple and deterministic (no dictionary of surnames; a short vocabulary of the
//! lab's capitalised words instead): a warning is a question to the operator, a refused export names the field,
//! and neither repeats the identifier. The bare-name rules trade some false alarms for catching uncommon names:
//! a capitalised term missing from `VOCABULARY` (a new drug or device name alone in a comment, or beside
//! another such word) is taken for a name, and an import carrying it is refused naming the field; such a term
//! belongs in the vocabulary (and in the corpus's innocent text).

use chrono::Datelike;

/// Something in a free-text field that looks like a patient identifier.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum TextWarning {
    /// Ten digits that pass the NHS number check digit, or a number after "NHS" (shown masked: only the last 3
    /// digits).
    NhsNumber {
        /// The number with all but its last three digits masked, e.g. `*******789`.
        masked: String,
    },
    /// A full date with a year at least 16 years ago, or the words "date of birth", "DOB" or "born".
    DateOfBirth {
        /// What matched (the date itself is not repeated).
        what: String,
    },
    /// A person's name: a capitalised word after a title or "patient", or a common forename and a surname.
    Name {
        /// What matched (the name itself is not repeated).
        what: String,
    },
    /// A hospital number or medical record number.
    HospitalNumber {
        /// What matched.
        what: String,
    },
    /// A telephone number.
    PhoneNumber,
    /// A UK postcode.
    Postcode,
}

impl std::fmt::Display for TextWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextWarning::NhsNumber { masked } => {
                write!(
                    f,
                    "the text contains what looks like an NHS number ({masked}); remove it"
                )
            }
            TextWarning::DateOfBirth { what } => {
                write!(
                    f,
                    "the text contains what looks like a date of birth ({what}); remove it"
                )
            }
            TextWarning::Name { what } => {
                write!(f, "the text contains what looks like a name ({what}); remove it")
            }
            TextWarning::HospitalNumber { what } => write!(
                f,
                "the text contains what looks like a hospital number ({what}); remove it"
            ),
            TextWarning::PhoneNumber => write!(
                f,
                "the text contains what looks like a telephone number; remove it"
            ),
            TextWarning::Postcode => {
                write!(f, "the text contains what looks like a postcode; remove it")
            }
        }
    }
}

/// Whether ten digits pass the NHS number modulus-11 check.
fn nhs_check_digit_ok(digits: &[u8; 10]) -> bool {
    let sum: u32 = digits[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(&d, w)| u32::from(d) * w)
        .sum();
    match 11 - sum % 11 {
        11 => digits[9] == 0,
        10 => false,
        check => digits[9] as u32 == check,
    }
}

/// A maximal run of ASCII digits.
struct DigitRun {
    digits: Vec<u8>,
    /// The separator joining it to the previous run (normalised: whitespace runs become one space, brackets go),
    /// `None` when the text between them does not join numbers.
    joined_by: Option<String>,
    /// Whether a `+` stands right before it.
    plus: bool,
}

/// The digit runs of `text`, each with how it joins the previous one.
fn digit_runs(text: &str) -> Vec<DigitRun> {
    let mut runs: Vec<DigitRun> = Vec::new();
    let mut between = String::new();
    let mut current: Vec<u8> = Vec::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            if current.is_empty() {
                let plus = between.ends_with('+');
                let joined_by = (!runs.is_empty()).then(|| joiner(&between)).flatten();
                runs.push(DigitRun {
                    digits: Vec::new(),
                    joined_by,
                    plus,
                });
                between.clear();
            }
            current.push(c as u8 - b'0');
        } else {
            if let Some(run) = runs.last_mut().filter(|_| !current.is_empty()) {
                run.digits = std::mem::take(&mut current);
            }
            between.push(c);
        }
    }
    if let Some(run) = runs.last_mut().filter(|_| !current.is_empty()) {
        run.digits = current;
    }
    runs
}

/// The normalised separator when `between` joins two numbers into one (`" "`, `"-"`, `"."`, `"/"`, optionally
/// with brackets, at most 3 characters).
fn joiner(between: &str) -> Option<String> {
    let joins = !between.is_empty()
        && between.chars().count() <= 3
        && between
            .chars()
            .all(|c| c.is_whitespace() || matches!(c, '-' | '.' | '/' | '(' | ')'));
    if !joins {
        return None;
    }
    let core: String = between.chars().filter(|c| !matches!(c, '(' | ')')).collect();
    let trimmed = core.trim();
    Some(if trimmed.is_empty() {
        " ".to_owned()
    } else {
        trimmed.to_owned()
    })
}

/// Every number formed by consecutive digit runs joined by one and the same separator (and each single run),
/// also without a leading `0` of its first run; with whether a `+` precedes it.
fn joined_numbers(runs: &[DigitRun]) -> Vec<(Vec<u8>, bool)> {
    let mut numbers = Vec::new();
    for start in 0..runs.len() {
        let first = &runs[start].digits;
        let mut variants = vec![first.clone()];
        if first.len() > 1 && first[0] == 0 {
            variants.push(first[1..].to_vec());
        }
        for variant in variants {
            let mut number = variant;
            numbers.push((number.clone(), runs[start].plus));
            let mut separator: Option<&str> = None;
            for run in &runs[start + 1..] {
                let Some(joined_by) = run.joined_by.as_deref() else {
                    break;
                };
                if separator.is_some_and(|s| s != joined_by) || number.len() > 13 {
                    break;
                }
                separator = Some(joined_by);
                number.extend_from_slice(&run.digits);
                numbers.push((number.clone(), runs[start].plus));
            }
        }
    }
    numbers
}

/// The latest year of birth of an adult patient.
fn latest_birth_year() -> i32 {
    chrono::Utc::now().year() - 16
}

/// A two-digit year as a full year: this century up to this year, the last century after it.
fn full_year(two_digits: u32) -> i32 {
    let this_year = chrono::Utc::now().year();
    let century = this_year - this_year % 100;
    let year = century + two_digits as i32;
    if year > this_year { year - 100 } else { year }
}

/// Whether (year, month, day) is a real date in a plausible year of birth.
fn plausible_birth(&(year, month, day): &(i32, u32, u32)) -> bool {
    (1900..=latest_birth_year()).contains(&year)
        && chrono::NaiveDate::from_ymd_opt(year, month, day).is_some()
}

/// Full numeric dates (`dd/mm/yyyy`, `dd-mm-yyyy`, `dd.mm.yyyy`, `dd.mm.yy`, `yyyy-mm-dd`) as (year, month, day)
/// triples, in both day-month orders where ambiguous.
fn numeric_dates(text: &str) -> Vec<(i32, u32, u32)> {
    let mut dates = Vec::new();
    for token in text.split(|c: char| !(c.is_ascii_digit() || matches!(c, '/' | '-' | '.'))) {
        let parts: Vec<&str> = token.split(['/', '-', '.']).filter(|p| !p.is_empty()).collect();
        let [a, b, c] = parts[..] else { continue };
        let numbers = (a.parse::<u32>(), b.parse::<u32>(), c.parse::<u32>());
        let (Ok(a), Ok(b), Ok(c)) = numbers else { continue };
        let parts = [parts[0].len(), parts[1].len(), parts[2].len()];
        match parts {
            [4, 1..=2, 1..=2] => dates.push((a as i32, b, c)),
            [1..=2, 1..=2, 4] => {
                dates.push((c as i32, b, a));
                dates.push((c as i32, a, b));
            }
            [1..=2, 1..=2, 2] => {
                dates.push((full_year(c), b, a));
                dates.push((full_year(c), a, b));
            }
            _ => {}
        }
    }
    dates
}

/// Dates written as eight digits in one run: `yyyymmdd` or `ddmmyyyy`.
fn compact_dates(runs: &[DigitRun]) -> Vec<(i32, u32, u32)> {
    let mut dates = Vec::new();
    for run in runs.iter().filter(|run| run.digits.len() == 8) {
        let value = |range: std::ops::Range<usize>| {
            run.digits[range].iter().fold(0u32, |n, &d| n * 10 + u32::from(d))
        };
        dates.push((value(0..4) as i32, value(4..6), value(6..8)));
        dates.push((value(4..8) as i32, value(2..4), value(0..2)));
    }
    dates
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// The lower-case words of `text` (runs of letters and digits).
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A day of the month written as a number, with or without an ordinal suffix (`12`, `12th`, `1st`).
fn day_of(word: &str) -> Option<u32> {
    let digits = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|suffix| word.strip_suffix(suffix))
        .unwrap_or(word);
    digits.parse().ok().filter(|_| (1..=2).contains(&digits.len()))
}

/// Dates written with a month name: `12 March 1956`, `12th Mar 1956`, `March 12, 1956`, `12-Mar-56`.
fn named_month_dates(text: &str) -> Vec<(i32, u32, u32)> {
    let words = words(text);
    let month_of = |word: &str| {
        MONTHS
            .iter()
            .position(|m| word.len() >= 3 && word.is_char_boundary(3) && m.starts_with(&word[..3]))
    };
    let year_of = |word: &str| match (word.len(), word.parse::<u32>()) {
        (4, Ok(year)) => Some(year as i32),
        (2, Ok(year)) => Some(full_year(year)),
        _ => None,
    };
    let mut dates = Vec::new();
    for window in words.windows(3) {
        let (first, second, third) = (&window[0], &window[1], &window[2]);
        if let (Some(day), Some(month), Some(year)) = (day_of(first), month_of(second), year_of(third)) {
            dates.push((year, month as u32 + 1, day));
        }
        if let (Some(month), Some(day), Some(year)) = (month_of(first), day_of(second), year_of(third)) {
            dates.push((year, month as u32 + 1, day));
        }
    }
    dates
}

/// Titles that come before a surname, as written (title case, or all capitals for the unambiguous ones).
const TITLES: [&str; 16] = [
    "Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Sir", "Dame", "Master", "Lady", "Lord", "MR", "MRS",
    "MISS", "Mstr",
];

/// Words after which a capitalised word is a name (lower case).
const NAME_CUES: [&str; 6] = ["patient", "pt", "name", "named", "called", "surname"];

/// Common forenames in England and Wales (ONS birth registrations, across the decades of today's patients).
const FORENAMES: &[&str] = &[
    "adam",
    "alan",
    "albert",
    "alexander",
    "alfred",
    "alice",
    "alison",
    "amanda",
    "amelia",
    "amy",
    "andrew",
    "angela",
    "ann",
    "anna",
    "anne",
    "anthony",
    "arthur",
    "barbara",
    "barry",
    "ben",
    "benjamin",
    "beryl",
    "betty",
    "brenda",
    "brian",
    "carol",
    "caroline",
    "catherine",
    "charles",
    "charlie",
    "charlotte",
    "chloe",
    "christine",
    "christopher",
    "claire",
    "colin",
    "daniel",
    "david",
    "dennis",
    "derek",
    "diane",
    "donald",
    "doreen",
    "dorothy",
    "edward",
    "eileen",
    "elizabeth",
    "ella",
    "ellie",
    "emily",
    "emma",
    "eric",
    "ernest",
    "frank",
    "frederick",
    "gary",
    "geoffrey",
    "george",
    "gillian",
    "gordon",
    "grace",
    "graham",
    "harry",
    "heather",
    "helen",
    "henry",
    "irene",
    "isabella",
    "jack",
    "jacob",
    "jacqueline",
    "james",
    "jane",
    "janet",
    "jean",
    "jennifer",
    "jessica",
    "joan",
    "joanne",
    "john",
    "jonathan",
    "joseph",
    "joshua",
    "joyce",
    "judith",
    "julie",
    "karen",
    "kathleen",
    "keith",
    "kenneth",
    "kevin",
    "laura",
    "leslie",
    "lily",
    "linda",
    "lisa",
    "louise",
    "lucy",
    "margaret",
    "maria",
    "marie",
    "mark",
    "martin",
    "mary",
    "matthew",
    "maureen",
    "megan",
    "michael",
    "michelle",
    "mohammed",
    "muhammad",
    "nicola",
    "nigel",
    "noah",
    "norman",
    "oliver",
    "olivia",
    "pamela",
    "patricia",
    "patrick",
    "paul",
    "pauline",
    "peter",
    "philip",
    "rachel",
    "raymond",
    "rebecca",
    "richard",
    "robert",
    "roger",
    "ronald",
    "rose",
    "ruth",
    "samuel",
    "sandra",
    "sarah",
    "sharon",
    "shirley",
    "simon",
    "sophie",
    "stanley",
    "stephen",
    "steven",
    "stuart",
    "susan",
    "sylvia",
    "terence",
    "thomas",
    "timothy",
    "tracey",
    "valerie",
    "victoria",
    "walter",
    "william",
    "yvonne",
];

/// Whether `word` is written like a name: letters (hyphens and apostrophes allowed) starting with a capital and
/// holding a lower-case letter (`Smith`, `McDonald`, `Thatcher-Jones`; not `CP` or `SpO2`).
fn capitalised(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
        && word.chars().any(char::is_lowercase)
        && word.chars().all(|c| c.is_alphabetic() || matches!(c, '-' | '\''))
}

/// Whether `word` is a name in capitals (`WILLIAMS`), as written after a title.
fn in_capitals(word: &str) -> bool {
    word.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && word.chars().all(|c| c.is_uppercase() || matches!(c, '-' | '\''))
}

/// Name warnings: a title or a cue word followed by a capitalised word, or a forename and a capitalised word.
fn name_warnings(text: &str) -> Vec<TextWarning> {
    let tokens: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '(' | ')'))
        .map(|t| t.trim_end_matches('.'))
        .filter(|t| !t.is_empty())
        .collect();
    let mut warnings = Vec::new();
    for pair in tokens.windows(2) {
        let (first, second) = (pair[0], pair[1]);
        if TITLES.contains(&first) && in_capitals(second) {
            warnings.push(TextWarning::Name {
                what: "a title and a name".into(),
            });
        }
        if !capitalised(second) {
            continue;
        }
        let what = if TITLES.contains(&first) {
            "a title and a name"
        } else if NAME_CUES.contains(&first.to_lowercase().as_str()) {
            "a name after \"patient\" or \"name\""
        } else if capitalised(first) && FORENAMES.contains(&first.to_lowercase().as_str()) {
            "a forename and a surname"
        } else {
            continue;
        };
        warnings.push(TextWarning::Name { what: what.into() });
    }
    warnings
}

/// Words that are written capitalised in cath-lab notes, channel names and console files without being names
/// (lower case): anatomy, devices and their makers, channel words, eponyms of methods and catheters
/// (`Weiss/Glantz`, `Savitzky-Golay`, `Swan-Ganz`), measurements, and the everyday words a note starts with. A capitalised word outside this list and the forenames is treated as
/// a possible surname (see [`bare_name_warnings`]).
const VOCABULARY: &str = "
    abbott abiomed absent accepted according acute added adenosine adjusted admitted adrenaline after again
    alarm all alpha also amplitude analysis anatomy angiogram angiography angioplasty anterior aorta aortic
    apex apical arrhythmia arrival arterial artery atrial augmentation augmented automatic average axis
    back balloon baseline basal beat beats before beta bicarbonate bleeding blood blue body both brachial
    bradycardia breath by cable calibrated calibration cannula cannulation capture cardiac cardiogenic
    cardiology case catheter cath cavity central change changed channel check checked circumflex clamp clamped
    clinical closed cold combo combowire comment comments conductance confirmed consultant continuous coronary
    corrected cough crossover cuff curve cyclic damped damping data datum deflated deflation delay delayed
    descending device diagonal diastole diastolic dobutamine doppler dose drift during early echo ecmo edge
    ejection electrode electrodes end ended ending epinephrine equalisation equalised equalization error event
    expi expiration expiratory external extremities failed failure fellow femoral fill filter final first
    flow flows flush flushed fluid for frequency from gain given good guide guiding guidewire half heart
    heparin hepatic high hold hyperaemia hyperemia iabp impella in inca inferior inflated inflation inspi
    inspiration inspiratory interval intra ivc jugular junction lab lactate late lead leads left level limb
    line loop loops low lower main manual marker mean measured measurement medtronic milrinone minimal minimum
    mitral mode moderate monitor moved near new next no noise noisy none noradrenaline norepinephrine normal
    not note occluded occlusion off ok on onset operator out output oxygen pace paced pacing paper parallel
    peak phase placement position post posterior pre preload pressure procedure protocol proximal pullback
    pulmonary pulse pump radial ramp ratio reading recorded recording reduced reduction reference repeat
    repeated resistance respiration respiratory rest resting restarted restored resumed review right run saline
    scale segment sensor setting settings severe shock signal sinus slow speed stable standard standby start
    started state steady stenosis stent step stopped suction superior support swan ganz syringe systole
    systolic target temperature test thermo thermodilution time total trace transducer trial trigger
    ultrasound unit unloading valve vein venous ventricle ventricular volume volumes wave waveform wedge weaning
    wire with zero zeroed
    analog analogue calculated derived filtered input probe rate raw resp sampling velocity hyperaemic
    microvascular perfusion ventilation vessel distal decannulation eligibility randomisation allocation
    annotation comparison endpoint endpoints export imported reviewed reviewer saved signed simulated simulator
    summary window windows sample samples study report result results method methods status upload
    cancelled canceled approved approval responsible responsibility incomplete skipped discarded ticked
    unticked preparation insertion consoles energetics demonstration eligible ineligible confirmation
    offset fiducial point rhythm complex morphology nadir trough notch dicrotic incisura upstroke inflection
    measurement measurements interpretation statement normal abnormal borderline
    duration length width height area diameter depth size maximum max minimum median count number index
    percent degrees
    nitro nitrate nitrates nitroglycerin nitroglycerine glyceryl trinitrate nitroprusside atropine verapamil
    papaverine acetylcholine protamine amiodarone metaraminol phenylephrine vasopressin dopamine levosimendan
    furosemide frusemide propofol fentanyl midazolam ketamine morphine bivalirudin tirofiban eptifibatide
    abciximab cangrelor isoprenaline isoproterenol esmolol labetalol adrenalin noradrenalin dobutamine
    contrast iodixanol iohexol bolus infusion paused stopped ventriculogram aortogram oximetry sats gas
    predilatation postdilatation dilatation inflated deflated crossed removed inserted withdrawn advanced
    weiss glantz savitzky golay suga sagawa takeuchi regazzoni nyquist kaiser butterworth pan tompkins zong
    bland altman frank starling fick poiseuille laplace wiggers burkhoff kass gaasch parker davies pijls
    bernoulli gorlin hakki seldinger judkins amplatz sones cournand forssmann
";

/// Whether `word` is shaped like a surname or a given name: a capital, then lower-case letters (at least 3
/// letters in all), each part after a hyphen or apostrophe the same (`Okonkwo`, `Okonkwo-Brightwater`,
/// `O'Brien`), or `Mc`/`Mac` and such a part (`McDonald`); not `ComboWire`, `PushSWE` or `CP`.
fn name_shaped(word: &str) -> bool {
    let part_ok = |part: &str| {
        let rest = part
            .strip_prefix("Mc")
            .or_else(|| part.strip_prefix("Mac"))
            .filter(|rest| rest.chars().next().is_some_and(char::is_uppercase))
            .unwrap_or(part);
        let mut chars = rest.chars();
        chars.next().is_some_and(char::is_uppercase) && chars.all(char::is_lowercase)
    };
    word.chars().filter(|c| c.is_alphabetic()).count() >= 3
        && word
            .split(['-', '\''])
            .enumerate()
            .all(|(at, part)| part_ok(part) || (at == 0 && part.len() == 1 && part == "O"))
}

/// Whether `word` (as written) is a possible name: name-shaped and neither a clinical or everyday word nor a
/// title or cue.
fn unknown_name_word(word: &str) -> bool {
    let lower = word.to_lowercase();
    let known = |part: &str| VOCABULARY.split_whitespace().any(|known| known == part);
    name_shaped(word)
        && !lower.split(['-', '\'']).all(known)
        && !TITLES.contains(&word)
        && !NAME_CUES.contains(&lower.as_str())
}

/// Names without a cue: two or more consecutive name-shaped words that are not clinical or everyday words
/// (`Xanthe Okonkwo-Brightwater`), and in a short label (a channel name, a marker kind: up to three words of
/// letters, with numbers or `_` around them) such a word after the first word or anywhere in a label without
/// spaces (`Okonkwo`, `Okonkwo_lvp`, `pa Okonkwo`). Sentence-initial everyday words and
/// the capitalised terms of the lab are in [`VOCABULARY`], so clinical text passes; the operator confirms a
/// false alarm at entry, and an export names the field.
fn bare_name_warnings(text: &str) -> Vec<TextWarning> {
    let tokens: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '(' | ')' | '_' | '/'))
        .map(|t| t.trim_end_matches(['.', '!', '?']))
        .filter(|t| !t.is_empty())
        .collect();
    let mut warnings = Vec::new();
    if tokens
        .windows(2)
        .any(|pair| unknown_name_word(pair[0]) && unknown_name_word(pair[1]))
    {
        warnings.push(TextWarning::Name {
            what: "two capitalised words that are not clinical terms".into(),
        });
    }
    let lettered: Vec<&&str> = tokens
        .iter()
        .filter(|t| t.chars().any(char::is_alphabetic))
        .collect();
    // In a label of up to three words, the first may be a term written capitalised ("Inspi cyclic"); a later
    // one that is a capitalised non-term is taken for a name.
    // A label without spaces (`Okonkwo_lvp`) is a key: any capitalised non-term in it counts.
    let one_key = !text.trim().contains(char::is_whitespace);
    let labelled = lettered.len() <= 3
        && lettered.iter().enumerate().any(|(at, word)| {
            (at > 0 || one_key || lettered.len() == 1)
                && unknown_name_word(word)
                && word.chars().filter(|c| c.is_alphabetic()).count() >= 4
        });
    if labelled {
        warnings.push(TextWarning::Name {
            what: "a label that is a capitalised word, not a clinical term".into(),
        });
    }
    warnings
}

/// Words that introduce a hospital or record number (lower case, as word sequences).
const HOSPITAL_NUMBER_CUES: [&[&str]; 12] = [
    &["mrn"],
    &["hospital", "number"],
    &["hospital", "no"],
    &["hosp", "no"],
    &["hosp", "number"],
    &["unit", "number"],
    &["unit", "no"],
    &["patient", "id"],
    &["patient", "number"],
    &["record", "number"],
    &["case", "note"],
    &["crn"],
];

/// Hospital-number warnings: a cue followed (within three words) by a word with at least 4 digits, or letters
/// run straight into 6-10 digits.
fn hospital_number_warnings(text: &str) -> Vec<TextWarning> {
    let words = words(text);
    let mut warnings = Vec::new();
    let num_digits = |word: &str| word.chars().filter(char::is_ascii_digit).count();
    for (index, _) in words.iter().enumerate() {
        for cue in HOSPITAL_NUMBER_CUES {
            let end = index + cue.len();
            if end <= words.len()
                && words[index..end].iter().zip(cue.iter()).all(|(w, c)| w == c)
                && words[end..(end + 3).min(words.len())]
                    .iter()
                    .any(|w| num_digits(w) >= 4)
            {
                warnings.push(TextWarning::HospitalNumber {
                    what: format!("\"{}\" and a number", cue.join(" ")),
                });
            }
        }
    }
    for word in &words {
        let letters = word.chars().take_while(char::is_ascii_alphabetic).count();
        let rest = &word[letters..];
        if (1..=4).contains(&letters)
            && (6..=10).contains(&rest.len())
            && rest.chars().all(|c| c.is_ascii_digit())
        {
            warnings.push(TextWarning::HospitalNumber {
                what: "letters followed by 6-10 digits".into(),
            });
        }
    }
    warnings
}

/// Whether `word` is a UK postcode's outward code (`SW1A`, `M1`, `B33`, `DN55`).
fn outward_code(word: &str) -> bool {
    let bytes = word.as_bytes();
    let letters = bytes.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let rest = &bytes[letters..];
    (1..=2).contains(&letters)
        && matches!(rest.len(), 1 | 2)
        && rest[0].is_ascii_digit()
        && rest.get(1).is_none_or(u8::is_ascii_alphanumeric)
}

/// Whether `word` is a UK postcode's inward code (`1AA`): a digit and two letters other than C, I, K, M, O, V,
/// not a lower-case ordinal.
fn inward_code(word: &str) -> bool {
    let bytes = word.as_bytes();
    bytes.len() == 3
        && bytes[0].is_ascii_digit()
        && bytes[1..]
            .iter()
            .all(|b| b.is_ascii_alphabetic() && !b"CIKMOVcikmov".contains(b))
        // `2nd`, `8th`: an ordinal, unless written in capitals as postcodes are (`B33 8TH`).
        && !["st", "nd", "rd", "th"].contains(&&word[1..])
}

/// Whether `text` holds a UK postcode, with or without its space.
fn has_postcode(text: &str) -> bool {
    let tokens: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    let spaced = tokens
        .windows(2)
        .any(|pair| outward_code(pair[0]) && inward_code(pair[1]));
    let joined = tokens.iter().any(|token| {
        token.len() >= 5
            && token.is_char_boundary(token.len() - 3)
            && outward_code(&token[..token.len() - 3])
            && inward_code(&token[token.len() - 3..])
    });
    spaced || joined
}

/// Warnings for `text`: NHS numbers, dates of birth, names, hospital numbers, phone numbers and postcodes. Each
/// kind of finding is reported once.
pub fn text_warnings(text: &str) -> Vec<TextWarning> {
    let mut warnings = Vec::new();
    let runs = digit_runs(text);
    let numbers = joined_numbers(&runs);
    let mut nhs_found = false;
    for (digits, _) in &numbers {
        if let Ok(digits) = <[u8; 10]>::try_from(digits.as_slice())
            && nhs_check_digit_ok(&digits)
        {
            let tail: String = digits[7..].iter().map(|d| char::from(b'0' + d)).collect();
            warnings.push(TextWarning::NhsNumber {
                masked: format!("*******{tail}"),
            });
            nhs_found = true;
        }
    }
    let lower_words = words(text);
    if !nhs_found
        && let Some(at) = lower_words.iter().position(|w| w == "nhs")
        && lower_words[at + 1..]
            .iter()
            .take(3)
            .any(|w| w.chars().filter(char::is_ascii_digit).count() >= 3)
    {
        warnings.push(TextWarning::NhsNumber {
            masked: "a number after \"NHS\"".into(),
        });
    }
    let phone = numbers.iter().any(|(digits, plus)| {
        // UK numbers: 0 then a non-zero digit (00 starts an international prefix), 10 or 11 digits.
        (!plus
            && digits.first() == Some(&0)
            && digits.get(1) != Some(&0)
            && (10..=11).contains(&digits.len()))
            || (*plus && (11..=13).contains(&digits.len()))
    });
    if phone {
        warnings.push(TextWarning::PhoneNumber);
    }
    if numeric_dates(text)
        .iter()
        .chain(&named_month_dates(text))
        .chain(&compact_dates(&runs))
        .any(plausible_birth)
    {
        warnings.push(TextWarning::DateOfBirth {
            what: "a full date with a birth-like year".into(),
        });
    }
    let lower = text.to_lowercase();
    let keyword = lower_words.iter().any(|w| matches!(w.as_str(), "dob" | "born"))
        || lower.contains("d.o.b")
        || lower.contains("date of birth");
    if keyword {
        warnings.push(TextWarning::DateOfBirth {
            what: "the words \"date of birth\", \"DOB\" or \"born\"".into(),
        });
    }
    warnings.extend(name_warnings(text));
    warnings.extend(bare_name_warnings(text));
    warnings.extend(hospital_number_warnings(text));
    if has_postcode(text) {
        warnings.push(TextWarning::Postcode);
    }
    let mut unique: Vec<TextWarning> = Vec::new();
    for warning in warnings {
        if !unique.contains(&warning) {
            unique.push(warning);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_numbers_are_found_by_their_check_digit() {
        // 943 476 5919 is the NHS's published example of a valid number (check digit 9).
        for text in [
            "patient 9434765919 seen",
            "ref 943 476 5919",
            "ref 943-476-5919.",
            "943.476.5919",
            "943/476/5919",
            "943 476 5919 2 units",
            "0943 476 5919",
            "943  476  5919",
            "94 34 76 59 19",
        ] {
            assert!(
                text_warnings(text).contains(&TextWarning::NhsNumber {
                    masked: "*******919".into()
                }),
                "{text}: {:?}",
                text_warnings(text)
            );
        }
        // A wrong check digit, 9 or 11 digits, and a check value of 10 are not NHS numbers.
        for text in [
            "9434765918",
            "943476591",
            "94347659190",
            "0000000060",
            "catheter 6 Fr, 120 mmHg",
            "flows 3.0 2.5 1.8 4.2 77 mmHg",
        ] {
            assert!(
                text_warnings(text).is_empty(),
                "{text}: {:?}",
                text_warnings(text)
            );
        }
    }

    #[test]
    fn check_digit_by_hand() {
        // 401 023 2137: 4*10 + 0*9 + 1*8 + 0*7 + 2*6 + 3*5 + 2*4 + 1*3 + 3*2 = 92; 92 % 11 = 4; 11 - 4 = 7.
        assert!(nhs_check_digit_ok(&[4, 0, 1, 0, 2, 3, 2, 1, 3, 7]));
        assert!(!nhs_check_digit_ok(&[4, 0, 1, 0, 2, 3, 2, 1, 3, 8]));
    }

    #[test]
    fn dates_of_birth_warn_procedure_times_do_not() {
        for text in [
            "seen 12/03/1956",
            "1956-03-12",
            "12.3.1956",
            "12.03.56",
            "19560312",
            "12031956",
            "12 March 1956",
            "12th March 1956",
            "1st Feb 1949",
            "Mar 12, 1956",
            "12-Mar-56",
            "DOB unknown",
        ] {
            assert!(
                text_warnings(text)
                    .iter()
                    .any(|w| matches!(w, TextWarning::DateOfBirth { .. })),
                "{text}: {:?}",
                text_warnings(text)
            );
        }
        let this_year = chrono::Utc::now().year();
        for text in [
            format!("procedure 12/03/{this_year}"),
            format!("procedure 12.03.{:02}", this_year % 100),
            "31/02/1956".into(),
            "Pd/Pa 0.82 at 12:03".into(),
        ] {
            assert!(
                text_warnings(&text).is_empty(),
                "{text}: {:?}",
                text_warnings(&text)
            );
        }
    }

    /// Identifiers planted in the places an operator types or a file carries them: every one is caught.
    const PLANTED: &[&str] = &[
        "9434765919",
        "943 476 5919",
        "943-476-5919",
        "943.476.5919",
        "943/476/5919",
        "943 476 5919 2 units",
        "0943 476 5919",
        "NHS no 943 476 5918",
        "nhs: 401-023-2137",
        "12/03/1956",
        "12.03.56",
        "19560312",
        "12th March 1956",
        "March 12th, 1956",
        "12-Mar-1956",
        "d.o.b. 12/3",
        "born in Leeds",
        "Mr Smith",
        "Mrs. Jones",
        "Dr Patel",
        "MRS WILLIAMS seen",
        "patient Smith",
        "Pt: Jones",
        "Name: Khan",
        "John Smith",
        "Margaret Thatcher-Jones",
        "MRN 12345678",
        "mrn: 00123456",
        "Hosp no RXH1234567",
        "hospital number 7654321",
        "RXH1234567",
        "unit no K123456",
        "07700 900123",
        "07700900123",
        "+44 7700 900123",
        "(020) 7946 0958",
        "020-7946-0958",
        "0117 496 0123",
        "SW1A 1AA",
        "M1 1AE",
        "B33 8TH",
        "ls2 9jt",
        "DN551PT",
        "aortic 943 476 5919",
        "LV pressure John Smith",
        "Seen by Xanthe Okonkwo-Brightwater",
        "Okonkwo",
        "Okonkwo_lvp",
        "pa Okonkwo",
        "discussed with Siobhan O'Donoghue-Adeyemi",
        "Reviewed Okafor",
        "Zhang Wei consented",
        "Kowalczyk",
        "McAllister 2",
    ];

    /// Clinical text that must never be refused: devices, vessels, flows, pressures, steps, case ids, times.
    const INNOCENT: &[&str] = &[
        "Impella CP P-8",
        "Impella 5.5 P-6",
        "LAD 7 mm",
        "RCA 3.0 mm",
        "LCx 2.5 mm stent",
        "2.5 L/min",
        "ECMO 3.5 L/min 3200 rpm",
        "HER-STH-0007",
        "HER-STH-0007 step 3",
        "Pa 85 mmHg, Pd 62 mmHg",
        "Pd/Pa 0.82 at 12:03",
        "FFR 0.78",
        "IABP 1:1",
        "IABP 1:2 augmentation",
        "adenosine 140 mcg/kg/min",
        "adenosine started",
        "hyperaemia 12:03:56",
        "balloon occlusion 18 s",
        "patient stable",
        "patient on VA-ECMO",
        "pt moved",
        "name of step: baseline",
        "MS moderate",
        "Dr said go ahead",
        "V1 2nd beat",
        "lead II",
        "Swan Ganz",
        "Left Main",
        "Inca conductance catheter 7 Fr",
        "ComboWire 0.014 in",
        "alpha 0.7, Gp 25 mL",
        "HR 72 BP 120/80 SpO2 98",
        "flows 3.0 2.5 1.8 4.2 77",
        "sample 1200000",
        "lactate 4.2 mmol/L",
        "dP/dt max 1250 mmHg/s",
        "EDPVR beta 0.03",
        "PRSW 65",
        "tau 48 ms",
        "CDFR 1.9",
        "sweep 25 mm/s",
        "pa",
        "lv_volume",
        "ecg",
        "aortic pressure",
        "Pd",
        "Thermo 1",
        "imported from a wfdb file: 1 segment(s), 2 source(s)",
        "window 12-29",
        "beats 11-29",
        "P8 to P6 at 14:32",
        "3 units",
        "0.9 NaCl 500 mL",
        "Stable Doppler",
        "Electrode Placement",
        "QTc Interval",
        "Standard 12-lead positions: limb leads placed at extremities",
        "Pressure",
        "Total Volume",
        "Temperature",
        "ECG catheter",
        "PushSWE",
        "Flow BIS",
        "Inspi cyclic",
        "VolumeResp",
        "Balloon Deflated",
        "Adenosine Started. Good Hyperaemia",
        "Impella P-8, Left Main",
        "Swan-Ganz",
        "Mean Pd",
        "Thermo 1",
        "Note: wire moved",
        "Repeat after flush",
        "tau by Weiss/Glantz/logistic, dP/dt by Savitzky-Golay",
        "single-beat Ees (Takeuchi 1991)",
        "Flow Probe",
        "Aortic Velocity",
        "Cancelled",
        "Confirmed",
        "Go to Eligibility",
        "Approved",
        "T Offset",
        "Fiducial Point",
        "QRS Onset",
        "QRS Duration: 90 ms",
        "Nitro",
        "Verapamil 200 mcg",
        "Contrast Bolus",
    ];

    #[test]
    fn the_corpus_every_planted_identifier_caught_no_innocent_text_refused() {
        let missed: Vec<&&str> = PLANTED
            .iter()
            .filter(|text| text_warnings(text).is_empty())
            .collect();
        let refused: Vec<(&&str, Vec<TextWarning>)> = INNOCENT
            .iter()
            .map(|text| (text, text_warnings(text)))
            .filter(|(_, warnings)| !warnings.is_empty())
            .collect();
        assert!(
            missed.is_empty() && refused.is_empty(),
            "{} planted, missed {missed:?}; {} innocent, refused {refused:?}",
            PLANTED.len(),
            INNOCENT.len()
        );
    }
}
