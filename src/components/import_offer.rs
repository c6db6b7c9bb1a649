//! The corrections and threshold this browser kept before the team shared them, offered once for import.

use billing::{Role, api::decisions::SettingsChange};
use leptos::{prelude::*, task::spawn_local};

use crate::{
    api::{self, Refused},
    kept_here,
    split::split_point,
    team::Team,
};

split_point! {
    /// The offer, in a file of its own: only a browser that kept settings
    /// before the team shared them needs it.
    pub fn import_offer_part() -> AnyView {
        view! { <ImportOffer /> }.into_any()
    }
}

#[component]
pub fn ImportOffer() -> impl IntoView {
    let team = use_context::<Team>().expect("the portal follows the team's settings");
    let kept = RwSignal::new(kept_here::recall());
    let failed = RwSignal::new(None::<String>);
    let done = move || {
        kept_here::forget();
        kept.set(kept_here::recall());
    };
    let import = move |_| {
        let Some(Ok(shared)) = team.settings.get_untracked() else { return };
        let Some(settings) = kept.with_untracked(|kept| kept.merged_into(&shared)) else {
            done();
            return;
        };
        let profile = team.profile.get_untracked();
        let change = SettingsChange { base_version: shared.version, settings };
        spawn_local(async move {
            match api::save_settings(&profile, &change).await {
                Ok(saved) => {
                    team.show(Ok(saved));
                    done();
                }
                // Someone changed them meanwhile: shown now, and the
                // offer stands, to be made on theirs.
                Err(Refused::Conflict(current)) => {
                    if let Some(current) = current {
                        team.show(Ok(current));
                    }
                    failed.set(Some(
                        "Someone changed the team's settings meanwhile; import again onto theirs.".to_owned(),
                    ));
                }
                Err(Refused::SignedOff(_)) => {}
                Err(Refused::Problem(problem)) => {
                    failed.set(Some(format!("{}: {}", problem.title, problem.detail)))
                }
            }
        });
    };
    move || {
        let offered = !kept.with(|kept| kept.is_empty())
            && team.role.get().includes(Role::Review)
            && team.settings.with(|settings| matches!(settings, Some(Ok(_))));
        offered.then(|| {
            let (corrections, threshold) =
                kept.with(|kept| (kept.corrections.len(), kept.low_margin_percent.map(|percent| percent.to_string())));
            let what = match (corrections, threshold) {
                (0, Some(threshold)) => format!("a low-margin threshold of {threshold} %"),
                (count, None) => format!("{count} publisher corrections"),
                (count, Some(threshold)) => format!("{count} publisher corrections and a low-margin threshold of {threshold} %"),
            };
            view! {
                <section class="import-offer" role="status" aria-label="Settings kept in this browser">
                    <p>
                        {format!("This browser kept {what} from before the team shared its settings. ")}
                        "Import them for everyone using " <strong>{team.profile.get_untracked()}</strong>
                        "? A correction the team already has for a product stays the team's."
                    </p>
                    <button type="button" class="button import-kept" on:click=import>"Import them"</button>
                    <button type="button" class="button secondary forget-kept" on:click=move |_| done()>"Forget them"</button>
                    {move || failed.get().map(|message| view! { <p class="problem-detail" role="alert">{message}</p> })}
                </section>
            }
        })
    }
}
