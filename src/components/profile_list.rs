use billing::ProfileSummary;
use leptos::prelude::*;

/// The relay's API profiles, each with its environment, generation and versions.
#[component]
pub fn ProfileList(profiles: Vec<ProfileSummary>) -> impl IntoView {
    if profiles.is_empty() {
        return view! {
            <p class="empty" role="status">
                "This relay offers no API profiles. Ask its administrator to configure a vendor API key."
            </p>
        }
        .into_any();
    }
    view! {
        <ul class="profiles">
            {profiles
                .into_iter()
                .map(|profile| {
                    let generation = profile.generation;
                    let versions = profile
                        .versions
                        .iter()
                        .map(|version| {
                            if generation.is_end_of_life(version) {
                                format!("{version} (end-of-life)")
                            } else {
                                version.clone()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    view! {
                        <li class="profile">
                            <span class="profile-name">{profile.name}</span>
                            <span class="environment">{profile.environment}</span>
                            <span class="generation">{generation.label()}</span>
                            <span class="versions">{versions}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
