//! The vendor's JSON: read from its tokens straight into the model (amounts
//! never pass through `f64`, text is borrowed until it is kept) with errors
//! that say where, and written back in the same shape.

use std::borrow::Cow;

use crate::{
    error::{Format, Location, ParseError, require_utf8},
    fields::{FieldFinder, GIVEN_TWICE, List, MAX_NESTING, Record, Slot, Value},
    model::{Invoice, InvoiceDocument, SubscriptionDetails},
    text::{same, within_a_read},
    writer::write_document,
};

/// Reads an invoice document: an object with `Invoices`, or a bare list of
/// invoices as some endpoints send it.
pub fn parse_invoices(bytes: &[u8]) -> Result<InvoiceDocument, ParseError> {
    let text = require_utf8(Format::Json, bytes)?;
    within_a_read(|| {
        let mut document = InvoiceDocument::default();
        Reader::new(text).whole(|reader| match reader.peek() {
            Some(b'[') => reader.list(&mut document.invoices),
            Some(b'{') => reader.record(&mut document),
            _ => Err(reader.unexpected("an object with `Invoices` or a list of invoices")),
        })?;
        Ok(document)
    })
}

/// What reading an invoice from the start of a document's bytes, as many
/// as have come, came to.
pub(crate) enum InvoiceRead {
    /// The invoice, and how many bytes it took.
    Read(Box<Invoice>, usize),
    /// The bytes may end before the invoice does: more may complete it.
    Incomplete,
    /// The invoice cannot be read, whatever follows: the reader of the
    /// whole document says why.
    Failed,
}

/// A failure this close to the end of the bytes may be only their end: a
/// `null` or a `\u` escape cut short fails before its last byte.
const MENDABLE_WITHIN: usize = 16;

/// Reads the invoice that begins at the first of `bytes`, inside `depth`
/// levels of the document, without knowing whether all of it has come:
/// it has when the reader gets to its closing brace.
pub(crate) fn read_leading_invoice(bytes: &[u8], depth: usize) -> InvoiceRead {
    let (text, mendable) = match simdutf8::compat::from_utf8(bytes) {
        Ok(text) => (text, true),
        // The end may cut a character in two; an invalid byte stops the
        // read for good.
        Err(error) => match std::str::from_utf8(&bytes[..error.valid_up_to()]) {
            Ok(text) => (text, error.error_len().is_none()),
            Err(_) => return InvoiceRead::Failed,
        },
    };
    within_a_read(|| {
        let mut invoice = Invoice::default();
        let mut reader = Reader { text, at: 0, depth };
        match reader.object(&mut invoice) {
            Ok(()) => InvoiceRead::Read(Box::new(invoice), reader.at),
            Err(failure) if mendable && failure.at + MENDABLE_WITHIN >= text.len() => InvoiceRead::Incomplete,
            Err(_) => InvoiceRead::Failed,
        }
    })
}

/// Writes the document as the vendor's JSON.
pub fn write_invoices(document: &InvoiceDocument) -> Vec<u8> {
    write_document(Format::Json, document)
}

/// Reads a `subscriptiondetails` answer.
pub fn parse_subscription_details(bytes: &[u8]) -> Result<SubscriptionDetails, ParseError> {
    let text = require_utf8(Format::Json, bytes)?;
    within_a_read(|| {
        let mut details = SubscriptionDetails::default();
        Reader::new(text).whole(|reader| reader.object(&mut details))?;
        Ok(details)
    })
}

/// Writes a `subscriptiondetails` answer as the vendor's JSON.
pub fn write_subscription_details(details: &SubscriptionDetails) -> Vec<u8> {
    serde_json::to_vec(details).expect("the model always serialises")
}

/// What went wrong, where, and (gathered as the reading unwinds) inside
/// which values.
struct Failure {
    message: String,
    at: usize,
    /// Nesting errors are told by byte, as they are found before any value.
    by_byte: bool,
    /// Innermost first.
    steps: Vec<Step>,
}

enum Step {
    Key(String),
    Index(usize),
}

