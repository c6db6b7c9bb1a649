//! The background worker's side of the app, pure so it is tested natively:
//! it reads the documents the worker fetches, keeps them, and answers the
//! page's questions with only what the page shows.

mod gathering;
mod products;
mod reconciliation;
pub mod runs;
mod views;
mod workbook;

use std::{collections::BTreeMap, sync::Arc};

use billing::{
    Endpoint, Format, InvoiceDocument,
    api::{
        DocumentRequest,
        decisions::{Decided, ItemId, LineIdentity},
    },
    changes::{ChargeKey, Comparison, compare, compare_joined},
    charts::{Bar, by_charge_type, by_invoice_month, by_publisher, top_customers, top_margins},
    csv_export::{CsvOptions, write_csv, write_csv_with_margins, write_exceptions_csv},
    exceptions::{ExceptionKind, Flagged, Side, Worklist, flag_consolidated, worklist},
    json,
    lines::{GroupBy, LineFilter, LineTable},
    matching::{ConsolidatedComparison, MarginSummary, compare_consolidated, match_documents},
    model::SubscriptionDetails,
    publisher::Publishers,
    rows::{LineRow, rows},
    streaming::InvoiceStream,
    totals::Discrepancy,
    writer::write_document,
    xml,
};
use worker_protocol::{
    Answer, BarView, ChangeOrder, ChartsView, Column, DownloadFile, ExceptionRow, ExceptionsView,
    FlaggedLine, GroupRow, LineWindow, Listed, Opened, Question, Slot, invoice_file_name,
};

use gathering::Gathering;
pub use gathering::summary;
use products::Products;
pub use reconciliation::LISTED;
pub use views::{announcement, discrepancy_notes};
use workbook::{Exceptions, WorkbookParts, write_workbook};

/// The most rows one window may ask for: a screen's worth, many times over.
pub const MOST_ROWS: u32 = 1_000;

/// What the worker holds: the main document with its line index, and the
/// margin once the other side is joined.
pub struct Workspace {
    language: String,
    main: Option<Main>,
    margins: Option<Arc<MarginSummary>>,
    /// The other side of the margin, once joined, for the worklist.
    other: Option<Arc<InvoiceDocument>>,
    /// Where the vendor's consolidated view disagrees with the join, once
    /// loaded.
    consolidated: Option<ConsolidatedComparison>,
    /// An earlier window and what changed since, once compared.
    earlier: Option<Earlier>,
    /// The last worklist and its threshold, until a document changes.
    worklist_kept: Option<(rust_decimal::Decimal, Arc<Worklist>)>,
    /// The last filter and order of the lines, kept while the page scrolls.
    order: Option<Order>,
    /// The main document's month's decisions, as the page last told them.
    decided: Decided,
    /// "Signed off by … on …" for the main document's run, while it is.
    signed_off: Option<String>,
}

/// The lines that pass a filter, in a sort's order.
struct Order {
    filter: LineFilter,
    sort: Option<(Column, bool)>,
    indexes: Vec<usize>,
}

struct Earlier {
    document: InvoiceDocument,
    comparison: Comparison,
}

struct Main {
    request: DocumentRequest,
    contents: Contents,
}

impl Main {
    /// The main document and the other side of the margin as purchases and
    /// sales: the main document is the purchases when it is `invoices`.
    fn purchases_first<T>(&self, main: T, other: T) -> (T, T) {
        if self.request.endpoint() == Endpoint::Invoices { (main, other) } else { (other, main) }
    }
}

enum Contents {
    Invoices(Box<Invoices>),
    SubscriptionDetails(Box<SubscriptionDetails>),
}

struct Invoices {
    document: Arc<InvoiceDocument>,
    table: LineTable,
    discrepancies: Vec<Discrepancy>,
}

/// A document read as its bytes arrive, to open in its slot once the last
/// has: invoices are read one by one as they complete, so the document's
/// bytes are never all held at once.
pub struct Reading {
    slot: Slot,
    request: DocumentRequest,
    body: Body,
}

