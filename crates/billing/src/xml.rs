//! The vendor's XML, read into the same model as its JSON.
//!
//! Each element is read straight into the model's field of its name, from
//! quick-xml's events, so both formats share one set of field rules
//! (`fields`). A field written plainly, `<Name>text</Name>`, is most of a
//! document: it is read from the bytes where the events stand, as its
//! events would give it, and the reader moved past it. A value's error
//! names its element's path and line; a broken document's names the
//! elements open where it broke. Entities
//! beyond XML's five and character references are never expanded, and a
//! DOCTYPE is refused.

use std::borrow::Cow;

use quick_xml::{Reader, events::Event};

use crate::{
    error::{Format, Location, ParseError, require_utf8},
    fields::{FieldFinder, GIVEN_TWICE, List, MAX_NESTING, Record, Slot, is_blank},
    model::{Invoice, InvoiceDocument, SubscriptionDetails},
    text::within_a_read,
    writer::write_document,
    xml_out::{LOCALISED_ITEM, close_root_element, members, open_root_element},
};

/// Reads an `InvoiceResponse` document, its `Invoice` children in order.
pub fn parse_invoices(bytes: &[u8]) -> Result<InvoiceDocument, ParseError> {
    let text = require_utf8(Format::Xml, bytes)?;
    let mut document = InvoiceDocument::default();
    within_a_read(|| {
        read(text, Unit::RootChild("Invoice"), Within::Nothing, Target::Each(&mut document.invoices))
    })?;
    Ok(document)
}

/// Reads one `Invoice` element of a document on its own; `None` leaves
/// saying what is wrong to the reader of the whole document, which knows
/// where it is.
pub(crate) fn parse_invoice(bytes: &[u8]) -> Option<Invoice> {
    let text = simdutf8::basic::from_utf8(bytes).ok()?;
    let mut invoices: Vec<Invoice> = Vec::with_capacity(1);
    within_a_read(|| read(text, Unit::RootChild("Invoice"), Within::Root, Target::Each(&mut invoices)))
        .ok()?;
    invoices.pop().filter(|_| invoices.is_empty())
}

