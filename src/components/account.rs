use billing::api::{Person, routes};
use leptos::prelude::*;

/// The signed-in person's name and a sign-out button.
#[component]
pub fn Account(person: Person) -> impl IntoView {
    let shown = person.display_name().to_owned();
    let title = person.email.clone().unwrap_or_else(|| shown.clone());
    view! {
        <form class="account" method="post" action=routes::SIGN_OUT>
            <span class="account-name" title=title>{shown}</span>
            <button type="submit" class="sign-out">"Sign out"</button>
        </form>
    }
}