enum Body {
    /// The main document's overview is gathered as its invoices are read.
    Invoices(Box<InvoiceStream>, Option<Box<Gathering>>),
    /// A `subscriptiondetails` answer is one small record, read at the end.
    Details(Vec<u8>),
}

impl Reading {
    /// `publishers` tells the publisher of each line of the main document.
    pub fn new(slot: Slot, request: DocumentRequest, publishers: Publishers) -> Self {
        let body = if request.endpoint() == Endpoint::SubscriptionDetails {
            Body::Details(Vec::new())
        } else {
            let gathering = (slot == Slot::Main).then(|| Box::new(Gathering::new(publishers)));
            Body::Invoices(Box::new(InvoiceStream::new(request.format())), gathering)
        };
        Self { slot, request, body }
    }

    /// The next bytes of the document, in order.
    pub fn feed(&mut self, chunk: &[u8]) {
        match &mut self.body {
            Body::Invoices(stream, gathering) => {
                stream.feed(chunk);
                if let Some(gathering) = gathering {
                    for invoice in &stream.invoices()[gathering.invoices()..] {
                        gathering.add(invoice);
                    }
                }
            }
            Body::Details(bytes) => bytes.extend_from_slice(chunk),
        }
    }

    /// The document read, with what was gathered of it.
    fn invoices(self) -> Result<(InvoiceDocument, Gathering), String> {
        match self.body {
            Body::Invoices(stream, gathering) => {
                let document = stream.finish().map_err(|error| error.to_string())?;
                Ok((document, gathering.map(|gathering| *gathering).unwrap_or_default()))
            }
            Body::Details(_) => Err("a subscription's details have no invoices".to_owned()),
        }
    }
}

/// An answer, and the file it comes with for a download.
pub struct Reply {
    pub answer: Answer,
    pub file: Option<Vec<u8>>,
}

const NOTHING_OPEN: &str = "no document is open; fetch one first";
const NOT_COMPARED: &str = "fetch an earlier window to compare with first";

/// A document's rows in order, to find flagged lines by their place.
/// The lines `worklist` flags as `kind`, each with its row.
fn flagged_rows<'w, 'r>(
    worklist: &'w Worklist,
    kind: ExceptionKind,
    purchases: &'r [LineRow<'r>],
    sales: &'r [LineRow<'r>],
) -> impl Iterator<Item = (&'w Flagged, &'r LineRow<'r>)> {
    let flagged = worklist.kinds.get(&kind).map(Vec::as_slice).unwrap_or_default();
    flagged.iter().filter_map(move |line| {
        let rows = match line.side {
            Side::Purchases => purchases,
            Side::Sales => sales,
        };
        rows.get(line.row).map(|row| (line, row))
    })
}

fn listed_rows(document: Option<&InvoiceDocument>) -> Vec<LineRow<'_>> {
    document.map(|document| rows(document).collect()).unwrap_or_default()
}

fn invoice_index(document: &InvoiceDocument, index: u32) -> Result<usize, String> {
    let index = index as usize;
    if index < document.invoices.len() {
        Ok(index)
    } else {
        Err(format!("the document has no invoice number {}", index + 1))
    }
}

fn bars(bars: Vec<Bar>) -> Vec<BarView> {
    bars.into_iter().map(|bar| BarView { label: bar.label, amount: bar.amount.to_string() }).collect()
}

impl Workspace {
    /// `language` is the reader's, e.g. `nl-BE`, for localised names.
    pub fn new(language: String) -> Self {
        Self {
            language,
            main: None,
            margins: None,
            other: None,
            consolidated: None,
            earlier: None,
            worklist_kept: None,
            order: None,
            decided: Decided::default(),
            signed_off: None,
        }
    }

    /// Lets every document go: a new main document is on its way.
    pub fn close(&mut self) {
        self.main = None;
        self.margins = None;
        self.other = None;
        self.consolidated = None;
        self.earlier = None;
        self.worklist_kept = None;
        self.order = None;
        self.decided = Decided::default();
        self.signed_off = None;
    }

