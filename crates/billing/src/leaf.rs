//! serde adapters for the contract's leaf values, each accepting a JSON
//! string or a bare number, `null` and `""` meaning absent.

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

/// A list at its exact length. Read item by item, a list's room grows to
/// four items and then doubles, and most subscriptions have one line: kept
/// as read, the room would outweigh the lines.
pub fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
    let mut list = Vec::<T>::deserialize(deserializer)?;
    list.shrink_to_fit();
    Ok(list)
}

fn write_raw<S: Serializer>(text: String, serializer: S) -> Result<S::Ok, S::Error> {
    let raw = RawValue::from_string(text).map_err(serde::ser::Error::custom)?;
    serializer.serialize_some(&raw)
}

/// Text that repeats from line to line: shared with its equals in the read.
pub mod text {
    use super::*;
    use crate::text::Text;

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Text>, D::Error> {
        Ok(raw_text(deserializer)?.map(|text| Text::interned(&text)))
    }

    pub fn serialize<S: Serializer>(value: &Option<Text>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_some(value)
    }
}

/// Text that differs on every line (row ids and hashes): looking each up
/// among the others would only cost time and room.
pub mod unique_text {
    use super::*;
    use crate::text::Text;

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Text>, D::Error> {
        Ok(raw_text(deserializer)?.map(|text| Text::from(text.as_ref())))
    }

    pub use super::text::serialize;
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

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<NaiveDate>, D::Error> {
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
