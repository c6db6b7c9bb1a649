use std::fmt;

/// The two formats the vendor answers in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    /// The file name extension, which is also the relay's `format` value.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Xml => "xml",
            Self::Json => "json",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Self::Xml => "application/xml",
            Self::Json => "application/json",
        }
    }

    pub fn other(self) -> Self {
        match self {
            Self::Xml => Self::Json,
            Self::Json => Self::Xml,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::Xml => "XML",
            Self::Json => "JSON",
        })
    }
}

/// A document that could not be read: what went wrong and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{format} {location}{}: {message}", path.as_deref().map(|path| format!(" at {path}")).unwrap_or_default())]
pub struct ParseError {
    pub format: Format,
    pub message: String,
    pub location: Location,
    /// Where in the document's tree, e.g. `Invoices[3].Customers[2]`.
    pub path: Option<String>,
}

/// Where in the bytes a problem was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    LineColumn { line: usize, column: usize },
    ByteOffset(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineColumn { line, column } => write!(formatter, "line {line}, column {column}"),
            Self::ByteOffset(offset) => write!(formatter, "byte {offset}"),
        }
    }
}

/// Documents must be UTF-8; the error names the first offending byte.
pub(crate) fn require_utf8(format: Format, bytes: &[u8]) -> Result<&str, ParseError> {
    std::str::from_utf8(bytes).map_err(|error| ParseError {
        format,
        message: "the document is not valid UTF-8".to_owned(),
        location: Location::ByteOffset(error.valid_up_to()),
        path: None,
    })
}