    /// Puts the document read into its slot. The error says what is wrong
    /// with the document, or why it cannot go there.
    pub fn open(&mut self, reading: Reading) -> Result<Opened, String> {
        match reading.slot {
            Slot::Main => {
                self.close();
                let request = reading.request.clone();
                let (contents, opened) = if let Body::Details(bytes) = &reading.body {
                    let details = match reading.request.format() {
                        Format::Xml => xml::parse_subscription_details(bytes),
                        Format::Json => json::parse_subscription_details(bytes),
                    }
                    .map_err(|error| error.to_string())?;
                    let opened = Opened::SubscriptionDetails(views::details_view(&details, &self.language));
                    (Contents::SubscriptionDetails(Box::new(details)), opened)
                } else {
                    let (document, gathering) = reading.invoices()?;
                    let document = Arc::new(document);
                    let (table, discrepancies, overview) = gathering.finish(document.clone());
                    let opened = Opened::Invoices(overview);
                    (Contents::Invoices(Box::new(Invoices { document, table, discrepancies })), opened)
                };
                self.main = Some(Main { request, contents });
                Ok(opened)
            }
            Slot::OtherSide => {
                let (main, invoices) = self.invoices()?;
                let (other, _) = reading.invoices()?;
                let (purchases, sales) = main.purchases_first(&*invoices.document, &other);
                let margins = MarginSummary::from(match_documents(purchases, sales));
                let view = reconciliation::margin_view(&margins);
                self.margins = Some(Arc::new(margins));
                self.other = Some(Arc::new(other));
                self.consolidated = None;
                self.worklist_kept = None;
                self.order = None;
                Ok(Opened::Margin(view))
            }
            Slot::Consolidated => {
                let margins = self.margins.as_ref().ok_or("load the other side of the margin first")?;
                let (consolidated, _) = reading.invoices()?;
                let comparison = compare_consolidated(margins, &consolidated);
                let view = reconciliation::comparison_view(&comparison);
                self.consolidated = Some(comparison);
                self.worklist_kept = None;
                Ok(Opened::Comparison(view))
            }
            Slot::Earlier => {
                let (_, invoices) = self.invoices()?;
                let (earlier, _) = reading.invoices()?;
                let comparison = compare(&earlier, &invoices.document);
                let view = reconciliation::changes_view(&comparison, ChangeOrder::default());
                self.earlier = Some(Earlier { document: earlier, comparison });
                Ok(Opened::Changes(view))
            }
            Slot::EarlierOtherSide => {
                let (main, invoices) = self.invoices()?;
                let margins = self.margins.as_deref().ok_or("load the other side of the margin first")?;
                let earlier = self.earlier.as_ref().ok_or(NOT_COMPARED)?;
                let (other, _) = reading.invoices()?;
                let (purchases, sales) = main.purchases_first(&earlier.document, &other);
                let earlier_margins = MarginSummary::from(match_documents(purchases, sales));
                let comparison = compare_joined(
                    &earlier.document,
                    Some(&earlier_margins),
                    &invoices.document,
                    Some(margins),
                );
                let view = reconciliation::changes_view(&comparison, ChangeOrder::default());
                if let Some(earlier) = self.earlier.as_mut() {
                    earlier.comparison = comparison;
                }
                Ok(Opened::Changes(view))
            }
        }
    }

    fn invoices(&self) -> Result<(&Main, &Invoices), String> {
        match &self.main {
            Some(main @ Main { contents: Contents::Invoices(invoices), .. }) => Ok((main, invoices)),
            Some(_) => Err("the open document has no invoices".to_owned()),
            None => Err(NOTHING_OPEN.to_owned()),
        }
    }

