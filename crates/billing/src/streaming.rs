//! An invoice document read as its bytes arrive. Each invoice is read soon
//! after its last byte is in, so only about the invoice in progress is ever
//! held as bytes and little is left to read after the last one.
//!
//! XML invoices are found by a scanner and read once whole. A JSON
//! document's invoice list is read by the invoice reader itself, straight
//! from the bytes come so far: an invoice is tried once about as many bytes
//! as the one before it have come, which reads it when it is whole and the
//! vendor's invoices are alike. One found longer is followed to its
//! closing brace by a scanner and tried again then.
//!
//! What lies around the invoices (the root, any other fields, the XML
//! declaration) is kept, each invoice in it reduced to an empty one, and
//! read at the end by the whole-document reader: every rule and error of
//! the whole-document readers holds, positions mapped back to the document.
//! Whatever the scanner does not understand (a DOCTYPE, absurd nesting,
//! broken structure) it leaves whole in what is kept, for that reader to
//! judge.

use crate::{
    error::{Format, Location, ParseError},
    fields::MAX_NESTING,
    json,
    model::{Invoice, InvoiceDocument},
    text::Interner,
    xml,
};

/// Reads an invoice document chunk by chunk: [`Self::feed`] each chunk as
/// it arrives, then [`Self::finish`].
pub struct InvoiceStream {
    format: Format,
    scanner: Scanner,
    events: Vec<Event>,
    /// The document so far, each invoice read reduced to an empty one.
    kept: Vec<u8>,
    cuts: Vec<Cut>,
    /// How much was kept before the last tag or value that may begin an
    /// invoice.
    mark: usize,
    /// The bytes of the invoice in progress; its room is kept for the next.
    invoice: Vec<u8>,
    in_invoice: bool,
    invoices: Vec<Invoice>,
    /// Where the next byte fed lies in the document.
    next: Point,
    /// Set once the scanner stopped understanding the document: from then
    /// on, everything is kept whole.
    whole_from_here: bool,
    /// Shared by every invoice of the document, and what lies around them.
    interner: Interner,
    /// A JSON document's invoice list, while its items are being read.
    list: Option<ListReading>,
    /// Set at the end: nothing is worth waiting for any more.
    all_in: bool,
}

/// A JSON invoice list's bytes from the first not read yet.
struct ListReading {
    bytes: Vec<u8>,
    start: usize,
    /// How deep in the document the list's items lie.
    depth: usize,
    next: ListPart,
    /// How many unread bytes to wait for before trying the next invoice.
    want: usize,
    /// Follows the invoice in progress once a try found it incomplete.
    closing: Option<ClosingFinder>,
}

/// Follows an invoice's nesting, strings apart, from its opening brace to
/// its closing one.
#[derive(Default)]
struct ClosingFinder {
    scanned: usize,
    depth: usize,
    in_string: bool,
    escaped: bool,
    closed: bool,
}

impl ClosingFinder {
    /// Scans on through `invoice`, the invoice's bytes so far: whether it
    /// has closed.
    fn closed(&mut self, invoice: &[u8]) -> bool {
        while !self.closed && self.scanned < invoice.len() {
            let byte = invoice[self.scanned];
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if byte == b'\\' {
                    self.escaped = true;
                } else if byte == b'"' {
                    self.in_string = false;
                } else {
                    // Straight on to the string's next quote or escape.
                    self.scanned = json::special_byte(invoice, self.scanned + 1);
                    continue;
                }
            } else {
                match byte {
                    b'"' => self.in_string = true,
                    b'{' | b'[' => self.depth += 1,
                    b'}' | b']' => {
                        self.depth = self.depth.saturating_sub(1);
                        self.closed = self.depth == 0;
                    }
                    _ => {}
                }
            }
            self.scanned += 1;
        }
        self.closed
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ListPart {
    /// Just inside the list: an invoice, or its end.
    FirstItem,
    /// After a comma: an invoice.
    Item,
    /// At an invoice's opening brace.
    Invoice,
    /// After an invoice: a comma, or the list's end.
    AfterItem,
}

/// Whether `bytes` end with a closing brace or bracket, perhaps the
/// invoice's own or the document's: then the invoice is tried at once, not
/// only when as many bytes as the last one had have come, so the last
/// invoice is not left to the end.
fn may_have_closed(bytes: &[u8]) -> bool {
    let last = bytes.iter().rev().find(|byte| !json::is_whitespace(**byte));
    matches!(last, Some(b'}' | b']'))
}

/// When the first invoice is tried: most are smaller.
const FIRST_TRY_BYTES: usize = 64 * 1024;

/// A place in the document: byte offset, and 1-based line and byte column.
#[derive(Clone, Copy, Debug)]
struct Point {
    offset: usize,
    line: usize,
    column: usize,
}

impl Point {
    const START: Self = Self { offset: 0, line: 1, column: 1 };

