use billing::model::{Localised, SubscriptionDetails};
use leptos::prelude::*;

use crate::format;

/// One subscription's terms, plan, plan period and resources, names in the
/// reader's language when the vendor gives it.
#[component]
pub fn SubscriptionDetailsView(details: SubscriptionDetails) -> impl IntoView {
    let language = format::language();
    let name = |localised: &Localised| localised.best_for(&language).unwrap_or_default().to_owned();
    let money = |value: Option<rust_decimal::Decimal>| value.map(format::number).unwrap_or_default();
    let text = |value: &Option<String>| value.clone().unwrap_or_default();
    let terms = &details.subscription;
    let plan = &details.service_plan;
    let period = &details.service_plan_period;
    let resources = details
        .resources
        .iter()
        .map(|resource| {
            view! {
                <tr>
                    <th scope="row">{name(&resource.resource_name)}</th>
                    <td>{text(&resource.manufacturer)}</td>
                    <td>{text(&resource.mp_number)}</td>
                    <td class="number">{money(resource.included_value)}</td>
                    <td class="number">{money(resource.amount)}</td>
                    <td>{text(&resource.measure_unit)}</td>
                    <td class="number">{money(resource.resource_rate.setup_fee)}</td>
                    <td class="number">{money(resource.resource_rate.recurring_fee)}</td>
                    <td class="number">{money(resource.resource_rate.overuse_fee)}</td>
                </tr>
            }
        })
        .collect_view();
    let every = |amount: Option<rust_decimal::Decimal>, unit: &Option<String>| match (amount, unit) {
        (Some(amount), Some(unit)) => format!("{amount} {unit}"),
        _ => String::new(),
    };
    view! {
        <section class="subscription-details" aria-labelledby="details-heading">
            <h2 id="details-heading">{format!("Subscription {}", terms.subscription_id.as_ref().map(ToString::to_string).unwrap_or_default())}</h2>
            <dl class="terms">
                <dt>"Plan"</dt><dd class="plan-name">{name(&plan.plan_name)}</dd>
                <dt>"Category"</dt><dd>{name(&plan.plan_category_name)}</dd>
                <dt>"Runs"</dt><dd>{format!("{} – {}", terms.start_date.map(|d| d.to_string()).unwrap_or_default(), terms.expiration_date.map(|d| d.to_string()).unwrap_or_default())}</dd>
                <dt>"Term"</dt><dd>{every(terms.period, &terms.period_type)}</dd>
                <dt>"Billed every"</dt><dd>{every(terms.billing_period, &terms.billing_period_type)}</dd>
                <dt>"Plan period"</dt>
                <dd>{format!("{}{} · setup {} · recurring {} · renewal {}", every(period.period, &period.period_type), if period.trial == Some(true) { " (trial)" } else { "" }, money(period.setup_fee), money(period.recurring_fee), money(period.renewal_fee))}</dd>
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
