//! Each product's publisher as read from the data, for the user to correct.

use leptos::{prelude::*, task::spawn_local};
use worker_protocol::{Answer, ProductRow, PublishersView, Question};

use crate::{
    fetch::{OUT_OF_TURN, ask},
    publishers,
};

#[component]
pub fn PublisherEditor(
    products: Vec<ProductRow>,
    /// Called with the products and publishers once the worker tells them anew.
    on_told: impl Fn(PublishersView) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let rows = RwSignal::new(products);
    let failed = RwSignal::new(None::<String>);
    let correct = move |product: String, publisher: String| {
        let mut corrections = publishers::recall();
        match publisher.trim() {
            "" => corrections.remove(&product),
            publisher => corrections.insert(product, publisher.to_owned()),
        };
        publishers::remember(&corrections);
        spawn_local(async move {
            match ask(Question::Publishers { corrections }).await {
                Ok((Answer::Publishers(view), _)) => {
                    failed.set(None);
                    rows.set(view.products.clone());
                    on_told(view);
                }
                Ok(_) => failed.set(Some(OUT_OF_TURN.to_owned())),
                Err(message) => failed.set(Some(message)),
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
                        on:change=move |event| correct(product.clone(), event_target_value(&event)) />
                </td>
            </tr>
        }
    };
    view! {
        <details class="publishers">
            <summary>{move || format!("Publishers of {} products", rows.with(Vec::len))}</summary>
            <p class="hint">
                "The vendor's invoices do not name the software publisher; it is read from each plan's "
                "category, name and SKU. Type a publisher to correct it; this browser remembers it."
            </p>
            <table class="publisher-table">
                <thead>
                    <tr>
                        <th scope="col">"Product"</th>
                        <th scope="col" class="number">"Lines"</th>
                        <th scope="col">"Read from the data"</th>
                        <th scope="col">"Publisher"</th>
                    </tr>
                </thead>
                <tbody>{move || rows.get().into_iter().map(row_view).collect_view()}</tbody>
            </table>
            {move || failed.get().map(|message| view! { <p class="problem" role="alert">{message}</p> })}
        </details>
    }
}
