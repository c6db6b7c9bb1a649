use leptos::prelude::*;

use crate::{
    api,
    components::{portal::Portal, problem_view::ProblemView, theme_toggle::ThemeToggle},
};

/// The page: loads the relay's profiles, then the portal on them.
#[component]
pub fn App() -> impl IntoView {
    let profiles = LocalResource::new(api::fetch_profiles);
    view! {
        <header class="masthead">
            <div>
                <h1>"Billing portal"</h1>
                <p class="tagline">"Your vendor invoices, readable, totalled and downloadable."</p>
            </div>
            <ThemeToggle />
        </header>
        <main>
            <Transition fallback=|| view! { <p class="loading">"Loading profiles…"</p> }>
                {move || {
                    profiles
                        .get()
                        .map(|result| match result {
                            Ok(profiles) => view! { <Portal profiles /> }.into_any(),
                            Err(problem) => view! { <ProblemView problem /> }.into_any(),
                        })
                }}
            </Transition>
        </main>
    }
}
