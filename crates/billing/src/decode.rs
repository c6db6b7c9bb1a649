//! JSON text into the model, with errors that say where: the line, the
//! column and the path of the value. The JSON reader uses it directly, the
//! XML reader on the JSON it transcodes each `<Invoice>` into.

use serde::Deserialize;

use crate::error::{Format, Location, ParseError};

/// The vendor's documents nest about eight levels deep; far deeper is an
/// attack or a broken writer, refused before any parsing.
pub const MAX_NESTING: usize = 64;

/// Refuses nesting past [`MAX_NESTING`], including inside unknown fields that
/// serde would otherwise skip without looking.
pub(crate) fn check_nesting(text: &str) -> Result<(), ParseError> {
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
