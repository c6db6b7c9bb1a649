//! The vendor's XML, read into the same model as its JSON.
//!
//! Each `<Invoice>` is transcoded on the fly into the JSON shape the model
//! already reads exactly, so both formats share one set of field rules; the
//! transcoder remembers where each element started so errors point into the
//! XML, not into the intermediate JSON. Entities beyond XML's five and
//! character references are never expanded, and a DOCTYPE is refused.

use quick_xml::{Reader, events::Event};

use crate::{
    error::{Format, Location, ParseError, require_utf8},
    json::{MAX_NESTING, parse_with_path},
    model::{Invoice, InvoiceDocument},
};

/// Elements whose children form a list; their children's names do not matter.
const LISTS: [&str; 5] = ["Customers", "Subscriptions", "SubscriptionDetails", "PriceLines", "Resources"];
/// Elements that are records even when written empty (`<Sender/>`); every
/// list item is one too.
const RECORDS: [&str; 4] = ["Header", "Sender", "Receiver", "Totals"];

/// Reads an `InvoiceResponse` document.
pub fn parse_invoices(bytes: &[u8]) -> Result<InvoiceDocument, ParseError> {
    let text = require_utf8(Format::Xml, bytes)?;
    let mut reader = Reader::from_str(text);
    let mut document = InvoiceDocument::default();
    let mut open: Vec<String> = Vec::new();
    let mut invoice: Option<Transcoder> = None;
    let mut seen_root = false;
    loop {
        let offset = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|error| {
            let at = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
            xml_error(text, at, error.to_string(), &open)
        })?;
        let (start, end) = match event {
            Event::Start(ref element) => (Some(local_name(element)), false),
            Event::Empty(ref element) => (Some(local_name(element)), true),
            Event::End(_) => (None, true),
            Event::Text(ref content) => {
                let content = &content[..];
                feed_text(&mut invoice, content, text, offset, &open)?;
                continue;
            }
            Event::CData(ref content) => {
                let content = &content[..];
                feed_text(&mut invoice, content, text, offset, &open)?;
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
                feed_text(&mut invoice, &resolved, text, offset, &open)?;
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
            match (&mut invoice, open.len()) {
                (None, 1) if name == "Invoice" => invoice = Some(Transcoder::new(offset)),
                (Some(transcoder), _) => transcoder
                    .start(&name, offset)
                    .map_err(|message| xml_error(text, offset, message, &open))?,
                _ => {}
            }
            open.push(name);
        }
        if end {
            open.pop();
            if let Some(transcoder) = &mut invoice {
                if open.len() == 1 {
                    let transcoder = invoice.take().expect("an invoice is open");
                    document.invoices.push(transcoder.finish(text, document.invoices.len())?);
                } else {
                    transcoder.end();
                }
            }
        }
    }
    if let Some(unclosed) = open.last() {
        return Err(xml_error(text, text.len(), format!("the document ends inside <{unclosed}>"), &open));
    }
    if !seen_root {
        return Err(xml_error(text, text.len(), "no root element".to_owned(), &open));
    }
    Ok(document)
}

fn local_name(element: &quick_xml::events::BytesStart<'_>) -> String {
    element.local_name().into_inner().to_owned()
}

fn feed_text(
    invoice: &mut Option<Transcoder>,
    content: &str,
    text: &str,
    offset: usize,
    open: &[String],
) -> Result<(), ParseError> {
    match invoice {
        Some(transcoder) => {
            transcoder.text(content).map_err(|message| xml_error(text, offset, message, open))
        }
        None => Ok(()),
    }
}

