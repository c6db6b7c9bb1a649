//! A fetched document: its bytes exactly as received, read into the model,
//! summarised and offered in other shapes. Pure, so it is tested natively.

use std::{collections::BTreeSet, sync::Arc};

use billing::{
    Endpoint, Format, InvoiceDocument, ParseError, json,
    model::SubscriptionDetails,
    rows::rows,
    scalars::Id,
    totals::{Discrepancy, Sums, TotalField, check, totals_by_currency},
    writer::write_document,
    xml,
};

use crate::query::{Query, format_name, month_label};

/// What a document held.
#[derive(Clone, Debug, PartialEq)]
pub enum Contents {
    Invoices(Arc<InvoiceDocument>),
    SubscriptionDetails(Box<SubscriptionDetails>),
}

/// A document as read. Its raw bytes are not kept here: the worker holds
/// them as a Blob outside wasm memory, for the download as received.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    pub query: Query,
    /// How many bytes came.
    pub raw_size: u64,
    pub contents: Contents,
    pub discrepancies: Vec<Discrepancy>,
}

/// Reads the bytes `query` asked for into the model, by its endpoint and
/// format.
pub fn read_contents(query: &Query, bytes: &[u8]) -> Result<Contents, ParseError> {
    Ok(match (query.endpoint, query.format) {
        (Endpoint::SubscriptionDetails, Format::Xml) => {
            Contents::SubscriptionDetails(Box::new(xml::parse_subscription_details(bytes)?))
        }
        (Endpoint::SubscriptionDetails, Format::Json) => {
            Contents::SubscriptionDetails(Box::new(json::parse_subscription_details(bytes)?))
        }
        (_, Format::Xml) => Contents::Invoices(Arc::new(xml::parse_invoices(bytes)?)),
        (_, Format::Json) => Contents::Invoices(Arc::new(json::parse_invoices(bytes)?)),
    })
}

impl Loaded {
    pub fn read(query: Query, bytes: &[u8]) -> Result<Self, ParseError> {
        let contents = read_contents(&query, bytes)?;
        let discrepancies = match &contents {
            Contents::Invoices(document) => check(document),
            Contents::SubscriptionDetails(_) => Vec::new(),
        };
        Ok(Self { query, raw_size: bytes.len() as u64, contents, discrepancies })
    }

    pub fn raw_file_name(&self) -> String {
        format!("{}.{}", self.query.file_stem(), format_name(self.query.format))
    }

    /// The other format than the one fetched.
    pub fn other_format(&self) -> Format {
        match self.query.format {
            Format::Xml => Format::Json,
            Format::Json => Format::Xml,
        }
    }

    pub fn converted_file_name(&self) -> String {
        format!("{}.{}", self.query.file_stem(), format_name(self.other_format()))
    }

    /// The whole document written in the other format.
    pub fn converted(&self) -> Vec<u8> {
        match (&self.contents, self.other_format()) {
            (Contents::Invoices(document), format) => write_document(format, document),
            (Contents::SubscriptionDetails(details), Format::Xml) => xml::write_subscription_details(details),
            (Contents::SubscriptionDetails(details), Format::Json) => {
                json::write_subscription_details(details)
            }
        }
    }
}

/// One invoice of a document on its own, in the document's format.
pub fn single_invoice(loaded: &Loaded, document: &InvoiceDocument, index: usize) -> (String, Vec<u8>) {
    let invoice = document.invoices[index].clone();
    let id = invoice.header.invoice_id.as_ref().map_or_else(|| format!("{}", index + 1), ToString::to_string);
    let safe: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    let bytes = write_document(loaded.query.format, &InvoiceDocument { invoices: vec![invoice] });
    (format!("invoice_{safe}.{}", format_name(loaded.query.format)), bytes)
}

/// The figures at the top of the results.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub invoices: usize,
    pub customers: usize,
    pub lines: usize,
    /// Per currency, in alphabetical order: invoices and sums.
    pub per_currency: Vec<(String, usize, Sums)>,
}

/// What a screen reader is told once a document has been read.
pub fn announcement(loaded: &Loaded) -> String {
    match &loaded.contents {
        Contents::Invoices(document) => {
            let lines = rows(document).count();
            let plural = |count: usize, one: &str, many: &str| {
                format!("{count} {}", if count == 1 { one } else { many })
            };
            format!(
                "Loaded {} with {}.",
                plural(document.invoices.len(), "invoice", "invoices"),
                plural(lines, "line", "lines")
            )
        }
        Contents::SubscriptionDetails(_) => "Loaded the subscription details.".to_owned(),
    }
}

pub fn summary(document: &InvoiceDocument) -> Summary {
    // A customer is its number, or its name when it has none; borrowed, as
    // a large document repeats each on thousands of lines.
    let customers: BTreeSet<(Option<&Id>, Option<&str>)> = rows(document)
        .map(|row| match &row.customer.customer_number {
            Some(number) => (Some(number), None),
            None => (None, row.customer.company_name.as_deref()),
        })
        .collect();
    Summary {
        invoices: document.invoices.len(),
        customers: customers.len(),
        lines: rows(document).count(),
        per_currency: totals_by_currency(document)
            .into_iter()
            .map(|(currency, (invoices, sums))| (currency, invoices, sums))
            .collect(),
    }
}

