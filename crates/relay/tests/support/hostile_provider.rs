//! A provider that lies: discovery and keys like a real one, but its token
//! endpoint answers with whichever forged ID token the test asks for. The
//! real provider never issues these; an attacker or a broken provider might.

use std::sync::{Arc, Mutex};

use axum::{Json, Router, extract::State, routing::get, routing::post};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use rsa::{
    RsaPrivateKey, RsaPublicKey,
    pkcs1v15::SigningKey,
    pkcs8::DecodePrivateKey,
    signature::{SignatureEncoding, Signer},
    traits::PublicKeyParts,
};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::net::TcpListener;

/// What the next ID token gets wrong.
#[derive(Clone, Copy, Debug)]
pub enum Forgery {
    /// Nothing: the control case, which must sign in.
    None,
    WrongNonce,
    WrongIssuer,
    WrongAudience,
    Expired,
    UnsignedAlgNone,
    /// HMAC with the client secret as the key.
    Hs256WithClientSecret,
    /// Signed with a key the provider never published.
    UnknownKey,
    /// Signed with another key under the published key's id.
    ForeignKeyUnderPublishedId,
    /// An access token typed as a plain JWT, as an ID token is.
    NotAnAccessToken,
    /// Valid only from an hour from now.
    NotYetValid,
}

struct Forger {
    issuer: String,
    client_id: String,
    client_secret: String,
    published: RsaPrivateKey,
    unpublished: RsaPrivateKey,
    next: Mutex<(Forgery, String)>,
    /// Once rotated, the provider publishes and signs with the second key.
    rotated: std::sync::atomic::AtomicBool,
}

pub struct HostileProvider {
    pub issuer: String,
    forger: Arc<Forger>,
}

const PUBLISHED_KID: &str = "published-1";
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
const ROTATED_KID: &str = "published-2";

fn key(pem: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(pem).expect("a test key")
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl HostileProvider {
    pub async fn start(client_id: &str, client_secret: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let forger = Arc::new(Forger {
            issuer: issuer.clone(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            published: key(include_str!("hostile-provider-key-1.pem")),
            unpublished: key(include_str!("hostile-provider-key-2.pem")),
            next: Mutex::new((Forgery::None, String::new())),
            rotated: std::sync::atomic::AtomicBool::new(false),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .with_state(forger.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { issuer, forger }
    }

    /// The next token answers `nonce` (as the relay sent it) with `forgery`.
    pub fn forge_next(&self, forgery: Forgery, nonce: &str) {
        *self.forger.next.lock().unwrap() = (forgery, nonce.to_owned());
    }

    /// A service account's access token for `audience`, with `forgery`.
    pub fn access_token(&self, forgery: Forgery, audience: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "iss": self.forger.issuer, "sub": "month-end-export", "client_id": "month-end-export",
            "aud": audience, "iat": now, "exp": now + 300, "jti": format!("at-{now}"),
            "groups": ["finance"], "scope": "documents",
        });
        self.forger.forge(forgery, &mut claims, "at+jwt")
    }

    /// A back-channel logout token for the person its ID tokens name, for
    /// this provider's client, with `forgery` and then `edit` applied.
    pub fn logout_token(&self, forgery: Forgery, edit: impl FnOnce(&mut Value)) -> String {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let now = chrono::Utc::now().timestamp();
        let jti = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mut claims = json!({
            "iss": self.forger.issuer, "sub": "mallory", "aud": self.forger.client_id,
            "iat": now, "exp": now + 120, "jti": format!("logout-{now}-{jti}"),
            "events": { LOGOUT_EVENT: {} },
        });
        edit(&mut claims);
        self.forger.forge(forgery, &mut claims, "logout+jwt")
    }

    /// Publishes a new signing key in place of the old one, as providers
    /// rotate them; tokens are signed with the new one from now on.
    pub fn rotate_keys(&self) {
        self.forger.rotated.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Forger {
    /// The key in use and its id.
    fn signing(&self) -> (&RsaPrivateKey, &'static str) {
        if self.rotated.load(std::sync::atomic::Ordering::SeqCst) {
            (&self.unpublished, ROTATED_KID)
        } else {
            (&self.published, PUBLISHED_KID)
        }
    }

    /// `claims` with `forgery` applied, signed (or not) as it says.
    fn forge(&self, forgery: Forgery, claims: &mut Value, typ: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        match forgery {
            Forgery::WrongNonce => claims["nonce"] = json!("not-the-relays-nonce"),
            Forgery::WrongIssuer => claims["iss"] = json!("https://issuer.evil.example"),
            Forgery::WrongAudience => claims["aud"] = json!("another-client"),
            Forgery::Expired => {
                claims["iat"] = json!(now - 7200);
                claims["exp"] = json!(now - 3600);
            }
            Forgery::NotYetValid => {
                claims["nbf"] = json!(now + 3600);
                claims["exp"] = json!(now + 7200);
            }
            _ => {}
        }
        let (signing_key, signing_kid) = self.signing();
        let (alg, kid) = match forgery {
            Forgery::UnsignedAlgNone => ("none", None),
            Forgery::Hs256WithClientSecret => ("HS256", None),
            Forgery::UnknownKey => ("RS256", Some("never-published")),
            _ => ("RS256", Some(signing_kid)),
        };
        let typ = if matches!(forgery, Forgery::NotAnAccessToken) { "JWT" } else { typ };
        let mut header = json!({ "alg": alg, "typ": typ });
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let signing_input =
            format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let signature = match forgery {
            Forgery::UnsignedAlgNone => Vec::new(),
            Forgery::Hs256WithClientSecret => {
                let mut mac = Hmac::<Sha256>::new_from_slice(self.client_secret.as_bytes()).unwrap();
                mac.update(signing_input.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            Forgery::UnknownKey | Forgery::ForeignKeyUnderPublishedId => {
                let foreign = if std::ptr::eq(signing_key, &self.published) {
                    &self.unpublished
                } else {
                    &self.published
                };
                SigningKey::<Sha256>::new(foreign.clone()).sign(signing_input.as_bytes()).to_vec()
            }
            _ => SigningKey::<Sha256>::new(signing_key.clone()).sign(signing_input.as_bytes()).to_vec(),
        };
        format!("{signing_input}.{}", b64(&signature))
    }
}

async fn discovery(State(forger): State<Arc<Forger>>) -> Json<Value> {
    let issuer = &forger.issuer;
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        // Advertising HS256 and none must not make the relay accept them.
        "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
    }))
}

async fn jwks(State(forger): State<Arc<Forger>>) -> Json<Value> {
    let (key, kid) = forger.signing();
    let public = RsaPublicKey::from(key);
    Json(json!({ "keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": b64(&public.n().to_bytes_be()), "e": b64(&public.e().to_bytes_be()),
    }]}))
}

async fn token(State(forger): State<Arc<Forger>>) -> Json<Value> {
    let (forgery, nonce) = forger.next.lock().unwrap().clone();
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": forger.issuer, "sub": "mallory", "aud": forger.client_id,
        "iat": now, "exp": now + 300, "nonce": nonce,
        "email": "alice@corp.example", "email_verified": true, "groups": ["finance"],
    });
    let id_token = forger.forge(forgery, &mut claims, "JWT");
    Json(json!({
        "access_token": "hostile-access-token",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": id_token,
    }))
}
