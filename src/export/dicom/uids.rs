//! Deterministic UIDs: every UID of a case's study is derived from the case, never from a clock or a random
//! number, so converting the same case again gives the very same objects and a re-upload is recognised by the
//! archive as "already stored".
//!
//! Method: the UUID-derived root `2.25` (PS3.5 section B.2 and ITU-T X.667: `2.25.` followed by the UUID as one
//! unsigned decimal integer). The UUID is a name-based one of version 8 (RFC 9562 section 5.8): the first 128 bits of
//! SHA-256 over a fixed namespace and the NUL-separated parts that name the object, with the version and variant
//! bits set. At most `2.25.` + 39 digits = 44 characters, well within the 64 a UID may have.
//!
//! What names what (see [`super`]): the study by the case id; a series by the case id and its role; an instance by
//! the case id, its role, its index and the SHA-256 of its content, so a changed content (a re-analysed report, a
//! corrected calibration) is a new instance of the same series, as DICOM requires, and an unchanged one is the same.

use sha2::{Digest, Sha256};

/// Namespace of every heracles UID; changing it would change every UID ever written.
const NAMESPACE: &str = "heracles DICOM export v1";

/// The `2.25.` UID named by `parts` (joined with NUL bytes under this program's fixed namespace).
pub fn derived_uid(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(NAMESPACE.as_bytes());
    for part in parts {
        hasher.update([0u8]);
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x80; // version 8
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // variant 10
    format!("2.25.{}", u128::from_be_bytes(bytes))
}

/// The study of case `case_id`.
pub fn study_uid(case_id: &str) -> String {
    derived_uid(&[case_id, "study"])
}

/// The series of case `case_id` in role `role` (e.g. `waveforms baseline`, `report`, `case file`).
pub fn series_uid(case_id: &str, role: &str) -> String {
    derived_uid(&[case_id, "series", role])
}

/// Instance `index` of series role `role` of case `case_id`, whose content has the hex SHA-256 `content_sha256`.
pub fn instance_uid(case_id: &str, role: &str, index: usize, content_sha256: &str) -> String {
    derived_uid(&[case_id, "instance", role, &index.to_string(), content_sha256])
}

/// The UID naming this program as the writer of the files (File Meta Information's Implementation Class UID)
/// and of the case-file payload (Raw Data's Creator-Version UID): fixed per program version.
pub fn implementation_uid() -> String {
    derived_uid(&["implementation", crate::model::about::VERSION])
}

/// Whether `uid` is a valid UID: 1 to 64 characters, dot-separated numbers without leading zeros.
pub fn is_valid_uid(uid: &str) -> bool {
    !uid.is_empty()
        && uid.len() <= 64
        && uid.split('.').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_digit())
                && (part == "0" || !part.starts_with('0'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_are_valid_deterministic_and_distinct() {
        let a = study_uid("HER-STH-0001");
        assert!(a.starts_with("2.25."));
        assert!(is_valid_uid(&a), "{a}");
        assert_eq!(a, study_uid("HER-STH-0001"));
        assert_ne!(a, study_uid("HER-STH-0002"));
        assert_ne!(
            series_uid("HER-STH-0001", "report"),
            series_uid("HER-STH-0001", "case file")
        );
        assert_ne!(
            instance_uid("HER-STH-0001", "report", 1, "ab"),
            instance_uid("HER-STH-0001", "report", 1, "ac")
        );
        // Parts are separated: ("ab", "c") is not ("a", "bc").
        assert_ne!(derived_uid(&["ab", "c"]), derived_uid(&["a", "bc"]));
        assert!(is_valid_uid(&implementation_uid()));
    }

    #[test]
    fn the_uuid_carries_version_8_and_the_rfc_variant() {
        let uid = study_uid("HER-KCH-0042");
        let value: u128 = uid.trim_start_matches("2.25.").parse().unwrap();
        assert_eq!((value >> 76) & 0xf, 8);
        assert_eq!((value >> 62) & 0x3, 0b10);
    }

    #[test]
    fn invalid_uids_are_recognised() {
        for bad in ["", "1..2", "1.02", "1.a", ".1", &format!("1.{}", "2".repeat(63))] {
            assert!(!is_valid_uid(bad), "{bad:?}");
        }
        assert!(is_valid_uid("1.2.840.10008.5.1.4.1.1.9.2.1"));
        assert!(is_valid_uid("2.25.0"));
    }
}
