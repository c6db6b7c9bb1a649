//! The workbook finance hands to accounting: the document's totals, its
//! invoices, the lines as the table shows them, and the margin, the changes
//! and the worklist once loaded, one sheet each, as an .xlsx file.

use std::collections::{BTreeMap, HashMap};

use billing::{
    InvoiceDocument,
    api::decisions::{Decided, ItemId, LineIdentity},
    changes::Comparison,
    exceptions::{Side, Worklist},
    matching::{Margin, MarginSummary},
    publisher::Publishers,
    rows::LineRow,
    text::Text,
    totals::{currency_of, invoice_sums, totals_by_currency},
};
use chrono::NaiveDate;
use rust_decimal::{Decimal, prelude::ToPrimitive};
use rust_xlsxwriter::{ColNum, Format, FormatAlign, RowNum, Workbook, Worksheet, XlsxError};
use worker_protocol::Column;

/// The most data rows a sheet holds: Excel's 1,048,576 rows, less the header.
pub const MOST_ROWS: usize = 1_048_575;

/// What goes into the workbook; each optional part is a sheet of its own.
pub struct WorkbookParts<'a> {
    pub document: &'a InvoiceDocument,
    /// The lines the table shows, in its order, with its columns.
    pub lines: &'a [LineRow<'a>],
    pub columns: &'a [Column],
    pub publishers: &'a Publishers,
    pub margins: Option<&'a MarginSummary>,
    pub changes: Option<&'a Comparison>,
    /// The worklist, with the purchase and sale lines its rows point into.
    pub exceptions: Option<Exceptions<'a>>,
}

pub struct Exceptions<'a> {
    pub worklist: &'a Worklist,
    pub purchases: &'a [LineRow<'a>],
    pub sales: &'a [LineRow<'a>],
    /// The month's marks, and the earlier ones.
    pub decided: &'a Decided,
    /// "Signed off by … on …", above the list, while the month is.
    pub signed_off: Option<String>,
}

/// One cell's value, typed, so amounts stay numbers and dates dates.
enum Value<'a> {
    Empty,
    Text(&'a str),
    Owned(String),
    Count(usize),
    Number(Decimal),
    /// An amount in a currency, shown with it.
    Money(Decimal, &'a str),
    /// A percentage as people write it: 12.5 for 12.5 %.
    Percent(Decimal),
    Date(NaiveDate),
}

impl<'a> From<&'a Option<Text>> for Value<'a> {
    fn from(text: &'a Option<Text>) -> Self {
        text.as_deref().map_or(Value::Empty, Value::Text)
    }
}

fn date(value: Option<NaiveDate>) -> Value<'static> {
    value.map_or(Value::Empty, Value::Date)
}

fn money<'a>(amount: Option<Decimal>, currency: &'a str) -> Value<'a> {
    amount.map_or(Value::Empty, |amount| Value::Money(amount, currency))
}

/// The formats every sheet shares; one per currency, made when first seen.
struct Formats {
    header: Format,
    date: Format,
    number: Format,
    percent: Format,
    money: HashMap<String, Format>,
}

impl Formats {
    fn new() -> Self {
        Self {
            header: Format::new().set_bold().set_align(FormatAlign::Center),
            date: Format::new().set_num_format("yyyy-mm-dd"),
            number: Format::new().set_num_format("#,##0.####"),
            percent: Format::new().set_num_format("0.0%"),
            money: HashMap::new(),
        }
    }

    /// Two to four decimals and the currency's code, which Excel shows but
    /// does not compute with: `1,234.50 EUR`.
    fn money(&mut self, currency: &str) -> &Format {
        if !self.money.contains_key(currency) {
            let code: String = currency.chars().filter(char::is_ascii_alphanumeric).collect();
            let pattern = if code.is_empty() {
                "#,##0.00##".to_owned()
            } else {
                format!("#,##0.00## \"{code}\";-#,##0.00## \"{code}\"")
            };
            self.money.insert(currency.to_owned(), Format::new().set_num_format(pattern));
        }
        &self.money[currency]
    }
}

/// Excel keeps numbers as doubles: the nearest one to the exact amount.
fn double(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(f64::NAN)
}

