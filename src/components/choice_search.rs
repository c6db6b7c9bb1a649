//! A filter field for one of thousands of values: type to narrow, pick from the few that match.

use std::sync::Arc;

use leptos::prelude::*;

use crate::choices::{offered, picked};

#[component]
pub fn ChoiceSearch(
    id: &'static str,
    label: &'static str,
    values: Arc<Vec<String>>,
    /// The value the filter holds now.
    #[prop(into)]
    current: Signal<Option<String>>,
    /// Called with the value picked, or `None` once the field is cleared.
    on_pick: impl Fn(Option<String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let typed = RwSignal::new(current.get_untracked().unwrap_or_default());
    let named = values.clone();
    // A filter set or cleared elsewhere (a chart's bar, a chip) shows here
    // too; a part of a name being typed is left alone.
    Effect::new(move |_| match current.get() {
        Some(value) if typed.with_untracked(|typed| *typed != value) => typed.set(value),
        None if typed.with_untracked(|typed| picked(&named, typed).is_some()) => typed.set(String::new()),
        _ => {}
    });
    let list_id = format!("{id}-values");
    let options = {
        let values = values.clone();
        move || {
            typed.with(|typed| {
                offered(&values, typed)
                    .into_iter()
                    .map(|value| view! { <option value=value.to_owned()></option> })
                    .collect_view()
            })
        }
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type="search" list=list_id.clone() placeholder="All" autocomplete="off"
                prop:value=move || typed.get()
                on:input=move |event| {
                    let text = event_target_value(&event);
                    on_pick(picked(&values, &text).map(str::to_owned));
                    typed.set(text);
                } />
            <datalist id=list_id>{options}</datalist>
        </div>
    }
}