/// The discrepancies of invoice `index`, each as a sentence.
pub fn discrepancy_notes(
    document: &InvoiceDocument,
    discrepancies: &[Discrepancy],
    index: usize,
) -> Vec<String> {
    discrepancies
        .iter()
        .filter_map(|discrepancy| match discrepancy {
            Discrepancy::LinePrice { at, computed, stated } if at.invoice == index => {
                let customer = &document.invoices[index].customers[at.customer];
                let subscription = &customer.subscriptions[at.subscription];
                let subscription =
                    subscription.subscription_id.as_ref().map_or_else(|| "?".to_owned(), ToString::to_string);
                Some(format!(
                    "Line {} of subscription {subscription} ({}): ExtendedPrice is {stated}, but (Quantity × UnitPrice − Discount) × Duration is {computed}.",
                    at.line + 1,
                    customer.company_name.as_deref().unwrap_or("unnamed customer"),
                ))
            }
            Discrepancy::InvoiceTotal { invoice, field, computed, stated } if *invoice == index => {
                let field = match field {
                    TotalField::ExcludingVat => "TotalExcludingVAT",
                    TotalField::Vat => "TotalVAT",
                    TotalField::IncludingVat => "TotalIncludingVAT",
                };
                Some(format!("{field} is {stated}, but the lines add up to {computed}."))
            }
            _ => None,
        })
        .collect()
}

/// What to say when a window holds no invoices.
pub fn empty_window_advice(query: &Query) -> String {
    format!(
        "No invoices are dated between {} and {}. Invoices for a month M are dated around the 23rd of month M+1: \
         for the invoices of {}, choose a window that includes the 23rd of the month after.",
        query.start,
        query.end,
        month_label(query.start)
    )
}

#[cfg(test)]
mod tests {
    use billing::{Generation, ProfileSummary};
    use chrono::NaiveDate;

    use super::*;

    const XML: &[u8] = include_bytes!("../crates/billing/tests/fixtures/customerinvoices.xml");

    fn query(format: Format) -> Query {
        let profile = ProfileSummary {
            name: "demo".to_owned(),
            environment: "DEMO".to_owned(),
            generation: Generation::Legacy,
            versions: vec!["v3".to_owned()],
            endpoints: Generation::Legacy.endpoints().to_vec(),
        };
        let mut query = Query::default_for(&profile, NaiveDate::from_ymd_opt(2026, 3, 31).unwrap());
        query.endpoint = Endpoint::CustomerInvoices;
        query.format = format;
        query
    }

    #[test]
    fn a_document_is_read_summarised_and_converted_both_ways() {
        let loaded = Loaded::read(query(Format::Xml), XML).unwrap();
        assert_eq!(loaded.raw_size, XML.len() as u64);
        let Contents::Invoices(document) = &loaded.contents else { panic!("invoices") };
        let summary = summary(document);
        assert_eq!((summary.invoices, summary.customers, summary.lines), (2, 2, 3));
        let (currency, invoices, sums) = &summary.per_currency[0];
        assert_eq!((currency.as_str(), *invoices), ("EUR", 2));
        assert_eq!(
            (sums.excluding_vat.to_string(), sums.vat.to_string()),
            ("128.00".to_owned(), "22.68".to_owned())
        );
        assert_eq!(announcement(&loaded), "Loaded 2 invoices with 3 lines.");
        let (name, json_bytes) = (loaded.converted_file_name(), loaded.converted());
        assert_eq!(name, "customerinvoices_v3_2025-12-31_2026-03-31.json");
        let back = Loaded::read(query(Format::Json), &json_bytes).unwrap();
        assert_eq!(back.contents, loaded.contents);
        let (single_name, single) = single_invoice(&loaded, document, 1);
        assert_eq!(single_name, "invoice_880002.xml");
        assert_eq!(xml::parse_invoices(&single).unwrap().invoices, [document.invoices[1].clone()]);
    }

    #[test]
    fn a_broken_document_says_where() {
        let broken = &XML[..XML.len() / 2];
        let error = Loaded::read(query(Format::Xml), broken).unwrap_err();
        assert!(error.to_string().starts_with("XML line"), "{error}");
    }

    #[test]
    fn discrepancies_are_told_per_invoice_in_words() {
        let mut consolidated = query(Format::Xml);
        consolidated.endpoint = Endpoint::ConsolidatedInvoices;
        let bytes = include_bytes!("../crates/billing/tests/fixtures/consolidatedinvoices.xml").to_vec();
        let loaded = Loaded::read(consolidated, &bytes).unwrap();
        let Contents::Invoices(document) = &loaded.contents else { panic!("invoices") };
        assert_eq!(
            discrepancy_notes(document, &loaded.discrepancies, 0),
            [
                "TotalExcludingVAT is 90.00, but the lines add up to 80.00.",
                "TotalIncludingVAT is 111.00, but the lines add up to 101.00."
            ]
        );
        assert!(discrepancy_notes(document, &loaded.discrepancies, 1).is_empty());
    }

    #[test]
    fn an_empty_window_reminds_of_the_23rd() {
        let advice = empty_window_advice(&query(Format::Xml));
        assert!(advice.contains("around the 23rd of month M+1"), "{advice}");
    }
}
