//! The vendor's JSON: read exactly (amounts never pass through `f64`) with
//! errors that say where, and written back in the same shape.

use serde::Deserialize;

use crate::{
    error::{Format, Location, ParseError, require_utf8},
    model::{Invoice, InvoiceDocument, SubscriptionDetails},
    writer::write_document,
};

/// Reads an invoice document: an object with `Invoices`, or a bare list of
/// invoices as some endpoints send it.
pub fn parse_invoices(bytes: &[u8]) -> Result<InvoiceDocument, ParseError> {
    let text = require_utf8(Format::Json, bytes)?;
    check_nesting(text)?;
    if text.trim_start().starts_with('[') {
        Ok(InvoiceDocument { invoices: parse_with_path::<Vec<Invoice>>(text)? })
    } else {
        parse_with_path(text)
    }
}

/// The vendor's documents nest about eight levels deep; far deeper is an
/// attack or a broken writer, refused before any parsing.
pub const MAX_NESTING: usize = 64;

/// Refuses nesting past [`MAX_NESTING`], including inside unknown fields that
/// serde would otherwise skip without looking.
fn check_nesting(text: &str) -> Result<(), ParseError> {
    let bytes = text.as_bytes();
    let (mut depth, mut offset) = (0usize, 0usize);
    while let Some(&byte) = bytes.get(offset) {
        match byte {
            // Strings are most of a document: jump from escape to escape.
            b'"' => loop {
                offset += 1;
                match memchr::memchr2(b'"', b'\\', &bytes[offset..]) {
                    Some(found) if bytes[offset + found] == b'\\' => offset += found + 1,
                    Some(found) => {
                        offset += found;
                        break;
                    }
                    // Unterminated: the parser says so, with its position.
                    None => return Ok(()),
                }
            },
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(ParseError {
                        format: Format::Json,
                        message: format!("nested more than {MAX_NESTING} levels deep"),
                        location: Location::ByteOffset(offset),
                        path: None,
                    });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        offset += 1;
    }
    Ok(())
}

/// Writes the document as the vendor's JSON.
pub fn write_invoices(document: &InvoiceDocument) -> Vec<u8> {
    write_document(Format::Json, document)
}

/// Reads a `subscriptiondetails` answer.
pub fn parse_subscription_details(bytes: &[u8]) -> Result<SubscriptionDetails, ParseError> {
    let text = require_utf8(Format::Json, bytes)?;
    check_nesting(text)?;
    parse_with_path(text)
}

/// Writes a `subscriptiondetails` answer as the vendor's JSON.
pub fn write_subscription_details(details: &SubscriptionDetails) -> Vec<u8> {
    serde_json::to_vec(details).expect("the model always serialises")
}

/// Reads `text` as a `T`; a failure says where, with the path of the value
/// found by [`path_at`] rather than by tracking the path while reading,
/// which would double the reading code (it matters in the browser).
pub(crate) fn parse_with_path<'de, T: Deserialize<'de>>(text: &'de str) -> Result<T, ParseError> {
    serde_json::from_str(text).map_err(|error| {
        let end = offset_of(text, error.line(), error.column());
        located(&error, path_at(text, end))
    })
}

/// The byte offset of serde_json's 1-based line and column: the byte it
/// stopped at, which may already be past the value it complains about.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', text.as_bytes()).nth(line - 2).map_or(text.len(), |newline| newline + 1)
    };
    (line_start + column.saturating_sub(1)).min(text.len())
}

enum Level {
    Object { key: Option<String> },
    List { index: usize },
}

/// The path (`Invoices[0].Customers[1].Name`) of the innermost value open
/// at byte `end` of a JSON text, as far as the text is well formed.
fn path_at(text: &str, end: usize) -> Option<String> {
    let bytes = &text.as_bytes()[..end];
    let mut levels: Vec<Level> = Vec::new();
    let mut expecting_key = false;
    let mut offset = 0;
    while offset < bytes.len() {
        match bytes[offset] {
            b'{' => {
                levels.push(Level::Object { key: None });
                expecting_key = true;
            }
            b'[' => levels.push(Level::List { index: 0 }),
            b'}' | b']' => {
                levels.pop();
            }
            b',' => match levels.last_mut() {
                Some(Level::List { index }) => *index += 1,
                Some(Level::Object { .. }) => expecting_key = true,
                None => {}
            },
            b'"' => {
                let start = offset + 1;
                offset = start;
                while offset < bytes.len() && bytes[offset] != b'"' {
                    offset += if bytes[offset] == b'\\' { 2 } else { 1 };
                }
                if expecting_key && let Some(Level::Object { key }) = levels.last_mut() {
                    // A malformed escape may end the scan inside a character.
                    let raw = text.get(start..offset.min(bytes.len())).unwrap_or_default();
                    *key =
                        Some(serde_json::from_str(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_owned()));
                    expecting_key = false;
                }
            }
            _ => {}
        }
        offset += 1;
    }
    let mut path = String::new();
    for level in &levels {
        match level {
            Level::Object { key: Some(key) } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Level::Object { key: None } => {}
            Level::List { index } => path.push_str(&format!("[{index}]")),
        }
    }
    (!path.is_empty()).then_some(path)
}

