//! Warnings for free text that looks like it holds a patient identifier: an NHS number (10 digits passing the
//! modulus-11 check) or a date of birth. The case file has no field for identifiers; these warnings catch them
//! when typed into a note, so the UI can ask the operator to remove them.

use chrono::Datelike;

/// Something in a free-text field that looks like a patient identifier.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub enum TextWarning {
    /// Ten digits that pass the NHS number check digit (shown masked: only the last 3 digits).
    NhsNumber {
        /// The number with all but its last three digits masked, e.g. `*******789`.
        masked: String,
    },
    /// A full date with a year at least 16 years ago, or the words "date of birth", "DOB" or "born".
    DateOfBirth {
        /// What matched (the date itself is not repeated).
        what: String,
    },
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

/// Runs of digits joined by single spaces or hyphens ("943 476 5919", "943-476-5919"), as digit vectors.
fn digit_groups(text: &str) -> Vec<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut groups = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_digit() {
            current.push(b - b'0');
        } else {
            let joins = (b == b' ' || b == b'-')
                && !current.is_empty()
                && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
            if !joins && !current.is_empty() {
                groups.push(std::mem::take(&mut current));
            }
        }
        i += 1;
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
}

/// Full numeric dates (`dd/mm/yyyy`, `dd-mm-yyyy`, `dd.mm.yyyy`, `yyyy-mm-dd`) as (year, month, day) triples, in
/// both day-month orders where ambiguous.
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
            _ => {}
        }
    }
    dates
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Dates written with a month name: `12 March 1956`, `12 Mar 1956`, `March 12, 1956`.
fn named_month_dates(text: &str) -> Vec<(i32, u32, u32)> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let month_of = |word: &str| {
        MONTHS
            .iter()
            .position(|m| word.len() >= 3 && m.starts_with(&word[..3]))
    };
    let mut dates = Vec::new();
    for window in words.windows(3) {
        let (first, second, third) = (window[0], window[1], window[2]);
        let year = third.parse::<i32>().ok().filter(|_| third.len() == 4);
        if let (Ok(day), Some(month), Some(year)) = (first.parse::<u32>(), month_of(second), year) {
            dates.push((year, month as u32 + 1, day));
        }
        if let (Some(month), Ok(day), Some(year)) = (month_of(first), second.parse::<u32>(), year) {
            dates.push((year, month as u32 + 1, day));
        }
    }
    dates
}

/// Warnings for `text`: NHS-number-like digit runs and date-of-birth-like dates or words.
pub fn text_warnings(text: &str) -> Vec<TextWarning> {
    let mut warnings = Vec::new();
    for group in digit_groups(text) {
        if let Ok(digits) = <[u8; 10]>::try_from(group.as_slice())
            && nhs_check_digit_ok(&digits)
        {
            let tail: String = digits[7..].iter().map(|d| char::from(b'0' + d)).collect();
            warnings.push(TextWarning::NhsNumber {
                masked: format!("*******{tail}"),
            });
        }
    }
    let latest_birth_year = chrono::Utc::now().year() - 16;
    let plausible = |&(year, month, day): &(i32, u32, u32)| {
        (1900..=latest_birth_year).contains(&year)
            && chrono::NaiveDate::from_ymd_opt(year, month, day).is_some()
    };
    if numeric_dates(text)
        .iter()
        .chain(&named_month_dates(text))
        .any(plausible)
    {
        warnings.push(TextWarning::DateOfBirth {
            what: "a full date with a birth-like year".into(),
        });
    }
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let keyword = words.iter().any(|w| matches!(*w, "dob" | "born"))
        || lower.contains("d.o.b")
        || lower.contains("date of birth");
    if keyword {
        warnings.push(TextWarning::DateOfBirth {
            what: "the words \"date of birth\", \"DOB\" or \"born\"".into(),
        });
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nhs_numbers_are_found_by_their_check_digit() {
        // 943 476 5919 is the NHS's published example of a valid number (check digit 9).
        for text in ["patient 9434765919 seen", "NHS 943 476 5919", "ref 943-476-5919."] {
            assert_eq!(
                text_warnings(text),
                vec![TextWarning::NhsNumber {
                    masked: "*******919".into()
                }],
                "{text}"
            );
        }
        // A wrong check digit, 9 or 11 digits, and a check value of 10 are not NHS numbers.
        for text in [
            "9434765918",
            "943476591",
            "94347659190",
            "0000000060",
            "catheter 6 Fr, 120 mmHg",
        ] {
            assert!(text_warnings(text).is_empty(), "{text}");
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
            "12 March 1956",
            "Mar 12, 1956",
            "DOB unknown",
        ] {
            assert!(
                matches!(
                    text_warnings(text).as_slice(),
                    [TextWarning::DateOfBirth { .. }, ..]
                ),
                "{text}: {:?}",
                text_warnings(text)
            );
        }
        let this_year = chrono::Utc::now().year();
        for text in [
            format!("procedure 12/03/{this_year}"),
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
}
