use leptos::prelude::*;

use crate::{api, components::profile_list::ProfileList};

/// The page: loads the relay's profiles and lists them.
#[component]
pub fn App() -> impl IntoView {
    let profiles = LocalResource::new(api::fetch_profiles);
    view! {
        <header class="masthead">
            <h1>"Billing portal"</h1>
            <p class="tagline">"Your vendor invoices, readable, totalled and downloadable."</p>
        </header>
        <main>
            <section aria-labelledby="profiles-heading">
                <h2 id="profiles-heading">"API profiles"</h2>
                <Transition fallback=|| view! { <p class="loading">"Loading profiles…"</p> }>
                    {move || {
                        profiles
                            .get()
                            .map(|result| match result {
                                Ok(profiles) => view! { <ProfileList profiles /> }.into_any(),
                                Err(error) => {
                                    view! { <p class="error" role="alert">{error.to_string()}</p> }
                                        .into_any()
                                }
                            })
                    }}
                </Transition>
            </section>
        </main>
    }
}