    fn after(self, bytes: &[u8]) -> Self {
        let offset = self.offset + bytes.len();
        match memchr::memrchr(b'\n', bytes) {
            Some(last) => Self {
                offset,
                line: self.line + memchr::memchr_iter(b'\n', bytes).count(),
                column: bytes.len() - last,
            },
            None => Self { offset, line: self.line, column: self.column + bytes.len() },
        }
    }
}

/// An invoice taken out of what is kept: its stand-in ends at `kept_end`,
/// and the document goes on from `resumes`.
struct Cut {
    kept_end: usize,
    resumes: Point,
}

/// What a scanner found in a chunk, by index into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    /// A JSON invoice list opens before this index, its items `depth`
    /// levels deep: the invoice reader goes on from here.
    ListOpens { at: usize, depth: usize },
    /// An XML tag here may begin an invoice.
    Mark(usize),
    /// The last mark began an invoice.
    Begins,
    /// The invoice ends before this index.
    Ends(usize),
    /// From this index on, the scanner no longer follows the document.
    Lost(usize),
}

enum Scanner {
    Json(JsonScanner),
    Xml(XmlScanner),
}

impl InvoiceStream {
    pub fn new(format: Format) -> Self {
        let scanner = match format {
            Format::Json => Scanner::Json(JsonScanner::default()),
            Format::Xml => Scanner::Xml(XmlScanner::default()),
        };
        Self {
            format,
            scanner,
            events: Vec::new(),
            kept: Vec::new(),
            cuts: Vec::new(),
            mark: 0,
            invoice: Vec::new(),
            in_invoice: false,
            invoices: Vec::new(),
            next: Point::START,
            whole_from_here: false,
            interner: Interner::default(),
            list: None,
            all_in: false,
        }
    }

    /// Reads the invoices `chunk` completes. A document that cannot be read
    /// is only said so by [`Self::finish`], as the whole-document reader says
    /// it: an invoice that fails to read is kept whole, with all that
    /// follows, for that reader.
    pub fn feed(&mut self, chunk: &[u8]) {
        let mut interner = std::mem::take(&mut self.interner);
        interner.reading(|| self.read_chunk(chunk));
        self.interner = interner;
    }

    fn read_chunk(&mut self, chunk: &[u8]) {
        let mut after_list;
        let mut bytes = chunk;
        loop {
            let mut done = 0;
            if !self.whole_from_here && self.list.is_none() {
                done = self.scan(bytes);
            }
            let Some(list) = &mut self.list else {
                return self.route(&bytes[done..]);
            };
            list.bytes.extend_from_slice(&bytes[done..]);
            match self.read_list() {
                Some(rest) => {
                    after_list = rest;
                    bytes = &after_list;
                }
                None => return,
            }
        }
    }

    /// Follows what the scanner finds in `chunk`; returns how much of it
    /// was routed.
    fn scan(&mut self, chunk: &[u8]) -> usize {
        let mut done = 0;
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        match &mut self.scanner {
            Scanner::Json(scanner) => scanner.scan(chunk, &mut events),
            Scanner::Xml(scanner) => scanner.scan(chunk, &mut events),
        }
        for &event in &events {
            self.follow(event, chunk, &mut done);
            if self.whole_from_here || self.list.is_some() {
                break;
            }
        }
        self.events = events;
        done
    }

