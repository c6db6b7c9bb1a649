//! The workbook, read back with calamine, an independent reader, and every
//! figure compared with crates/billing's on the same fixtures.

use std::{collections::BTreeMap, io::Cursor, io::Read};

use analysis::{Reading, Reply, Workspace};
use billing::{
    Endpoint, Format,
    lines::LineFilter,
    publisher::Publishers,
    rows::rows,
    totals::{currency_of, invoice_sums, totals_by_currency},
};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use rust_decimal::Decimal;
use worker_protocol::{Answer, Column, DownloadFile, Question, Slot, XLSX_MEDIA_TYPE};

mod support;

const PURCHASES_JSON: &[u8] = include_bytes!("../../billing/tests/fixtures/invoices.json");
const SALES_JSON: &[u8] = include_bytes!("../../billing/tests/fixtures/customerinvoices.json");

fn reading(slot: Slot, endpoint: Endpoint, bytes: &[u8]) -> Reading {
    let mut reading = Reading::new(slot, support::request(endpoint, Format::Json), Publishers::default());
    reading.feed(bytes);
    reading
}

fn workbook_question(filter: LineFilter, sort: Option<(Column, bool)>, columns: Vec<Column>) -> Question {
    Question::Download {
        file: DownloadFile::Workbook { filter, sort, columns, low_margin_percent: "10".to_owned() },
    }
}

fn write(workspace: &mut Workspace, question: &Question) -> Vec<u8> {
    let Reply { answer: Answer::Download { file_name, media }, file: Some(bytes) } =
        workspace.answer(question).unwrap()
    else {
        panic!("a download")
    };
    assert_eq!(
        (file_name.as_str(), media.as_str()),
        ("invoices_v3_2026-01-01_2026-03-31.xlsx", XLSX_MEDIA_TYPE)
    );
    bytes
}

/// A sheet's rows, header first.
fn sheet(bytes: &[u8], name: &str) -> Vec<Vec<Data>> {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    workbook.worksheet_range(name).unwrap().rows().map(<[Data]>::to_vec).collect()
}

fn sheet_names(bytes: &[u8]) -> Vec<String> {
    let workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    workbook.sheet_names()
}

/// A number cell as the decimal it was written from: Excel's doubles are
/// the nearest to it, and their shortest form gives it back.
fn decimal(cell: &Data) -> Decimal {
    match cell {
        Data::Float(number) => format!("{number}").parse().unwrap(),
        Data::Int(number) => Decimal::from(*number),
        other => panic!("{other:?} is not a number"),
    }
}

fn text(cell: &Data) -> String {
    match cell {
        Data::String(text) => text.clone(),
        Data::Empty => String::new(),
        other => panic!("{other:?} is not text"),
    }
}

fn column(rows: &[Vec<Data>], header_row: usize, name: &str) -> usize {
    rows[header_row].iter().position(|cell| text(cell) == name).unwrap_or_else(|| panic!("no {name} column"))
}

/// One part of the .xlsx package, as text.
fn part(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    archive.by_name(name).unwrap().read_to_string(&mut text).unwrap();
    text
}

