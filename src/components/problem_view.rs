use leptos::prelude::*;

use crate::api::{RelayProblem, sign_in_here};

/// A relay error as a title, the relay's detail and what to do about it;
/// an ended session with a link that signs in and comes back here.
#[component]
pub fn ProblemView(problem: RelayProblem) -> impl IntoView {
    let sign_in = problem.needs_sign_in().then(|| {
        view! { <p><a class="sign-in" href=sign_in_here()>"Sign in again"</a></p> }
    });
    view! {
        <div class="problem" role="alert">
            <p class="problem-title">{problem.title}</p>
            <p class="problem-detail">{problem.detail}</p>
            <p class="problem-advice">{problem.advice}</p>
            {sign_in}
        </div>
    }
}