/// How many digits, separators and sign the whole part of `value` takes:
/// a column's width, without writing the number out.
fn digits(value: Decimal) -> usize {
    let whole = value.trunc().abs().to_u128().unwrap_or(u128::MAX);
    let digits = whole.checked_ilog10().map_or(1, |log| log as usize + 1);
    digits + (digits - 1) / 3 + usize::from(value.is_sign_negative())
}

/// One sheet written as a table: a header row, frozen and filtered, then
/// rows, with each column as wide as its longest text (within reason).
struct Table<'w> {
    sheet: &'w mut Worksheet,
    formats: &'w mut Formats,
    first_row: RowNum,
    row: RowNum,
    widths: Vec<usize>,
}

impl<'w> Table<'w> {
    fn new(
        sheet: &'w mut Worksheet,
        formats: &'w mut Formats,
        first_row: RowNum,
        headers: &[&str],
    ) -> Result<Self, XlsxError> {
        for (column, header) in headers.iter().enumerate() {
            sheet.write_string_with_format(first_row, column as ColNum, *header, &formats.header)?;
        }
        let widths = headers.iter().map(|header| header.chars().count() + 2).collect();
        Ok(Self { sheet, formats, first_row, row: first_row + 1, widths })
    }

    fn row(&mut self, values: &[Value<'_>]) -> Result<(), XlsxError> {
        for (index, value) in values.iter().enumerate() {
            let (row, column) = (self.row, index as ColNum);
            let shown = match value {
                Value::Empty => 0,
                Value::Text(text) => {
                    self.sheet.write_string(row, column, *text)?;
                    text.chars().count()
                }
                Value::Owned(text) => {
                    self.sheet.write_string(row, column, text)?;
                    text.chars().count()
                }
                Value::Count(count) => {
                    self.sheet.write_number(row, column, *count as f64)?;
                    count.to_string().len()
                }
                Value::Number(number) => {
                    self.sheet.write_number_with_format(
                        row,
                        column,
                        double(*number),
                        &self.formats.number,
                    )?;
                    digits(*number) + 5
                }
                Value::Money(amount, currency) => {
                    let format = self.formats.money(currency);
                    self.sheet.write_number_with_format(row, column, double(*amount), format)?;
                    digits(*amount) + currency.len() + 5
                }
                Value::Percent(percent) => {
                    let fraction = double(*percent) / 100.0;
                    self.sheet.write_number_with_format(row, column, fraction, &self.formats.percent)?;
                    7
                }
                Value::Date(date) => {
                    self.sheet.write_datetime_with_format(row, column, date, &self.formats.date)?;
                    10
                }
            };
            if let Some(width) = self.widths.get_mut(index) {
                *width = (*width).max(shown + 2);
            }
        }
        self.row += 1;
        Ok(())
    }

    /// Where the next table may start, and the columns' widths; the first
    /// table's header stays in view and filters the rows below it.
    fn finish(self, first: bool) -> Result<(RowNum, Vec<usize>), XlsxError> {
        if first {
            let last_column = self.widths.len().saturating_sub(1) as ColNum;
            self.sheet.autofilter(self.first_row, 0, (self.row - 1).max(self.first_row), last_column)?;
            self.sheet.set_freeze_panes(self.first_row + 1, 0)?;
        }
        Ok((self.row + 1, self.widths))
    }
}

/// Each column as wide as the widest of its tables wants, within reason.
fn set_widths(sheet: &mut Worksheet, tables: &[Vec<usize>]) -> Result<(), XlsxError> {
    let columns = tables.iter().map(Vec::len).max().unwrap_or_default();
    for column in 0..columns {
        let widest = tables.iter().filter_map(|widths| widths.get(column)).max().copied().unwrap_or_default();
        sheet.set_column_width(column as ColNum, widest.clamp(8, 60) as f64)?;
    }
    Ok(())
}

/// Writes the workbook; the error says what went wrong, in words.
pub fn write_workbook(parts: &WorkbookParts<'_>) -> Result<Vec<u8>, String> {
    if parts.lines.len() > MOST_ROWS {
        return Err(format!(
            "a sheet holds at most {MOST_ROWS} lines and the table shows {}: filter the lines first, or download them as CSV",
            parts.lines.len()
        ));
    }
    write(parts).map_err(|error| format!("the workbook could not be written: {error}"))
}

fn write(parts: &WorkbookParts<'_>) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let mut formats = Formats::new();
    summary_sheet(workbook.add_worksheet().set_name("Summary")?, &mut formats, parts)?;
    invoices_sheet(workbook.add_worksheet().set_name("Invoices")?, &mut formats, parts.document)?;
    lines_sheet(workbook.add_worksheet().set_name("Lines")?, &mut formats, parts)?;
    if let Some(margins) = parts.margins {
        margin_sheet(workbook.add_worksheet().set_name("Margin")?, &mut formats, margins)?;
    }
    if let Some(changes) = parts.changes {
        changes_sheet(workbook.add_worksheet().set_name("Changes")?, &mut formats, changes)?;
    }
    if let Some(exceptions) = &parts.exceptions {
        exceptions_sheet(workbook.add_worksheet().set_name("Exceptions")?, &mut formats, exceptions)?;
    }
    workbook.save_to_buffer()
}

/// The margin of all customers in each currency.
fn margin_per_currency(margins: &MarginSummary) -> BTreeMap<&str, Margin> {
    let mut per_currency: BTreeMap<&str, Margin> = BTreeMap::new();
    for ((_, currency), margin) in &margins.per_customer {
        let sum = per_currency.entry(currency).or_insert(Margin { cost: Decimal::ZERO, sale: Decimal::ZERO });
        sum.cost += margin.cost;
        sum.sale += margin.sale;
    }
    per_currency
}

fn summary_sheet(
    sheet: &mut Worksheet,
    formats: &mut Formats,
    parts: &WorkbookParts<'_>,
) -> Result<(), XlsxError> {
    let headers = ["Currency", "Invoices", "Lines", "Excluding VAT", "VAT", "Including VAT"];
    let mut table = Table::new(sheet, formats, 0, &headers)?;
    let totals = totals_by_currency(parts.document);
    for (currency, (invoices, sums)) in &totals {
        table.row(&[
            Value::Text(currency),
            Value::Count(*invoices),
            Value::Count(sums.lines),
            Value::Money(sums.excluding_vat, currency),
            Value::Money(sums.vat, currency),
            Value::Money(sums.including_vat(), currency),
        ])?;
    }
    let (mut next, widths) = table.finish(true)?;
    let mut tables = vec![widths];
    if let Some(margins) = parts.margins {
        let headers = ["Currency", "Cost", "Sale", "Margin", "Margin %"];
        let mut table = Table::new(sheet, formats, next, &headers)?;
        for (currency, margin) in margin_per_currency(margins) {
            table.row(&[
                Value::Text(currency),
                Value::Money(margin.cost, currency),
                Value::Money(margin.sale, currency),
                Value::Money(margin.margin(), currency),
                margin.percent().map_or(Value::Empty, Value::Percent),
            ])?;
        }
        let (below, widths) = table.finish(false)?;
        next = below;
        tables.push(widths);
    }
    if let Some(changes) = parts.changes {
        let headers = ["Currency", "Earlier window", "This window", "Difference"];
        let mut table = Table::new(sheet, formats, next, &headers)?;
        for (currency, amounts) in &changes.per_currency {
            table.row(&[
                Value::Text(currency),
                Value::Money(amounts.before, currency),
                Value::Money(amounts.after, currency),
                Value::Money(amounts.difference(), currency),
            ])?;
        }
        let (below, widths) = table.finish(false)?;
        next = below;
        tables.push(widths);
    }
    if let Some(exceptions) = &parts.exceptions {
        let headers = ["Exception", "Currency", "Lines", "At stake"];
        let mut table = Table::new(sheet, formats, next, &headers)?;
        for kind in exceptions.worklist.kinds.keys() {
            let (_, at_stake) = exceptions.worklist.stake(*kind);
            for (currency, amount) in &at_stake {
                let lines =
                    exceptions.worklist.kinds[kind].iter().filter(|line| &line.currency == currency).count();
                table.row(&[
                    Value::Text(kind.label()),
                    Value::Text(currency),
                    Value::Count(lines),
                    Value::Money(*amount, currency),
                ])?;
            }
        }
        tables.push(table.finish(false)?.1);
    }
    set_widths(sheet, &tables)
}

fn invoices_sheet(
    sheet: &mut Worksheet,
    formats: &mut Formats,
    document: &InvoiceDocument,
) -> Result<(), XlsxError> {
    let headers = [
        "Invoice",
        "Date",
        "Due",
        "Sender",
        "Receiver",
        "Currency",
        "Excluding VAT",
        "VAT",
        "Including VAT",
        "Lines",
    ];
    let mut table = Table::new(sheet, formats, 0, &headers)?;
    for invoice in &document.invoices {
        let (sums, currency) = (invoice_sums(invoice), currency_of(invoice));
        let header = &invoice.header;
        table.row(&[
            header.invoice_id.as_ref().map_or(Value::Empty, |id| Value::Owned(id.to_string())),
            date(header.date),
            date(header.expiration_date),
            (&invoice.sender.company_name).into(),
            (&invoice.receiver.company_name).into(),
            Value::Text(currency),
            Value::Money(sums.excluding_vat, currency),
            Value::Money(sums.vat, currency),
            Value::Money(sums.including_vat(), currency),
            Value::Count(sums.lines),
        ])?;
    }
    let (_, widths) = table.finish(true)?;
    set_widths(sheet, &[widths])
}

/// The lines sheet's headings: the table's, with its period as two dates,
/// and the currency the amounts are in.
fn line_headings(columns: &[Column]) -> Vec<&'static str> {
    let mut headings = Vec::with_capacity(columns.len() + 2);
    for column in columns {
        match column {
            Column::Period => headings.extend(["Start", "End"]),
            column => headings.push(column.label()),
        }
    }
    headings.push("Currency");
    headings
}

