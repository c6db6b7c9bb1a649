//! Signing out ends both sessions: the relay's, then the provider's
//! (OpenID Connect RP-Initiated Logout 1.0). The ID token goes to the
//! provider as `id_token_hint` in the body of a form the browser posts, so
//! it never appears in a URL, a log or the browser's history; the person
//! comes back to a page that says they are signed out and asks before
//! signing in again.

use std::sync::{Arc, LazyLock};

use axum::{
    Extension,
    extract::{Query, State, rejection::QueryRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use billing::api::routes;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tower_sessions::{
    Session,
    cookie::{Cookie, SameSite},
};

use super::{
    claims::{constant_time_eq, same_origin},
    sessions::{ID_TOKEN, USER, store_failed},
    state::Auth,
};
use crate::{
    RelayError,
    identity::User,
    observe::audit::{self, RequestId},
    pages::{escape, page, sign_in_link},
};

/// The only script of the page that posts the form to the provider.
const SUBMIT: &str = "document.forms[0].submit();";
/// Its hash, which the page's own Content-Security-Policy allows.
static SUBMIT_HASH: LazyLock<String> = LazyLock::new(|| STANDARD.encode(Sha256::digest(SUBMIT)));
/// How long a browser may take at the provider before coming back.
const STATE_LIFETIME_SECONDS: i64 = 15 * 60;

/// The cookie tying the provider's way back to this browser's sign-out.
fn state_cookie_name(https: bool) -> &'static str {
    if https { "__Host-billing_sign_out" } else { "billing_sign_out" }
}

/// The sign-out state cookie holding `value` for `seconds`; zero removes it.
fn state_cookie(https: bool, value: String, seconds: i64) -> Cookie<'static> {
    Cookie::build((state_cookie_name(https), value))
        .path("/")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Lax)
        .max_age(tower_sessions::cookie::time::Duration::seconds(seconds))
        .build()
}

/// `POST /auth/logout`, from the relay's own pages only: ends the relay's
/// session, then has the browser post the sign-out to the provider.
pub async fn sign_out(
    State(auth): State<Arc<Auth>>,
    Extension(request_id): Extension<RequestId>,
    session: Session,
    headers: HeaderMap,
) -> Result<Response, RelayError> {
    let sign_in = auth.configured()?;
    if !same_origin(&headers, &sign_in.config.public_origin()) {
        audit::refused(request_id, None, billing::api::ErrorCode::CrossSiteRequest, routes::SIGN_OUT, None);
        return Err(RelayError::CrossSiteRequest);
    }
    let user: Option<User> = session.get(USER).await.ok().flatten();
    let id_token: Option<String> = session.get(ID_TOKEN).await.ok().flatten();
    session.flush().await.map_err(store_failed)?;
    audit::signed_out(request_id, user.as_ref());
    let provider = sign_in.provider().await.ok();
    let Some(end_session) = provider.and_then(|provider| provider.end_session.clone()) else {
        let issuer = reqwest::Url::parse(&sign_in.config.issuer_url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_else(|| sign_in.config.issuer_url.clone());
        let body = format!(
            "<p>You are signed out of the billing portal.</p>\
             <p role=\"alert\">Your sign-in provider ({}) offers no way for the portal to end its own \
             session, so it may still be open: whoever presses \"Sign in\" on this computer next may get in \
             as you without a password. Close every window of this browser, or sign out at the provider \
             yourself.</p>{}",
            escape(&issuer),
            sign_in_link("Sign in")
        );
        return Ok(page("You are signed out", &body).into_response());
    };
    let return_state = openidconnect::CsrfToken::new_random_len(32).secret().clone();
    let post_logout = format!("{}{}", sign_in.config.public_origin(), routes::SIGNED_OUT);
    let mut fields = vec![
        ("client_id", sign_in.config.client_id.as_str()),
        ("post_logout_redirect_uri", post_logout.as_str()),
        ("state", return_state.as_str()),
    ];
    if let Some(id_token) = id_token.as_deref() {
        fields.insert(0, ("id_token_hint", id_token));
    }
    let inputs: String = fields
        .iter()
        .map(|(name, value)| format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", escape(value)))
        .collect();
    let body = format!(
        "<p>You are signed out of the billing portal. Your browser now signs you out at your sign-in \
         provider too.</p><form method=\"post\" action=\"{action}\">{inputs}\
         <button type=\"submit\">Continue signing out</button></form><script>{SUBMIT}</script>",
        action = escape(end_session.as_str()),
    );
    let mut response = page("Signing you out", &body).into_response();
    let policy = format!(
        "default-src 'none'; script-src 'sha256-{hash}'; form-action {provider} 'self'; base-uri 'none'; \
         frame-ancestors 'none'",
        hash = *SUBMIT_HASH,
        provider = end_session.origin().ascii_serialization(),
    );
    let https = sign_in.config.is_https();
    let cookie = state_cookie(https, return_state, STATE_LIFETIME_SECONDS);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&policy).map_err(|_| RelayError::SignInUnavailable)?,
    );
    headers.append(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie.to_string()).map_err(|_| RelayError::SignInUnavailable)?,
    );
    Ok(response)
}

/// What the provider sends back after its own sign-out.
#[derive(Deserialize)]
pub struct SignedOutQuery {
    state: Option<String>,
}

/// `GET /auth/signed-out?state=…`: where the provider sends the browser
/// once its session is ended too. Says so only for the sign-out this
/// browser started, and signs nobody in by itself.
pub async fn signed_out(
    State(auth): State<Arc<Auth>>,
    headers: HeaderMap,
    query: Result<Query<SignedOutQuery>, QueryRejection>,
) -> Result<Response, RelayError> {
    let sign_in = auth.configured()?;
    let https = sign_in.config.is_https();
    let name = state_cookie_name(https);
    let expected = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == name)
        .map(|cookie| cookie.value().to_owned());
    let returned = query.ok().and_then(|Query(query)| query.state);
    let confirmed = matches!((&expected, &returned), (Some(expected), Some(returned)) if constant_time_eq(expected, returned));
    let mut response = if confirmed {
        page(
            "You are signed out",
            &format!(
                "<p>You are signed out of the billing portal and of your sign-in provider. Signing in again \
                 asks for your account.</p>{}",
                sign_in_link("Sign in")
            ),
        )
        .into_response()
    } else {
        (
            StatusCode::BAD_REQUEST,
            page(
                "This sign-out was not started here",
                &format!(
                    "<p>This page confirms a sign-out started in this browser, and none was, or it took \
                     too long. If you meant to sign out, sign in and use \"Sign out\" again.</p>{}",
                    sign_in_link("Go to the portal")
                ),
            ),
        )
            .into_response()
    };
    if expected.is_some() {
        let gone = state_cookie(https, String::new(), 0);
        if let Ok(value) = HeaderValue::from_str(&gone.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}
