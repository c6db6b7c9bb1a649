//! `GET /api/profiles/{profile}/events`: a server-sent event for each
//! change of the profile's decisions, made through any relay sharing the
//! database. The event names what changed and its version, never its
//! content: the page reads that through the routes that check access.

use std::{sync::Arc, time::Duration};

use axum::{
    Extension,
    extract::{Path, State},
    http::{HeaderName, HeaderValue},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use billing::api::{Endpoint, decisions::DecisionEvent};
use futures_util::{StreamExt, stream};
use tokio::sync::broadcast::{Receiver, error::RecvError};

use super::Shared;
use crate::{
    RelayError,
    auth::state::Auth,
    identity::Caller,
    store::decisions::{Changed, Subject, Topic},
};

/// A stream ends after this long and the browser opens a new one, so a
/// session that ended stops receiving within it.
const LIFETIME: Duration = Duration::from_secs(300);
/// Comments keep proxies from closing a quiet stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How soon a browser comes back after a stream ends.
const RETRY: Duration = Duration::from_secs(1);

/// The event for a change of `profile`'s decisions, `resync` when some
/// may have been missed.
fn event(changed: &Changed, profile: &str) -> Option<Event> {
    let Changed::Decision { subject: Subject { profile: of, topic, month, item }, version } = changed else {
        return Some(Event::default().event("resync").data("read everything again"));
    };
    if of != profile {
        return None;
    }
    let version = *version;
    let decision = match topic {
        Topic::Settings => DecisionEvent::Settings { version },
        Topic::Review => DecisionEvent::Review { month: month.parse().ok()?, version },
        Topic::SignOff => DecisionEvent::SignOff {
            month: month.parse().ok()?,
            endpoint: Endpoint::from_path(item)?,
            version,
        },
    };
    Event::default().event("decision").json_data(decision).ok()
}

async fn next(mut changes: Receiver<Changed>, profile: &str) -> Option<(Event, Receiver<Changed>)> {
    loop {
        let changed = match changes.recv().await {
            Ok(changed) => changed,
            Err(RecvError::Lagged(_)) => Changed::Unknown,
            Err(RecvError::Closed) => return None,
        };
        if let Some(event) = event(&changed, profile) {
            return Some((event, changes));
        }
    }
}

pub async fn events(
    State(shared): State<Arc<Shared>>,
    State(auth): State<Arc<Auth>>,
    Extension(caller): Extension<Caller>,
    Path(profile): Path<String>,
) -> Result<Response, RelayError> {
    super::routes::role(&auth, &caller, &profile)?;
    let changes = shared.decisions.subscribe();
    let opened = Event::default().retry(RETRY).event("open").data("listening");
    let profile: Arc<str> = profile.into();
    let changes = stream::unfold(changes, move |changes| {
        let profile = profile.clone();
        async move { next(changes, &profile).await }
    });
    let events = stream::once(async { opened })
        .chain(changes)
        .take_until(tokio::time::sleep(LIFETIME))
        .map(Ok::<_, std::convert::Infallible>);
    let mut response = Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)).into_response();
    // nginx would otherwise hold the events back in its buffer.
    response
        .headers_mut()
        .insert(HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no"));
    Ok(response)
}