fn lines_sheet(
    sheet: &mut Worksheet,
    formats: &mut Formats,
    parts: &WorkbookParts<'_>,
) -> Result<(), XlsxError> {
    let mut table = Table::new(sheet, formats, 0, &line_headings(parts.columns))?;
    let mut values = Vec::with_capacity(parts.columns.len() + 2);
    for row in parts.lines {
        let currency = currency_of(row.invoice);
        let margin = parts.margins.and_then(|margins| margins.of_line(row.line));
        values.clear();
        for column in parts.columns {
            match column {
                Column::Invoice => values.push(
                    row.invoice
                        .header
                        .invoice_id
                        .as_ref()
                        .map_or(Value::Empty, |id| Value::Owned(id.to_string())),
                ),
                Column::Publisher => values.push(
                    parts
                        .publishers
                        .of(row.subscription, row.line)
                        .map_or(Value::Empty, |name| Value::Owned(name.into_owned())),
                ),
                Column::Customer => values.push((&row.customer.company_name).into()),
                Column::Subscription => values.push((&row.subscription.subscription_name).into()),
                Column::Description => values.push((&row.line.description).into()),
                Column::ChargeType => values.push((&row.line.charge_type).into()),
                Column::Period => values.extend([date(row.line.start_date), date(row.line.end_date)]),
                Column::Quantity => values.push(row.line.quantity.map_or(Value::Empty, Value::Number)),
                Column::UnitPrice => values.push(money(row.line.unit_price, currency)),
                Column::Amount => values.push(money(row.line.extended_price, currency)),
                Column::Vat => values.push(money(row.line.vat, currency)),
                Column::MarginPercent => values
                    .push(margin.and_then(|margin| margin.percent()).map_or(Value::Empty, Value::Percent)),
                Column::Cost | Column::Sale | Column::Margin => {
                    values.push(money(margin.and_then(|margin| column.margin_figure(margin)), currency))
                }
            }
        }
        values.push(Value::Text(currency));
        table.row(&values)?;
    }
    let (_, widths) = table.finish(true)?;
    set_widths(sheet, &[widths])
}

