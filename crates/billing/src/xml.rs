//! The vendor's XML, read into the same model as its JSON.
//!
//! Each `<Invoice>` (or the whole of a small document) is transcoded on the fly into the JSON shape the model
//! already reads exactly, so both formats share one set of field rules; the
//! transcoder remembers where each element started so errors point into the
//! XML, not into the intermediate JSON. Entities beyond XML's five and
//! character references are never expanded, and a DOCTYPE is refused.

use std::borrow::Cow;

use quick_xml::{Reader, events::Event};
use serde::de::DeserializeOwned;

use crate::{
    decode::{MAX_NESTING, parse_with_path},
    error::{Format, Location, ParseError, require_utf8},
    model::{Invoice, InvoiceDocument, SubscriptionDetails},
    text::within_a_read,
    writer::write_document,
    xml_out::{LISTS, LOCALISED_ITEM, RECORDS, close_root_element, item_name, members, open_root_element},
};

/// Reads an `InvoiceResponse` document, one `Invoice` at a time so a large
/// document is never held twice.
pub fn parse_invoices(bytes: &[u8]) -> Result<InvoiceDocument, ParseError> {
    let text = require_utf8(Format::Xml, bytes)?;
    let mut document = InvoiceDocument::default();
    read(text, Unit::RootChild("Invoice"), Within::Nothing, |invoice| document.invoices.push(invoice))?;
    Ok(document)
}

/// Reads one `Invoice` element of a document on its own; `None` leaves
/// saying what is wrong to the reader of the whole document, which knows
/// where it is.
pub(crate) fn parse_invoice(bytes: &[u8]) -> Option<Invoice> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut read_invoice = None;
    read(text, Unit::RootChild("Invoice"), Within::Root, |invoice| read_invoice = Some(invoice)).ok()?;
    read_invoice
}

/// Reads a `subscriptiondetails` answer: its root element is the object.
pub fn parse_subscription_details(bytes: &[u8]) -> Result<SubscriptionDetails, ParseError> {
    let text = require_utf8(Format::Xml, bytes)?;
    let mut details = None;
    read(text, Unit::Root, Within::Nothing, |read| details = Some(read))?;
    Ok(details.expect("a document with a root read its root"))
}

/// Which elements are each read into one value of the model.
#[derive(Clone, Copy)]
enum Unit {
    Root,
    /// Children of the root with this name; other children are ignored.
    RootChild(&'static str),
}

impl Unit {
    fn depth(self) -> usize {
        match self {
            Self::Root => 0,
            Self::RootChild(_) => 1,
        }
    }

    fn starts_at(self, depth: usize, name: &str) -> bool {
        depth == self.depth()
            && match self {
                Self::Root => true,
                Self::RootChild(wanted) => wanted == name,
            }
    }

    fn label(self, name: &str, index: usize) -> String {
        match self {
            Self::Root => name.to_owned(),
            Self::RootChild(_) => format!("{name}[{}]", index + 1),
        }
    }
}

/// What the text read lies in.
#[derive(Clone, Copy)]
enum Within {
    /// It is the whole document.
    Nothing,
    /// It is part of the document's root element.
    Root,
}

fn read<T: DeserializeOwned>(
    text: &str,
    unit: Unit,
    inside: Within,
    found: impl FnMut(T),
) -> Result<(), ParseError> {
    within_a_read(|| read_units(text, unit, inside, found))
}

fn read_units<T: DeserializeOwned>(
    text: &str,
    unit: Unit,
    inside: Within,
    mut found: impl FnMut(T),
) -> Result<(), ParseError> {
    let mut reader = Reader::from_str(text);
    let mut current: Option<Transcoder> = None;
    let mut open: Vec<Cow<'_, str>> = match inside {
        Within::Nothing => Vec::new(),
        Within::Root => vec![Cow::Borrowed("")],
    };
    let mut units_read = 0;
    let outermost = open.len();
    let mut seen_root = outermost > 0;
    loop {
        let offset = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|error| {
            let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
            xml_error(text, at, error.to_string(), &open)
        })?;
        let (start, end) = match event {
            Event::Start(ref element) => (Some(local_name(text, element)), false),
            Event::Empty(ref element) => (Some(local_name(text, element)), true),
            Event::End(_) => (None, true),
            Event::Text(ref content) => {
                feed_text(&mut current, within(text, content), text, offset, &open)?;
                continue;
            }
            Event::CData(ref content) => {
                feed_text(&mut current, within(text, content), text, offset, &open)?;
                continue;
            }
            Event::GeneralRef(ref reference) => {
                let name = &reference[..];
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(character)) => Some(character.to_string()),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(name).map(str::to_owned),
                    Err(_) => None,
                };
                let Some(resolved) = resolved else {
                    return Err(xml_error(text, offset, format!("unknown entity `&{name};`"), &open));
                };
                feed_text(&mut current, Cow::Owned(resolved), text, offset, &open)?;
                continue;
            }
            Event::DocType(_) => {
                let message = "DOCTYPE declarations are refused: the vendor sends none, and entities are never expanded";
                return Err(xml_error(text, offset, message.to_owned(), &open));
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => continue,
        };
        if let Some(name) = start {
            if open.is_empty() && seen_root {
                return Err(xml_error(text, offset, "a second root element".to_owned(), &open));
            }
            seen_root = true;
            if open.len() >= MAX_NESTING {
                let message = format!("nested more than {MAX_NESTING} levels deep");
                return Err(xml_error(text, offset, message, &open));
            }
            match &mut current {
                Some(transcoder) => transcoder
                    .start(name.clone(), offset)
                    .map_err(|message| xml_error(text, offset, message, &open))?,
                None if unit.starts_at(open.len(), &name) => {
                    current = Some(Transcoder::new(name.clone(), unit.label(&name, units_read), offset));
                }
                None => {}
            }
            open.push(name);
        }
        if end {
            open.pop();
            if let Some(transcoder) = &mut current {
                if open.len() == unit.depth() {
                    let transcoder = current.take().expect("a unit is open");
                    found(transcoder.finish(text)?);
                    units_read += 1;
                } else {
                    transcoder.end();
                }
            }
        }
    }
    if let Some(unclosed) = open.get(outermost..).and_then(<[_]>::last) {
        return Err(xml_error(text, text.len(), format!("the document ends inside <{unclosed}>"), &open));
    }
    if !seen_root {
        return Err(xml_error(text, text.len(), "no root element".to_owned(), &open));
    }
    Ok(())
}