    /// Reads the list's items from the bytes come so far. Returns what
    /// follows the list, from its closing bracket on, once it is there;
    /// the scanner goes on with it.
    fn read_list(&mut self) -> Option<Vec<u8>> {
        loop {
            let list = self.list.as_mut()?;
            let unread = &list.bytes[list.start..];
            if list.next == ListPart::Invoice {
                let whole = match &mut list.closing {
                    Some(closing) => closing.closed(unread),
                    None => unread.len() >= list.want || may_have_closed(unread),
                };
                if !whole && !self.all_in {
                    return self.wait_for_more();
                }
                match json::read_leading_invoice(unread, list.depth) {
                    json::InvoiceRead::Read(invoice, length) => {
                        list.start += length;
                        list.next = ListPart::AfterItem;
                        list.want = length + length / 8;
                        list.closing = None;
                        self.next = self.next.after(&unread[..length]);
                        self.invoices.push(*invoice);
                        self.kept.extend_from_slice(b"{}");
                        self.cuts.push(Cut { kept_end: self.kept.len(), resumes: self.next });
                    }
                    json::InvoiceRead::Incomplete if list.closing.is_none() && !self.all_in => {
                        list.closing = Some(ClosingFinder::default());
                    }
                    json::InvoiceRead::Incomplete => return self.wait_for_more(),
                    json::InvoiceRead::Failed => {
                        self.lose_track();
                        return None;
                    }
                }
                continue;
            }
            let blank = unread.iter().take_while(|byte| json::is_whitespace(**byte)).count();
            let Some(&byte) = unread.get(blank) else {
                self.keep_unread(blank);
                return self.wait_for_more();
            };
            let next = match (list.next, byte) {
                (ListPart::FirstItem | ListPart::Item, b'{') => ListPart::Invoice,
                (ListPart::AfterItem, b',') => ListPart::Item,
                (ListPart::FirstItem | ListPart::AfterItem, b']') => {
                    let after = unread[blank..].to_vec();
                    self.keep_unread(blank);
                    self.list = None;
                    return Some(after);
                }
                // Left for the reader of the whole document to say.
                _ => {
                    self.lose_track();
                    return None;
                }
            };
            list.next = next;
            self.keep_unread(if next == ListPart::Invoice { blank } else { blank + 1 });
        }
    }

    /// Keeps the list's next `length` unread bytes, those around its
    /// invoices.
    fn keep_unread(&mut self, length: usize) {
        let Some(list) = &mut self.list else { return };
        let bytes = &list.bytes[list.start..list.start + length];
        self.kept.extend_from_slice(bytes);
        self.next = self.next.after(bytes);
        list.start += length;
    }

    /// Drops the list's bytes read so far, keeping their room.
    fn wait_for_more(&mut self) -> Option<Vec<u8>> {
        let list = self.list.as_mut()?;
        list.bytes.drain(..list.start);
        list.start = 0;
        None
    }

    /// The invoices read so far, in document order.
    pub fn invoices(&self) -> &[Invoice] {
        &self.invoices
    }

    /// How many of the document's bytes are held now: what lies around the
    /// invoices, and the invoice in progress.
    pub fn held(&self) -> usize {
        let list = self.list.as_ref().map_or(0, |list| list.bytes.len() - list.start);
        self.kept.len() + if self.in_invoice { self.invoice.len() } else { 0 } + list
    }