fn margin_sheet(
    sheet: &mut Worksheet,
    formats: &mut Formats,
    margins: &MarginSummary,
) -> Result<(), XlsxError> {
    let headers = ["Customer", "Currency", "Cost", "Sale", "Margin", "Margin %"];
    let mut table = Table::new(sheet, formats, 0, &headers)?;
    for ((customer, currency), margin) in &margins.per_customer {
        table.row(&[
            Value::Text(customer),
            Value::Text(currency),
            Value::Money(margin.cost, currency),
            Value::Money(margin.sale, currency),
            Value::Money(margin.margin(), currency),
            margin.percent().map_or(Value::Empty, Value::Percent),
        ])?;
    }
    let (_, widths) = table.finish(true)?;
    set_widths(sheet, &[widths])
}

fn changes_sheet(
    sheet: &mut Worksheet,
    formats: &mut Formats,
    comparison: &Comparison,
) -> Result<(), XlsxError> {
    let headers = [
        "Customer",
        "Subscription",
        "Charge",
        "SKU",
        "Currency",
        "What changed",
        "Quantity before",
        "Quantity now",
        "Unit price before",
        "Unit price now",
        "Amount before",
        "Amount now",
        "Difference",
        "Margin before",
        "Margin now",
    ];
    let mut table = Table::new(sheet, formats, 0, &headers)?;
    for change in comparison.changes_by_difference() {
        let key = &change.key;
        let currency = key.currency.as_str();
        let kinds: Vec<&str> = change.kinds.iter().map(|kind| kind.label()).collect();
        let (before, after) = (change.before.as_ref(), change.after.as_ref());
        table.row(&[
            Value::Text(&key.customer),
            Value::Text(&key.subscription),
            Value::Text(&key.charge_type),
            key.sku.as_deref().map_or(Value::Empty, Value::Text),
            Value::Text(currency),
            Value::Owned(kinds.join(", ")),
            before.map_or(Value::Empty, |figures| Value::Number(figures.quantity)),
            after.map_or(Value::Empty, |figures| Value::Number(figures.quantity)),
            money(before.and_then(|figures| figures.unit_price), currency),
            money(after.and_then(|figures| figures.unit_price), currency),
            money(before.map(|figures| figures.amount), currency),
            money(after.map(|figures| figures.amount), currency),
            Value::Money(change.difference(), currency),
            money(before.and_then(|figures| figures.margin), currency),
            money(after.and_then(|figures| figures.margin), currency),
        ])?;
    }
    let (_, widths) = table.finish(true)?;
    set_widths(sheet, &[widths])
}