fn local_name<'a>(text: &'a str, element: &quick_xml::events::BytesStart<'_>) -> Cow<'a, str> {
    within(text, element.local_name().into_inner())
}

/// `part` borrowed from the document for as long as the document lives, when
/// the reader handed out a slice of it (it always does for names and plain
/// text); a copy otherwise.
fn within<'a>(text: &'a str, part: &str) -> Cow<'a, str> {
    let start = (part.as_ptr() as usize).wrapping_sub(text.as_ptr() as usize);
    match start.checked_add(part.len()).and_then(|end| text.get(start..end)) {
        Some(slice) if slice.as_ptr() == part.as_ptr() => Cow::Borrowed(slice),
        _ => Cow::Owned(part.to_owned()),
    }
}

fn feed_text<'a>(
    invoice: &mut Option<Transcoder<'a>>,
    content: Cow<'a, str>,
    text: &str,
    offset: usize,
    open: &[Cow<'_, str>],
) -> Result<(), ParseError> {
    match invoice {
        Some(transcoder) => {
            transcoder.text(content).map_err(|message| xml_error(text, offset, message, open))
        }
        None => Ok(()),
    }
}

fn xml_error(text: &str, offset: usize, message: String, open: &[Cow<'_, str>]) -> ParseError {
    ParseError {
        format: Format::Xml,
        message,
        location: line_column(text, offset),
        path: (!open.is_empty()).then(|| open.iter().map(|name| name.as_ref()).collect::<Vec<_>>().join("/")),
    }
}

fn line_column(text: &str, offset: usize) -> Location {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|byte| **byte == b'\n').count() + 1;
    let line_start = before.iter().rposition(|byte| *byte == b'\n').map_or(0, |index| index + 1);
    Location::LineColumn { line, column: before.len() - line_start + 1 }
}

enum Shape {
    /// No child yet: a leaf unless a child element arrives.
    Pending,
    Object,
    List,
}

struct Frame<'a> {
    name: Cow<'a, str>,
    shape: Shape,
    text: Cow<'a, str>,
    children: usize,
    in_list: bool,
}

/// Writes one invoice as JSON while remembering, for each element, where
/// its JSON starts and where its XML started.
struct Transcoder<'a> {
    json: String,
    frames: Vec<Frame<'a>>,
    starts: Vec<(usize, usize)>,
    /// How paths into this unit begin, e.g. `Invoice[3]`.
    label: String,
}

impl<'a> Transcoder<'a> {
    fn new(name: Cow<'a, str>, label: String, xml_offset: usize) -> Self {
        let root = Frame { name, shape: Shape::Object, text: Cow::Borrowed(""), children: 0, in_list: true };
        Self { json: "{".to_owned(), frames: vec![root], starts: vec![(0, xml_offset)], label }
    }