    fn follow(&mut self, event: Event, chunk: &[u8], done: &mut usize) {
        match event {
            Event::ListOpens { at, depth } => {
                self.route(&chunk[*done..at]);
                *done = at;
                self.list = Some(ListReading {
                    bytes: Vec::new(),
                    start: 0,
                    depth,
                    next: ListPart::FirstItem,
                    want: FIRST_TRY_BYTES,
                    closing: None,
                });
            }
            Event::Mark(at) => {
                self.route(&chunk[*done..at]);
                *done = at;
                self.mark = self.kept.len();
            }
            Event::Begins => {
                self.invoice.clear();
                self.invoice.extend_from_slice(&self.kept[self.mark..]);
                self.kept.truncate(self.mark);
                self.in_invoice = true;
            }
            Event::Ends(at) => {
                self.route(&chunk[*done..at]);
                *done = at;
                match xml::parse_invoice(&self.invoice) {
                    Some(invoice) => {
                        self.in_invoice = false;
                        self.invoices.push(invoice);
                        self.kept.extend_from_slice(b"<Invoice/>");
                        self.cuts.push(Cut { kept_end: self.kept.len(), resumes: self.next });
                    }
                    None => self.lose_track(),
                }
            }
            Event::Lost(at) => {
                self.route(&chunk[*done..at]);
                *done = at;
                self.lose_track();
            }
        }
    }

    /// From here on, everything is kept whole.
    fn lose_track(&mut self) {
        if let Some(list) = self.list.take() {
            self.route(&list.bytes[list.start..]);
        }
        if self.in_invoice {
            self.in_invoice = false;
            self.kept.extend_from_slice(&self.invoice);
        }
        self.invoice = Vec::new();
        self.whole_from_here = true;
    }

    /// Bytes of the document, in order, to the invoice in progress or to
    /// what is kept.
    fn route(&mut self, bytes: &[u8]) {
        if self.in_invoice { &mut self.invoice } else { &mut self.kept }.extend_from_slice(bytes);
        self.next = self.next.after(bytes);
    }

    /// Reads what is left and puts the document together. A document that
    /// ends early is an error, said as the whole-document reader says it.
    pub fn finish(mut self) -> Result<InvoiceDocument, ParseError> {
        let mut interner = std::mem::take(&mut self.interner);
        interner.reading(|| self.read_the_rest())
    }

    fn read_the_rest(mut self) -> Result<InvoiceDocument, ParseError> {
        self.all_in = true;
        if let Some(after_list) = self.read_list() {
            self.read_chunk(&after_list);
        }
        self.lose_track();
        let read = crate::parse_invoices(self.format, &self.kept);
        let mut document =
            read.map_err(|error| ParseError { location: self.locate(error.location), ..error })?;
        let stand_ins = document.invoices.iter_mut().zip(self.invoices);
        // The stand-ins come first: an invoice is taken out only while
        // every one before it was.
        for (stand_in, invoice) in stand_ins {
            *stand_in = invoice;
        }
        Ok(document)
    }

    /// A place in what is kept, as a place in the document.
    fn locate(&self, location: Location) -> Location {
        let kept = match location {
            Location::ByteOffset(offset) => offset,
            Location::LineColumn { line, column } => offset_of(&self.kept, line, column),
        };
        let Some(cut) = self.cuts.iter().rev().find(|cut| cut.kept_end <= kept) else {
            return location;
        };
        match location {
            Location::ByteOffset(offset) => Location::ByteOffset(cut.resumes.offset + offset - cut.kept_end),
            // Lines and columns as the reader counted them (a column may be
            // 0 at the end), shifted by what the cuts took out.
            Location::LineColumn { line, column } => {
                let cut_at = Point::START.after(&self.kept[..cut.kept_end]);
                if line == cut_at.line {
                    Location::LineColumn {
                        line: cut.resumes.line,
                        column: cut.resumes.column + column - cut_at.column,
                    }
                } else {
                    Location::LineColumn { line: cut.resumes.line + line - cut_at.line, column }
                }
            }
        }
    }
}

/// The byte offset of a 1-based line and column (the column may point one
/// past the line's end, where a reader stopped).
fn offset_of(text: &[u8], line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', text).nth(line - 2).map_or(text.len(), |newline| newline + 1)
    };
    (line_start + column.saturating_sub(1)).min(text.len())
}

