//! Scripted access: `Authorization: Bearer <JWT>` access tokens (RFC 9068)
//! that the sign-in provider issues to service accounts, checked against
//! the provider's published keys: signature, issuer, audience, expiry.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use axum::http::{HeaderMap, header};
use jsonwebtoken::{
    Algorithm, DecodingKey, Validation,
    jwk::{AlgorithmParameters, Jwk, PublicKeyUse},
};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, RwLock};

use super::claims::groups_of;
use crate::identity::User;

/// Keys are fetched again after this long even when none is missing.
const KEYS_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// An unknown key id fetches the keys again, but not more often than this:
/// tokens with invented key ids must not hammer the provider.
const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(10);
/// Longer `Authorization` values are refused unread.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// Clock difference tolerated between the provider and the relay.
pub const LEEWAY_SECONDS: u64 = 30;
/// Tokens remembered as verified; past this many the memory starts afresh.
const VERIFIED_AT_MOST: usize = 10_000;

/// Signatures with published public keys only: never `none`, never HMAC
/// (which would make anyone holding a shared secret an issuer).
pub const ACCEPTED_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Why a token was refused: `shown` to the caller, who holds the token
/// anyway, and `logged` with the specifics (never the token).
#[derive(Debug)]
pub struct Refusal {
    pub shown: &'static str,
    pub logged: String,
}

pub fn refusal(shown: &'static str, logged: impl Into<String>) -> Refusal {
    Refusal { shown, logged: logged.into() }
}

/// Why no token could be checked at all.
#[derive(Debug)]
pub enum TokenError {
    Refused(Refusal),
    /// The provider's keys cannot be fetched and none are known.
    KeysUnavailable,
}

impl From<Refusal> for TokenError {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

/// The bearer token of a request, when it sends one. Other schemes
/// (`Basic`, say) are not credentials here and are ignored.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The provider's signing keys, as last fetched.
struct Keys {
    keys: Vec<Jwk>,
    fetched: Option<Instant>,
}

/// The provider's published signing keys, fetched when first needed, when
/// old, and (at most every 10 s) when a token names one not yet known.
pub struct ProviderKeys {
    keys: RwLock<Keys>,
    /// One fetch at a time; the others wait for its result.
    fetching: Mutex<()>,
}

/// Checks access tokens for one issuer and audience.
pub struct AccessTokens {
    issuer: String,
    audience: String,
    /// Accepted `typ` headers, lowercase.
    types: Vec<String>,
    groups_claim: String,
    /// The keys that sign access tokens, ID tokens and logout tokens alike.
    pub keys: ProviderKeys,
    /// Tokens already verified, by their SHA-256, until they expire: a
    /// script sends the same token with every request, and checking its
    /// signature again each time tripled a small document's cost.
    verified: std::sync::Mutex<HashMap<[u8; 32], (User, i64)>>,
}

/// The claims the relay reads; the rest are looked up by name.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    client_id: Option<String>,
    iat: Option<i64>,
    exp: i64,
    #[serde(flatten)]
    other: serde_json::Map<String, Value>,
}

impl AccessTokens {
    pub fn new(issuer: String, audience: String, types: Vec<String>, groups_claim: String) -> Self {
        Self {
            issuer,
            audience,
            types,
            groups_claim,
            keys: ProviderKeys {
                keys: RwLock::new(Keys { keys: Vec::new(), fetched: None }),
                fetching: Mutex::new(()),
            },
            verified: std::sync::Mutex::new(HashMap::new()),
        }
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// The caller a token vouches for. `jwks_uri` is the provider's key set,
    /// fetched with `http` when the token names a key not yet known.
    pub async fn verify(
        &self,
        token: &str,
        http: &reqwest::Client,
        jwks_uri: &reqwest::Url,
    ) -> Result<User, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(refusal("the token is too long", format!("{} bytes", token.len())).into());
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = chrono::Utc::now().timestamp();
        if let Some((user, expires)) = self.remembered().get(&digest)
            && now < *expires
        {
            return Ok(user.clone());
        }
        let header = jsonwebtoken::decode_header(token).map_err(|error| {
            // `alg: none` and any unknown algorithm end here.
            refusal("the token is not a signed JWT", format!("header: {error}"))
        })?;
        if !ACCEPTED_ALGORITHMS.contains(&header.alg) {
            return Err(refusal(
                "the token is not signed with one of the provider's public keys",
                format!("algorithm {:?}", header.alg),
            )
            .into());
        }
        let typ = header.typ.as_deref().unwrap_or_default().to_ascii_lowercase();
        if !self.types.contains(&typ) {
            return Err(refusal(
                "the token is not an access token (its typ header is not one the relay accepts)",
                format!("typ {typ:?}"),
            )
            .into());
        }
        let kid = header.kid.ok_or_else(|| refusal("the token names no signing key", "no kid"))?;
        let key = self.keys.decoding_key(&kid, http, jwks_uri).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        // A token the provider dated for later is not good yet.
        validation.validate_nbf = true;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|error| {
                use jsonwebtoken::errors::ErrorKind;
                let shown = match error.kind() {
                    ErrorKind::ExpiredSignature => "the token has expired",
                    ErrorKind::InvalidAudience => "the token is meant for another service (audience)",
                    ErrorKind::InvalidIssuer => "the token comes from another issuer",
                    ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => {
                        "the token's signature does not verify"
                    }
                    ErrorKind::ImmatureSignature => "the token is not valid yet",
                    _ => "the token's claims cannot be read",
                };
                refusal(shown, format!("key {kid}: {error}"))
            })?
            .claims;
        let expires = claims.exp + LEEWAY_SECONDS as i64;
        let user = self.user(claims);
        let mut remembered = self.remembered();
        if remembered.len() >= VERIFIED_AT_MOST {
            remembered.retain(|_, (_, until)| now < *until);
            if remembered.len() >= VERIFIED_AT_MOST {
                remembered.clear();
            }
        }
        remembered.insert(digest, (user.clone(), expires));
        Ok(user)
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], (User, i64)>> {
        // A panic elsewhere while holding the lock leaves consistent data.
        self.verified.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn user(&self, claims: Claims) -> User {
        let text = |name: &str| claims.other.get(name).and_then(Value::as_str).map(str::to_owned);
        let email_verified = claims.other.get("email_verified").and_then(Value::as_bool) == Some(true);
        User {
            issuer: self.issuer.clone(),
            name: text("name").or_else(|| claims.client_id.clone()),
            email: text("email").filter(|_| email_verified),
            email_verified,
            groups: groups_of(claims.other.get(&self.groups_claim)),
            signed_in_at: claims.iat.unwrap_or_else(|| chrono::Utc::now().timestamp()),
            client_id: claims.client_id,
            subject: claims.sub,
            provider_session: None,
        }
    }
}