/// Reads a `subscriptiondetails` answer: its root element is the object.
pub fn parse_subscription_details(bytes: &[u8]) -> Result<SubscriptionDetails, ParseError> {
    let text = require_utf8(Format::Xml, bytes)?;
    let mut details = SubscriptionDetails::default();
    within_a_read(|| read(text, Unit::Root, Within::Nothing, Target::One(Some(&mut details))))?;
    Ok(details)
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

/// Where the units read go.
enum Target<'m> {
    /// Each unit is a new item of the list.
    Each(&'m mut dyn List),
    /// The one unit (the root) fills the record.
    One(Option<&'m mut dyn Record>),
}

fn read(text: &str, unit: Unit, inside: Within, mut into: Target<'_>) -> Result<(), ParseError> {
    let mut events = Events::new(text, inside);
    let mut units_read = 0;
    loop {
        match events.next()? {
            Piece::Start { name, at } if unit.starts_at(events.open.len() - 1, &name) => {
                let label = unit.label(&name, units_read);
                let mut reading = Reading { events: &mut events };
                let read = match &mut into {
                    Target::Each(list) => reading.record(list.push_item(), at),
                    Target::One(record) => record.take().map_or(Ok(()), |record| reading.record(record, at)),
                };
                read.map_err(|failure| failure.into_error(text, &label))?;
                units_read += 1;
            }
            Piece::Eof => break,
            Piece::Start { .. } | Piece::End | Piece::Text { .. } => {}
        }
    }
    if let Target::Each(list) = into {
        list.finish();
    }
    Ok(())
}

/// What the reading of a unit found wrong.
enum Failure {
    /// The document itself is broken; said with the elements open there.
    Document(ParseError),
    /// A field's content is not what the model allows; said at its element.
    Field {
        message: String,
        at: usize,
        /// The path from the unit down, innermost first.
        steps: Vec<String>,
    },
}

impl Failure {
    fn field(message: impl Into<String>, at: usize) -> Box<Self> {
        Box::new(Self::Field { message: message.into(), at, steps: Vec::new() })
    }

    fn within(mut self: Box<Self>, step: impl FnOnce() -> String) -> Box<Self> {
        if let Self::Field { steps, .. } = &mut *self {
            steps.push(step());
        }
        self
    }

    /// The error, in a unit labelled `label`.
    fn into_error(self, text: &str, label: &str) -> ParseError {
        match self {
            Self::Document(error) => error,
            Self::Field { message, at, steps } => {
                let mut path = label.to_owned();
                for step in steps.iter().rev() {
                    path.push('/');
                    path.push_str(step);
                }
                ParseError { format: Format::Xml, message, location: line_column(text, at), path: Some(path) }
            }
        }
    }
}

impl From<ParseError> for Box<Failure> {
    fn from(error: ParseError) -> Self {
        Box::new(Failure::Document(error))
    }
}

type Read<T> = Result<T, Box<Failure>>;

/// One unit's elements, read into the model.
struct Reading<'r, 'a> {
    events: &'r mut Events<'a>,
}

impl<'a> Reading<'_, 'a> {
    /// The content of the element just started at `at`, into `record`.
    fn record(&mut self, record: &mut dyn Record, at: usize) -> Read<()> {
        let mut finder = FieldFinder::default();
        let had_children = self.plain_fields(record, &mut finder)?;
        let text = self.children(had_children, |reading, name, child_at| {
            match finder.find(record, &name) {
                Some(index) => reading
                    .field(record.slot(index), child_at)
                    .map_err(|failure| failure.within(|| name.into_owned()))?,
                None => reading.skip()?,
            }
            reading.plain_fields(record, &mut finder).map(drop)
        })?;
        only_elements(text, at)
    }

    /// Reads the fields of `record` coming next that are plain elements
    /// (text alone, or nothing) into their values, without their events:
    /// most of a document is such fields, each three events or four. Stops
    /// at anything else, left to the events; says whether it read any.
    fn plain_fields(&mut self, record: &mut dyn Record, finder: &mut FieldFinder) -> Read<bool> {
        let mut read_any = false;
        while let Some(plain) = self.events.plain_element() {
            match finder.find(record, plain.name) {
                Some(index) => {
                    let Slot::Value(value) = record.slot(index) else {
                        break;
                    };
                    self.events.pass(&plain);
                    value.set(Some(plain.text)).map_err(|message| {
                        Failure::field(message, plain.at).within(|| plain.name.to_owned())
                    })?;
                }
                None => self.events.pass(&plain),
            }
            read_any = true;
        }
        Ok(read_any)
    }

    /// The content of the element just started, each child a new item of
    /// `list`, named `item` when that is given. Its own text, when it has
    /// no child.
    fn items(&mut self, list: &mut dyn List, item: Option<&str>) -> Read<Option<Cow<'a, str>>> {
        let mut index = 0;
        let text = self.children(false, |reading, name, child_at| {
            if let Some(item) = item.filter(|item| *item != name) {
                return Err(Failure::field(
                    format!("expected <{item}> items or a name, found <{name}>"),
                    child_at,
                ));
            }
            index += 1;
            let record = list.push_item();
            reading.record(record, child_at).map_err(|failure| failure.within(|| format!("{name}[{index}]")))
        })?;
        list.finish();
        Ok(text)
    }

    /// The content of the element of a field the model knows, started at
    /// `at`.
    fn field(&mut self, slot: Slot<'_>, at: usize) -> Read<()> {
        match slot {
            Slot::Value(value) => {
                let text = self.children(false, |_, _, _| {
                    Err(Failure::field("expected a value, found an object or a list", at))
                })?;
                value.set(text.as_deref()).map_err(|message| Failure::field(message, at))
            }
            Slot::Record(record) => self.record(record, at),
            Slot::List(list) if list.is_empty() => {
                let text = self.items(list, None)?;
                only_elements(text, at)
            }
            Slot::Localised(localised) if localised.0.is_empty() => {
                match self.items(&mut localised.0, Some(LOCALISED_ITEM))? {
                    Some(text) => localised.set_plain(&text).map_err(|message| Failure::field(message, at)),
                    None => Ok(()),
                }
            }
            Slot::List(_) | Slot::Localised(_) => Err(Failure::field(GIVEN_TWICE, at)),
        }
    }

    /// Reads to the end of the element just started, handing each child
    /// element to `child` as it starts. Its own text, when it has no child:
    /// the vendor's elements hold text or elements, never both.
    /// `had_children` says whether plain fields were read already.
    fn children(
        &mut self,
        mut had_children: bool,
        mut child: impl FnMut(&mut Self, Cow<'a, str>, usize) -> Read<()>,
    ) -> Read<Option<Cow<'a, str>>> {
        let mut own_text: Option<(Cow<'a, str>, usize)> = None;
        loop {
            match self.events.next()? {
                Piece::Start { name, at } => {
                    if let Some((text, _)) = own_text.as_ref().filter(|(text, _)| !is_blank(text)) {
                        // The child is open already; the text lies in its parent.
                        return Err(self.mixed_content(text, at, self.events.open.len() - 1));
                    }
                    own_text = None;
                    had_children = true;
                    child(self, name, at)?;
                }
                Piece::Text { content, at } => {
                    if had_children {
                        if !is_blank(&content) {
                            return Err(self.mixed_content(&content, at, self.events.open.len()));
                        }
                    } else {
                        match &mut own_text {
                            None => own_text = Some((content, at)),
                            Some((text, _)) => text.to_mut().push_str(&content),
                        }
                    }
                }
                Piece::End => return Ok(own_text.map(|(text, _)| text)),
                Piece::Eof => return Err(self.ends_early()),
            }
        }
    }

    /// Text beside child elements, found at `at` in the element that is
    /// the `depth`th open.
    fn mixed_content(&self, text: &str, at: usize, depth: usize) -> Box<Failure> {
        let open = &self.events.open[..depth.min(self.events.open.len())];
        let element = open.last().map_or("", |name| name.as_ref());
        let message = format!("text `{}` beside child elements in <{element}>", text.trim());
        xml_error(self.events.text, at, message, open).into()
    }

    /// The events cannot end inside an element; were they to, it is said.
    fn ends_early(&self) -> Box<Failure> {
        let text = self.events.text;
        xml_error(text, text.len(), "the document ends early".to_owned(), &self.events.open).into()
    }

    /// Reads over the element just started, which the model does not know.
    fn skip(&mut self) -> Read<()> {
        let mut depth = 1;
        while depth > 0 {
            match self.events.next()? {
                Piece::Start { .. } => depth += 1,
                Piece::End => depth -= 1,
                Piece::Text { .. } => {}
                Piece::Eof => return Err(self.ends_early()),
            }
        }
        Ok(())
    }
}

/// A record's or list's element holds elements; text alone is a value
/// where the model has none.
fn only_elements(text: Option<Cow<'_, str>>, at: usize) -> Read<()> {
    match text {
        Some(text) if !is_blank(&text) => {
            Err(Failure::field(format!("expected elements, found the text `{}`", text.trim()), at))
        }
        _ => Ok(()),
    }
}

/// What the document holds, as the reading needs it.
enum Piece<'a> {
    Start { name: Cow<'a, str>, at: usize },
    End,
    Text { content: Cow<'a, str>, at: usize },
    Eof,
}

/// An element holding plain text or nothing, found where the events are:
/// `<Name>text</Name>` or `<Name/>`, the name only letters, digits and
/// `_-.`, the text without `<` or `&`, the end tag exactly its start's name.
struct PlainElement<'a> {
    name: &'a str,
    text: &'a str,
    /// Where its `<` is.
    at: usize,
    /// Its bytes, with the whitespace before it.
    length: usize,
}

/// quick-xml's events, checked: one root, nesting within bounds, no
/// DOCTYPE, only XML's own entities; an empty element as a start and an
/// end. It ends only once every element opened is closed.
struct Events<'a> {
    text: &'a str,
    reader: Reader<&'a [u8]>,
    /// The names of the elements open, outermost first.
    open: Vec<Cow<'a, str>>,
    outermost: usize,
    seen_root: bool,
    /// The end of the empty element just given as a start.
    end_pending: bool,
    /// Whether the reader stands just after a tag's `>`, where plain
    /// elements may be passed over without it.
    after_tag: bool,
    /// The bytes passed over so, which the reader's positions leave out.
    passed: usize,
}

