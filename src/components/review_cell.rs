//! One worklist line's decision this month: its mark, note, who and when, an earlier month's decision, its history, and the mark to make.

use billing::{
    Role,
    api::decisions::{ItemId, Mark, Review, ReviewChange, ReviewHistoryEntry, ReviewStatus},
};
use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{self, Refused},
    month::Month,
    team::Team,
};

fn said(review: &Review) -> String {
    let note = if review.mark.note.is_empty() { String::new() } else { format!(": {}", review.mark.note) };
    format!(
        "{}{note} ({}, {})",
        review.mark.status.label(),
        review.changed.by,
        billing::api::minute_utc(review.changed.at)
    )
}

#[component]
pub fn ReviewCell(
    month: Month,
    item: ItemId,
    /// This month's decision as the team keeps it, following every change.
    review: Signal<Option<Review>>,
    earlier: Signal<Option<Review>>,
) -> impl IntoView {
    let team = use_context::<Team>().expect("the portal follows the team's settings");
    let first = review.get_untracked();
    let status = RwSignal::new(first.as_ref().map_or(ReviewStatus::Explained, |review| review.mark.status));
    let note = RwSignal::new(first.as_ref().map(|review| review.mark.note.clone()).unwrap_or_default());
    // The version the person began editing on: a change saved meanwhile
    // is shown, and saving on the old version is a conflict, not an overwrite.
    let editing_on = RwSignal::new(None::<u64>);
    let shown_version =
        move || review.with_untracked(|review| review.as_ref().map_or(0, |review| review.version));
    let begin = move || {
        if editing_on.get_untracked().is_none() {
            editing_on.set(Some(shown_version()));
        }
    };
    // What the relay answered last, until the team's copy catches up.
    let current = RwSignal::new(first);
    Effect::new(move |_| {
        let latest = review.get();
        let newer = |kept: &Option<Review>| {
            latest.as_ref().map_or(0, |review| review.version)
                >= kept.as_ref().map_or(0, |review| review.version)
        };
        if current.with_untracked(newer) {
            current.set(latest);
        }
    });
    // Someone else's mark, saved first; this one is kept to apply again.
    let theirs = RwSignal::new(None::<Review>);
    let problem = RwSignal::new(None::<String>);
    let history = RwSignal::new(None::<Result<Vec<ReviewHistoryEntry>, String>>);
    let item = StoredValue::new(item);
    let may_mark = move || team.role.get().includes(Role::Review) && !month.read_only();
    let save = move || {
        let change = ReviewChange {
            item: item.get_value(),
            base_version: editing_on.get_untracked().unwrap_or_else(shown_version),
            mark: Mark { status: status.get_untracked(), note: note.get_untracked() },
        };
        let profile = team.profile.get_untracked();
        spawn_local(async move {
            match api::save_review(&profile, month.month, &change).await {
                Ok(saved) => {
                    current.set(Some(saved));
                    editing_on.set(None);
                    theirs.set(None);
                    problem.set(None);
                }
                Err(Refused::Conflict(kept)) => {
                    // Applied again, it is made on theirs.
                    editing_on.set(Some(kept.as_ref().map_or(0, |kept| kept.version)));
                    current.set(kept.clone());
                    theirs.set(kept);
                }
                Err(Refused::SignedOff(sign_off)) => problem.set(Some(format!(
                    "{} was signed off by {} meanwhile; its decisions are read-only.",
                    sign_off.month, sign_off.changed.by
                ))),
                Err(Refused::Problem(refused)) => {
                    problem.set(Some(format!("{}: {}", refused.title, refused.detail)))
                }
            }
        });
    };
    let show_history = move |_| {
        let profile = team.profile.get_untracked();
        spawn_local(async move {
            let read =
                api::fetch_review_history(&profile, month.month).await.map_err(|problem| problem.title);
            let wanted = item.get_value();
            history.set(Some(
                read.map(|entries| entries.into_iter().filter(|entry| entry.item == wanted).collect()),
            ));
        });
    };
    let options = move || {
        ReviewStatus::ALL
            .into_iter()
            .map(|choice| view! { <option value=choice.name() selected=move || status.get() == choice>{choice.label()}</option> })
            .collect_view()
    };
    let earlier = move || {
        earlier.get().map(|earlier| {
            view! { <p class="earlier-decision">{format!("In {}: {}", earlier.month, said(&earlier))}</p> }
        })
    };
    let conflict = move || {
        theirs.get().map(|theirs| {
            view! {
                <div class="problem conflict" role="alert">
                    <p>{format!("{} marked this first: {}", theirs.changed.by, said(&theirs))}</p>
                    <button type="button" class="button reapply" on:click=move |_| save()>"Apply mine again"</button>
                </div>
            }
        })
    };
    let listed = move || {
        history.get().map(|read| match read {
            Ok(entries) if entries.is_empty() => view! { <p class="muted">"No changes yet."</p> }.into_any(),
            Ok(entries) => view! {
                <ol class="review-history">
                    {entries.into_iter().map(|entry| {
                        let before = entry.before.map(|before| format!(" (was {})", before.status.label())).unwrap_or_default();
                        view! {
                            <li>{format!("{} {}: {}{before}{}", entry.changed.at.format("%Y-%m-%d %H:%M"), entry.changed.by, entry.after.status.label(),
                                if entry.after.note.is_empty() { String::new() } else { format!(" — {}", entry.after.note) })}</li>
                        }
                    }).collect_view()}
                </ol>
            }
            .into_any(),
            Err(message) => view! { <p class="problem-detail" role="alert">{message}</p> }.into_any(),
        })
    };
    view! {
        <div class="review">
            <p class="review-status">
                {move || current.get().map_or_else(|| "Open".to_owned(), |review| said(&review))}
            </p>
            {earlier}
            {move || may_mark().then(|| view! {
                <div class="review-form">
                    <select class="review-choice" aria-label="Decision" on:change=move |event| {
                        begin();
                        if let Some(chosen) = ReviewStatus::from_name(&event_target_value(&event)) {
                            status.set(chosen);
                        }
                    }>{options()}</select>
                    <input type="text" class="review-note" aria-label="Note" placeholder="Why"
                        prop:value=move || note.get() on:input=move |event| {
                            begin();
                            note.set(event_target_value(&event));
                        } />
                    <button type="button" class="button save-review" on:click=move |_| save()>"Save"</button>
                </div>
            })}
            {conflict}
            {move || problem.get().map(|message| view! { <p class="problem-detail" role="alert">{message}</p> })}
            <button type="button" class="link show-history" on:click=show_history>"History"</button>
            {listed}
        </div>
    }
}
