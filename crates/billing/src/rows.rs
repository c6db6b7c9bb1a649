//! Price lines flattened with their invoice, customer and subscription: the
//! rows of the app's table, the totals and the CSV export.

use crate::model::{Customer, Invoice, InvoiceDocument, PriceLine, Subscription};

/// One price line in its context.
#[derive(Clone, Copy, Debug)]
pub struct LineRow<'a> {
    pub invoice: &'a Invoice,
    pub customer: &'a Customer,
    pub subscription: &'a Subscription,
    pub line: &'a PriceLine,
}

/// Every price line of the document, in document order.
pub fn rows(document: &InvoiceDocument) -> impl Iterator<Item = LineRow<'_>> {
    document.invoices.iter().flat_map(invoice_rows)
}

/// Every price line of one invoice, in document order.
pub fn invoice_rows(invoice: &Invoice) -> impl Iterator<Item = LineRow<'_>> {
    invoice.customers.iter().flat_map(move |customer| {
        customer.subscriptions.iter().flat_map(move |subscription| {
            subscription.price_lines.iter().map(move |line| LineRow { invoice, customer, subscription, line })
        })
    })
}
