use leptos::prelude::*;

use crate::format;

/// How many invoices, customers and lines, and the totals per currency.
#[component]
pub fn SummaryView(summary: worker_protocol::SummaryView) -> impl IntoView {
    // The frame after this one shows the summary.
    request_animation_frame(|| format::mark("billing:summary-shown"));
    view! {
        <section class="summary" aria-labelledby="summary-heading">
            <h2 id="summary-heading">"Summary"</h2>
            <dl class="counts">
                <div><dt>"Invoices"</dt><dd class="invoice-count">{summary.invoices}</dd></div>
                <div><dt>"Customers"</dt><dd class="customer-count">{summary.customers}</dd></div>
                <div><dt>"Lines"</dt><dd class="line-count">{summary.lines}</dd></div>
            </dl>
            <table class="totals">
                <thead>
                    <tr>
                        <th scope="col">"Currency"</th>
                        <th scope="col" class="number">"Invoices"</th>
                        <th scope="col" class="number">"Excl. VAT"</th>
                        <th scope="col" class="number">"VAT"</th>
                        <th scope="col" class="number">"Incl. VAT"</th>
                    </tr>
                </thead>
                <tbody>
                    {summary
                        .per_currency
                        .into_iter()
                        .map(|total| {
                            let currency = total.currency;
                            view! {
                                <tr class="currency-total" data-currency=currency.clone()
                                    data-excluding=total.excluding_vat.clone() data-vat=total.vat.clone()>
                                    <th scope="row">{currency.clone()}</th>
                                    <td class="number">{total.invoices}</td>
                                    <td class="number">{format::amount(&total.excluding_vat, &currency)}</td>
                                    <td class="number">{format::amount(&total.vat, &currency)}</td>
                                    <td class="number">{format::amount(&total.including_vat, &currency)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}
