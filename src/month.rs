//! The open document's invoice month as the team decides it: its marks,
//! the earlier ones, its sign-offs, read again whenever they change and
//! told to the worker, which counts and lists the worklist with them.

use billing::{
    Endpoint,
    api::{
        DocumentRequest,
        decisions::{Decided, InvoiceMonth, MonthDecisions, SignOff},
    },
};
use leptos::{prelude::*, task::spawn_local};
use worker_protocol::{Answer, Question};

use crate::{api, fetch::ask, team::Team};

/// The month's decisions, for the Exceptions tab, the sign-off and the flag.
#[derive(Clone, Copy)]
pub struct Month {
    pub month: InvoiceMonth,
    pub endpoint: Endpoint,
    /// `None` until read; a failure says why.
    pub decisions: RwSignal<Option<Result<MonthDecisions, String>>>,
    /// Moves once the worker has the decisions read last.
    pub told: RwSignal<u32>,
}

impl Month {
    /// The month `request` fetched, when its window is one whole calendar
    /// month, followed as the team changes its decisions.
    pub fn follow(request: &DocumentRequest, team: Team) -> Option<Self> {
        let month = InvoiceMonth::of_window(request.window()?)?;
        let this = Self {
            month,
            endpoint: request.endpoint(),
            decisions: RwSignal::new(None),
            told: RwSignal::new(0),
        };
        let profile = request.profile().to_owned();
        Effect::new(move |_| {
            team.decisions_changed.track();
            let profile = profile.clone();
            spawn_local(async move {
                let read = api::fetch_month(&profile, month).await.map_err(|problem| problem.title);
                let told = read.as_ref().ok().map(|decisions| Question::Decisions {
                    decided: Box::new(Decided::new(decisions)),
                    signed_off: decisions
                        .sign_offs
                        .iter()
                        .find(|sign_off| sign_off.endpoint == this.endpoint)
                        .and_then(SignOff::statement),
                });
                this.decisions.set(Some(read));
                if let Some(question) = told
                    && let Ok((Answer::Decided { .. }, _)) = ask(question).await
                {
                    this.told.update(|told| *told += 1);
                }
            });
        });
        Some(this)
    }

    /// This endpoint's sign-off, while in force.
    pub fn signed_off(self) -> Option<SignOff> {
        self.sign_off().filter(SignOff::is_in_force)
    }

    /// Whether any sign-off of the month is in force: its marks are read-only.
    pub fn read_only(self) -> bool {
        self.decisions.with(|decisions| {
            decisions
                .as_ref()
                .and_then(|read| read.as_ref().ok())
                .is_some_and(|decisions| decisions.signed_off().is_some())
        })
    }

    /// This endpoint's sign-off as last changed, in force or reopened.
    pub fn sign_off(self) -> Option<SignOff> {
        self.decisions.with(|decisions| {
            decisions
                .as_ref()?
                .as_ref()
                .ok()?
                .sign_offs
                .iter()
                .find(|sign_off| sign_off.endpoint == self.endpoint)
                .cloned()
        })
    }
}
