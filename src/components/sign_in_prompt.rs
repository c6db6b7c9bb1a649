use leptos::prelude::*;

use crate::api::sign_in_here;

/// Asks a signed-out person to sign in, coming back to this very page.
#[component]
pub fn SignInPrompt() -> impl IntoView {
    view! {
        <section class="sign-in-prompt" aria-labelledby="sign-in-heading">
            <h2 id="sign-in-heading">"Sign in to see your invoices"</h2>
            <p>"This portal shows each person only the vendor accounts they may use."</p>
            <a class="sign-in" href=sign_in_here()>"Sign in"</a>
        </section>
    }
}