impl<'a> Events<'a> {
    fn new(text: &'a str, inside: Within) -> Self {
        let open = match inside {
            Within::Nothing => Vec::new(),
            Within::Root => vec![Cow::Borrowed("")],
        };
        let outermost = open.len();
        Self {
            text,
            reader: Reader::from_str(text),
            seen_root: outermost > 0,
            open,
            outermost,
            end_pending: false,
            after_tag: false,
            passed: 0,
        }
    }

    /// The plain element coming next, if one does, as the events would
    /// give it: only where a child element may start, after the whitespace
    /// the events would give as text.
    fn plain_element(&self) -> Option<PlainElement<'a>> {
        if !self.after_tag || self.end_pending {
            return None;
        }
        let rest: &'a [u8] = self.reader.get_ref();
        let indent = rest.iter().position(|byte| !matches!(byte, b' ' | b'\t' | b'\r' | b'\n'))?;
        let tag = rest[indent..].strip_prefix(b"<")?;
        let name_length = tag
            .iter()
            .position(|byte| !(byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.')))?;
        let after_name = &tag[name_length..];
        let name_at = self.text.len() - rest.len() + indent + 1;
        let name = self.text.get(name_at..name_at + name_length).filter(|name| !name.is_empty())?;
        let at = self.position() + indent;
        if after_name.starts_with(b"/>") {
            return Some(PlainElement { name, text: "", at, length: indent + name_length + 3 });
        }
        let content = after_name.strip_prefix(b">")?;
        let content_length = memchr::memchr2(b'<', b'&', content)?;
        let end_tag = content[content_length..].strip_prefix(b"</")?.strip_prefix(name.as_bytes())?;
        if !end_tag.starts_with(b">") {
            return None;
        }
        let content_at = name_at + name_length + 1;
        let text = self.text.get(content_at..content_at + content_length)?;
        let length = indent + 2 * name_length + content_length + 5;
        Some(PlainElement { name, text, at, length })
    }

    /// Moves the reader past `plain`, just found by [`Self::plain_element`].
    fn pass(&mut self, plain: &PlainElement<'_>) {
        let rest = self.reader.get_mut();
        *rest = &rest[plain.length..];
        self.passed += plain.length;
    }

    /// Where the reader stands, counted as its own positions are.
    fn position(&self) -> usize {
        usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX).saturating_add(self.passed)
    }