/// Follows a JSON document's structure to find the invoice list: the root's
/// `Invoices`, or the root itself when it is a list. The scanner stops
/// where the list opens and goes on from where it closes: its items are
/// the invoice reader's.
#[derive(Default)]
struct JsonScanner {
    depth: usize,
    in_string: bool,
    escaped: bool,
    root_is_list: bool,
    /// At depth 1 of a root object: a key is expected next.
    expecting_key: bool,
    /// The key being read at depth 1, while it may still be `Invoices`.
    key: Option<Vec<u8>>,
    /// Whether the value being read at depth 1 is `Invoices`'.
    value_is_invoices: bool,
}

const INVOICES_KEY: &[u8] = b"Invoices";

impl JsonScanner {
    fn scan(&mut self, chunk: &[u8], events: &mut Vec<Event>) {
        let mut index = 0;
        while index < chunk.len() {
            if self.in_string {
                index = self.scan_string(chunk, index);
                continue;
            }
            let byte = chunk[index];
            match byte {
                b'"' => {
                    self.in_string = true;
                    if self.depth == 1 && self.expecting_key {
                        self.key = Some(Vec::new());
                    }
                }
                b'{' | b'[' => {
                    let opens_invoices =
                        byte == b'[' && (self.depth == 0 || self.depth == 1 && self.value_is_invoices);
                    self.root_is_list |= self.depth == 0 && byte == b'[';
                    self.depth += 1;
                    self.expecting_key = self.depth == 1 && byte == b'{';
                    if self.depth > MAX_NESTING {
                        return events.push(Event::Lost(index));
                    }
                    if opens_invoices {
                        return events.push(Event::ListOpens { at: index + 1, depth: self.depth });
                    }
                }
                b'}' | b']' => {
                    let Some(depth) = self.depth.checked_sub(1) else {
                        return events.push(Event::Lost(index));
                    };
                    self.depth = depth;
                }
                b',' if self.depth == 1 => {
                    self.expecting_key = !self.root_is_list;
                    self.value_is_invoices = false;
                }
                b':' if self.depth == 1 => {
                    self.expecting_key = false;
                    self.value_is_invoices = self.key.take().as_deref() == Some(INVOICES_KEY);
                }
                _ => {}
            }
            index += 1;
        }
    }

    /// Reads string bytes from `index`; returns where scanning goes on.
    fn scan_string(&mut self, chunk: &[u8], mut index: usize) -> usize {
        if self.escaped {
            self.escaped = false;
            // An escaped key is never taken for `Invoices`: the reader of
            // what is kept sees that list whole.
            self.key = None;
            return index + 1;
        }
        let rest = &chunk[index..];
        // Most strings are short: a word-at-a-time search starts sooner than
        // a vector one. It also stops at control characters, passed over here.
        let mut found = 0;
        let found = loop {
            found = json::special_byte(rest, found);
            match rest.get(found) {
                Some(b'"' | b'\\') => break Some(found),
                Some(_) => found += 1,
                None => break None,
            }
        };
        let Some(found) = found else {
            self.extend_key(rest);
            return chunk.len();
        };
        self.extend_key(&rest[..found]);
        index += found;
        if chunk[index] == b'\\' {
            self.escaped = true;
        } else {
            self.in_string = false;
        }
        index + 1
    }

    fn extend_key(&mut self, bytes: &[u8]) {
        if let Some(key) = &mut self.key {
            if key.len() + bytes.len() <= INVOICES_KEY.len() {
                key.extend_from_slice(bytes);
            } else {
                self.key = None;
            }
        }
    }
}

/// Follows an XML document's elements to find the invoices: the root's
/// `Invoice` children.
#[derive(Default)]
struct XmlScanner {
    depth: usize,
    state: XmlState,
    in_invoice: bool,
}

#[derive(Default)]
enum XmlState {
    #[default]
    Text,
    /// Just after `<`.
    Opened,
    /// In `<!`, with the bytes after it so far.
    Declaration(Vec<u8>),
    /// In a comment, CDATA section or processing instruction, until
    /// `ending`, of which the last `matched` bytes were just seen.
    Skipping {
        ending: &'static [u8],
        matched: usize,
    },
    Tag(Tag),
    /// Inside an invoice, looking only for its closing tag.
    InvoiceBody(Box<InvoiceBody>),
}

