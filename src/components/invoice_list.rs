use std::sync::Arc;

use leptos::prelude::*;
use worker_protocol::InvoiceRow;

use crate::{
    components::invoice_detail::InvoiceDetail,
    format,
    loaded::Loaded,
    slices::{self, drawn_slices},
    split::split_point,
};

/// One row per invoice, thousands a slice a frame; choosing one opens its
/// detail below the table.
#[component]
pub fn InvoiceList(loaded: Arc<Loaded>, invoices: Vec<InvoiceRow>) -> impl IntoView {
    let selected = RwSignal::new(None::<usize>);
    let total = invoices.len();
    let invoices = StoredValue::new(invoices);
    let row = move |index: usize, invoice: InvoiceRow| {
        let currency = invoice.currency;
        let problems = invoice.discrepancies;
        view! {
            <tr class="invoice-row" class:selected=move || selected.get() == Some(index)>
                <th scope="row">
                    <button type="button" class="link" aria-expanded=move || (selected.get() == Some(index)).to_string()
                        on:click=move |_| selected.update(|selected| {
                            *selected = if *selected == Some(index) { None } else { Some(index) }
                        })>{invoice.number}</button>
                </th>
                <td>{invoice.date}</td>
                <td>{invoice.due}</td>
                <td>{invoice.sender}</td>
                <td>{invoice.receiver}</td>
                <td>{currency.clone()}</td>
                <td class="number">{format::amount(&invoice.excluding_vat, &currency)}</td>
                <td class="number">{format::amount(&invoice.vat, &currency)}</td>
                <td class="number">{format::amount(&invoice.including_vat, &currency)}</td>
                <td>
                    {(problems > 0).then(|| view! {
                        <span class="badge warning" title="The stated amounts disagree with the lines">
                            {format!("{problems} discrepanc{}", if problems == 1 { "y" } else { "ies" })}
                        </span>
                    })}
                </td>
            </tr>
        }
    };
    let drawn = drawn_slices(total);
    let slice = move |index: usize| {
        invoices.with_value(|invoices| {
            slices::slice(index, total).map(|at| row(at, invoices[at].clone())).collect_view()
        })
    };
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
                    <tbody>
                        <For each=move || 0..drawn.get() key=|index| *index children=slice />
                    </tbody>
                </table>
            </div>
            {move || selected.get().map(|index| view! { <InvoiceDetail loaded=loaded.clone() index /> })}
        </section>
    }
}

split_point! {
    /// The Invoices tab.
    pub fn invoices_part(loaded: Arc<Loaded>, invoices: Vec<InvoiceRow>) -> AnyView, preload preload_invoices {
        view! { <InvoiceList loaded invoices /> }.into_any()
    }
}