    fn next(&mut self) -> Result<Piece<'a>, ParseError> {
        let text = self.text;
        if std::mem::take(&mut self.end_pending) {
            self.open.pop();
            return Ok(Piece::End);
        }
        loop {
            let at = self.position();
            let passed = self.passed;
            let event = self.reader.read_event().map_err(|error| {
                let at = usize::try_from(self.reader.error_position())
                    .unwrap_or(usize::MAX)
                    .saturating_add(passed);
                xml_error(text, at, error.to_string(), &self.open)
            })?;
            self.after_tag = matches!(event, Event::Start(_) | Event::Empty(_) | Event::End(_));
            let (element, empty) = match event {
                Event::Start(element) => (element, false),
                Event::Empty(element) => (element, true),
                Event::End(_) => {
                    self.open.pop();
                    return Ok(Piece::End);
                }
                Event::Text(content) => return Ok(Piece::Text { content: within(text, &content), at }),
                Event::CData(content) => return Ok(Piece::Text { content: within(text, &content), at }),
                Event::GeneralRef(reference) => {
                    let name = &reference[..];
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(character)) => Some(character.to_string()),
                        Ok(None) => quick_xml::escape::resolve_predefined_entity(name).map(str::to_owned),
                        Err(_) => None,
                    };
                    let Some(resolved) = resolved else {
                        return Err(xml_error(text, at, format!("unknown entity `&{name};`"), &self.open));
                    };
                    return Ok(Piece::Text { content: Cow::Owned(resolved), at });
                }
                Event::DocType(_) => {
                    let message = "DOCTYPE declarations are refused: the vendor sends none, and entities are never expanded";
                    return Err(xml_error(text, at, message.to_owned(), &self.open));
                }
                Event::Eof => {
                    if let Some(unclosed) = self.open.get(self.outermost..).and_then(<[_]>::last) {
                        let message = format!("the document ends inside <{unclosed}>");
                        return Err(xml_error(text, text.len(), message, &self.open));
                    }
                    if !self.seen_root {
                        return Err(xml_error(text, text.len(), "no root element".to_owned(), &self.open));
                    }
                    return Ok(Piece::Eof);
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => continue,
            };
            if self.open.is_empty() && self.seen_root {
                return Err(xml_error(text, at, "a second root element".to_owned(), &self.open));
            }
            self.seen_root = true;
            if self.open.len() >= MAX_NESTING {
                let message = format!("nested more than {MAX_NESTING} levels deep");
                return Err(xml_error(text, at, message, &self.open));
            }
            self.open.push(local_name(text, &element));
            self.end_pending = empty;
            return Ok(Piece::Start { name: self.open.last().expect("just pushed").clone(), at });
        }
    }
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
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |index| index + 1);
    Location::LineColumn { line, column: before.len() - line_start + 1 }
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