fn exceptions_sheet(
    sheet: &mut Worksheet,
    formats: &mut Formats,
    exceptions: &Exceptions<'_>,
) -> Result<(), XlsxError> {
    let headers = [
        "Exception",
        "Document",
        "Invoice",
        "Customer",
        "Subscription",
        "Description",
        "Currency",
        "Amount",
        "At stake",
        "InvoiceRowHash",
        "Status",
        "Note",
        "Decided by",
        "Decided at",
    ];
    let first_row = match &exceptions.signed_off {
        Some(statement) => {
            sheet.write_string(0, 0, statement)?;
            2
        }
        None => 0,
    };
    let mut table = Table::new(sheet, formats, first_row, &headers)?;
    for (kind, flagged) in &exceptions.worklist.kinds {
        for line in flagged {
            let (document, rows) = match line.side {
                Side::Purchases => ("purchases", exceptions.purchases),
                Side::Sales => ("sales", exceptions.sales),
            };
            let Some(row) = rows.get(line.row) else { continue };
            let currency = line.currency.as_str();
            let item = ItemId { kind: *kind, line: LineIdentity::of(row) };
            let [status, note, by, at] = exceptions.decided.cells(&item);
            table.row(&[
                Value::Text(kind.label()),
                Value::Text(document),
                row.invoice
                    .header
                    .invoice_id
                    .as_ref()
                    .map_or(Value::Empty, |id| Value::Owned(id.to_string())),
                (&row.customer.company_name).into(),
                row.subscription
                    .subscription_id
                    .as_ref()
                    .map_or(Value::Empty, |id| Value::Owned(id.to_string())),
                (&row.line.description).into(),
                Value::Text(currency),
                money(row.line.extended_price, currency),
                Value::Money(line.at_stake, currency),
                (&row.line.invoice_row_hash).into(),
                Value::Owned(status),
                Value::Owned(note),
                Value::Owned(by),
                Value::Owned(at),
            ])?;
        }
    }
    let (_, widths) = table.finish(true)?;
    set_widths(sheet, &[widths])
}
