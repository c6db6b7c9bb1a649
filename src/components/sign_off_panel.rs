//! The month's sign-off of this endpoint: who signed it off and when, the documents it holds to, and signing off or reopening.

use billing::{
    Endpoint, ProfileSummary, Role,
    api::{
        DocumentRequest,
        decisions::{SignOff, SignOffAction, SignOffChange, SignOffState},
    },
};
use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{self, Refused},
    month::Month,
    team::Team,
};

fn stamped(sign_off: &SignOff) -> String {
    format!("{} on {}", sign_off.changed.by, billing::api::minute_utc(sign_off.changed.at))
}

/// The archive ids a sign-off holds to: this document's newest archived
/// copy, and its other side's when that was fetched too.
async fn documents_of(request: &DocumentRequest, offered: &[Endpoint]) -> Result<Vec<i64>, String> {
    let own = api::archived_copy(request).await.map_err(|problem| problem.title)?;
    let Some(own) = own else {
        return Err(
            "this month's document is not in the archive; fetch it again so it is kept, then sign off"
                .to_owned(),
        );
    };
    let mut documents = vec![own.id];
    if let Some(other) = request.other_side(offered)
        && let Ok(Some(copy)) = api::archived_copy(&other).await
    {
        documents.push(copy.id);
    }
    Ok(documents)
}

#[component]
pub fn SignOffPanel(month: Month, request: DocumentRequest) -> impl IntoView {
    let team = use_context::<Team>().expect("the portal follows the team's settings");
    let offered: StoredValue<Vec<Endpoint>> = StoredValue::new(
        use_context::<Vec<ProfileSummary>>()
            .and_then(|profiles| profiles.into_iter().find(|profile| profile.name == request.profile()))
            .map(|profile| profile.endpoints)
            .unwrap_or_default(),
    );
    let reason = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    let may_approve = move || team.role.get().includes(Role::Approve);
    let request = StoredValue::new(request);
    let change = move |action: Option<SignOffAction>| {
        let base_version = month.sign_off().map_or(0, |sign_off| sign_off.version);
        let endpoint = month.endpoint;
        let profile = team.profile.get_untracked();
        let request = request.get_value();
        let offered = offered.get_value();
        spawn_local(async move {
            let action = match action {
                Some(action) => action,
                None => match documents_of(&request, &offered).await {
                    Ok(documents) => SignOffAction::SignOff { documents },
                    Err(message) => {
                        problem.set(Some(message));
                        return;
                    }
                },
            };
            let change = SignOffChange { endpoint, base_version, action };
            match api::save_sign_off(&profile, month.month, &change).await {
                Ok(_) => {
                    problem.set(None);
                    reason.set(String::new());
                    team.decisions_changed.update(|changed| *changed += 1);
                }
                Err(Refused::Conflict(current)) => {
                    let by = current.as_ref().map_or_else(|| "someone".to_owned(), stamped);
                    problem.set(Some(format!(
                        "Changed meanwhile by {by}; shown now. Try again if it still stands."
                    )));
                    team.decisions_changed.update(|changed| *changed += 1);
                }
                Err(Refused::SignedOff(_)) => {}
                Err(Refused::Problem(refused)) => {
                    problem.set(Some(format!("{}: {}", refused.title, refused.detail)))
                }
            }
        });
    };
    let state = move || {
        let month_name = month.month.to_string();
        match month.sign_off() {
            Some(sign_off @ SignOff { state: SignOffState::SignedOff { .. }, .. }) => {
                let SignOffState::SignedOff { documents, .. } = &sign_off.state else { unreachable!() };
                let pinned = documents
                    .iter()
                    .map(|document| view! {
                        <li>{format!("{} (archived {}, fetched {}, SHA-256 {}…)", document.endpoint.path(), document.id,
                            billing::api::minute_utc(document.fetched_at), &document.sha256[..12.min(document.sha256.len())])}</li>
                    })
                    .collect_view();
                let reopen = may_approve().then(|| view! {
                    <div class="reopen">
                        <label for="reopen-reason">"Why reopen it (kept in the audit)"</label>
                        <input id="reopen-reason" type="text" prop:value=move || reason.get()
                            on:input=move |event| reason.set(event_target_value(&event)) />
                        <button type="button" class="button reopen-month" disabled=move || reason.with(|reason| reason.trim().is_empty())
                            on:click=move |_| change(Some(SignOffAction::Reopen { reason: reason.get_untracked() }))>
                            {format!("Reopen {month_name}")}
                        </button>
                    </div>
                });
                view! {
                    <div class="sign-off signed" role="status">
                        <p class="signed-off-by">{format!("{month_name} signed off by {}. Its decisions are read-only.", stamped(&sign_off))}</p>
                        <ul class="pinned-documents">{pinned}</ul>
                        {reopen}
                    </div>
                }
                .into_any()
            }
            other => {
                let reopened = other.and_then(|sign_off| match &sign_off.state {
                    SignOffState::Reopened { reason } => {
                        Some(format!("Reopened by {}: {reason}", stamped(&sign_off)))
                    }
                    SignOffState::SignedOff { .. } => None,
                });
                let sign = may_approve().then(|| {
                    view! {
                        <button type="button" class="button sign-off-month" on:click=move |_| change(None)>
                            {format!("Sign off {month_name}")}
                        </button>
                    }
                });
                view! {
                    <div class="sign-off" role="status">
                        <p>{format!("{month_name} is not signed off.")} {reopened.map(|said| view! { <span class="reopened">" "{said}</span> })}</p>
                        {sign}
                    </div>
                }
                .into_any()
            }
        }
    };
    let unread = move || {
        month.decisions.with(|decisions| match decisions {
            Some(Err(message)) => Some(view! {
                <p class="problem-detail" role="alert">{format!("The team's decisions for this month cannot be read: {message}")}</p>
            }),
            _ => None,
        })
    };
    view! {
        {unread}
        {state}
        {move || problem.get().map(|message| view! { <p class="problem-detail" role="alert">{message}</p> })}
    }
}
