//! The CSV export read back with a CSV reader, as a spreadsheet would.

use billing::{
    csv_export::{CsvOptions, write_csv, write_csv_with_margins},
    json::parse_invoices,
    matching::{MarginSummary, match_documents},
    rows::rows,
};

fn fixture() -> billing::InvoiceDocument {
    parse_invoices(include_bytes!("fixtures/invoices.json")).unwrap()
}

fn read_back(bytes: &[u8], delimiter: u8) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn column(table: &[Vec<String>], name: &str) -> Vec<String> {
    let index = table[0].iter().position(|header| header == name).unwrap();
    table[1..].iter().map(|row| row[index].clone()).collect()
}

#[test]
fn one_row_per_line_with_its_context() {
    let document = fixture();
    let bytes = write_csv(rows(&document), CsvOptions::default());
    let table = read_back(&bytes, b',');
    assert_eq!(table.len(), 1 + 3);
    assert_eq!(column(&table, "Customer"), ["Bakkerij de Vries", "Bakkerij de Vries", "Telecom Ltd"]);
    assert_eq!(column(&table, "Currency"), ["EUR", "EUR", "GBP"]);
    assert_eq!(column(&table, "InvoiceDate"), ["2026-01-23", "2026-01-23", "2026-01-24"]);
    assert_eq!(
        column(&table, "ExtendedPrice"),
        ["100.00", "-10.00", "24.00"],
        "negative amounts stay numbers"
    );
    assert!(bytes.windows(2).any(|pair| pair == b"\r\n"), "RFC 4180 line ends");
}

#[test]
fn with_the_join_each_row_ends_with_its_cost_sale_and_margin() {
    let purchases = fixture();
    let sales = parse_invoices(include_bytes!("fixtures/customerinvoices.json")).unwrap();
    let margins = MarginSummary::from(match_documents(&purchases, &sales));
    let plain = read_back(&write_csv(rows(&purchases), CsvOptions::default()), b',');
    let options = CsvOptions { delimiter: b';', decimal_comma: true, excel_bom: false };
    let table = read_back(&write_csv_with_margins(rows(&purchases), options, &margins), b';');
    assert_eq!(table[0][..plain[0].len()], plain[0], "the usual columns come first");
    assert_eq!(table[0][plain[0].len()..], ["Cost", "Sale", "Margin", "MarginPercent"]);
    assert_eq!(column(&table, "Cost"), ["100,00", "-10,00", ""], "the GBP line has no other side");
    assert_eq!(column(&table, "Sale"), ["120,00", "-12,00", ""]);
    assert_eq!(column(&table, "Margin"), ["20,00", "-2,00", ""]);
    assert_eq!(column(&table, "MarginPercent"), ["16,67", "16,67", ""]);
}

#[test]
fn semicolons_decimal_commas_and_the_excel_bom() {
    let document = fixture();
    let options = CsvOptions { delimiter: b';', decimal_comma: true, excel_bom: true };
    let bytes = write_csv(rows(&document), options);
    assert!(bytes.starts_with("\u{feff}".as_bytes()));
    let table = read_back(&bytes["\u{feff}".len()..], b';');
    assert_eq!(column(&table, "UnitPrice"), ["10,00", "-10,00", "12,345"]);
    assert_eq!(
        column(&table, "Description")[0],
        "Business Standard, December",
        "commas inside stay one cell"
    );
}

#[test]
fn formulas_in_text_cells_are_made_inert() {
    let mut document = fixture();
    let customer = &mut document.invoices[0].customers[0];
    customer.company_name = Some("=HYPERLINK(\"http://evil\",\"click\")".into());
    customer.subscriptions[0].price_lines[0].description = Some("@SUM(1+1)".into());
    let table = read_back(&write_csv(rows(&document), CsvOptions::default()), b',');
    assert_eq!(column(&table, "Customer")[0], "'=HYPERLINK(\"http://evil\",\"click\")");
    assert_eq!(column(&table, "Description")[0], "'@SUM(1+1)");
    assert_eq!(column(&table, "ExtendedPrice")[1], "-10.00");
}

#[test]
fn the_caller_chooses_which_rows_are_exported() {
    let document = fixture();
    let only_gbp = rows(&document).filter(|row| row.invoice.header.currency.as_deref() == Some("GBP"));
    let table = read_back(&write_csv(only_gbp, CsvOptions::default()), b',');
    assert_eq!(column(&table, "Customer"), ["Telecom Ltd"]);
}
