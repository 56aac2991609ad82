//! Markers in words for a reader. The app stores every accepted protocol event as a marker of kind
//! [`PROTOCOL_MARKER_KIND`] whose text is JSON (the event, for replay, and its words); a reader (the review lane,
//! `case info`, the exports) must see the words, never the JSON. The one place a marker is worded.

/// The marker kind under which the app stores every accepted protocol event.
pub const PROTOCOL_MARKER_KIND: &str = "protocol";

/// A stored marker's text in words: a protocol event gives its stored words (or, for a file written before
/// events carried words, its event's name in words); any other marker is its own text.
pub fn marker_words(kind: &str, text: &str) -> String {
    if kind != PROTOCOL_MARKER_KIND {
        return text.to_owned();
    }
    let Ok(stored) = serde_json::from_str::<serde_json::Value>(text) else {
        return "Protocol event (unreadable)".to_owned();
    };
    if let Some(words) = stored["words"].as_str().filter(|words| !words.trim().is_empty()) {
        return words.to_owned();
    }
    // The event is serialised as `"Name"` or `{"Name": ...}`.
    let name = match &stored["event"] {
        serde_json::Value::String(name) => Some(name.as_str()),
        serde_json::Value::Object(map) => map.keys().next().map(String::as_str),
        _ => None,
    };
    match name {
        Some(name) => format!("Protocol event: {}", split_words(name)),
        None => "Protocol event".to_owned(),
    }
}

/// `SetUpCase` -> `set up case`.
fn split_words(name: &str) -> String {
    let mut words = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            words.push(' ');
        }
        words.extend(c.to_lowercase());
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_protocol_event_reads_as_words_never_as_json() {
        let stored = r#"{"event":{"SetUpCase":{"case_id":"HER-DEM-0001","site":"Dem","operator":"Dr A"}},"at":{},"words":"Case HER-DEM-0001 set up by Dr A"}"#;
        assert_eq!(
            marker_words("protocol", stored),
            "Case HER-DEM-0001 set up by Dr A"
        );
        // Written before events carried their words.
        let old = r#"{"event":{"SetUpCase":{"case_id":"HER-DEM-0001"}},"at":{}}"#;
        assert_eq!(marker_words("protocol", old), "Protocol event: set up case");
        assert_eq!(
            marker_words("protocol", r#"{"event":"Next"}"#),
            "Protocol event: next"
        );
        assert_eq!(
            marker_words("protocol", "not json"),
            "Protocol event (unreadable)"
        );
        // Other markers are their own text, even when it looks like JSON.
        assert_eq!(marker_words("marker", "{\"a\":1}"), "{\"a\":1}");
    }
}
