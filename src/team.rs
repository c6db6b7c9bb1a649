//! The profile's shared decisions as the page follows them: its settings
//! (publisher corrections and the low-margin threshold), loaded from the
//! relay and kept current by its events, and a count that moves whenever
//! a month's marks or sign-offs change, through whichever relay.

use std::{cell::RefCell, collections::BTreeMap};

use billing::{
    Role,
    api::decisions::{DecisionEvent, Settings, SharedSettings, paths},
};
use leptos::{
    prelude::*,
    task::{spawn_local, spawn_local_scoped_with_cancellation},
};
use rust_decimal::Decimal;
use wasm_bindgen::{JsCast, closure::Closure};

use crate::{
    api,
    split::{PART_MISSING, PartMissing, split_task},
};

thread_local! {
    /// The settings in force, for the code that is not a component: the
    /// worker's corrections when a document opens, the files' threshold.
    static CURRENT: RefCell<Settings> = RefCell::new(Settings::default());
    /// The corrections the worker was last given: a document may open
    /// before the settings arrive, and is told them once they do.
    static TOLD: RefCell<BTreeMap<String, String>> = const { RefCell::new(BTreeMap::new()) };
}

/// The publisher corrections in force, as the worker is given them now.
pub fn corrections_for_worker() -> BTreeMap<String, String> {
    let corrections = CURRENT.with(|current| current.borrow().corrections.clone());
    TOLD.with(|told| told.borrow_mut().clone_from(&corrections));
    corrections
}

/// The publisher corrections in force.
pub fn corrections() -> BTreeMap<String, String> {
    CURRENT.with(|current| current.borrow().corrections.clone())
}

/// Whether the worker was last given other corrections than `corrections`.
pub fn worker_told_otherwise(corrections: &BTreeMap<String, String>) -> bool {
    TOLD.with(|told| *told.borrow() != *corrections)
}

/// The low-margin threshold in force, as the worker reads it.
pub fn low_margin_percent() -> String {
    CURRENT.with(|current| current.borrow().low_margin_percent.to_string())
}

/// What this browser kept before the team shared its settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeptHere {
    pub corrections: BTreeMap<String, String>,
    pub low_margin_percent: Option<Decimal>,
}

impl KeptHere {
    pub fn is_empty(&self) -> bool {
        self.corrections.is_empty() && self.low_margin_percent.is_none()
    }

    /// The shared settings with what was kept here added: a correction the
    /// team has for the same product stays the team's, and the threshold
    /// is taken only while nobody has set one. `None` when nothing is new.
    pub fn merged_into(&self, shared: &SharedSettings) -> Option<Settings> {
        let mut settings = shared.settings.clone();
        for (product, publisher) in &self.corrections {
            settings.corrections.entry(product.clone()).or_insert_with(|| publisher.clone());
        }
        if shared.version == 0
            && let Some(threshold) = self.low_margin_percent
        {
            settings.low_margin_percent = threshold;
        }
        (settings != shared.settings && settings.check().is_ok()).then_some(settings)
    }
}

/// The profile's shared decisions, for the components that show or change them.
#[derive(Clone, Copy)]
pub struct Team {
    pub profile: Signal<String>,
    pub role: Signal<Role>,
    /// `None` until loaded; a failure says why.
    pub settings: RwSignal<Option<Result<SharedSettings, String>>>,
    /// Moves on each change of a month's marks or sign-offs, and when the
    /// events reconnect (changes may have been missed meanwhile).
    pub decisions_changed: RwSignal<u64>,
}

impl Team {
    /// Follows `profile`: its settings now, and every change after.
    pub fn follow(profile: Signal<String>, role: Signal<Role>) -> Self {
        let team = Self { profile, role, settings: RwSignal::new(None), decisions_changed: RwSignal::new(0) };
        let listening = StoredValue::new_local(None::<Listening>);
        Effect::new(move |_| {
            let name = profile.get();
            listening.set_value(None);
            team.settings.set(None);
            // Ended with this run of the effect: a task for a profile no
            // longer shown never sets its events up.
            spawn_local_scoped_with_cancellation(async move {
                match start_following(name, team).await {
                    Ok(events) => listening.set_value(events),
                    Err(PartMissing) => team.show(Err(PART_MISSING.to_owned())),
                }
            });
        });
        on_cleanup(move || listening.set_value(None));
        team
    }