#[test]
fn the_workbook_holds_the_documents_totals_invoices_and_the_tables_lines() {
    let mut workspace = Workspace::new("en".into());
    workspace.open(reading(Slot::Main, Endpoint::Invoices, PURCHASES_JSON)).unwrap();
    let document = billing::json::parse_invoices(PURCHASES_JSON).unwrap();
    let columns = vec![Column::Customer, Column::Period, Column::Quantity, Column::Amount, Column::Margin];
    let bytes = write(
        &mut workspace,
        &workbook_question(LineFilter::default(), Some((Column::Amount, true)), columns),
    );
    assert_eq!(
        sheet_names(&bytes),
        ["Summary", "Invoices", "Lines", "Exceptions"],
        "what is loaded, no more"
    );

    // Per currency, the totals are crates/billing's.
    let summary = sheet(&bytes, "Summary");
    let expected = totals_by_currency(&document);
    assert_eq!(expected.len(), 2, "the fixture has two currencies");
    for (currency, (invoices, sums)) in &expected {
        let row = summary.iter().find(|row| text(&row[0]) == *currency).expect("a row per currency");
        assert_eq!(decimal(&row[1]), Decimal::from(*invoices));
        assert_eq!(decimal(&row[2]), Decimal::from(sums.lines));
        assert_eq!(
            (decimal(&row[3]), decimal(&row[4]), decimal(&row[5])),
            (sums.excluding_vat, sums.vat, sums.including_vat()),
            "{currency}"
        );
    }

    // An invoice a row, its dates as dates.
    let invoices = sheet(&bytes, "Invoices");
    assert_eq!(invoices.len(), document.invoices.len() + 1);
    let (date_at, excluding_at) = (column(&invoices, 0, "Date"), column(&invoices, 0, "Excluding VAT"));
    for (invoice, row) in document.invoices.iter().zip(&invoices[1..]) {
        assert_eq!(decimal(&row[excluding_at]), invoice_sums(invoice).excluding_vat);
        let Data::DateTime(date) = &row[date_at] else { panic!("{:?} is not a date", row[date_at]) };
        assert_eq!(date.as_datetime().map(|moment| moment.date()), invoice.header.date);
    }

    // The table's columns, its period as two dates, and the currency; the
    // margin is left out while the other side is not joined.
    let lines = sheet(&bytes, "Lines");
    let headers: Vec<String> = lines[0].iter().map(text).collect();
    assert_eq!(headers, ["Customer", "Start", "End", "Qty", "Amount", "Currency"]);
    assert_eq!(lines.len() - 1, rows(&document).count());
    let amounts: Vec<Decimal> = lines[1..].iter().map(|row| decimal(&row[4])).collect();
    assert!(amounts.windows(2).all(|pair| pair[0] >= pair[1]), "sorted as the table is: {amounts:?}");
    let mut per_currency: BTreeMap<String, Decimal> = BTreeMap::new();
    for row in &lines[1..] {
        *per_currency.entry(text(&row[5])).or_default() += decimal(&row[4]);
    }
    let expected: BTreeMap<String, Decimal> =
        expected.iter().map(|(currency, (_, sums))| (currency.clone(), sums.excluding_vat)).collect();
    assert_eq!(per_currency, expected, "the lines add up to the totals");

    // A frozen, filtered header; amounts shown in their currency.
    let lines_xml = part(&bytes, "xl/worksheets/sheet3.xml");
    assert!(lines_xml.contains(r#"state="frozen""#), "the header row stays in view");
    assert!(lines_xml.contains(r#"<autoFilter ref="A1:F"#), "{lines_xml:.400}");
    assert!(lines_xml.contains("<col "), "the columns have widths");
    let styles = part(&bytes, "xl/styles.xml");
    for currency in ["EUR", "GBP"] {
        assert!(styles.contains(&format!("&quot;{currency}&quot;")), "a number format showing {currency}");
    }
}

#[test]
fn only_the_filtered_lines_go_in_and_the_joined_parts_get_their_sheets() {
    let mut workspace = Workspace::new("en".into());
    workspace.open(reading(Slot::Main, Endpoint::Invoices, PURCHASES_JSON)).unwrap();
    workspace.open(reading(Slot::OtherSide, Endpoint::CustomerInvoices, SALES_JSON)).unwrap();
    workspace.open(reading(Slot::Earlier, Endpoint::Invoices, SALES_JSON)).unwrap();
    let (purchases, sales) = (
        billing::json::parse_invoices(PURCHASES_JSON).unwrap(),
        billing::json::parse_invoices(SALES_JSON).unwrap(),
    );
    let customer = "Bakkerij de Vries";
    let filter = LineFilter { customer: Some(customer.to_owned()), ..LineFilter::default() };
    let columns = vec![Column::Invoice, Column::Amount, Column::Cost, Column::Sale, Column::MarginPercent];
    let bytes = write(&mut workspace, &workbook_question(filter, None, columns));
    assert_eq!(sheet_names(&bytes), ["Summary", "Invoices", "Lines", "Margin", "Changes", "Exceptions"]);

    let lines = sheet(&bytes, "Lines");
    let theirs: Vec<_> =
        rows(&purchases).filter(|row| row.customer.company_name.as_deref() == Some(customer)).collect();
    assert!(!theirs.is_empty() && theirs.len() < rows(&purchases).count());
    assert_eq!(lines.len() - 1, theirs.len(), "exactly the filtered lines");
    let report = billing::matching::match_documents(&purchases, &sales);
    let margins = billing::matching::MarginSummary::from(report);
    let (cost_at, percent_at) = (column(&lines, 0, "Cost"), column(&lines, 0, "Margin %"));
    for (row, line) in lines[1..].iter().zip(&theirs) {
        let margin = margins.of_line(line.line);
        match margin {
            Some(margin) => {
                assert_eq!(decimal(&row[cost_at]), margin.cost);
                if let Some(percent) = margin.percent() {
                    let shown = decimal(&row[percent_at]) * Decimal::ONE_HUNDRED;
                    assert!((shown - percent).abs() < Decimal::new(1, 9), "{shown} against {percent}");
                }
            }
            None => assert_eq!(row[cost_at], Data::Empty),
        }
    }

    // The margin per customer is the join's.
    let margin_rows = sheet(&bytes, "Margin");
    assert_eq!(margin_rows.len() - 1, margins.per_customer.len());
    for (row, ((customer, currency), margin)) in margin_rows[1..].iter().zip(&margins.per_customer) {
        assert_eq!((text(&row[0]), text(&row[1])), (customer.clone(), currency.clone()));
        assert_eq!((decimal(&row[2]), decimal(&row[3])), (margin.cost, margin.sale));
        assert_eq!(decimal(&row[4]), margin.margin());
    }

    // The changes add up to the difference per currency, never netted.
    let comparison = billing::changes::compare(&sales, &purchases);
    let changes = sheet(&bytes, "Changes");
    assert_eq!(changes.len() - 1, comparison.changes.len());
    let (currency_at, difference_at) = (column(&changes, 0, "Currency"), column(&changes, 0, "Difference"));
    let mut differences: BTreeMap<String, Decimal> = BTreeMap::new();
    for row in &changes[1..] {
        *differences.entry(text(&row[currency_at])).or_default() += decimal(&row[difference_at]);
    }
    for (currency, amounts) in &comparison.per_currency {
        assert_eq!(
            differences.get(currency).copied().unwrap_or_default(),
            amounts.difference(),
            "{currency}"
        );
    }

    // Every flagged line, and per kind and currency the amount at stake.
    let worklist = billing::exceptions::worklist(Some(&purchases), Some(&sales), "10".parse().unwrap());
    let flagged: usize = worklist.kinds.values().map(Vec::len).sum();
    assert!(flagged > 0);
    assert_eq!(sheet(&bytes, "Exceptions").len() - 1, flagged);
    let summary = sheet(&bytes, "Summary");
    let heading = summary.iter().position(|row| text(&row[0]) == "Exception").expect("the worklist's table");
    let mut at_stake: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for row in summary[heading + 1..].iter().take_while(|row| row[0] != Data::Empty) {
        at_stake.insert((text(&row[0]), text(&row[1])), decimal(&row[3]));
    }
    let mut expected: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for kind in worklist.kinds.keys() {
        for (currency, amount) in worklist.stake(*kind).1 {
            expected.insert((kind.label().to_owned(), currency), amount);
        }
    }
    assert_eq!(at_stake, expected);
    let currencies: Vec<&str> = purchases.invoices.iter().map(currency_of).collect();
    assert!(currencies.contains(&"GBP"), "the fixtures keep two currencies apart");
}

#[test]
fn without_invoices_open_there_is_no_workbook() {
    let mut workspace = Workspace::new("en".into());
    let question = workbook_question(LineFilter::default(), None, vec![Column::Amount]);
    assert_eq!(workspace.answer(&question).err().as_deref(), Some("no document is open; fetch one first"));
}
