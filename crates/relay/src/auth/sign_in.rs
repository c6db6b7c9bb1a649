//! Single sign-on with OpenID Connect: the authorization code flow with
//! PKCE (S256), state and nonce, against a provider found by discovery.
//! The session cookie holds only a signed id; the person lives in the
//! relay's session store.

use std::{sync::Arc, time::Duration};

use axum::{
    Extension, Json,
    extract::{Query, Request, State, rejection::QueryRejection},
    http::{HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use billing::api::{Me, Person};
use openidconnect::{
    AuthorizationCode, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, Scope,
    TokenResponse,
    core::{CoreAuthPrompt, CoreAuthenticationFlow},
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_sessions::Session;

use super::{
    claims::{constant_time_eq, groups_of, payload_of},
    provider::{ACCEPTED_ALGORITHMS, SignIn, now_seconds},
    sessions::{ID_TOKEN, USER, sessions_unavailable, store_failed},
    state::Auth,
    tokens::bearer_token,
};
use crate::{
    RelayError,
    identity::{Caller, User},
    observe::audit::{self, RequestId},
};

/// Sign-ins started in this browser and not yet finished, one per tab.
const PENDING: &str = "pending_sign_ins";
/// Tabs signing in at once; the oldest is forgotten past this.
const MAX_PENDING: usize = 8;
/// A sign-in left at the provider longer than this must start again.
const PENDING_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// When the session's idle lifetime was last renewed, in Unix milliseconds.
const RENEWED_AT: &str = "renewed_at_ms";
/// A session in use is written back (its idle lifetime renewed) at most
/// this often, rather than at every request: a write to Redis per request
/// would cost more than the rest of the request.
const RENEW_AT_MOST_EVERY: Duration = Duration::from_secs(60);
/// One sign-in on its way through the provider.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Pending {
    state: String,
    nonce: String,
    pkce_verifier: String,
    return_to: String,
    /// Unix seconds.
    started_at: i64,
}

/// `return`: where to go once signed in.
#[derive(Deserialize)]
pub struct SignInQuery {
    #[serde(rename = "return")]
    return_to: Option<String>,
}

/// `GET /auth/login?return=PATH`: sends the browser to the provider.
pub async fn start(
    State(auth): State<Arc<Auth>>,
    session: Session,
    query: Result<Query<SignInQuery>, QueryRejection>,
) -> Result<Response, RelayError> {
    let sign_in = auth.configured()?;
    let return_to = safe_return_path(query.ok().and_then(|Query(query)| query.return_to).as_deref());
    let provider = sign_in.provider().await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = provider
        .client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .set_pkce_challenge(challenge);
    for scope in sign_in.config.scopes.iter().filter(|scope| *scope != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    if sign_in.config.always_ask {
        request = request.add_prompt(CoreAuthPrompt::Login);
    }
    let (url, state_token, nonce) = request.url();
    let mut pending: Vec<Pending> = session.get(PENDING).await.map_err(store_failed)?.unwrap_or_default();
    pending.retain(|pending| now_seconds() - pending.started_at < PENDING_LIFETIME.as_secs() as i64);
    if pending.len() >= MAX_PENDING {
        pending.remove(0);
    }
    pending.push(Pending {
        state: state_token.secret().clone(),
        nonce: nonce.secret().clone(),
        pkce_verifier: verifier.secret().clone(),
        return_to,
        started_at: now_seconds(),
    });
    session.insert(PENDING, pending).await.map_err(store_failed)?;
    Ok(Redirect::to(url.as_str()).into_response())
}

/// What the provider sends back.
#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /auth/callback`: checks state, exchanges the code with the PKCE
/// verifier, verifies the ID token and its nonce, and starts a new session.
pub async fn finish(
    State(auth): State<Arc<Auth>>,
    Extension(request_id): Extension<RequestId>,
    session: Session,
    query: Result<Query<CallbackQuery>, QueryRejection>,
) -> Result<Response, RelayError> {
    let sign_in = auth.configured()?;
    let outcome = complete_sign_in(sign_in, &session, query.ok().map(|Query(query)| query)).await;
    match outcome {
        Ok(SignedIn { user, id_token, return_to }) => {
            // A new id at sign-in: an id planted before it is worth nothing after.
            session.cycle_id().await.map_err(store_failed)?;
            session.insert(USER, &user).await.map_err(store_failed)?;
            session.insert(ID_TOKEN, id_token).await.map_err(store_failed)?;
            audit::signed_in(request_id, &user);
            auth.metrics.signed_in(true);
            Ok(Redirect::to(&return_to).into_response())
        }
        Err(Failure { shown, logged }) => {
            audit::sign_in_failed(request_id, &logged);
            auth.metrics.signed_in(false);
            Err(RelayError::SignInFailed { reason: shown.to_owned() })
        }
    }
}

/// A failed sign-in: what the person is told, and the specifics for the log.
struct Failure {
    shown: &'static str,
    logged: String,
}

fn failure(shown: &'static str, logged: impl Into<String>) -> Failure {
    Failure { shown, logged: logged.into() }
}

/// A sign-in the provider vouched for.
struct SignedIn {
    user: User,
    /// The ID token as received: the hint that ends the provider's session.
    id_token: String,
    return_to: String,
}

async fn complete_sign_in(
    sign_in: &SignIn,
    session: &Session,
    query: Option<CallbackQuery>,
) -> Result<SignedIn, Failure> {
    const NOT_STARTED: &str =
        "this sign-in was not started in this browser, was already used, or took too long";
    let query = query
        .ok_or_else(|| failure("the provider's answer could not be read", "unreadable callback query"))?;
    let Some(state_token) = query.state else {
        return Err(failure(NOT_STARTED, "no state in the callback"));
    };
    let stored: Vec<Pending> = session
        .get(PENDING)
        .await
        .map_err(|error| failure("the relay could not read its session", format!("session store: {error}")))?
        .unwrap_or_default();
    let (matching, others): (Vec<_>, Vec<_>) =
        stored.into_iter().partition(|pending| constant_time_eq(&pending.state, &state_token));
    // Spent whatever happens next, so neither the state nor its code can be replayed.
    session.insert(PENDING, &others).await.map_err(|error| {
        failure("the relay could not write its session", format!("session store: {error}"))
    })?;
    let Some(pending) = matching.into_iter().next() else {
        return Err(failure(NOT_STARTED, "unknown, spent or foreign state"));
    };
    if now_seconds() - pending.started_at >= PENDING_LIFETIME.as_secs() as i64 {
        return Err(failure(NOT_STARTED, "the sign-in took too long"));
    }
    if let Some(error) = query.error {
        let error: String = error.chars().take(64).collect();
        return Err(failure("the provider did not sign you in", format!("provider error: {error}")));
    }
    let code = query.code.ok_or_else(|| failure("the provider's answer had no code", "no code"))?;
    let provider = sign_in
        .provider()
        .await
        .map_err(|_| failure("the sign-in provider cannot be reached", "discovery failed"))?;
    let exchange = provider
        .client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|error| failure("the sign-in provider has no token endpoint", error.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier));
    let tokens = exchange.request_async(&sign_in.http).await.map_err(|error| {
        failure(
            "the provider did not accept the sign-in code",
            format!("code exchange: {}", describe(&error)),
        )
    })?;
    let id_token =
        tokens.id_token().ok_or_else(|| failure("the provider sent no ID token", "no ID token"))?;
    let verifier = provider.client.id_token_verifier().set_allowed_algs(ACCEPTED_ALGORITHMS);
    let claims = id_token
        .claims(&verifier, &Nonce::new(pending.nonce))
        .map_err(|error| failure("the provider's ID token did not verify", format!("ID token: {error}")))?;
    let issuer = claims.issuer().as_str().to_owned();
    let subject = claims.subject().as_str().to_owned();
    // The signature was verified above, so the payload's other claims are the provider's.
    let token_claims = payload_of(&id_token.to_string()).unwrap_or(Value::Null);
    let userinfo = match provider.client.user_info_url() {
        Some(url) => userinfo(&sign_in.http, url.url(), tokens.access_token().secret(), &subject).await,
        None => None,
    };
    let claim = |name: &str| {
        token_claims
            .get(name)
            .filter(|value| !value.is_null())
            .or_else(|| userinfo.as_ref().and_then(|info| info.get(name)).filter(|value| !value.is_null()))
    };
    let text = |name: &str| claim(name).and_then(Value::as_str).map(str::to_owned);
    let user = User {
        issuer,
        subject,
        name: text("name").or_else(|| text("preferred_username")),
        email: text("email"),
        email_verified: claim("email_verified")
            .is_some_and(|verified| verified.as_bool() == Some(true) || verified.as_str() == Some("true")),
        groups: groups_of(claim(&sign_in.config.groups_claim)),
        signed_in_at: now_seconds(),
        client_id: None,
        provider_session: token_claims.get("sid").and_then(Value::as_str).map(str::to_owned),
    };
    Ok(SignedIn { user, id_token: id_token.to_string(), return_to: pending.return_to })
}

/// The error's kind and the provider's own words, never a request's secrets.
fn describe<E: std::error::Error + 'static>(error: &E) -> String {
    crate::error::with_causes(error).chars().take(300).collect()
}

/// The claims of the userinfo endpoint, when it answers for the same subject.
async fn userinfo(
    http: &reqwest::Client,
    url: &reqwest::Url,
    access_token: &str,
    subject: &str,
) -> Option<Value> {
    let response = http.get(url.clone()).bearer_auth(access_token).send().await.ok()?;
    if !response.status().is_success() {
        tracing::warn!(status = %response.status(), "the provider's userinfo endpoint refused");
        return None;
    }
    let claims: Value = response.json().await.ok()?;
    (claims.get("sub").and_then(Value::as_str) == Some(subject)).then_some(claims)
}

/// `return` is only ever a path on the relay: anything a browser could
/// read as another host, or with control characters, becomes `/`.
pub fn safe_return_path(asked: Option<&str>) -> String {
    let Some(asked) = asked.filter(|asked| asked.len() <= 2048) else { return "/".to_owned() };
    let decoded = percent_encoding::percent_decode_str(asked).decode_utf8_lossy();
    let safe = |path: &str| {
        path.starts_with('/')
            && !path.starts_with("//")
            && !path.contains('\\')
            && !path.chars().any(char::is_control)
    };
    if safe(asked) && safe(&decoded) { asked.to_owned() } else { "/".to_owned() }
}

/// Without sign-in, whoever the allowlist admitted may use every profile.
pub async fn admit_without_sign_in(mut request: Request, next: Next) -> Response {
    request.extensions_mut().insert(Caller::Admitted);
    next.run(request).await
}

/// Admits a request under `/api` only with a live session or a valid
/// bearer token, and tells every handler who the caller is.
pub async fn require_session(
    State(auth): State<Arc<Auth>>,
    Extension(request_id): Extension<RequestId>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(sign_in) = auth.sign_in.as_ref() else {
        return admit_without_sign_in(request, next).await;
    };
    // Under `nest`, the request's own URI has lost its `/api` prefix.
    let path = request
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| request.uri().path().to_owned(), |original| original.path().to_owned());
    // A token stands on its own: the session is not looked at, so a
    // script's requests never touch the session store.
    if let Some(token) = bearer_token(request.headers()) {
        return match sign_in.verify_access_token(token).await {
            Ok(user) => {
                request.extensions_mut().insert(Caller::SignedIn(Arc::new(user)));
                next.run(request).await
            }
            Err(refused) => {
                audit::refused(request_id, None, refused.code(), &path, None);
                refused.into_response()
            }
        };
    }
    let user = match session.get::<User>(USER).await {
        Ok(user) => user,
        Err(error) => {
            let unavailable = sessions_unavailable(error, false);
            audit::refused(request_id, None, unavailable.code(), &path, None);
            return unavailable.into_response();
        }
    };
    match user {
        Some(user)
            if now_seconds() - user.signed_in_at < sign_in.config.session_absolute.as_secs() as i64 =>
        {
            renew_when_due(&session, sign_in.config.session_idle).await;
            request.extensions_mut().insert(Caller::SignedIn(Arc::new(user)));
            next.run(request).await
        }
        expired => {
            if expired.is_some() {
                let _ = session.flush().await;
            }
            audit::refused(request_id, None, billing::api::ErrorCode::SignInRequired, &path, None);
            RelayError::SignInRequired.into_response()
        }
    }
}