    pub fn reload_settings(self) {
        let name = self.profile.get_untracked();
        spawn_local(async move {
            let loaded = api::fetch_settings(&name).await;
            // An answer for a profile no longer shown is dropped.
            if self.profile.get_untracked() == name {
                self.show(loaded.map_err(|problem| problem.title));
            }
        });
    }

    /// Puts settings the relay answered with in force.
    pub fn show(self, settings: Result<SharedSettings, String>) {
        if let Ok(shared) = &settings {
            CURRENT.with(|current| *current.borrow_mut() = shared.settings.clone());
        }
        self.settings.set(Some(settings));
    }

    /// The settings' version a change is made on, once loaded.
    pub fn version(self) -> Option<u64> {
        self.settings.with_untracked(|settings| {
            settings.as_ref().and_then(|loaded| loaded.as_ref().ok()).map(|shared| shared.version)
        })
    }

    fn heard(self, event: &str, data: &str) {
        match event {
            "decision" => match serde_json::from_str::<DecisionEvent>(data) {
                Ok(DecisionEvent::Settings { version }) if Some(version) > self.version() => {
                    self.reload_settings()
                }
                Ok(DecisionEvent::Settings { .. }) => {}
                Ok(DecisionEvent::Review { .. } | DecisionEvent::SignOff { .. }) => {
                    self.decisions_changed.update(|changed| *changed += 1)
                }
                Err(_) => {}
            },
            // Connected (again), or told some changes were missed.
            _ => {
                self.reload_settings();
                self.decisions_changed.update(|changed| *changed += 1);
            }
        }
    }
}

split_task! {
    /// Loads `profile`'s settings and opens its events; in a file of its
    /// own, since the first screen has no use for them.
    pub fn start_following(profile: String, team: Team) -> Option<Listening> {
        team.reload_settings();
        Listening::open(&profile, team)
    }
}

/// The relay's event stream for one profile, closed when dropped.
pub struct Listening {
    source: web_sys::EventSource,
    _handlers: Vec<Closure<dyn Fn(web_sys::MessageEvent)>>,
}

impl Listening {
    fn open(profile: &str, team: Team) -> Option<Self> {
        let source = web_sys::EventSource::new(&paths::events(profile)).ok()?;
        let mut handlers = Vec::new();
        for event in ["open", "decision", "resync"] {
            let handler =
                Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |message: web_sys::MessageEvent| {
                    let data = message.data().as_string().unwrap_or_default();
                    team.heard(event, &data);
                });
            source.add_event_listener_with_callback(event, handler.as_ref().unchecked_ref()).ok()?;
            handlers.push(handler);
        }
        Some(Self { source, _handlers: handlers })
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        self.source.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared(version: u64, corrections: &[(&str, &str)]) -> SharedSettings {
        SharedSettings {
            settings: Settings {
                low_margin_percent: Decimal::TEN,
                corrections: corrections.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
            },
            version,
            changed: None,
        }
    }

    #[test]
    fn kept_corrections_join_the_teams_without_overruling_them() {
        let kept = KeptHere {
            corrections: [("Telephony", "KPN"), ("Mobile", "Vodafone")]
                .map(|(a, b)| (a.to_owned(), b.to_owned()))
                .into(),
            low_margin_percent: Some(Decimal::new(125, 1)),
        };
        let merged = kept.merged_into(&shared(3, &[("Telephony", "Odido")])).unwrap();
        assert_eq!(merged.corrections["Telephony"], "Odido", "the team's stays");
        assert_eq!(merged.corrections["Mobile"], "Vodafone");
        assert_eq!(merged.low_margin_percent, Decimal::TEN, "someone set the team's threshold");
        let first = kept.merged_into(&shared(0, &[])).unwrap();
        assert_eq!(first.low_margin_percent, Decimal::new(125, 1), "nobody had set one");
        let same = KeptHere {
            corrections: [("Telephony".to_owned(), "Odido".to_owned())].into(),
            low_margin_percent: None,
        };
        assert_eq!(same.merged_into(&shared(3, &[("Telephony", "Odido")])), None, "nothing new");
        assert!(KeptHere::default().is_empty());
    }
}
