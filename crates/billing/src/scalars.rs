//! The vendor's scalar values read from text exactly: amounts as decimals
//! (never through binary floating point), dates as `YYYYMMDD`, and ids that
//! are numbers in the legacy API and strings in the current one.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

/// Why a scalar's text is not what the contract allows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScalarError {
    #[error("`{text}` is not a decimal amount")]
    NotAnAmount { text: String },
    #[error("`{text}` does not fit a decimal amount (at most 28 significant digits)")]
    AmountOutOfRange { text: String },
    #[error("`{text}` is not a date in the form YYYYMMDD")]
    NotADate { text: String },
}

/// An amount as the vendor writes it: `.` as decimal separator, an optional
/// sign, no thousands separators. Exponents are accepted because JSON
/// writers may use them; precision is never silently lost.
pub fn parse_amount(text: &str) -> Result<Decimal, ScalarError> {
    if let Some(amount) = plain_amount(text.as_bytes()) {
        return Ok(amount);
    }
    let text = text.trim();
    let well_formed = !text.is_empty()
        && text.bytes().all(|byte| byte.is_ascii_digit() || matches!(byte, b'.' | b'-' | b'+' | b'e' | b'E'))
        && text.bytes().any(|byte| byte.is_ascii_digit());
    if !well_formed {
        return Err(ScalarError::NotAnAmount { text: text.to_owned() });
    }
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str_exact(text)
    };
    parsed.map_err(|error| {
        let text = text.to_owned();
        if is_out_of_range(&error) {
            ScalarError::AmountOutOfRange { text }
        } else {
            ScalarError::NotAnAmount { text }
        }
    })
}

/// The form nearly every amount takes, `-123.45` with at most 18 digits,
/// read in one pass; anything else (`None`) goes to rust_decimal's parser,
/// which reads this form to the same value and scale.
fn plain_amount(text: &[u8]) -> Option<Decimal> {
    const MOST_DIGITS: usize = 18;
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    let mut mantissa: i64 = 0;
    let mut count = 0;
    let mut point = None;
    for (at, &byte) in digits.iter().enumerate() {
        match byte {
            b'0'..=b'9' if count < MOST_DIGITS => {
                mantissa = mantissa * 10 + i64::from(byte - b'0');
                count += 1;
            }
            b'.' if point.is_none() && at > 0 && at + 1 < digits.len() => point = Some(at),
            _ => return None,
        }
    }
    // `-0` keeps its sign in rust_decimal's reading, and is left to it.
    if count == 0 || (negative && mantissa == 0) {
        return None;
    }
    let scale = point.map_or(0, |point| digits.len() - point - 1);
    Some(Decimal::new(if negative { -mantissa } else { mantissa }, scale as u32))
}

fn is_out_of_range(error: &rust_decimal::Error) -> bool {
    use rust_decimal::Error;
    match error {
        Error::ExceedsMaximumPossibleValue
        | Error::LessThanMinimumPossibleValue
        | Error::Underflow
        | Error::ScaleExceedsMaximumPrecision(_) => true,
        // The text parser reports its range errors only as messages.
        Error::ErrorString(message) => {
            ["overflow", "Underflow", "precision"].iter().any(|word| message.contains(word))
        }
        _ => false,
    }
}

/// A `YYYYMMDD` date; nothing else, and only real calendar days.
pub fn parse_date(text: &str) -> Result<NaiveDate, ScalarError> {
    let not_a_date = || ScalarError::NotADate { text: text.to_owned() };
    let digits: &[u8; 8] = text.as_bytes().try_into().map_err(|_| not_a_date())?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(not_a_date());
    }
    let number = |digits: &[u8]| digits.iter().fold(0, |number, digit| number * 10 + u32::from(digit - b'0'));
    let year = number(&digits[..4]) as i32;
    NaiveDate::from_ymd_opt(year, number(&digits[4..6]), number(&digits[6..])).ok_or_else(not_a_date)
}

/// A date as the vendor writes it.
pub fn format_date(date: NaiveDate) -> String {
    format!("{:04}{:02}{:02}", date.year(), date.month(), date.day())
}

/// An identifier: a number in the legacy API, a string in the current one.
/// Kept as the vendor sent it so writing it back gives the same document.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Id {
    Number(u64),
    Text(String),
}

