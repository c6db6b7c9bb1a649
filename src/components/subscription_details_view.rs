use leptos::prelude::*;
use worker_protocol::DetailsView;

use crate::format;

/// One subscription's terms, plan, plan period and resources, names in the
/// reader's language when the vendor gives it.
#[component]
pub fn SubscriptionDetailsView(details: DetailsView) -> impl IntoView {
    let fee = |value: &Option<String>| value.as_deref().map(format::number).unwrap_or_default();
    let plan_period = format!(
        "{}{} · setup {} · recurring {} · renewal {}",
        details.plan_every,
        if details.trial { " (trial)" } else { "" },
        fee(&details.setup_fee),
        fee(&details.recurring_fee),
        fee(&details.renewal_fee)
    );
    let resources = details
        .resources
        .iter()
        .map(|cells| {
            let mut cells = cells.iter().map(|cell| format::cell(cell, ""));
            let name = cells.next().unwrap_or_default();
            let rest = cells
                .enumerate()
                // Manufacturer, MPN, then numbers until the unit.
                .map(|(position, text)| {
                    let number = matches!(position, 2 | 3 | 5..);
                    view! { <td class:number=number>{text}</td> }
                })
                .collect_view();
            view! { <tr><th scope="row">{name}</th>{rest}</tr> }
        })
        .collect_view();
    view! {
        <section class="subscription-details" aria-labelledby="details-heading">
            <h2 id="details-heading">{format!("Subscription {}", details.subscription_id)}</h2>
            <dl class="terms">
                <dt>"Plan"</dt><dd class="plan-name">{details.plan_name.clone()}</dd>
                <dt>"Category"</dt><dd>{details.category.clone()}</dd>
                <dt>"Runs"</dt><dd>{details.runs.clone()}</dd>
                <dt>"Term"</dt><dd>{details.term.clone()}</dd>
                <dt>"Billed every"</dt><dd>{details.billed_every.clone()}</dd>
                <dt>"Plan period"</dt><dd>{plan_period}</dd>
            </dl>
            <h3>"Resources"</h3>
            <div class="table-scroll" tabindex="0" role="region" aria-label="Resources">
                <table>
                    <thead>
                        <tr>
                            <th scope="col">"Resource"</th><th scope="col">"Manufacturer"</th><th scope="col">"MPN"</th>
                            <th scope="col" class="number">"Included"</th><th scope="col" class="number">"Amount"</th>
                            <th scope="col">"Unit"</th><th scope="col" class="number">"Setup fee"</th>
                            <th scope="col" class="number">"Recurring fee"</th><th scope="col" class="number">"Overuse fee"</th>
                        </tr>
                    </thead>
                    <tbody>{resources}</tbody>
                </table>
            </div>
        </section>
    }
}
