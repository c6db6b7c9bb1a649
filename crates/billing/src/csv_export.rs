//! Price lines as CSV for spreadsheets: RFC 4180, `,` or `;`, an optional
//! BOM so Excel reads UTF-8, and text cells made inert when a spreadsheet
//! would take them for a formula.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::{
    api::decisions::{Decided, ItemId, LineIdentity},
    exceptions::{Side, Worklist},
    matching::MarginSummary,
    rows::LineRow,
    scalars::Id,
    text::Text,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// `b','` or `b';'` (what European Excel expects).
    pub delimiter: u8,
    /// Write amounts as `12,50`, as a spreadsheet in a comma-decimal locale reads them.
    pub decimal_comma: bool,
    /// Start with a UTF-8 byte order mark, without which Excel guesses a legacy encoding.
    pub excel_bom: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self { delimiter: b',', decimal_comma: false, excel_bom: false }
    }
}

const HEADER: [&str; 22] = [
    "InvoiceID",
    "InvoiceDate",
    "Currency",
    "CustomerNumber",
    "Customer",
    "CostCenter",
    "SubscriptionID",
    "Subscription",
    "LineId",
    "Description",
    "ChargeType",
    "StartDate",
    "EndDate",
    "Quantity",
    "UnitPrice",
    "Discount",
    "Duration",
    "ExtendedPrice",
    "VAT",
    "TaxPercentage",
    "SKU",
    "InvoiceRowHash",
];

/// The columns added when the exact join is known.
const MARGIN_HEADER: [&str; 4] = ["Cost", "Sale", "Margin", "MarginPercent"];

/// Writes one CSV row per price line, after a header row.
pub fn write_csv<'a>(rows: impl IntoIterator<Item = LineRow<'a>>, options: CsvOptions) -> Vec<u8> {
    write(rows, options, None)
}

/// As [`write_csv`], followed on each row by the line's cost, sale, margin
/// and margin percent from the exact join; blank where the line has no
/// other side.
pub fn write_csv_with_margins<'a>(
    rows: impl IntoIterator<Item = LineRow<'a>>,
    options: CsvOptions,
    margins: &MarginSummary,
) -> Vec<u8> {
    write(rows, options, Some(margins))
}

fn write<'a>(
    rows: impl IntoIterator<Item = LineRow<'a>>,
    options: CsvOptions,
    margins: Option<&MarginSummary>,
) -> Vec<u8> {
    let mut output = Vec::new();
    if options.excel_bom {
        output.extend_from_slice("\u{feff}".as_bytes());
    }
    let mut writer = csv::WriterBuilder::new()
        .delimiter(options.delimiter)
        .terminator(csv::Terminator::CRLF)
        .from_writer(output);
    let amount = |value: Option<Decimal>| {
        value
            .map(|value| {
                let text = value.to_string();
                if options.decimal_comma { text.replace('.', ",") } else { text }
            })
            .unwrap_or_default()
    };
    let date = |value: Option<NaiveDate>| value.map(|date| date.to_string()).unwrap_or_default();
    let id = |value: &Option<Id>| inert(&value.as_ref().map(Id::to_string).unwrap_or_default());
    let text = |value: Option<&str>| inert(value.unwrap_or_default());
    // Writing to a Vec cannot fail: csv's errors here are only I/O errors.
    let margin_header = margins.map(|_| MARGIN_HEADER).into_iter().flatten();
    writer.write_record(HEADER.into_iter().chain(margin_header)).expect("writing to memory");
    for LineRow { invoice, customer, subscription, line } in rows {
        let record = [
            id(&invoice.header.invoice_id),
            date(invoice.header.date),
            text(invoice.header.currency.as_deref()),
            id(&customer.customer_number),
            text(customer.company_name.as_deref()),
            text(customer.cost_centre()),
            id(&subscription.subscription_id),
            text(subscription.subscription_name.as_deref()),
            id(&line.line_id),
            text(line.description.as_deref()),
            text(line.charge_type.as_deref()),
            date(line.start_date),
            date(line.end_date),
            amount(line.quantity),
            amount(line.unit_price),
            amount(line.discount),
            amount(line.duration),
            amount(line.extended_price),
            amount(line.vat),
            amount(line.tax_percentage),
            text(line.sku.as_deref()),
            text(line.invoice_row_hash.as_deref()),
        ];
        let margin_cells = margins.map(|margins| {
            let margin = margins.of_line(line);
            [
                amount(margin.map(|margin| margin.cost)),
                amount(margin.map(|margin| margin.sale)),
                amount(margin.map(|margin| margin.margin())),
                amount(margin.and_then(|margin| margin.percent())),
            ]
        });
        writer.write_record(record.iter().chain(margin_cells.iter().flatten())).expect("writing to memory");
    }
    writer.into_inner().expect("flushing to memory")
}

/// Every line on `worklist` as CSV: its kind, which document, where it is,
/// its amount and the amount at stake. `purchases` and `sales` are the rows
/// of the two documents, in document order.
pub fn write_exceptions_csv(
    worklist: &Worklist,
    purchases: &[LineRow<'_>],
    sales: &[LineRow<'_>],
    decided: &Decided,
) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    let header = [
        "Kind",
        "Document",
        "InvoiceID",
        "Customer",
        "SubscriptionID",
        "Description",
        "Currency",
        "ExtendedPrice",
        "AtStake",
        "InvoiceRowHash",
        "Status",
        "Note",
        "DecidedBy",
        "DecidedAt",
    ];
    let mut records = vec![header.map(str::to_owned).to_vec()];
    for (kind, flagged) in &worklist.kinds {
        for line in flagged {
            let (document, rows) = match line.side {
                Side::Purchases => ("purchases", purchases),
                Side::Sales => ("sales", sales),
            };
            let Some(row) = rows.get(line.row) else { continue };
            let text = |value: &Option<Text>| value.as_deref().unwrap_or_default().to_owned();
            let id = |value: Option<&Id>| value.map(ToString::to_string).unwrap_or_default();
            let item = ItemId { kind: *kind, line: LineIdentity::of(row) };
            let [status, note, by, at] = decided.cells(&item);
            records.push(vec![
                kind.label().to_owned(),
                document.to_owned(),
                inert(&id(row.invoice.header.invoice_id.as_ref())),
                inert(&text(&row.customer.company_name)),
                inert(&id(row.subscription.subscription_id.as_ref())),
                inert(&text(&row.line.description)),
                inert(&line.currency),
                row.line.extended_price.map(|amount| amount.to_string()).unwrap_or_default(),
                line.at_stake.to_string(),
                inert(&text(&row.line.invoice_row_hash)),
                status,
                inert(&note),
                inert(&by),
                at,
            ]);
        }
    }
    for record in records {
        writer.write_record(&record).expect("writing to memory");
    }
    writer.into_inner().expect("flushing to memory")
}

/// A text cell a spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab, CR)
/// gets a leading apostrophe. Amounts never pass through here, so a
/// negative amount stays a number.
fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::inert;

    #[test]
    fn formula_starts_are_neutralised_and_plain_text_is_not() {
        for dangerous in ["=HYPERLINK(\"x\")", "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(inert(dangerous), format!("'{dangerous}"));
        }
        assert_eq!(inert("Bakkerij de Vries"), "Bakkerij de Vries");
        assert_eq!(inert("a=b"), "a=b");
    }
}