#[derive(Default)]
struct Tag {
    closing: bool,
    name: Vec<u8>,
    name_read: bool,
    quote: Option<u8>,
    /// The last byte outside quotes was `/`.
    slash: bool,
}

/// An invoice's content, passed over to its closing tag: the invoice's
/// reader checks everything in it. A `</Invoice` inside a comment or CDATA
/// section is taken for the end all the same, and the invoice then fails
/// to read, so the document is read whole from there: slower, never wrong.
struct InvoiceBody {
    /// `</` and the invoice's own name.
    closing: Vec<u8>,
    /// The name alone: searching for `</` first would stop at every
    /// closing tag, the name's letters are rarer.
    name: memchr::memmem::Finder<'static>,
    /// The content's last bytes, as many as the closing tag's beginning
    /// has, in case it began in an earlier chunk.
    tail: Vec<u8>,
}

impl InvoiceBody {
    fn new(name: &[u8]) -> Self {
        Self {
            closing: [b"</", name].concat(),
            name: memchr::memmem::Finder::new(name).into_owned(),
            tail: Vec::new(),
        }
    }

    /// Where in `rest` the closing tag's name ends, when it is there;
    /// otherwise `rest` is passed over.
    fn closing_name_end(&mut self, rest: &[u8]) -> Option<usize> {
        let length = self.closing.len();
        // A name ends where a space or `>` follows it: `</Invoice` is also
        // the beginning of `</InvoiceLine>`.
        let closes_at = |bytes: &[u8], start: usize| {
            bytes[start..].starts_with(&self.closing)
                && bytes.get(start + length).is_some_and(|&byte| byte == b'>' || byte.is_ascii_whitespace())
        };
        let mut joined = std::mem::take(&mut self.tail);
        let tail_length = joined.len();
        joined.extend_from_slice(&rest[..rest.len().min(length)]);
        if let Some(start) = (0..tail_length).find(|&start| closes_at(&joined, start)) {
            return Some(start + length - tail_length);
        }
        let within = self
            .name
            .find_iter(rest)
            .filter_map(|name| name.checked_sub(2))
            .find(|&start| closes_at(rest, start));
        if let Some(start) = within {
            return Some(start + length);
        }
        // Not found whole: its beginning may lie in the last bytes.
        if rest.len() >= length {
            joined.clear();
            joined.extend_from_slice(&rest[rest.len() - length..]);
        } else {
            joined.drain(..joined.len().saturating_sub(length));
        }
        self.tail = joined;
        None
    }
}

/// Longer than any name the scanner needs to recognise.
const LONGEST_NAME: usize = 256;