    /// The table, the lines that pass `filter` in the order of `sort`, and
    /// the margin. The last order is kept, so scrolling through it costs
    /// only the window, and it is lent rather than copied.
    fn ordered(
        &mut self,
        filter: &LineFilter,
        sort: Option<(Column, bool)>,
    ) -> Result<(&LineTable, &[usize], Option<&MarginSummary>), String> {
        let fresh = !matches!(&self.order, Some(kept) if kept.filter == *filter && kept.sort == sort);
        if fresh {
            let table = &self.invoices()?.1.table;
            let mut indexes = table.filter(filter);
            if let Some((column, descending)) = sort {
                match column.sort() {
                    Some(by) => table.sort(&mut indexes, by, descending),
                    None => {
                        if let Some(margins) = &self.margins {
                            let figure = |row: LineRow<'_>| {
                                margins.of_line(row.line).and_then(|margin| column.margin_figure(margin))
                            };
                            table.sort_by_key(&mut indexes, figure, descending);
                        }
                    }
                }
            }
            self.order = Some(Order { filter: filter.clone(), sort, indexes });
        }
        let table = &self.invoices()?.1.table;
        let indexes = self.order.as_ref().map(|order| order.indexes.as_slice()).unwrap_or_default();
        Ok((table, indexes, self.margins.as_deref()))
    }

    /// Answers `question` about the main document.
    pub fn answer(&mut self, question: &Question) -> Result<Reply, String> {
        let answer = match question {
            Question::Lines { filter, sort, first, count, columns } => {
                self.lines(filter, *sort, *first, *count, columns)?
            }
            Question::Groups { filter, by } => self.groups(filter, *by)?,
            Question::Charts { currency } => self.charts(currency)?,
            Question::Invoice { index } => self.invoice(*index)?,
            Question::InvoiceFile { index } => return self.invoice_file(*index),
            Question::Download { file } => return self.download(file),
            Question::Decisions { decided, signed_off } => self.decisions(decided, signed_off),
            Question::Exceptions { low_margin_percent } => self.exceptions(low_margin_percent)?,
            Question::ExceptionLines { low_margin_percent, kind, only_open } => {
                self.exception_lines(low_margin_percent, *kind, *only_open)?
            }
            Question::Changes { order } => self.changes(*order)?,
            Question::ChangeLines { index } => self.change_lines(*index)?,
            Question::CustomerChangeLines { customer, currency } => {
                self.lines_in_both_windows(|key| key.customer == *customer && key.currency == *currency)?
            }
            Question::Publishers { corrections } => self.publishers(corrections)?,
        };
        Ok(Reply { answer, file: None })
    }

    /// `count` rows from row `first` of the lines `filter` keeps, in `sort`'s
    /// order, with the cells of `columns`.
    fn lines(
        &mut self,
        filter: &LineFilter,
        sort: Option<(Column, bool)>,
        first: u32,
        count: u32,
        columns: &[Column],
    ) -> Result<Answer, String> {
        let (table, indexes, margins) = self.ordered(filter, sort)?;
        let first = (first as usize).min(indexes.len());
        let last = (first + count.min(MOST_ROWS) as usize).min(indexes.len());
        let rows = indexes[first..last]
            .iter()
            .map(|&index| views::line_cells(&table.row(index), columns, margins, table.publishers()))
            .collect();
        Ok(Answer::Lines(LineWindow { shown: indexes.len(), first, rows }))
    }

    /// The lines `filter` keeps, grouped `by`, with subtotals per currency.
    fn groups(&self, filter: &LineFilter, by: GroupBy) -> Result<Answer, String> {
        let table = &self.invoices()?.1.table;
        // Grouping ignores the order: the kept lines serve if they pass the
        // same filter, and stay kept for the scrolling.
        let filtered;
        let indexes = match self.order.as_ref().filter(|kept| kept.filter == *filter) {
            Some(kept) => kept.indexes.as_slice(),
            None => {
                filtered = table.filter(filter);
                filtered.as_slice()
            }
        };
        let groups = table
            .group(indexes, by)
            .into_iter()
            .flat_map(|group| {
                let lines = group.rows.len();
                group.subtotals.into_iter().map(move |(currency, sums)| GroupRow {
                    key: group.key.clone(),
                    lines,
                    currency,
                    excluding_vat: sums.excluding_vat.to_string(),
                    vat: sums.vat.to_string(),
                })
            })
            .collect();
        Ok(Answer::Groups { groups })
    }

    /// The charts' figures in `currency`.
    fn charts(&self, currency: &str) -> Result<Answer, String> {
        let table = &self.invoices()?.1.table;
        let all: Vec<usize> = (0..table.len()).collect();
        Ok(Answer::Charts(ChartsView {
            months: bars(by_invoice_month(table, &all, currency)),
            customers: bars(top_customers(table, &all, currency, 10)),
            charge_types: bars(by_charge_type(table, &all, currency)),
            publishers: bars(by_publisher(table, &all, currency)),
            margins: self.margins.as_ref().map(|margins| bars(top_margins(margins, currency, 10))),
        }))
    }

    /// Invoice number `index` whole.
    fn invoice(&self, index: u32) -> Result<Answer, String> {
        let (main, invoices) = self.invoices()?;
        let index = invoice_index(&invoices.document, index)?;
        let consolidated = main.request.endpoint() == Endpoint::ConsolidatedInvoices;
        let view = views::invoice_view(&invoices.document, &invoices.discrepancies, index, consolidated);
        Ok(Answer::Invoice(Box::new(view)))
    }

    /// Invoice number `index` on its own, as a file in the document's format.
    fn invoice_file(&self, index: u32) -> Result<Reply, String> {
        let (main, invoices) = self.invoices()?;
        let index = invoice_index(&invoices.document, index)?;
        let invoice = invoices.document.invoices[index].clone();
        let number =
            invoice.header.invoice_id.as_ref().map_or_else(|| (index + 1).to_string(), ToString::to_string);
        let format = main.request.format();
        let file = write_document(format, &InvoiceDocument { invoices: vec![invoice] });
        Ok(Reply {
            answer: Answer::Download {
                file_name: invoice_file_name(&number, format),
                media: format.media_type().to_owned(),
            },
            file: Some(file),
        })
    }

    /// Keeps the month's decisions for the worklist's counts, lines and
    /// files, and what the files say of the run's sign-off.
    fn decisions(&mut self, decided: &Decided, signed_off: &Option<String>) -> Answer {
        self.decided = decided.clone();
        self.signed_off = signed_off.clone();
        Answer::Decided { reviews: self.decided.marked() }
    }

    /// The worklist's kinds, with their counts (all, and still open this
    /// month) and what is at stake.
    fn exceptions(&mut self, low_margin_percent: &str) -> Result<Answer, String> {
        let (worklist, joined) = self.worklist(low_margin_percent)?;
        // Every line is open until the month has marks: the rows, a vector
        // of every line, are only gathered then.
        let rows = if self.decided.marked() == 0 {
            None
        } else {
            let (purchases, sales) = self.sides()?;
            Some((listed_rows(purchases), listed_rows(sales)))
        };
        let kinds = ExceptionKind::ALL
            .into_iter()
            .filter(|kind| joined || !kind.needs_join())
            .filter(|kind| *kind != ExceptionKind::ConsolidatedDisagrees || self.consolidated.is_some())
            .map(|kind| {
                let (count, per_currency) = worklist.stake(kind);
                let open = rows.as_ref().map_or(count, |(purchases, sales)| {
                    flagged_rows(&worklist, kind, purchases, sales)
                        .filter(|(_, row)| {
                            self.decided.is_open(&ItemId { kind, line: LineIdentity::of(row) })
                        })
                        .count()
                });
                let at_stake =
                    per_currency.into_iter().map(|(currency, amount)| (currency, amount.to_string()));
                ExceptionRow { kind, count, open, at_stake: at_stake.collect() }
            })
            .collect();
        Ok(Answer::Exceptions(ExceptionsView { joined, kinds }))
    }

    /// The first lines of one `kind` on the worklist, with their decisions.
    fn exception_lines(
        &mut self,
        low_margin_percent: &str,
        kind: ExceptionKind,
        only_open: bool,
    ) -> Result<Answer, String> {
        let (worklist, _) = self.worklist(low_margin_percent)?;
        let (purchases, sales) = self.sides()?;
        let (purchases, sales) = (listed_rows(purchases), listed_rows(sales));
        let decided = &self.decided;
        let lines = flagged_rows(&worklist, kind, &purchases, &sales).filter_map(|(line, row)| {
            let item = ItemId { kind, line: LineIdentity::of(row) };
            (!only_open || decided.is_open(&item)).then(|| FlaggedLine {
                review: decided.this_month(&item).cloned(),
                earlier: decided.earlier(&item).cloned(),
                ..views::flagged_line(item, line, row)
            })
        });
        Ok(Answer::ExceptionLines(Listed::first(lines, LISTED)))
    }

    /// The comparison with the earlier window, in `order`.
    fn changes(&self, order: ChangeOrder) -> Result<Answer, String> {
        let earlier = self.earlier.as_ref().ok_or(NOT_COMPARED)?;
        Ok(Answer::Changes(reconciliation::changes_view(&earlier.comparison, order)))
    }

    /// The lines of change number `index`, in both windows.
    fn change_lines(&self, index: u32) -> Result<Answer, String> {
        let earlier = self.earlier.as_ref().ok_or(NOT_COMPARED)?;
        let change = earlier
            .comparison
            .changes_by_difference()
            .nth(index as usize)
            .ok_or_else(|| format!("the comparison has no change number {}", index + 1))?;
        self.lines_in_both_windows(|key| *key == change.key)
    }

    /// Publishers told with `corrections` from now on; the products anew.
    fn publishers(&mut self, corrections: &BTreeMap<String, String>) -> Result<Answer, String> {
        let Some(Main { contents: Contents::Invoices(invoices), .. }) = &mut self.main else {
            return Err(self.invoices().err().unwrap_or_else(|| NOTHING_OPEN.to_owned()));
        };
        invoices.table.set_publishers(Publishers::with_corrections(corrections.clone()));
        // The kept order may hold a filter or sort by publisher.
        self.order = None;
        Ok(Answer::Publishers(Products::of_table(&invoices.table).view()))
    }

    /// The lines of the charges `wanted` picks, in the earlier window and
    /// in this one.
    fn lines_in_both_windows(&self, wanted: impl Fn(&ChargeKey) -> bool) -> Result<Answer, String> {
        let (_, invoices) = self.invoices()?;
        let earlier = self.earlier.as_ref().ok_or(NOT_COMPARED)?;
        let lines_of = |document: &InvoiceDocument| {
            rows(document)
                .filter(|row| wanted(&ChargeKey::of(row)))
                .map(|row| views::window_line(&row))
                .collect()
        };
        Ok(Answer::ChangeLines { before: lines_of(&earlier.document), after: lines_of(&invoices.document) })
    }

    /// The purchases and the sales, as far as they are loaded.
    fn sides(&self) -> Result<(Option<&InvoiceDocument>, Option<&InvoiceDocument>), String> {
        let (main, invoices) = self.invoices()?;
        Ok(main.purchases_first(Some(&*invoices.document), self.other.as_deref()))
    }

    /// The worklist with the threshold the page gave, and whether both
    /// sides were joined for it. It is kept until the threshold or a
    /// document changes: each click on the list would otherwise join again.
    fn worklist(&mut self, low_margin_percent: &str) -> Result<(Arc<Worklist>, bool), String> {
        let threshold = low_margin_percent
            .trim()
            .trim_end_matches('%')
            .replace(',', ".")
            .trim()
            .parse::<rust_decimal::Decimal>()
            .map_err(|_| format!("the margin threshold `{low_margin_percent}` is not a number"))?;
        let joined = self.other.is_some();
        if let Some((kept_threshold, kept)) = &self.worklist_kept
            && *kept_threshold == threshold
        {
            return Ok((kept.clone(), joined));
        }
        let (purchases, sales) = self.sides()?;
        let mut found = worklist(purchases, sales, threshold);
        if let (Some(purchases), Some(margins), Some(comparison)) =
            (purchases, self.margins.as_deref(), self.consolidated.as_ref())
        {
            flag_consolidated(&mut found, purchases, margins, comparison);
        }
        let found = Arc::new(found);
        self.worklist_kept = Some((threshold, found.clone()));
        Ok((found, joined))
    }

    fn download(&mut self, file: &DownloadFile) -> Result<Reply, String> {
        let bytes = match file {
            DownloadFile::Workbook { filter, sort, columns, low_margin_percent } => {
                self.ordered(filter, *sort)?;
                let (worklist, _) = self.worklist(low_margin_percent)?;
                let (purchases, sales) = self.sides()?;
                let (purchases, sales) = (listed_rows(purchases), listed_rows(sales));
                let (_, invoices) = self.invoices()?;
                let indexes = self.order.as_ref().map(|order| order.indexes.as_slice()).unwrap_or_default();
                let lines: Vec<LineRow<'_>> =
                    indexes.iter().map(|&index| invoices.table.row(index)).collect();
                let columns: Vec<Column> = columns
                    .iter()
                    .copied()
                    .filter(|column| self.margins.is_some() || !column.needs_margin())
                    .collect();
                write_workbook(&WorkbookParts {
                    document: &invoices.document,
                    lines: &lines,
                    columns: &columns,
                    publishers: invoices.table.publishers(),
                    margins: self.margins.as_deref(),
                    changes: self.earlier.as_ref().map(|earlier| &earlier.comparison),
                    exceptions: Some(Exceptions {
                        worklist: &worklist,
                        purchases: &purchases,
                        sales: &sales,
                        decided: &self.decided,
                        signed_off: self.signed_off.clone(),
                    }),
                })?
            }
            DownloadFile::Exceptions { low_margin_percent } => {
                let (worklist, _) = self.worklist(low_margin_percent)?;
                let (purchases, sales) = self.sides()?;
                write_exceptions_csv(&worklist, &listed_rows(purchases), &listed_rows(sales), &self.decided)
            }
            DownloadFile::OtherFormat => {
                let main = self.main.as_ref().ok_or(NOTHING_OPEN)?;
                match (&main.contents, main.request.format().other()) {
                    (Contents::Invoices(invoices), format) => write_document(format, &invoices.document),
                    (Contents::SubscriptionDetails(details), Format::Xml) => {
                        xml::write_subscription_details(details)
                    }
                    (Contents::SubscriptionDetails(details), Format::Json) => {
                        json::write_subscription_details(details)
                    }
                }
            }
            DownloadFile::Csv { semicolon, excel_bom } => {
                let document = &self.invoices()?.1.document;
                let options = CsvOptions {
                    delimiter: if *semicolon { b';' } else { b',' },
                    decimal_comma: *semicolon,
                    excel_bom: *excel_bom,
                };
                write_csv(rows(document), options)
            }
            DownloadFile::ShownLines { filter, sort } => {
                let (table, indexes, margins) = self.ordered(filter, *sort)?;
                let rows = indexes.iter().map(|&index| table.row(index));
                match margins {
                    Some(margins) => write_csv_with_margins(rows, CsvOptions::default(), margins),
                    None => write_csv(rows, CsvOptions::default()),
                }
            }
        };
        let main = self.main.as_ref().ok_or(NOTHING_OPEN)?;
        Ok(Reply {
            answer: Answer::Download {
                file_name: file.file_name(&main.request.file_stem(), main.request.format()),
                media: file.media_type(main.request.format()).to_owned(),
            },
            file: Some(bytes),
        })
    }
}
