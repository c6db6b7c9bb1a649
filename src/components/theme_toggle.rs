use leptos::prelude::*;

use crate::storage;

const THEME: &str = "billing-portal.theme";

/// Light or dark colours: the system's choice until the reader picks one,
/// which is remembered.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let stored = storage::recall(THEME);
    let theme = RwSignal::new(stored.filter(|theme| theme == "light" || theme == "dark").unwrap_or_default());
    Effect::new(move |_| {
        let chosen = theme.get();
        if let Some(root) = web_sys::window()
            .and_then(|window| window.document())
            .and_then(|document| document.document_element())
        {
            let _ = if chosen.is_empty() {
                root.remove_attribute("data-theme")
            } else {
                root.set_attribute("data-theme", &chosen)
            };
        }
        if chosen.is_empty() { storage::forget(THEME) } else { storage::remember(THEME, &chosen) }
    });
    view! {
        <label class="theme">
            "Colours "
            <select on:change=move |event| theme.set(event_target_value(&event))>
                <option value="" selected=move || theme.with(String::is_empty)>"As the system"</option>
                <option value="light" selected=move || theme.with(|theme| theme == "light")>"Light"</option>
                <option value="dark" selected=move || theme.with(|theme| theme == "dark")>"Dark"</option>
            </select>
        </label>
    }
}