impl XmlScanner {
    fn scan(&mut self, chunk: &[u8], events: &mut Vec<Event>) {
        let mut index = 0;
        while index < chunk.len() {
            let rest = &chunk[index..];
            let byte = rest[0];
            match &mut self.state {
                XmlState::Text => match memchr::memchr(b'<', rest) {
                    Some(found) => {
                        index += found;
                        if self.depth == 1 {
                            events.push(Event::Mark(index));
                        }
                        self.state = XmlState::Opened;
                    }
                    None => return,
                },
                XmlState::Opened => {
                    let (next, markup) = match byte {
                        b'?' => (XmlState::Skipping { ending: b"?>", matched: 0 }, true),
                        b'!' => (XmlState::Declaration(Vec::new()), true),
                        b'/' => (XmlState::Tag(Tag { closing: true, ..Tag::default() }), true),
                        // The byte begins the name.
                        _ => (XmlState::Tag(Tag::default()), false),
                    };
                    self.state = next;
                    if !markup {
                        continue;
                    }
                }
                XmlState::Declaration(seen) => {
                    seen.push(byte);
                    if seen.as_slice() == b"--" {
                        self.state = XmlState::Skipping { ending: b"-->", matched: 0 };
                    } else if seen.as_slice() == b"[CDATA[" {
                        self.state = XmlState::Skipping { ending: b"]]>", matched: 0 };
                    } else if !b"--".starts_with(seen) && !b"[CDATA[".starts_with(seen) {
                        // A DOCTYPE, or worse: the reader of what is kept
                        // refuses it.
                        return events.push(Event::Lost(index));
                    }
                }
                XmlState::Skipping { ending, matched } => {
                    if byte == ending[*matched] {
                        *matched += 1;
                    } else if !(*matched > 0 && ending[..*matched].iter().all(|&seen| seen == byte)) {
                        // A run of the ending's first byte (`--->`, `]]]>`)
                        // keeps the match; anything else starts it again.
                        *matched = usize::from(byte == ending[0]);
                    }
                    if *matched == ending.len() {
                        self.state = XmlState::Text;
                    }
                }
                XmlState::InvoiceBody(body) => {
                    let Some(name_end) = body.closing_name_end(rest) else { return };
                    let XmlState::InvoiceBody(body) = std::mem::take(&mut self.state) else { unreachable!() };
                    let name = body.closing[2..].to_vec();
                    self.state =
                        XmlState::Tag(Tag { closing: true, name, name_read: true, ..Tag::default() });
                    index += name_end;
                    continue;
                }
                XmlState::Tag(tag) if tag.quote.is_some() => {
                    let quote = tag.quote.unwrap_or_default();
                    let Some(found) = memchr::memchr(quote, rest) else { return };
                    tag.quote = None;
                    tag.slash = false;
                    index += found;
                }
                // Below the root's children no name matters: straight on
                // to where the tag ends.
                XmlState::Tag(tag) if !tag.name_read && self.depth > 1 => {
                    tag.name_read = true;
                    continue;
                }
                XmlState::Tag(tag) if !tag.name_read => {
                    let name_ends = |byte: &u8| byte.is_ascii_whitespace() || b"/>\"'".contains(byte);
                    let length = rest.iter().position(name_ends).unwrap_or(rest.len());
                    let room = LONGEST_NAME.saturating_sub(tag.name.len());
                    tag.name.extend_from_slice(&rest[..length.min(room)]);
                    tag.slash = false;
                    tag.name_read = length < rest.len();
                    index += length;
                    continue;
                }
                XmlState::Tag(tag) => {
                    let Some(found) = memchr::memchr3(b'>', b'"', b'\'', rest) else {
                        tag.slash = rest.last() == Some(&b'/');
                        return;
                    };
                    if found > 0 {
                        tag.slash = rest[found - 1] == b'/';
                    }
                    index += found;
                    if rest[found] == b'>' {
                        let XmlState::Tag(tag) = std::mem::take(&mut self.state) else { unreachable!() };
                        if self.tag_ends(&tag, index, events).is_err() {
                            return events.push(Event::Lost(index));
                        }
                        if self.in_invoice && self.depth == 2 && !tag.closing {
                            self.state = XmlState::InvoiceBody(Box::new(InvoiceBody::new(&tag.name)));
                        }
                    } else {
                        tag.quote = Some(rest[found]);
                    }
                }
            }
            index += 1;
        }
    }

    /// Follows the tag whose `>` is at `index`; `Err` when it makes no
    /// sense here.
    fn tag_ends(&mut self, tag: &Tag, index: usize, events: &mut Vec<Event>) -> Result<(), ()> {
        let local = tag.name.rsplit(|&byte| byte == b':').next().unwrap_or_default();
        let invoice = self.depth == 1 && local == b"Invoice";
        if tag.closing {
            self.depth = self.depth.checked_sub(1).ok_or(())?;
            if self.depth == 1 && self.in_invoice {
                self.in_invoice = false;
                events.push(Event::Ends(index + 1));
            }
            return Ok(());
        }
        if invoice {
            events.push(Event::Begins);
        }
        if tag.slash {
            if invoice {
                events.push(Event::Ends(index + 1));
            }
        } else {
            self.in_invoice |= invoice;
            self.depth += 1;
            if self.depth > MAX_NESTING {
                return Err(());
            }
        }
        Ok(())
    }
}
