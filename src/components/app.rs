use billing::{ProfileSummary, api::Me};
use leptos::prelude::*;

use crate::{
    api::{self, RelayProblem},
    components::{
        account::Account, no_access::NoAccess, portal::Portal, problem_view::ProblemView,
        sign_in_prompt::SignInPrompt, theme_toggle::ThemeToggle,
    },
};

/// Who is signed in, then the profiles they may use.
async fn load() -> Result<(Me, Vec<ProfileSummary>), RelayProblem> {
    let me = api::fetch_me().await?;
    if me.sign_in_enabled && me.profiles.is_empty() {
        return Ok((me, Vec::new()));
    }
    Ok((me, api::fetch_profiles().await?))
}

/// The page: asks who is signed in, then shows the portal on their profiles.
#[component]
pub fn App() -> impl IntoView {
    let loaded = LocalResource::new(load);
    let person = move || loaded.get().and_then(Result::ok).and_then(|(me, _)| me.person);
    view! {
        <header class="masthead">
            <div>
                <h1>"Billing portal"</h1>
                <p class="tagline">"Your vendor invoices, readable, totalled and downloadable."</p>
            </div>
            <div class="masthead-tools">
                {move || person().map(|person| view! { <Account person /> })}
                <ThemeToggle />
            </div>
        </header>
        <main>
            <Transition fallback=|| view! { <p class="loading">"Loading profiles…"</p> }>
                {move || {
                    loaded
                        .get()
                        .map(|result| match result {
                            Ok((me, _)) if me.sign_in_enabled && me.profiles.is_empty() => {
                                view! { <NoAccess me /> }.into_any()
                            }
                            Ok((_, profiles)) => view! { <Portal profiles /> }.into_any(),
                            Err(problem) if problem.needs_sign_in() => view! { <SignInPrompt /> }.into_any(),
                            Err(problem) => view! { <ProblemView problem /> }.into_any(),
                        })
                }}
            </Transition>
        </main>
    }
}
