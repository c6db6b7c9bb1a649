//! OpenID Connect Back-Channel Logout 1.0: the provider tells the relay,
//! server to server, that a person's session there has ended, and the
//! relay ends theirs on every relay sharing the session store. The logout
//! token is checked like an ID token (the provider's keys, issuer, the
//! relay as audience) plus what makes it a logout token, and each is
//! accepted once.

use std::sync::Arc;

use axum::{
    Extension, Form,
    extract::{State, rejection::FormRejection},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use jsonwebtoken::Validation;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    provider::{SignIn, now_seconds},
    sessions::EndedAtProvider,
    state::Auth,
    tokens::{ACCEPTED_ALGORITHMS, LEEWAY_SECONDS, MAX_TOKEN_BYTES, TokenError},
};
use crate::{
    RelayError,
    observe::audit::{self, RequestId},
};
/// The `events` member that makes a JWT a logout token.
const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// A logout token issued longer ago than this is refused, so replays need
/// only be remembered this long.
const MAX_AGE_SECONDS: i64 = 10 * 60;

#[derive(Deserialize)]
pub struct LogoutRequest {
    logout_token: Option<String>,
}

/// The claims a logout token must (or must not) carry.
#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: Option<String>,
    sid: Option<String>,
    iat: i64,
    exp: Option<i64>,
    jti: String,
    events: serde_json::Map<String, Value>,
    nonce: Option<Value>,
}

/// `POST /auth/backchannel-logout` from the provider: `200` once the
/// sessions it names are ended, `400` for a token the relay does not
/// accept (which ends nothing).
pub async fn logout(
    State(auth): State<Arc<Auth>>,
    Extension(request_id): Extension<RequestId>,
    form: Result<Form<LogoutRequest>, FormRejection>,
) -> Result<Response, RelayError> {
    let sign_in = auth.configured()?;
    let Some(store) = auth.sessions.as_ref() else { return Err(RelayError::SignInUnavailable) };
    let token = form
        .ok()
        .and_then(|Form(request)| request.logout_token)
        .ok_or(RelayError::LogoutTokenRefused { reason: "the request carries no logout_token" })?;
    let claims = verify(sign_in, &token).await?;
    let until = claims.exp.unwrap_or(claims.iat + MAX_AGE_SECONDS).max(claims.iat + MAX_AGE_SECONDS)
        + LEEWAY_SECONDS as i64;
    let seen = hex(&Sha256::digest(format!("{}\0{}", claims.iss, claims.jti).as_bytes()));
    let unavailable = |error| {
        tracing::error!(%error, "the session store failed during a back-channel logout");
        RelayError::SessionsUnavailable { page: false }
    };
    if !store.first_sight(&format!("logout-token:{seen}"), until).await.map_err(unavailable)? {
        tracing::warn!("refused: a logout token sent again");
        return Err(RelayError::LogoutTokenRefused { reason: "this logout token was already used" });
    }
    let ended = EndedAtProvider {
        issuer: &claims.iss,
        subject: claims.sub.as_deref(),
        provider_session: claims.sid.as_deref(),
    };
    let sessions = store.end_sessions(ended).await.map_err(unavailable)?;
    audit::ended_by_provider(
        request_id,
        &claims.iss,
        claims.sub.as_deref().unwrap_or(""),
        claims.sid.as_deref().unwrap_or(""),
        sessions,
    );
    let mut response = ().into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn refused(reason: &'static str, logged: impl std::fmt::Display) -> RelayError {
    tracing::info!(%logged, "logout token refused");
    RelayError::LogoutTokenRefused { reason }
}

/// The claims of `token` once it proves to be the provider's logout token
/// for this relay.
async fn verify(sign_in: &SignIn, token: &str) -> Result<Claims, RelayError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(refused("the logout token is too long", token.len()));
    }
    let header = jsonwebtoken::decode_header(token)
        .map_err(|error| refused("the logout token is not a signed JWT", error))?;
    if !ACCEPTED_ALGORITHMS.contains(&header.alg) {
        return Err(refused(
            "the logout token is not signed with one of the provider's public keys",
            format!("{:?}", header.alg),
        ));
    }
    let typ = header.typ.as_deref().unwrap_or("jwt").to_ascii_lowercase();
    if !matches!(typ.as_str(), "jwt" | "logout+jwt" | "application/logout+jwt") {
        return Err(refused("the token is not a logout token (its typ)", typ));
    }
    let kid = header.kid.ok_or_else(|| refused("the logout token names no signing key", "no kid"))?;
    let provider = sign_in.provider().await?;
    let key =
        sign_in.tokens.keys.decoding_key(&kid, &sign_in.http, &provider.jwks_uri).await.map_err(|error| {
            match error {
                TokenError::KeysUnavailable => RelayError::TokenKeysUnavailable,
                TokenError::Refused(refusal) => refused(refusal.shown, refusal.logged),
            }
        })?;
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[&sign_in.config.issuer_url]);
    validation.set_audience(&[&sign_in.config.client_id]);
    validation.set_required_spec_claims(&["iss", "aud"]);
    validation.leeway = LEEWAY_SECONDS;
    let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
        .map_err(|error| {
            use jsonwebtoken::errors::ErrorKind;
            let shown = match error.kind() {
                ErrorKind::InvalidAudience => "the logout token is meant for another client (audience)",
                ErrorKind::InvalidIssuer => "the logout token comes from another issuer",
                ErrorKind::ExpiredSignature => "the logout token has expired",
                ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => {
                    "the logout token's signature does not verify"
                }
                _ => "the logout token lacks a claim it must carry (iat, jti, events) or has one it must not",
            };
            refused(shown, error)
        })?
        .claims;
    if !claims.events.get(LOGOUT_EVENT).is_some_and(Value::is_object) {
        return Err(refused("the token is not a logout token (no back-channel logout event)", "events"));
    }
    if claims.nonce.is_some() {
        return Err(refused(
            "the token is not a logout token (it carries a nonce, as ID tokens do)",
            "nonce",
        ));
    }
    if claims.sub.is_none() && claims.sid.is_none() {
        return Err(refused(
            "the logout token names neither a person (sub) nor a session (sid)",
            "no sub or sid",
        ));
    }
    let now = now_seconds();
    let leeway = LEEWAY_SECONDS as i64;
    if claims.iat > now + leeway || claims.iat < now - MAX_AGE_SECONDS - leeway {
        return Err(refused("the logout token was not issued just now", format!("iat {}", claims.iat)));
    }
    Ok(claims)
}