/// Marks the session changed, so it is saved with a new idle expiry, when
/// an eighth of the idle lifetime (at most a minute) has passed since the
/// last time.
async fn renew_when_due(session: &Session, idle: Duration) {
    let now = chrono::Utc::now().timestamp_millis();
    let every = idle.min(RENEW_AT_MOST_EVERY * 8) / 8;
    let renewed_at: i64 = session.get(RENEWED_AT).await.ok().flatten().unwrap_or(0);
    if now - renewed_at >= every.as_millis() as i64 {
        // A failure here shows when the session is saved, as a 503.
        let _ = session.insert(RENEWED_AT, now).await;
    }
}

/// A request with a bearer token is judged by the token alone: its cookies
/// are set aside before the session layer, so it neither reads nor renews
/// a session (and works while the session store is away).
pub async fn tokens_without_sessions(mut request: Request, next: Next) -> Response {
    if bearer_token(request.headers()).is_some() {
        request.headers_mut().remove(header::COOKIE);
    }
    next.run(request).await
}

/// `GET /api/me`.
pub async fn me(State(auth): State<Arc<Auth>>, Extension(caller): Extension<Caller>) -> Json<Me> {
    let profiles = auth.allowed_profiles(&caller).map(|(profile, _)| profile.name.clone()).collect();
    Json(Me {
        sign_in_enabled: auth.sign_in.is_some(),
        person: caller.user().map(|user| Person { name: user.name.clone(), email: user.email.clone() }),
        profiles,
        access_contact: auth.sign_in.as_ref().and_then(|sign_in| sign_in.config.access_contact.clone()),
    })
}

/// Sign-in answers and documents must not be kept by any cache.
pub async fn no_store(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_paths_stay_on_the_relay() {
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/%09/evil.example",
            "/%2F/evil.example",
            "/%5Cevil.example",
            "/\r\nSet-Cookie: x=1",
            "/%0d%0aLocation: https://evil.example",
            "evil",
            "",
        ] {
            assert_eq!(safe_return_path(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(safe_return_path(None), "/");
        assert_eq!(
            safe_return_path(Some("/?profile=demo&start=2026-01-01")),
            "/?profile=demo&start=2026-01-01"
        );
        assert_eq!(safe_return_path(Some("/")), "/");
    }
}
