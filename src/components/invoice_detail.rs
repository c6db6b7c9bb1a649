use std::sync::Arc;

use leptos::prelude::*;
use worker_protocol::{Answer, InvoiceView, LineCells, Party, Question, SubscriptionView, invoice_file_name};

use crate::{
    components::generated_download::GeneratedDownload,
    fetch::{OUT_OF_TURN, ask},
    format,
    loaded::Loaded,
};

/// One invoice whole: header, sender, receiver, each customer with its
/// subscriptions, their details and price lines, and what does not add up.
#[component]
pub fn InvoiceDetail(loaded: Arc<Loaded>, index: usize) -> impl IntoView {
    let invoice = LocalResource::new(move || async move {
        match ask(Question::Invoice { index: index as u32 }).await {
            Ok((Answer::Invoice(invoice), _)) => Ok(invoice),
            Ok(_) => Err(OUT_OF_TURN.to_owned()),
            Err(message) => Err(message),
        }
    });
    let format = loaded.request.format();
    move || match invoice.get() {
        None => view! { <p class="loading" role="status">"Loading the invoice…"</p> }.into_any(),
        Some(Err(message)) => view! {
            <p class="problem-detail" role="alert">{format!("The invoice cannot be shown: {message}")}</p>
        }
        .into_any(),
        Some(Ok(invoice)) => invoice_view(*invoice, index, format).into_any(),
    }
}

fn party(party: Party) -> impl IntoView {
    view! { {party.name}<br />{party.address}" "{party.postal_code}" "{party.city}<br />{party.vat_number} }
}

fn invoice_view(invoice: InvoiceView, index: usize, format: billing::Format) -> impl IntoView {
    let currency = invoice.currency.clone();
    let stated = |value: &Option<String>| {
        value.as_deref().map(|value| format::amount(value, &currency)).unwrap_or_default()
    };
    let totals = format!(
        "{} excl. VAT · {} VAT · {} incl. VAT",
        stated(&invoice.stated[0]),
        stated(&invoice.stated[1]),
        stated(&invoice.stated[2])
    );
    let notes = invoice.discrepancies;
    let consolidated = invoice.consolidated;
    let customers = invoice
        .customers
        .into_iter()
        .map(|customer| {
            let subscriptions = customer
                .subscriptions
                .into_iter()
                .map(|subscription| subscription_view(subscription, consolidated))
                .collect_view();
            view! {
                <section class="customer">
                    <h4>
                        {customer.name}
                        <span class="muted">
                            {customer.number.map(|number| format!(" · customer {number}"))}
                            {customer.cost_centre.map(|centre| format!(" · cost centre {centre}"))}
                        </span>
                    </h4>
                    {subscriptions}
                </section>
            }
        })
        .collect_view();
    view! {
        <article class="invoice-detail" aria-label="Invoice detail">
            <h3>{format!("Invoice {}", invoice.number)}</h3>
            {(!notes.is_empty()).then(|| view! {
                <div class="discrepancies" role="note">
                    <p><strong>"The vendor's stated amounts disagree with its lines:"</strong></p>
                    <ul>{notes.into_iter().map(|note| view! { <li>{note}</li> }).collect_view()}</ul>
                </div>
            })}
            <div class="parties">
                <dl>
                    <dt>"Date"</dt><dd>{invoice.date}</dd>
                    <dt>"Due"</dt><dd>{invoice.due}</dd>
                    <dt>"Type"</dt><dd>{invoice.invoice_type}</dd>
                    <dt>"Description"</dt><dd>{invoice.description}</dd>
                    <dt>"Stated totals"</dt><dd>{totals}</dd>
                </dl>
                <dl>
                    <dt>"From"</dt><dd>{party(invoice.sender)}</dd>
                    <dt>"To"</dt><dd>{party(invoice.receiver)}</dd>
                </dl>
            </div>
            <GeneratedDownload file_name=invoice_file_name(&invoice.number, format)
                label="Download this invoice".to_owned()
                question=move || Question::InvoiceFile { index: index as u32 } />
            {customers}
        </article>
    }
}

fn subscription_view(subscription: SubscriptionView, consolidated: bool) -> impl IntoView {
    let details =
        subscription.attributes.into_iter().map(|detail| view! { <li>{detail}</li> }).collect_view();
    let head = if consolidated {
        view! {
            <tr>
                <th scope="col">"Description"</th><th scope="col">"Charge"</th><th scope="col" class="number">"Qty"</th>
                <th scope="col" class="number">"Purchase price"</th><th scope="col" class="number">"Purchase disc."</th>
                <th scope="col" class="number">"Sales price"</th><th scope="col" class="number">"Sales disc."</th>
                <th scope="col" class="number">"Cost"</th><th scope="col" class="number">"Sale"</th>
            </tr>
        }
        .into_any()
    } else {
        view! {
            <tr>
                <th scope="col">"Description"</th><th scope="col">"Charge"</th><th scope="col">"Period"</th>
                <th scope="col" class="number">"Qty"</th><th scope="col" class="number">"Unit price"</th>
                <th scope="col" class="number">"Discount"</th><th scope="col" class="number">"Duration"</th>
                <th scope="col" class="number">"Amount"</th><th scope="col" class="number">"VAT"</th>
            </tr>
        }
        .into_any()
    };
    // Each scrolling region needs a name of its own.
    let region = format!("Lines of subscription {} {}", subscription.id, subscription.name);
    view! {
        <div class="subscription">
            <h5>
                {subscription.name.clone()}
                <span class="muted">
                    {(!subscription.id.is_empty()).then(|| format!(" · subscription {}", subscription.id))}
                    {subscription.plan.map(|plan| format!(" · {plan}"))}
                </span>
            </h5>
            <ul class="attributes">{details}</ul>
            <div class="table-scroll" tabindex="0" role="region" aria-label=region>
                <table class="lines">
                    <thead>{head}</thead>
                    <tbody>{subscription.lines.into_iter().map(|line| line_view(line, consolidated)).collect_view()}</tbody>
                </table>
            </div>
        </div>
    }
}

/// A price line's cells; all but the first two (or three, with a period)
/// are numbers.
fn line_view(line: LineCells, consolidated: bool) -> impl IntoView {
    let texts = if consolidated { 2 } else { 3 };
    let currency = line.currency;
    let cells = line
        .cells
        .iter()
        .enumerate()
        .map(|(position, cell)| {
            let number = position >= texts;
            view! { <td class:number=number>{format::cell(cell, &currency)}</td> }
        })
        .collect_view();
    view! { <tr class:negative=line.negative>{cells}</tr> }
}