fn located(error: &serde_json::Error, path: Option<String>) -> ParseError {
    ParseError {
        format: Format::Json,
        message: strip_position(error),
        location: Location::LineColumn { line: error.line(), column: error.column() },
        path,
    }
}

/// serde_json appends " at line L column C"; we report the position ourselves.
fn strip_position(error: &serde_json::Error) -> String {
    let message = error.to_string();
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message,
    }
}

/// serde adapters for the contract's leaf values, each accepting a JSON
/// string or a bare number, `null` and `""` meaning absent.
pub(crate) mod leaf {
    use std::borrow::Cow;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use serde_json::value::RawValue;

    /// A leaf's text: strings unescaped, numbers and booleans as written.
    /// Borrowed from the document unless an escape had to be undone.
    fn raw_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Cow<'de, str>>, D::Error> {
        let raw = <&'de RawValue>::deserialize(deserializer)?.get();
        let text = match raw.as_bytes().first() {
            Some(b'n') => return Ok(None),
            Some(b'"') if !raw.contains('\\') => Cow::Borrowed(&raw[1..raw.len() - 1]),
            Some(b'"') => Cow::Owned(serde_json::from_str::<String>(raw).map_err(D::Error::custom)?),
            Some(b'{' | b'[') => return Err(D::Error::custom("expected a value, found an object or a list")),
            _ => Cow::Borrowed(raw),
        };
        Ok(if text.trim().is_empty() { None } else { Some(text) })
    }

    fn write_raw<S: Serializer>(text: String, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(text).map_err(serde::ser::Error::custom)?;
        serializer.serialize_some(&raw)
    }

    pub mod text {
        use super::*;

        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
            Ok(raw_text(deserializer)?.map(Cow::into_owned))
        }

        pub fn serialize<S: Serializer>(value: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_some(value)
        }
    }

    pub mod amount {
        use rust_decimal::Decimal;

        use super::*;
        use crate::scalars::parse_amount;

        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Decimal>, D::Error> {
            raw_text(deserializer)?.map(|text| parse_amount(&text).map_err(D::Error::custom)).transpose()
        }

        pub fn serialize<S: Serializer>(value: &Option<Decimal>, serializer: S) -> Result<S::Ok, S::Error> {
            match value {
                Some(amount) => write_raw(amount.to_string(), serializer),
                None => serializer.serialize_none(),
            }
        }
    }

    pub mod date {
        use chrono::NaiveDate;

        use super::*;
        use crate::scalars::{format_date, parse_date};

        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<NaiveDate>, D::Error> {
            raw_text(deserializer)?.map(|text| parse_date(&text).map_err(D::Error::custom)).transpose()
        }

        pub fn serialize<S: Serializer>(value: &Option<NaiveDate>, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_some(&value.map(format_date))
        }
    }

    pub mod id {
        use super::*;
        use crate::scalars::Id;

        /// Canonical whatever the quoting: `12345` and `"12345"` are the same
        /// number, while `"012345"` keeps its leading zero as text.
        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Id>, D::Error> {
            Ok(raw_text(deserializer)?.map(|text| {
                let canonical = !text.starts_with('0') || text.len() == 1;
                match text.parse::<u64>() {
                    Ok(number) if canonical && text.bytes().all(|byte| byte.is_ascii_digit()) => {
                        Id::Number(number)
                    }
                    _ => Id::Text(text.into_owned()),
                }
            }))
        }

        pub fn serialize<S: Serializer>(value: &Option<Id>, serializer: S) -> Result<S::Ok, S::Error> {
            match value {
                Some(Id::Number(number)) => serializer.serialize_some(number),
                Some(Id::Text(text)) => serializer.serialize_some(text),
                None => serializer.serialize_none(),
            }
        }
    }

    pub mod flag {
        use super::*;

        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
            raw_text(deserializer)?
                .map(|text| match text.trim().to_ascii_lowercase().as_str() {
                    "true" | "1" => Ok(true),
                    "false" | "0" => Ok(false),
                    _ => Err(D::Error::custom(format!("`{text}` is not true or false"))),
                })
                .transpose()
        }

        pub fn serialize<S: Serializer>(value: &Option<bool>, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_some(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_at_an_offset_follows_keys_and_indexes() {
        let text = r#"{"Invoices":[{"A":1},{"Header":{"Date":"x"}}]}"#;
        let at = text.find("\"x\"").unwrap() + 3;
        assert_eq!(path_at(text, at).as_deref(), Some("Invoices[1].Header.Date"));
        assert_eq!(path_at(r#"[{"K":[1,2"#, 10).as_deref(), Some("[0].K[1]"));
        assert_eq!(path_at("{\"\\é", 4), None, "a broken escape inside a character is no panic");
    }
}