impl Id {
    /// Whether two ids name the same thing across API generations
    /// (`12345` and `"12345"`).
    pub fn same_as(&self, other: &Id) -> bool {
        self.to_string() == other.to_string()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(number) => write!(formatter, "{number}"),
            Self::Text(text) => formatter.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn decimal(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn amounts_are_exact_decimals() {
        assert_eq!(parse_amount("0.1").unwrap() + parse_amount("0.2").unwrap(), decimal("0.3"));
        assert_eq!(parse_amount("-12.50").unwrap(), decimal("-12.50"));
        assert_eq!(parse_amount("-12.50").unwrap().scale(), 2, "trailing zeros are kept");
        assert_eq!(parse_amount(" 7 ").unwrap(), decimal("7"));
        assert_eq!(parse_amount("1.5E+2").unwrap(), decimal("150"));
        assert_eq!(
            parse_amount("12345678901234567890.12345678").unwrap(),
            decimal("12345678901234567890.12345678")
        );
    }

    proptest::proptest! {
        #[test]
        fn the_plain_form_reads_as_rust_decimal_reads_it(
            text in "-?[0-9]{0,12}(\\.[0-9]{0,9})?|[-+.0-9eE ]{0,8}",
        ) {
            if let Some(amount) = plain_amount(text.as_bytes()) {
                let exact = Decimal::from_str_exact(&text).expect("the plain form is a decimal");
                proptest::prop_assert_eq!(amount, exact);
                proptest::prop_assert_eq!(amount.scale(), exact.scale());
                proptest::prop_assert_eq!(amount.is_sign_negative(), exact.is_sign_negative());
            }
        }
    }

    #[test]
    fn the_plain_form_leaves_what_it_cannot_read_exactly_to_the_full_parser() {
        for text in ["-0", "-0.00", "1.", ".5", "+5", "1e2", " 7", "1234567890123456789", "1.2.3", ""] {
            assert_eq!(plain_amount(text.as_bytes()), None, "{text}");
        }
        assert_eq!(
            plain_amount(b"-12.50").map(|amount| (amount, amount.scale())),
            Some((decimal("-12.50"), 2))
        );
        assert_eq!(plain_amount(b"007"), Some(decimal("7")));
    }

    #[test]
    fn malformed_amounts_say_what_they_got() {
        for text in ["", "abc", "1,50", "€12", "--", "1.2.3", "NaN", "inf"] {
            let error = parse_amount(text).unwrap_err();
            assert!(matches!(error, ScalarError::NotAnAmount { .. }), "{text}: {error:?}");
        }
        assert_eq!(parse_amount("1,50").unwrap_err().to_string(), "`1,50` is not a decimal amount");
    }

    #[test]
    fn amounts_too_big_for_a_decimal_are_errors_not_panics() {
        let huge = "9".repeat(40);
        assert_eq!(parse_amount(&huge).unwrap_err(), ScalarError::AmountOutOfRange { text: huge.clone() });
        assert!(parse_amount("1e400").is_err());
    }

    #[test]
    fn dates_are_strict_yyyymmdd_calendar_days() {
        assert_eq!(parse_date("20260123").unwrap(), NaiveDate::from_ymd_opt(2026, 1, 23).unwrap());
        assert_eq!(parse_date("20240229").unwrap(), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        for text in ["20250229", "20261301", "20260100", "2026-01-23", "2026012", "202601234", "+2026012", ""]
        {
            assert_eq!(
                parse_date(text).unwrap_err(),
                ScalarError::NotADate { text: text.to_owned() },
                "{text}"
            );
        }
    }

    #[test]
    fn dates_round_trip_through_the_vendor_format() {
        for text in ["20260123", "19991231", "00010101"] {
            assert_eq!(format_date(parse_date(text).unwrap()), text);
        }
    }

    #[test]
    fn ids_of_either_generation_compare_by_their_text() {
        assert!(Id::Number(12345).same_as(&Id::Text("12345".into())));
        assert!(!Id::Number(12345).same_as(&Id::Text("012345".into())));
        assert_eq!(Id::Text("INV-1".into()).to_string(), "INV-1");
    }
}
