use std::sync::Arc;

use billing::{
    Endpoint, InvoiceDocument,
    model::{PriceLine, Subscription},
    totals::{currency_of, sales_extended_price},
};
use leptos::prelude::*;

use crate::{
    components::downloads::{BlobLink, blob_of},
    format,
    loaded::{Loaded, discrepancy_notes, single_invoice},
};

/// One invoice whole: header, sender, receiver, each customer with its
/// subscriptions, their details and price lines, and what does not add up.
#[component]
pub fn InvoiceDetail(loaded: Arc<Loaded>, document: Arc<InvoiceDocument>, index: usize) -> impl IntoView {
    let invoice = &document.invoices[index];
    let currency = currency_of(invoice).to_owned();
    let consolidated = loaded.query.endpoint == Endpoint::ConsolidatedInvoices;
    let notes = discrepancy_notes(&document, &loaded.discrepancies, index);
    let (file_name, bytes) = single_invoice(&loaded, &document, index);
    let media = match loaded.query.format {
        billing::Format::Xml => "application/xml",
        billing::Format::Json => "application/json",
    };
    let single = blob_of(&bytes, media).map(|blob| {
        view! { <BlobLink blob file_name label="Download this invoice".to_owned() /> }
    });
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let header = &invoice.header;
    let totals = &invoice.totals;
    let stated = |value: Option<rust_decimal::Decimal>| {
        value.map(|value| format::amount(value, &currency)).unwrap_or_default()
    };
    let customers = invoice
        .customers
        .iter()
        .map(|customer| {
            let subscriptions = customer
                .subscriptions
                .iter()
                .map(|subscription| subscription_view(subscription, &currency, consolidated))
                .collect_view();
            view! {
                <section class="customer">
                    <h4>
                        {text(&customer.company_name)}
                        <span class="muted">
                            {customer.customer_number.as_ref().map(|number| format!(" · customer {number}"))}
                            {customer.cost_centre().map(|centre| format!(" · cost centre {centre}"))}
                        </span>
                    </h4>
                    {subscriptions}
                </section>
            }
        })
        .collect_view();
    view! {
        <article class="invoice-detail" aria-label="Invoice detail">
            <h3>{format!("Invoice {}", header.invoice_id.as_ref().map(ToString::to_string).unwrap_or_default())}</h3>
            {(!notes.is_empty()).then(|| view! {
                <div class="discrepancies" role="note">
                    <p><strong>"The vendor's stated amounts disagree with its lines:"</strong></p>
                    <ul>{notes.into_iter().map(|note| view! { <li>{note}</li> }).collect_view()}</ul>
                </div>
            })}
            <div class="parties">
                <dl>
                    <dt>"Date"</dt><dd>{header.date.map(|date| date.to_string())}</dd>
                    <dt>"Due"</dt><dd>{header.expiration_date.map(|date| date.to_string())}</dd>
                    <dt>"Type"</dt><dd>{text(&header.r#type)}</dd>
                    <dt>"Description"</dt><dd>{text(&header.description)}</dd>
                    <dt>"Stated totals"</dt>
                    <dd>{format!("{} excl. VAT · {} VAT · {} incl. VAT", stated(totals.total_excluding_vat), stated(totals.total_vat), stated(totals.total_including_vat))}</dd>
                </dl>
                <dl>
                    <dt>"From"</dt>
                    <dd>{text(&invoice.sender.company_name)}<br />{text(&invoice.sender.address)}" "{text(&invoice.sender.postal_code)}" "{text(&invoice.sender.city)}<br />{text(&invoice.sender.vat_number)}</dd>
                    <dt>"To"</dt>
                    <dd>{text(&invoice.receiver.company_name)}<br />{text(&invoice.receiver.address)}" "{text(&invoice.receiver.zip)}" "{text(&invoice.receiver.city)}<br />{text(&invoice.receiver.vat_number)}</dd>
                </dl>
            </div>
            {single}
            {customers}
        </article>
    }
}

fn subscription_view(
    subscription: &Subscription,
    currency: &str,
    consolidated: bool,
) -> impl IntoView + use<> {
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let details = subscription
        .subscription_details
        .iter()
        .filter(|detail| detail.no_show != Some(true))
        .map(|detail| {
            view! { <li>{format!("{}: {}", text(&detail.attribute), text(&detail.attribute_value))}</li> }
        })
        .collect_view();
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
    let lines =
        subscription.price_lines.iter().map(|line| line_view(line, currency, consolidated)).collect_view();
    // Each scrolling region needs a name of its own.
    let region = format!(
        "Lines of subscription {} {}",
        subscription.subscription_id.as_ref().map(ToString::to_string).unwrap_or_default(),
        subscription.subscription_name.as_deref().unwrap_or_default()
    );
    view! {
        <div class="subscription">
            <h5>
                {text(&subscription.subscription_name)}
                <span class="muted">
                    {subscription.subscription_id.as_ref().map(|id| format!(" · subscription {id}"))}
                    {subscription.plan_name.clone().map(|plan| format!(" · {plan}"))}
                </span>
            </h5>
            <ul class="attributes">{details}</ul>
            <div class="table-scroll" tabindex="0" role="region" aria-label=region>
                <table class="lines"><thead>{head}</thead><tbody>{lines}</tbody></table>
            </div>
        </div>
    }
}

fn line_view(line: &PriceLine, currency: &str, consolidated: bool) -> impl IntoView + use<> {
    let money = |value: Option<rust_decimal::Decimal>| {
        value.map(|value| format::amount(value, currency)).unwrap_or_default()
    };
    let number = |value: Option<rust_decimal::Decimal>| value.map(format::number).unwrap_or_default();
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let negative = line.extended_price.is_some_and(|price| price.is_sign_negative());
    if consolidated {
        view! {
            <tr class:negative=negative>
                <td>{text(&line.description)}</td><td>{text(&line.charge_type)}</td>
                <td class="number">{number(line.quantity)}</td>
                <td class="number">{money(line.purchase_price)}</td><td class="number">{money(line.purchase_discount)}</td>
                <td class="number">{money(line.sales_price)}</td><td class="number">{money(line.sales_discount)}</td>
                <td class="number">{money(line.extended_price)}</td><td class="number">{money(sales_extended_price(line))}</td>
            </tr>
        }
        .into_any()
    } else {
        let period = match (line.start_date, line.end_date) {
            (Some(start), Some(end)) => format!("{start} – {end}"),
            _ => String::new(),
        };
        view! {
            <tr class:negative=negative>
                <td>{text(&line.description)}</td><td>{text(&line.charge_type)}</td><td>{period}</td>
                <td class="number">{number(line.quantity)}</td><td class="number">{money(line.unit_price)}</td>
                <td class="number">{money(line.discount)}</td><td class="number">{number(line.duration)}</td>
                <td class="number">{money(line.extended_price)}</td><td class="number">{money(line.vat)}</td>
            </tr>
        }
        .into_any()
    }
}
