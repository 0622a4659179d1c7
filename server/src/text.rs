//! The one rule for human-readable text that the server stores and shows
//! to other people (names, reasons, purposes, subjects): public pages,
//! CSV exports and printed certificates display it, so it must look like
//! what it is.
//!
//! Surrounding white space (any Unicode white space, U+3000 included) is
//! trimmed before anything is checked, so `"   "` is as empty as `""`.
//! Refused anywhere: control characters (NUL, ANSI escapes, DEL, C1),
//! and the invisible formatting characters that change how text displays
//! without showing themselves (bidirectional overrides and isolates such as
//! U+202E, zero-width characters, the BOM, tag characters). Single-line
//! fields also refuse line breaks; paragraph fields keep `\n` (a `\r\n`
//! becomes `\n`).

use crate::error::ApiError;

/// Longest name, label, beneficiary or subject (characters).
pub const NAME_MAX: usize = 200;
/// Longest code a person types (a methodology id, a land-register parcel).
pub const CODE_MAX: usize = 64;
/// Longest reason, purpose or cause given with a decision.
pub const REASON_MAX: usize = 500;
/// Longest finding of a project or report review.
pub const FINDING_MAX: usize = 2000;
/// Longest objection to a project on notice.
pub const OBJECTION_MAX: usize = 5000;

/// What a field may hold besides ordinary characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One line: names, subjects, labels.
    Line,
    /// Several lines: reasons, purposes, descriptions.
    Paragraph,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must not be empty or only white space")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must not contain control or invisible formatting characters (found U+{0:04X} at character {1})")]
    Unsafe(u32, usize),
}

/// Characters that change what is displayed without being seen.
fn invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' // soft hyphen
        | '\u{061C}' // Arabic letter mark
        | '\u{180E}' // Mongolian vowel separator
        | '\u{200B}'..='\u{200F}' // zero-width space/joiners, LRM, RLM
        | '\u{2028}' | '\u{2029}' // line and paragraph separators
        | '\u{202A}'..='\u{202E}' // bidirectional embeddings and overrides
        | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
        | '\u{2066}'..='\u{206F}' // bidirectional isolates, deprecated formats
        | '\u{FEFF}' // byte order mark
        | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
        | '\u{E0000}'..='\u{E007F}' // tags
    )
}

/// `text` trimmed and checked: at least one visible character, at most
/// `max` characters, nothing that fakes what is displayed.
pub fn clean(text: &str, max: usize, shape: Shape) -> Result<String, TextError> {
    let trimmed = text.trim();
    let owned = match shape {
        Shape::Paragraph => trimmed.replace("\r\n", "\n"),
        Shape::Line => trimmed.to_string(),
    };
    if owned.is_empty() {
        return Err(TextError::Empty);
    }
    for (i, c) in owned.chars().enumerate() {
        let allowed_break = shape == Shape::Paragraph && c == '\n';
        if (c.is_control() && !allowed_break) || invisible_format(c) {
            return Err(TextError::Unsafe(c as u32, i + 1));
        }
    }
    if owned.chars().count() > max {
        return Err(TextError::TooLong { max });
    }
    Ok(owned)
}

/// An optional field: absent or blank is `None`, anything else is checked
/// as [`clean`] does.
pub fn clean_optional(
    text: Option<&str>,
    max: usize,
    shape: Shape,
) -> Result<Option<String>, TextError> {
    match text {
        Some(t) if !t.trim().is_empty() => clean(t, max, shape).map(Some),
        _ => Ok(None),
    }
}

/// [`clean`] for handlers: a refusal is a 422 naming `param`.
pub fn field(param: &str, text: &str, max: usize, shape: Shape) -> Result<String, ApiError> {
    clean(text, max, shape).map_err(|e| invalid(param, e))
}

/// [`clean_optional`] for handlers.
pub fn optional_field(
    param: &str,
    text: Option<&str>,
    max: usize,
    shape: Shape,
) -> Result<Option<String>, ApiError> {
    clean_optional(text, max, shape).map_err(|e| invalid(param, e))
}

fn invalid(param: &str, e: TextError) -> ApiError {
    ApiError::Invalid {
        param: param.to_string(),
        detail: format!("{param}: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_unicode_white_space_before_checking() {
        for blank in ["", "   ", "\t", "\u{3000}", " \u{3000}\u{00A0} "] {
            assert_eq!(
                clean(blank, 10, Shape::Line),
                Err(TextError::Empty),
                "{blank:?}"
            );
        }
        assert_eq!(
            clean("\u{3000}兰州新区\u{3000}", 10, Shape::Line).unwrap(),
            "兰州新区"
        );
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert!(clean(&"碳".repeat(10), 10, Shape::Line).is_ok());
        assert_eq!(
            clean(&"碳".repeat(11), 10, Shape::Line),
            Err(TextError::TooLong { max: 10 })
        );
    }

    #[test]
    fn refuses_what_fakes_the_display() {
        for (text, code) in [
            ("a\u{0}b", 0x0),
            ("red \u{1b}[31m", 0x1b),
            ("abc\u{202E}fdp.exe", 0x202E),
            ("ad\u{200B}min", 0x200B),
            ("x\u{2066}y", 0x2066),
            ("\u{FEFF}bom", 0xFEFF),
            ("del\u{7f}", 0x7f),
            ("c1\u{85}x", 0x85),
            ("tag\u{E0041}", 0xE0041),
        ] {
            match clean(text, 100, Shape::Paragraph) {
                Err(TextError::Unsafe(c, _)) => assert_eq!(c, code, "{text:?}"),
                other => panic!("{text:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn line_breaks_only_in_paragraphs() {
        assert!(matches!(
            clean("one\ntwo", 20, Shape::Line),
            Err(TextError::Unsafe(0x0A, 4))
        ));
        assert_eq!(
            clean("one\r\ntwo\n", 20, Shape::Paragraph).unwrap(),
            "one\ntwo"
        );
        assert!(clean("one\rtwo", 20, Shape::Paragraph).is_err());
    }

    #[test]
    fn optional_blank_is_none() {
        assert_eq!(clean_optional(None, 5, Shape::Line), Ok(None));
        assert_eq!(clean_optional(Some(" \t"), 5, Shape::Line), Ok(None));
        assert_eq!(
            clean_optional(Some(" ok "), 5, Shape::Line),
            Ok(Some("ok".into()))
        );
    }
}
