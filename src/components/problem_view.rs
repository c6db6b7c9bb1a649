use leptos::prelude::*;

use crate::api::RelayProblem;

/// A relay error as a title, the relay's detail and what to do about it.
#[component]
pub fn ProblemView(problem: RelayProblem) -> impl IntoView {
    view! {
        <div class="problem" role="alert">
            <p class="problem-title">{problem.title}</p>
            <p class="problem-detail">{problem.detail}</p>
            <p class="problem-advice">{problem.advice}</p>
        </div>
    }
}
