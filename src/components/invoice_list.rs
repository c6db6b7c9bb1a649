use std::sync::Arc;

use billing::{
    InvoiceDocument,
    totals::{currency_of, invoice_sums},
};
use leptos::prelude::*;

use crate::{
    components::invoice_detail::InvoiceDetail,
    format,
    loaded::{Loaded, discrepancy_notes},
};

/// One row per invoice; choosing one opens its detail below the table.
#[component]
pub fn InvoiceList(loaded: Arc<Loaded>, document: Arc<InvoiceDocument>) -> impl IntoView {
    let selected = RwSignal::new(None::<usize>);
    let rows = document
        .invoices
        .iter()
        .enumerate()
        .map(|(index, invoice)| {
            let currency = currency_of(invoice).to_owned();
            let sums = invoice_sums(invoice);
            let header = &invoice.header;
            let text = |value: &Option<String>| value.clone().unwrap_or_default();
            let problems = discrepancy_notes(&document, &loaded.discrepancies, index).len();
            let number = header.invoice_id.as_ref().map(ToString::to_string).unwrap_or_default();
            view! {
                <tr class="invoice-row" class:selected=move || selected.get() == Some(index)>
                    <th scope="row">
                        <button type="button" class="link" aria-expanded=move || (selected.get() == Some(index)).to_string()
                            on:click=move |_| selected.update(|selected| {
                                *selected = if *selected == Some(index) { None } else { Some(index) }
                            })>{number}</button>
                    </th>
                    <td>{header.date.map(|date| date.to_string()).unwrap_or_default()}</td>
                    <td>{header.expiration_date.map(|date| date.to_string()).unwrap_or_default()}</td>
                    <td>{text(&invoice.sender.company_name)}</td>
                    <td>{text(&invoice.receiver.company_name)}</td>
                    <td>{currency.clone()}</td>
                    <td class="number">{format::amount(sums.excluding_vat, &currency)}</td>
                    <td class="number">{format::amount(sums.vat, &currency)}</td>
                    <td class="number">{format::amount(sums.including_vat(), &currency)}</td>
                    <td>
                        {(problems > 0).then(|| view! {
                            <span class="badge warning" title="The stated amounts disagree with the lines">
                                {format!("{problems} discrepanc{}", if problems == 1 { "y" } else { "ies" })}
                            </span>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="invoices" aria-labelledby="invoices-heading">
            <h2 id="invoices-heading">"Invoices"</h2>
            <div class="table-scroll" tabindex="0" role="region" aria-label="Invoice table">
                <table class="invoice-table">
                    <thead>
                        <tr>
                            <th scope="col">"Number"</th>
                            <th scope="col">"Date"</th>
                            <th scope="col">"Due"</th>
                            <th scope="col">"Sender"</th>
                            <th scope="col">"Receiver"</th>
                            <th scope="col">"Currency"</th>
                            <th scope="col" class="number">"Excl. VAT (lines)"</th>
                            <th scope="col" class="number">"VAT (lines)"</th>
                            <th scope="col" class="number">"Incl. VAT (lines)"</th>
                            <th scope="col">"Checks"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {move || selected.get().map(|index| view! { <InvoiceDetail loaded=loaded.clone() document=document.clone() index /> })}
        </section>
    }
}
