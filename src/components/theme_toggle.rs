use leptos::prelude::*;

const THEME: &str = "billing-portal.theme";

/// Light or dark colours: the system's choice until the reader picks one,
/// which is remembered.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let storage = || web_sys::window().and_then(|window| window.local_storage().ok().flatten());
    let stored = storage().and_then(|storage| storage.get_item(THEME).ok().flatten());
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
        if let Some(storage) = storage() {
            let _ =
                if chosen.is_empty() { storage.remove_item(THEME) } else { storage.set_item(THEME, &chosen) };
        }
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