impl Failure {
    fn within(mut self: Box<Self>, step: Step) -> Box<Self> {
        self.steps.push(step);
        self
    }

    fn into_error(self, text: &str) -> ParseError {
        let location = if self.by_byte {
            Location::ByteOffset(self.at)
        } else {
            let before = &text.as_bytes()[..self.at.min(text.len())];
            let line_start = memchr::memrchr(b'\n', before).map_or(0, |newline| newline + 1);
            Location::LineColumn {
                line: memchr::memchr_iter(b'\n', before).count() + 1,
                column: before.len() - line_start + 1,
            }
        };
        let mut path = String::new();
        for step in self.steps.iter().rev() {
            match step {
                Step::Key(key) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                Step::Index(index) => path.push_str(&format!("[{index}]")),
            }
        }
        ParseError {
            format: Format::Json,
            message: self.message,
            location,
            path: (!path.is_empty()).then_some(path),
        }
    }
}

type Read<T> = Result<T, Box<Failure>>;

/// A JSON text read token by token, each value into the field it belongs
/// to.
struct Reader<'a> {
    text: &'a str,
    at: usize,
    depth: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, at: 0, depth: 0 }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Reads the one value `read` reads, and nothing after it.
    fn whole(mut self, read: impl FnOnce(&mut Self) -> Read<()>) -> Result<(), ParseError> {
        let text = self.text;
        read(&mut self).map_err(|failure| failure.into_error(text))?;
        if self.peek().is_some() {
            return Err(self.fail("trailing characters after the document").into_error(text));
        }
        Ok(())
    }

    /// The next byte that is not whitespace, moved up to.
    fn peek(&mut self) -> Option<u8> {
        while let Some(&byte) = self.bytes().get(self.at) {
            if !is_whitespace(byte) {
                return Some(byte);
            }
            self.at += 1;
        }
        None
    }

    fn fail(&self, message: impl Into<String>) -> Box<Failure> {
        Box::new(Failure { message: message.into(), at: self.at, by_byte: false, steps: Vec::new() })
    }

    fn unexpected(&mut self, expected: &str) -> Box<Failure> {
        let found = match self.peek() {
            None => return self.fail("the document ends early"),
            Some(b'{') => "an object",
            Some(b'[') => "a list",
            Some(b'"') => "a string",
            Some(b't' | b'f') => "true or false",
            Some(b'n') => "null",
            Some(b'-' | b'0'..=b'9') => "a number",
            Some(_) => "a character that begins no JSON value",
        };
        self.fail(format!("expected {expected}, found {found}"))
    }

    /// Steps over `byte`, which must come next.
    fn expect(&mut self, byte: u8, expected: &str) -> Read<()> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else if self.peek().is_none() {
            Err(self.fail("the document ends early"))
        } else {
            Err(self.fail(format!("expected {expected}")))
        }
    }

    /// After a member of an object or list: whether another follows (its
    /// comma passed over) or `close` ends it (left for the caller).
    fn more(&mut self, close: u8) -> Read<bool> {
        match self.peek() {
            Some(b',') => {
                self.at += 1;
                Ok(true)
            }
            Some(byte) if byte == close => Ok(false),
            None => Err(self.fail("the document ends early")),
            Some(_) if close == b'}' => Err(self.fail("expected `,` or `}` after a field")),
            Some(_) => Err(self.fail("expected `,` or `]` after a list item")),
        }
    }

    /// Enters an object or list at the current byte.
    fn open(&mut self) -> Read<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            let mut failure = self.fail(format!("nested more than {MAX_NESTING} levels deep"));
            failure.by_byte = true;
            return Err(failure);
        }
        self.at += 1;
        Ok(())
    }

    /// An object into `record`, or `null` for none.
    fn object(&mut self, record: &mut dyn Record) -> Read<()> {
        match self.peek() {
            Some(b'{') => self.record(record),
            _ => Err(self.unexpected("an object")),
        }
    }

    /// The object at the current byte into `record`; fields it does not
    /// know are read over.
    fn record(&mut self, record: &mut dyn Record) -> Read<()> {
        self.open()?;
        let mut finder = FieldFinder::default();
        if self.peek() != Some(b'}') {
            loop {
                if self.peek() != Some(b'"') {
                    return Err(match self.peek() {
                        Some(b'}') => self.fail("trailing comma"),
                        _ => self.unexpected("a field name"),
                    });
                }
                if let Some((index, name)) = self.likely_name(&finder, record) {
                    finder.found(index);
                    self.expect(b':', "`:` after a field name")
                        .and_then(|()| self.field(record.slot(index)))
                        .map_err(|failure| failure.within(Step::Key(name.to_owned())))?;
                } else {
                    let key = self.string()?;
                    self.expect(b':', "`:` after a field name")?;
                    let read = match finder.find(record, &key) {
                        Some(index) => self.field(record.slot(index)),
                        None => self.skip(),
                    };
                    read.map_err(|failure| failure.within(Step::Key(key.into_owned())))?;
                }
                if !self.more(b'}')? {
                    break;
                }
            }
        }
        self.at += 1;
        self.depth -= 1;
        Ok(())
    }

    /// The field the finder expects next, passed over when its name comes
    /// next exactly as written in the contract: the vendor writes a
    /// record's fields in one order, so most names are found so, compared
    /// in place rather than read as strings.
    fn likely_name(&mut self, finder: &FieldFinder, record: &dyn Record) -> Option<(usize, &'static str)> {
        let (index, name) = finder.likely(record)?;
        let quoted = self.bytes().get(self.at + 1..self.at + name.len() + 2)?;
        let (closing, written) = quoted.split_last()?;
        if *closing != b'"' || !same(written, name.as_bytes()) {
            return None;
        }
        self.at += name.len() + 2;
        Some((index, name))
    }

    /// The list at the current byte, each item an object into a new record.
    fn list(&mut self, list: &mut dyn List) -> Read<()> {
        self.open()?;
        if self.peek() != Some(b']') {
            let mut index = 0;
            loop {
                let item = match self.peek() {
                    Some(b'{') => self.record(list.push_item()),
                    Some(b']') => Err(self.fail("trailing comma")),
                    _ => Err(self.unexpected("an object")),
                };
                item.map_err(|failure| failure.within(Step::Index(index)))?;
                if !self.more(b']')? {
                    break;
                }
                index += 1;
            }
        }
        list.finish();
        self.at += 1;
        self.depth -= 1;
        Ok(())
    }

    /// The value of a field the model knows.
    fn field(&mut self, slot: Slot<'_>) -> Read<()> {
        let next = self.peek();
        let start = self.at;
        match (slot, next) {
            (Slot::Value(_), Some(b'{' | b'[')) => {
                Err(self.fail("expected a value, found an object or a list"))
            }
            // Strings without escapes and numbers, nearly every value, are
            // set straight from the text; a `Cow` handed back through the
            // stack cost a stall on each.
            (Slot::Value(value), Some(b'"')) => match self.plain_string() {
                Some(text) => self.set(value, Some(text), start),
                None => {
                    let text = self.string()?;
                    self.set(value, Some(&text), start)
                }
            },
            (Slot::Value(value), Some(b'-' | b'0'..=b'9')) => {
                let number = self.number()?;
                self.set(value, Some(number), start)
            }
            (Slot::Value(value), _) => {
                let text = self.scalar()?;
                self.set(value, text.as_deref(), start)
            }
            (Slot::Record(record), Some(b'{')) => self.record(record),
            (Slot::List(list), Some(b'[')) if list.is_empty() => self.list(list),
            (Slot::Localised(localised), Some(b'[')) if localised.0.is_empty() => self.list(&mut localised.0),
            (Slot::Localised(localised), Some(b'"')) => {
                let text = self.string()?;
                localised.set_plain(&text).map_err(|message| self.fail(message))
            }
            (Slot::List(_) | Slot::Localised(_), Some(b'[')) => Err(self.fail(GIVEN_TWICE)),
            // A record or list written as null is one the vendor left out.
            (Slot::Record(_) | Slot::List(_) | Slot::Localised(_), Some(b'n')) => self.scalar().map(|_| ()),
            (Slot::Record(_), _) => Err(self.unexpected("an object")),
            (Slot::List(_), _) => Err(self.unexpected("a list")),
            (Slot::Localised(_), _) => Err(self.unexpected("a list of names or a name")),
        }
    }

    /// Sets a value read from `start`, where a refusal is told.
    fn set(&self, value: Value<'_>, text: Option<&str>, start: usize) -> Read<()> {
        value.set(text).map_err(|message| {
            let mut failure = self.fail(message);
            failure.at = start;
            failure
        })
    }

    /// A value nothing reads: checked, then passed over.
    fn skip(&mut self) -> Read<()> {
        match self.peek() {
            Some(b'{') => {
                self.open()?;
                if self.peek() != Some(b'}') {
                    loop {
                        if self.peek() != Some(b'"') {
                            return Err(self.unexpected("a field name"));
                        }
                        self.string()?;
                        self.expect(b':', "`:` after a field name")?;
                        self.skip()?;
                        if !self.more(b'}')? {
                            break;
                        }
                    }
                }
            }
            Some(b'[') => {
                self.open()?;
                if self.peek() != Some(b']') {
                    loop {
                        self.skip()?;
                        if !self.more(b']')? {
                            break;
                        }
                    }
                }
            }
            _ => return self.scalar().map(|_| ()),
        }
        self.at += 1;
        self.depth -= 1;
        Ok(())
    }

    /// A string, number, `true`, `false` or `null` (`None`), as text.
    fn scalar(&mut self) -> Read<Option<Cow<'a, str>>> {
        let literal = |reader: &mut Self, word: &'static str| {
            if reader.bytes()[reader.at..].starts_with(word.as_bytes()) {
                reader.at += word.len();
                Ok(Cow::Borrowed(word))
            } else {
                Err(reader.fail("expected a value"))
            }
        };
        match self.peek() {
            Some(b'"') => self.string().map(Some),
            Some(b'-' | b'0'..=b'9') => self.number().map(|number| Some(Cow::Borrowed(number))),
            Some(b't') => literal(self, "true").map(Some),
            Some(b'f') => literal(self, "false").map(Some),
            Some(b'n') => literal(self, "null").map(|_| None),
            _ => Err(self.unexpected("a value")),
        }
    }

    /// A number as written, checked against JSON's grammar.
    fn number(&mut self) -> Read<&'a str> {
        let bytes = self.bytes();
        let start = self.at;
        let digits = |at: usize| bytes[at..].iter().take_while(|byte| byte.is_ascii_digit()).count();
        let mut at = start + usize::from(bytes[start] == b'-');
        let integer = digits(at);
        let mut well_formed = integer > 0 && (bytes[at] != b'0' || integer == 1);
        at += integer;
        if bytes.get(at) == Some(&b'.') {
            let fraction = digits(at + 1);
            well_formed &= fraction > 0;
            at += 1 + fraction;
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            let exponent = digits(at);
            well_formed &= exponent > 0;
            at += exponent;
        }
        if !well_formed {
            self.at = at;
            return Err(self.fail("invalid number"));
        }
        self.at = at;
        Ok(&self.text[start..at])
    }

    /// The string at the current byte, unescaped; borrowed from the text
    /// when it holds no escape, as nearly all the vendor's strings do.
    fn string(&mut self) -> Read<Cow<'a, str>> {
        if let Some(text) = self.plain_string() {
            return Ok(Cow::Borrowed(text));
        }
        let bytes = self.bytes();
        let start = self.at + 1;
        // Not a plain string: it ends at an escape, a control character or
        // the end of the text, never at a quote.
        let end = special_byte(bytes, start);
        match bytes.get(end) {
            Some(b'\\') => {
                self.at = end;
                let mut unescaped = self.text[start..end].to_owned();
                self.escaped(&mut unescaped)?;
                Ok(Cow::Owned(unescaped))
            }
            Some(_) => {
                self.at = end;
                Err(self.fail("a control character inside a string"))
            }
            None => {
                self.at = bytes.len();
                Err(self.fail("the document ends inside a string"))
            }
        }
    }

    /// The string at the current byte when it holds no escape and no
    /// control character, passed over; `None` leaves the reader where it was.
    fn plain_string(&mut self) -> Option<&'a str> {
        let start = self.at + 1;
        let end = special_byte(self.bytes(), start);
        if self.bytes().get(end) != Some(&b'"') {
            return None;
        }
        self.at = end + 1;
        Some(&self.text[start..end])
    }

    /// The rest of a string from its first escape, onto `unescaped`.
    fn escaped(&mut self, unescaped: &mut String) -> Read<()> {
        let bytes = self.bytes();
        loop {
            match bytes.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    let escape = bytes.get(self.at + 1).copied();
                    self.at += 2;
                    let character = match escape {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => self.unicode_escape()?,
                        None => return Err(self.fail("the document ends inside a string")),
                        Some(_) => {
                            self.at -= 1;
                            return Err(self.fail("invalid escape"));
                        }
                    };
                    unescaped.push(character);
                }
                Some(0..=0x1f) => return Err(self.fail("a control character inside a string")),
                Some(_) => {
                    let end = special_byte(bytes, self.at);
                    unescaped.push_str(&self.text[self.at..end]);
                    self.at = end;
                }
                None => return Err(self.fail("the document ends inside a string")),
            }
        }
    }

    /// The character of a `\uXXXX` escape just passed, with its low
    /// surrogate when it is a high one.
    fn unicode_escape(&mut self) -> Read<char> {
        let high = self.hex4()?;
        let code = match high {
            0xD800..=0xDBFF => {
                if !self.bytes()[self.at..].starts_with(b"\\u") {
                    return Err(self.fail("a lone leading surrogate in a \\u escape"));
                }
                self.at += 2;
                let low = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(self.fail("a lone leading surrogate in a \\u escape"));
                }
                0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(low) - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.fail("a lone trailing surrogate in a \\u escape")),
            code => u32::from(code),
        };
        char::from_u32(code).ok_or_else(|| self.fail("an invalid \\u escape"))
    }

    fn hex4(&mut self) -> Read<u16> {
        let digits =
            self.bytes().get(self.at..self.at + 4).filter(|digits| digits.iter().all(u8::is_ascii_hexdigit));
        let code = digits
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(|digits| u16::from_str_radix(digits, 16).ok());
        let code = code.ok_or_else(|| self.fail("an invalid \\u escape"))?;
        self.at += 4;
        Ok(code)
    }
}

