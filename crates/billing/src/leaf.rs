//! How the model's values are written: amounts as exact JSON numbers,
//! dates as `YYYYMMDD`, ids as the number or text they were read as.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serializer;
use serde_json::value::RawValue;

use crate::{
    scalars::{Id, format_date},
    text::Text,
};

pub fn text<S: Serializer>(value: &Option<Text>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_some(value)
}

/// Written as any other text; only the reading of it differs.
pub use text as unique_text;

/// The decimal's exact digits as a JSON number, never through a float.
pub fn amount<S: Serializer>(value: &Option<Decimal>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(amount) => {
            let raw = RawValue::from_string(amount.to_string()).map_err(serde::ser::Error::custom)?;
            serializer.serialize_some(&raw)
        }
        None => serializer.serialize_none(),
    }
}

pub fn date<S: Serializer>(value: &Option<NaiveDate>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_some(&value.map(format_date))
}

pub fn id<S: Serializer>(value: &Option<Id>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(Id::Number(number)) => serializer.serialize_some(number),
        Some(Id::Text(text)) => serializer.serialize_some(text),
        None => serializer.serialize_none(),
    }
}

pub fn flag<S: Serializer>(value: &Option<bool>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_some(value)
}
