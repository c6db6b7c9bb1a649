//! What a scheduled run finds in the documents it fetched: the totals per
//! currency, the change from the month before's archived run, and the
//! worklist, computed natively by the relay as the worker does for a person.

use billing::{
    Endpoint, InvoiceDocument,
    api::{
        decisions::InvoiceMonth,
        runs::{CurrencyChange, CurrencyTotal, Findings, KindCount, MonthChange},
    },
    changes::compare,
    exceptions::worklist,
    totals::totals_by_currency,
};
use rust_decimal::Decimal;

/// The month before's run a month is compared with.
pub struct EarlierRun<'a> {
    pub month: InvoiceMonth,
    /// Its archived copy.
    pub document_id: i64,
    pub document: &'a InvoiceDocument,
}

/// The findings of a run of `endpoint` that fetched `document`, with its
/// other side when the job fetched that too.
pub fn findings(
    endpoint: Endpoint,
    document: &InvoiceDocument,
    other_side: Option<&InvoiceDocument>,
    earlier: Option<EarlierRun<'_>>,
    low_margin_percent: Decimal,
) -> Findings {
    let totals = totals_by_currency(document)
        .into_iter()
        .map(|(currency, (invoices, sums))| CurrencyTotal {
            currency,
            invoices,
            lines: sums.lines,
            excluding_vat: sums.excluding_vat.to_string(),
            vat: sums.vat.to_string(),
            including_vat: sums.including_vat().to_string(),
        })
        .collect();
    let change = earlier.map(|earlier| month_change(&earlier, document));
    let (purchases, sales) = match endpoint {
        Endpoint::CustomerInvoices => (other_side, Some(document)),
        _ => (Some(document), other_side),
    };
    let worklist = worklist(purchases, sales, low_margin_percent);
    let exceptions = worklist
        .kinds
        .keys()
        .map(|kind| {
            let (lines, at_stake) = worklist.stake(*kind);
            let at_stake =
                at_stake.into_iter().map(|(currency, amount)| (currency, amount.to_string())).collect();
            (*kind, KindCount { lines, at_stake })
        })
        .collect();
    Findings {
        totals,
        change,
        exceptions,
        joined: other_side.is_some(),
        low_margin_percent: low_margin_percent.to_string(),
    }
}

fn month_change(earlier: &EarlierRun<'_>, document: &InvoiceDocument) -> MonthChange {
    let comparison = compare(earlier.document, document);
    let per_currency = comparison
        .per_currency
        .iter()
        .map(|(currency, amounts)| CurrencyChange {
            currency: currency.clone(),
            before: amounts.before.to_string(),
            after: amounts.after.to_string(),
            difference: amounts.difference().to_string(),
            percent: (!amounts.before.is_zero()).then(|| {
                (amounts.difference() * Decimal::ONE_HUNDRED / amounts.before.abs()).round_dp(1).to_string()
            }),
        })
        .collect();
    MonthChange {
        earlier_month: earlier.month,
        earlier_document: earlier.document_id,
        per_currency,
        charges_changed: comparison.changes.len(),
        charges_unchanged: comparison.unchanged,
    }
}
