//! The row of tabs over a loaded document, each with its item count.

use leptos::{ev::KeyboardEvent, prelude::*};
use wasm_bindgen::JsCast;

use crate::tabs::Tab;

/// The shown tab and what each tab counts, shared with the views that
/// know their counts and the charts that open the lines.
#[derive(Clone, Copy)]
pub struct Tabs {
    pub current: RwSignal<Tab>,
    counts: RwSignal<[Option<usize>; Tab::ALL.len()]>,
    /// Whether the next change of the URL is a step of its own in the
    /// history (the user chose a tab) rather than a correction of this one.
    stepping: StoredValue<bool>,
}

impl Tabs {
    pub fn new(current: Tab) -> Self {
        Self {
            current: RwSignal::new(current),
            counts: RwSignal::new(Default::default()),
            stepping: StoredValue::new(false),
        }
    }

    /// Shows `tab` as a new step in the history, so Back returns.
    pub fn show(self, tab: Tab) {
        if self.current.get_untracked() != tab {
            self.stepping.set_value(true);
            self.current.set(tab);
        }
    }

    /// Whether the URL should be pushed rather than replaced; asking clears it.
    pub fn take_step(self) -> bool {
        std::mem::take(&mut *self.stepping.write_value())
    }

    pub fn set_count(self, tab: Tab, count: Option<usize>) {
        self.counts.update(|counts| counts[tab as usize] = count);
    }

    pub fn forget_counts(self) {
        self.counts.set(Default::default());
    }

    fn count(self, tab: Tab) -> Option<usize> {
        self.counts.with(|counts| counts[tab as usize])
    }
}

fn focus_tab(tab: Tab) {
    if let Some(button) = document()
        .get_element_by_id(&format!("tab-{}", tab.slug()))
        .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = button.focus();
    }
}

#[component]
pub fn TabBar(tabs: Tabs) -> impl IntoView {
    let on_keydown = move |event: KeyboardEvent| {
        if let Some(tab) = tabs.current.get_untracked().moved(&event.key()) {
            event.prevent_default();
            tabs.show(tab);
            focus_tab(tab);
        }
    };
    let buttons = Tab::ALL
        .into_iter()
        .map(|tab| {
            let selected = move || tabs.current.get() == tab;
            let count = move || {
                tabs.count(tab).map(|count| view! { <span class="tab-count">{crate::format::number(&count.to_string())}</span> })
            };
            view! {
                <button type="button" role="tab" class="tab" id=format!("tab-{}", tab.slug())
                    aria-controls=format!("panel-{}", tab.slug()) aria-selected=move || selected().to_string()
                    tabindex=move || if selected() { "0" } else { "-1" }
                    on:click=move |_| tabs.show(tab)>
                    {tab.label()}{count}
                </button>
            }
        })
        .collect_view();
    view! {
        <div class="tabs" role="tablist" aria-label="Views of the document" on:keydown=on_keydown>
            {buttons}
        </div>
    }
}

/// One tab's panel, in the page from the start and hidden while another
/// tab is shown, so what it loaded and chose stays.
#[component]
pub fn TabPanel(tabs: Tabs, tab: Tab, children: Children) -> impl IntoView {
    view! {
        <section role="tabpanel" class="tab-panel" id=format!("panel-{}", tab.slug())
            aria-labelledby=format!("tab-{}", tab.slug()) hidden=move || tabs.current.get() != tab>
            {children()}
        </section>
    }
}
