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

    /// The format a media type (a Content-Type or an Accept entry, with or
    /// without parameters, any case) names: `application/xml` and the
    /// contract's `text/xml` are XML, `application/json` is JSON.
    pub fn of_media_type(media_type: &str) -> Option<Self> {
        let essence = media_type.split(';').next().unwrap_or_default().trim();
        if essence.eq_ignore_ascii_case("application/xml") || essence.eq_ignore_ascii_case("text/xml") {
            Some(Self::Xml)
        } else if essence.eq_ignore_ascii_case("application/json") {
            Some(Self::Json)
        } else {
            None
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
/// Checked a vector of bytes at a time: the check is a pass over the whole
/// document before its reading.
pub(crate) fn require_utf8(format: Format, bytes: &[u8]) -> Result<&str, ParseError> {
    simdutf8::compat::from_utf8(bytes).map_err(|error| ParseError {
        format,
        message: "the document is not valid UTF-8".to_owned(),
        location: Location::ByteOffset(error.valid_up_to()),
        path: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_name_their_format_with_parameters_and_in_any_case() {
        for format in [Format::Xml, Format::Json] {
            assert_eq!(Format::of_media_type(format.media_type()), Some(format));
        }
        assert_eq!(Format::of_media_type("Text/XML; charset=utf-8"), Some(Format::Xml));
        assert_eq!(Format::of_media_type(" application/json ;q=0.9"), Some(Format::Json));
        assert_eq!(Format::of_media_type("text/html"), None);
        assert_eq!(Format::of_media_type("application/xml-dtd"), None);
        assert_eq!(Format::of_media_type(""), None);
    }
}
