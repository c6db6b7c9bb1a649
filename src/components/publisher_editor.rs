//! Each product's publisher as read from the data, for the team to correct.

use billing::{Role, api::decisions::SettingsChange};
use leptos::{prelude::*, task::spawn_local};
use worker_protocol::ProductRow;

use crate::{
    api::{self, Refused},
    team::Team,
};

/// A correction the relay did not keep, and what the team has now.
#[derive(Clone)]
struct NotSaved {
    product: String,
    publisher: String,
    /// Someone saved first: their change is shown, and this one can be made again on it.
    conflict: bool,
    message: String,
}

#[component]
pub fn PublisherEditor(
    /// The products as the worker last told them, corrections applied.
    products: RwSignal<Vec<ProductRow>>,
) -> impl IntoView {
    let team = use_context::<Team>().expect("the portal follows the team's settings");
    let not_saved = RwSignal::new(None::<NotSaved>);
    let may_correct = move || team.role.get().includes(Role::Review);
    let correct = move |product: String, publisher: String| {
        let Some(Ok(shared)) = team.settings.get_untracked() else { return };
        let mut settings = shared.settings.clone();
        match publisher.trim() {
            "" => settings.corrections.remove(&product),
            named => settings.corrections.insert(product.clone(), named.to_owned()),
        };
        let change = SettingsChange { base_version: shared.version, settings };
        let profile = team.profile.get_untracked();
        spawn_local(async move {
            match api::save_settings(&profile, &change).await {
                Ok(saved) => {
                    not_saved.set(None);
                    team.show(Ok(saved));
                }
                Err(Refused::Conflict(current)) => {
                    let by = current
                        .as_ref()
                        .and_then(|current| current.changed.as_ref())
                        .map_or_else(|| "someone".to_owned(), |changed| changed.by.clone());
                    if let Some(current) = current {
                        team.show(Ok(current));
                    }
                    not_saved.set(Some(NotSaved {
                        product,
                        publisher,
                        conflict: true,
                        message: format!("{by} changed the publishers meanwhile; theirs are shown now."),
                    }));
                }
                Err(Refused::SignedOff(_)) => {}
                Err(Refused::Problem(problem)) => not_saved.set(Some(NotSaved {
                    product,
                    publisher,
                    conflict: false,
                    message: format!("{}: {}", problem.title, problem.detail),
                })),
            }
        });
    };
    let row_view = move |row: ProductRow| {
        let corrected = (row.publisher != row.read).then(|| row.publisher.clone().unwrap_or_default());
        let product = row.product.clone();
        view! {
            <tr class="publisher-row" data-product=row.product.clone()>
                <th scope="row">{row.product.clone()}</th>
                <td class="number">{row.lines}</td>
                <td>{row.read.clone().unwrap_or_else(|| "(nothing names it)".to_owned())}</td>
                <td>
                    <input type="text" class="publisher-input" aria-label=format!("Publisher of {}", row.product)
                        placeholder=row.read.clone().unwrap_or_default() prop:value=corrected.unwrap_or_default()
                        disabled=move || !may_correct()
                        on:change=move |event| correct(product.clone(), event_target_value(&event)) />
                </td>
            </tr>
        }
    };
    let changed_by = move || {
        team.settings.with(|settings| {
            let changed = settings.as_ref()?.as_ref().ok()?.changed.clone()?;
            Some(format!("Last changed by {} on {}.", changed.by, billing::api::minute_utc(changed.at)))
        })
    };
    let problem = move || {
        not_saved.get().map(|not_saved| {
            let again = not_saved.conflict.then(|| {
                let (product, publisher) = (not_saved.product.clone(), not_saved.publisher.clone());
                let label = format!("Set {product} to {} again", if publisher.trim().is_empty() { "what the data says" } else { publisher.trim() });
                view! {
                    <button type="button" class="button reapply" on:click=move |_| correct(product.clone(), publisher.clone())>
                        {label}
                    </button>
                }
            });
            view! { <div class="problem conflict" role="alert"><p>{not_saved.message}</p>{again}</div> }
        })
    };
    view! {
        <details class="publishers">
            <summary>{move || format!("Publishers of {} products", products.with(Vec::len))}</summary>
            <p class="hint">
                "The vendor's invoices do not name the software publisher; it is read from each plan's "
                "category, name and SKU. Type a publisher to correct it for everyone using this profile. "
                {changed_by}
            </p>
            {move || (!may_correct()).then(|| view! { <p class="hint">"Your role on this profile is read: you see the team's corrections but cannot change them."</p> })}
            {problem}
            <table class="publisher-table">
                <thead>
                    <tr>
                        <th scope="col">"Product"</th>
                        <th scope="col" class="number">"Lines"</th>
                        <th scope="col">"Read from the data"</th>
                        <th scope="col">"Publisher"</th>
                    </tr>
                </thead>
                <tbody>{move || products.get().into_iter().map(row_view).collect_view()}</tbody>
            </table>
        </details>
    }
}