fn xml_error(text: &str, offset: usize, message: String, open: &[String]) -> ParseError {
    ParseError {
        format: Format::Xml,
        message,
        location: line_column(text, offset),
        path: (!open.is_empty()).then(|| open.join("/")),
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

struct Frame {
    name: String,
    shape: Shape,
    text: String,
    children: usize,
    in_list: bool,
}

/// Writes one invoice as JSON while remembering, for each element, where
/// its JSON starts and where its XML started.
struct Transcoder {
    json: String,
    frames: Vec<Frame>,
    starts: Vec<(usize, usize)>,
}

impl Transcoder {
    fn new(xml_offset: usize) -> Self {
        let root = Frame {
            name: "Invoice".to_owned(),
            shape: Shape::Object,
            text: String::new(),
            children: 0,
            in_list: true,
        };
        Self { json: "{".to_owned(), frames: vec![root], starts: vec![(0, xml_offset)] }
    }

    fn start(&mut self, name: &str, xml_offset: usize) -> Result<(), String> {
        let parent = self.frames.last_mut().expect("the invoice frame stays open");
        if let Shape::Pending = parent.shape {
            if !parent.text.trim().is_empty() {
                return Err(mixed_content(&parent.text, &parent.name));
            }
            let list = LISTS.contains(&parent.name.as_str());
            self.json.push(if list { '[' } else { '{' });
            parent.shape = if list { Shape::List } else { Shape::Object };
        }
        if parent.children > 0 {
            self.json.push(',');
        }
        parent.children += 1;
        self.starts.push((self.json.len(), xml_offset));
        if let Shape::Object = parent.shape {
            push_json_string(&mut self.json, name);
            self.json.push(':');
        }
        let in_list = matches!(parent.shape, Shape::List);
        self.frames.push(Frame {
            name: name.to_owned(),
            shape: Shape::Pending,
            text: String::new(),
            children: 0,
            in_list,
        });
        Ok(())
    }

    fn text(&mut self, content: &str) -> Result<(), String> {
        let frame = self.frames.last_mut().expect("the invoice frame stays open");
        match frame.shape {
            Shape::Pending => frame.text.push_str(content),
            _ if content.trim().is_empty() => {}
            _ => return Err(mixed_content(content, &frame.name)),
        }
        Ok(())
    }

    fn end(&mut self) {
        let frame = self.frames.pop().expect("every end has its start");
        match frame.shape {
            Shape::Pending if LISTS.contains(&frame.name.as_str()) => self.json.push_str("[]"),
            Shape::Pending if frame.in_list || RECORDS.contains(&frame.name.as_str()) => {
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
    fn finish(mut self, text: &str, index: usize) -> Result<Invoice, ParseError> {
        self.end();
        parse_with_path::<Invoice>(&self.json).map_err(|error| {
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
                path: Some(xml_path(index, error.path.as_deref())),
            }
        })
    }
}

/// The vendor's elements hold text or child elements, never both.
fn mixed_content(text: &str, element: &str) -> String {
    format!("text `{}` beside child elements in <{element}>", text.trim())
}

fn push_json_string(json: &mut String, value: &str) {
    json.push_str(&serde_json::to_string(value).expect("a string always serialises"));
}

/// `Customers[1].PriceLines[0].UnitPrice` of invoice 2 as
/// `Invoice[3]/Customers/Customer[2]/PriceLines/PriceLine[1]/UnitPrice`.
fn xml_path(invoice_index: usize, json_path: Option<&str>) -> String {
    let mut path = format!("Invoice[{}]", invoice_index + 1);
    for segment in json_path.unwrap_or_default().split('.').filter(|segment| !segment.is_empty()) {
        path.push('/');
        match segment.split_once('[') {
            Some((list, index)) => {
                let index: usize = index.trim_end_matches(']').parse().unwrap_or_default();
                let item = list.strip_suffix('s').unwrap_or(list);
                path.push_str(&format!("{list}/{item}[{}]", index + 1));
            }
            None => path.push_str(segment),
        }
    }
    path
}

const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
const ROOT_OPEN: &str = "<InvoiceResponse xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
                         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n";

/// Writes the document as the vendor's XML: `InvoiceResponse` with its
/// namespace declarations, one `Invoice` child per invoice, plural wrappers
/// with singular children, empty values as self-closing elements.
pub fn write_invoices(document: &InvoiceDocument) -> Vec<u8> {
    let mut xml = String::from(XML_DECLARATION);
    xml.push_str(ROOT_OPEN);
    for invoice in &document.invoices {
        // The JSON form carries amounts exactly; it is walked, not re-parsed into floats.
        let json = serde_json::to_string(invoice).expect("the model always serialises");
        JsonWalker { json: json.as_bytes(), position: 0 }.element("Invoice", &mut xml);
        xml.push('\n');
    }
    xml.push_str("</InvoiceResponse>\n");
    xml.into_bytes()
}

/// Walks the compact JSON that serde_json wrote for the model and emits the
/// same tree as XML.
struct JsonWalker<'a> {
    json: &'a [u8],
    position: usize,
}

impl JsonWalker<'_> {
    fn element(&mut self, name: &str, xml: &mut String) {
        match self.json[self.position] {
            b'{' => {
                self.position += 1;
                let mut children = String::new();
                while self.json[self.position] != b'}' {
                    let key = self.string();
                    self.position += 1; // ':'
                    self.element(&key, &mut children);
                    if self.json[self.position] == b',' {
                        self.position += 1;
                    }
                }
                self.position += 1;
                wrap(name, &children, xml);
            }
            b'[' => {
                self.position += 1;
                let item = name.strip_suffix('s').unwrap_or(name);
                let mut children = String::new();
                while self.json[self.position] != b']' {
                    self.element(item, &mut children);
                    if self.json[self.position] == b',' {
                        self.position += 1;
                    }
                }
                self.position += 1;
                wrap(name, &children, xml);
            }
            b'"' => {
                let text = self.string();
                wrap(name, &quick_xml::escape::escape(text.as_str()), xml);
            }
            b'n' => {
                self.position += "null".len();
                wrap(name, "", xml);
            }
            _ => {
                let start = self.position;
                while !matches!(self.json[self.position], b',' | b'}' | b']') {
                    self.position += 1;
                }
                let literal = std::str::from_utf8(&self.json[start..self.position]).expect("JSON is UTF-8");
                wrap(name, literal, xml);
            }
        }
    }

    /// The JSON string at the cursor, unescaped.
    fn string(&mut self) -> String {
        let start = self.position;
        self.position += 1;
        while self.json[self.position] != b'"' {
            self.position += if self.json[self.position] == b'\\' { 2 } else { 1 };
        }
        self.position += 1;
        serde_json::from_slice(&self.json[start..self.position]).expect("serde_json wrote a valid string")
    }
}

fn wrap(name: &str, content: &str, xml: &mut String) {
    if content.is_empty() {
        xml.push_str(&format!("<{name} />"));
    } else {
        xml.push_str(&format!("<{name}>{content}</{name}>"));
    }
}