    fn start(&mut self, name: Cow<'a, str>, xml_offset: usize) -> Result<(), String> {
        let parent = self.frames.last_mut().expect("the invoice frame stays open");
        if let Shape::Pending = parent.shape {
            if !parent.text.trim().is_empty() {
                return Err(mixed_content(&parent.text, &parent.name));
            }
            let list = LISTS.contains(&parent.name.as_ref()) || name == LOCALISED_ITEM;
            self.json.push(if list { '[' } else { '{' });
            parent.shape = if list { Shape::List } else { Shape::Object };
        }
        if parent.children > 0 {
            self.json.push(',');
        }
        parent.children += 1;
        self.starts.push((self.json.len(), xml_offset));
        if let Shape::Object = parent.shape {
            push_json_string(&mut self.json, &name);
            self.json.push(':');
        }
        let in_list = matches!(parent.shape, Shape::List);
        self.frames.push(Frame {
            name,
            shape: Shape::Pending,
            text: Cow::Borrowed(""),
            children: 0,
            in_list,
        });
        Ok(())
    }

    fn text(&mut self, content: Cow<'a, str>) -> Result<(), String> {
        let frame = self.frames.last_mut().expect("the invoice frame stays open");
        match frame.shape {
            Shape::Pending if frame.text.is_empty() => frame.text = content,
            Shape::Pending => frame.text.to_mut().push_str(&content),
            _ if content.trim().is_empty() => {}
            _ => return Err(mixed_content(&content, &frame.name)),
        }
        Ok(())
    }

    fn end(&mut self) {
        let frame = self.frames.pop().expect("every end has its start");
        match frame.shape {
            Shape::Pending if LISTS.contains(&frame.name.as_ref()) => self.json.push_str("[]"),
            Shape::Pending if frame.in_list || RECORDS.contains(&frame.name.as_ref()) => {
                self.json.push_str("{}")
            }
            Shape::Pending if frame.text.trim().is_empty() => self.json.push_str("null"),
            Shape::Pending => push_json_string(&mut self.json, &frame.text),
            Shape::Object => self.json.push('}'),
            Shape::List => self.json.push(']'),
        }
    }

    /// Closes the invoice and reads it; a field error is reported at the
    /// XML element it came from.
    fn finish<T: DeserializeOwned>(mut self, text: &str) -> Result<T, ParseError> {
        self.end();
        parse_with_path::<T>(&self.json).map_err(|error| {
            let json_offset = match error.location {
                Location::LineColumn { column, .. } => column.saturating_sub(1),
                Location::ByteOffset(offset) => offset,
            };
            let element = self.starts.partition_point(|(start, _)| *start <= json_offset).saturating_sub(1);
            let xml_offset = self.starts.get(element).map_or(0, |(_, xml)| *xml);
            ParseError {
                format: Format::Xml,
                message: error.message,
                location: line_column(text, xml_offset),
                path: Some(xml_path(&self.label, error.path.as_deref())),
            }
        })
    }
}

/// The vendor's elements hold text or child elements, never both.
fn mixed_content(text: &str, element: &str) -> String {
    format!("text `{}` beside child elements in <{element}>", text.trim())
}

fn push_json_string(json: &mut String, value: &str) {
    // Most of the vendor's text needs no escaping; it is copied as it is.
    if value.bytes().all(|byte| byte >= 0x20 && byte != b'"' && byte != b'\\') {
        json.push('"');
        json.push_str(value);
        json.push('"');
    } else {
        json.push_str(&serde_json::to_string(value).expect("a string always serialises"));
    }
}

/// `Customers[1].PriceLines[0].UnitPrice` of `Invoice[3]` as
/// `Invoice[3]/Customers/Customer[2]/PriceLines/PriceLine[1]/UnitPrice`.
fn xml_path(unit: &str, json_path: Option<&str>) -> String {
    let mut path = unit.to_owned();
    for segment in json_path.unwrap_or_default().split('.').filter(|segment| !segment.is_empty()) {
        path.push('/');
        match segment.split_once('[') {
            Some((list, index)) => {
                let index: usize = index.trim_end_matches(']').parse().unwrap_or_default();
                path.push_str(&format!("{list}/{}[{}]", item_name(list), index + 1));
            }
            None => path.push_str(segment),
        }
    }
    path
}

/// Writes the document as the vendor's XML: `InvoiceResponse` with its
/// namespace declarations, one `Invoice` child per invoice, plural wrappers
/// with singular children, empty values as self-closing elements.
pub fn write_invoices(document: &InvoiceDocument) -> Vec<u8> {
    write_document(Format::Xml, document)
}

/// Writes a `subscriptiondetails` answer, its fields as children of a
/// `SubscriptionDetailsResponse` root **(our choice of root name)**.
pub fn write_subscription_details(details: &SubscriptionDetails) -> Vec<u8> {
    let mut xml = open_root_element("SubscriptionDetailsResponse");
    xml.push_str(&members(details));
    xml.push('\n');
    xml.push_str(&close_root_element("SubscriptionDetailsResponse"));
    xml.into_bytes()
}
