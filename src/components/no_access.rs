use billing::api::Me;
use leptos::prelude::*;

/// Tells a signed-in person with no profile that, and whom to ask.
#[component]
pub fn NoAccess(me: Me) -> impl IntoView {
    let who = me.person.as_ref().map(|person| person.display_name().to_owned()).unwrap_or_default();
    let contact = me.access_contact.unwrap_or_else(|| "the portal's administrator".to_owned());
    view! {
        <div class="no-access" role="alert">
            <p class="problem-title">"Your account has no access to any profile"</p>
            <p>{format!("You are signed in as {who}, but no access rule names you or your groups.")}</p>
            <p>{format!("Ask {contact} to give your account access to the profiles you need.")}</p>
        </div>
    }
}