impl ProviderKeys {
    /// The key named `kid`, ready to check a signature with.
    pub async fn decoding_key(
        &self,
        kid: &str,
        http: &reqwest::Client,
        jwks_uri: &reqwest::Url,
    ) -> Result<DecodingKey, TokenError> {
        let jwk = self.key(kid, http, jwks_uri).await?;
        Ok(DecodingKey::from_jwk(&jwk)
            .map_err(|error| refusal("the token's signing key is unusable", format!("key {kid}: {error}")))?)
    }

    /// The answer the keys in hand give, or `None` when they must be fetched.
    async fn cached(&self, kid: &str) -> Option<Result<Jwk, TokenError>> {
        let keys = self.keys.read().await;
        let fresh = keys.fetched.is_some_and(|at| at.elapsed() < KEYS_LIFETIME);
        let may_refetch = keys.fetched.is_none_or(|at| at.elapsed() >= REFETCH_AT_MOST_EVERY);
        match find(&keys.keys, kid) {
            Some(jwk) if fresh => Some(Ok(jwk)),
            None if !may_refetch => Some(Err(unknown_key(kid).into())),
            _ => None,
        }
    }

    /// The published key named `kid`, fetching the set again when it is
    /// old or lacks that key.
    async fn key(
        &self,
        kid: &str,
        http: &reqwest::Client,
        jwks_uri: &reqwest::Url,
    ) -> Result<Jwk, TokenError> {
        if let Some(known) = self.cached(kid).await {
            return known;
        }
        let _fetching = self.fetching.lock().await;
        // Another request may have fetched them while this one waited.
        if let Some(known) = self.cached(kid).await {
            return known;
        }
        match fetch_keys(http, jwks_uri).await {
            Ok(fetched) => {
                let mut keys = self.keys.write().await;
                *keys = Keys { keys: fetched, fetched: Some(Instant::now()) };
                find(&keys.keys, kid).ok_or_else(|| unknown_key(kid).into())
            }
            Err(error) => {
                tracing::error!(%jwks_uri, error = %format!("{error:#}"), "cannot fetch the provider's keys");
                let mut keys = self.keys.write().await;
                // Known keys stay usable while the provider is away; wait before asking again.
                if keys.fetched.is_some() {
                    keys.fetched = Some(Instant::now() - KEYS_LIFETIME + REFETCH_AT_MOST_EVERY);
                }
                match find(&keys.keys, kid) {
                    Some(jwk) => Ok(jwk),
                    None if keys.keys.is_empty() => Err(TokenError::KeysUnavailable),
                    None => Err(unknown_key(kid).into()),
                }
            }
        }
    }
}

fn unknown_key(kid: &str) -> Refusal {
    let kid: String = kid.chars().take(64).collect();
    refusal("the token is signed with a key the provider does not publish", format!("unknown key {kid:?}"))
}

fn find(keys: &[Jwk], kid: &str) -> Option<Jwk> {
    keys.iter().find(|jwk| jwk.common.key_id.as_deref() == Some(kid)).cloned()
}

/// The provider's public signing keys; symmetric keys, encryption keys
/// and keys this crate cannot read are left out rather than failing the set.
async fn fetch_keys(http: &reqwest::Client, jwks_uri: &reqwest::Url) -> anyhow::Result<Vec<Jwk>> {
    #[derive(Deserialize)]
    struct KeySet {
        keys: Vec<Value>,
    }
    let response = http.get(jwks_uri.clone()).send().await?.error_for_status()?;
    let set: KeySet = response.json().await?;
    Ok(set
        .keys
        .into_iter()
        .filter_map(|key| serde_json::from_value::<Jwk>(key).ok())
        .filter(|jwk| !matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)))
        .filter(|jwk| !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)))
        .collect())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn only_the_bearer_scheme_carries_a_token() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic YWxpY2U6eA=="));
        assert_eq!(bearer_token(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer abc.def.ghi"));
        assert_eq!(bearer_token(&headers), Some("abc.def.ghi"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer"));
        assert_eq!(bearer_token(&headers), None);
    }
}