/// JSON's whitespace between tokens.
pub(crate) fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | b'\r' | b'\t')
}

/// The index of the first `"`, `\` or control character at or after
/// `from`, eight bytes at a time: a string's end, most often.
pub(crate) fn special_byte(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGHS: u64 = ONES * 0x80;
    let mut at = from;
    while let Some(word) = bytes.get(at..at + 8) {
        let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let quotes = word ^ (ONES * u64::from(b'"'));
        let backslashes = word ^ (ONES * u64::from(b'\\'));
        // A byte's high bit is set where it is zero (or below 0x20); bits
        // above the lowest may be false alarms, the lowest never is.
        let found = (quotes.wrapping_sub(ONES) & !quotes
            | backslashes.wrapping_sub(ONES) & !backslashes
            | word.wrapping_sub(ONES * 0x20) & !word)
            & HIGHS;
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    at + bytes[at.min(bytes.len())..]
        .iter()
        .take_while(|byte| !matches!(byte, b'"' | b'\\' | 0..=0x1f))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_special_byte_is_found_wherever_it_lies_in_a_word() {
        for length in 0..40 {
            for special in [b'"', b'\\', b'\n', 0, 0x1f] {
                for at in 0..length {
                    let mut bytes = vec![b'a'; length];
                    // Bytes just above the specials must not be mistaken for them.
                    bytes.iter_mut().step_by(3).for_each(|byte| *byte = 0x20);
                    bytes[at] = special;
                    assert_eq!(special_byte(&bytes, 0), at, "{special} at {at} of {length}");
                }
                assert_eq!(special_byte(&vec![0xC3; length], 0), length);
            }
        }
    }
}
