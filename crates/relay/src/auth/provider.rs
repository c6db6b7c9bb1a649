//! The OpenID Connect provider as discovery describes it, and sign-in as
//! configured against it: its client, its keys, and access tokens checked
//! with them.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use openidconnect::{
    AdditionalProviderMetadata, ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IssuerUrl, ProviderMetadata, RedirectUrl,
    core::{
        CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType,
        CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
        CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
    },
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use super::tokens::{AccessTokens, TokenError};
use crate::{RelayError, config::SignInConfig, identity::User};

/// Provider metadata and keys are fetched again after this long.
const METADATA_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Only signatures with the provider's published keys: never `none`, and
/// never HMAC, which would make the shared client secret a signing key.
pub(crate) const ACCEPTED_ALGORITHMS: [CoreJwsSigningAlgorithm; 8] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

/// Discovery's `end_session_endpoint`, which the core metadata lacks.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct LogoutMetadata {
    end_session_endpoint: Option<String>,
}

impl AdditionalProviderMetadata for LogoutMetadata {}

type Metadata = ProviderMetadata<
    LogoutMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The provider as discovery described it.
pub(crate) struct Provider {
    pub(crate) client: OidcClient,
    pub(crate) end_session: Option<reqwest::Url>,
    /// Where the provider publishes the keys that sign its tokens.
    pub(crate) jwks_uri: reqwest::Url,
    fetched: Instant,
}

/// Sign-in as configured, with the provider's metadata fetched when first
/// needed and again when it grows old.
pub struct SignIn {
    pub config: SignInConfig,
    /// Never follows redirects: a provider's answer must come from itself.
    pub(crate) http: reqwest::Client,
    provider: RwLock<Option<Arc<Provider>>>,
    pub(crate) tokens: AccessTokens,
}

pub(crate) fn now_seconds() -> i64 {
    chrono::Utc::now().timestamp()
}

impl SignIn {
    pub fn new(config: SignInConfig, connect_timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .timeout(Duration::from_secs(20))
            .build()?;
        let tokens = AccessTokens::new(
            config.issuer_url.clone(),
            config.token_audience.clone(),
            config.token_types.clone(),
            config.groups_claim.clone(),
        );
        Ok(Self { config, http, provider: RwLock::new(None), tokens })
    }

    /// The provider's metadata and keys, fetched again when old.
    pub(crate) async fn provider(&self) -> Result<Arc<Provider>, RelayError> {
        if let Some(provider) = self.provider.read().await.as_ref()
            && provider.fetched.elapsed() < METADATA_LIFETIME
        {
            return Ok(provider.clone());
        }
        let mut cached = self.provider.write().await;
        // Another request may have fetched it while this one waited.
        if let Some(provider) = cached.as_ref()
            && provider.fetched.elapsed() < METADATA_LIFETIME
        {
            return Ok(provider.clone());
        }
        match self.discover().await {
            Ok(provider) => {
                let provider = Arc::new(provider);
                *cached = Some(provider.clone());
                Ok(provider)
            }
            Err(error) => {
                tracing::error!(issuer = %self.config.issuer_url, error = %format!("{error:#}"), "OpenID discovery failed");
                // A provider that was reachable a moment ago is still better than none.
                cached.clone().ok_or(RelayError::SignInUnavailable)
            }
        }
    }

    /// Reads the provider's metadata and keys now; the relay calls this at
    /// start so a wrong issuer shows in the log at once.
    pub async fn check_provider(&self) {
        if self.provider().await.is_ok() {
            tracing::info!(issuer = %self.config.issuer_url, "sign-in provider discovered");
        }
    }

    async fn discover(&self) -> anyhow::Result<Provider> {
        let issuer = IssuerUrl::new(self.config.issuer_url.clone())?;
        let metadata = Metadata::discover_async(issuer, &self.http).await?;
        let jwks_uri = reqwest::Url::parse(metadata.jwks_uri().url().as_str())?;
        let end_session = metadata
            .additional_metadata()
            .end_session_endpoint
            .as_deref()
            .map(reqwest::Url::parse)
            .transpose()?;
        let redirect = format!("{}auth/callback", self.config.public_url);
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(self.config.client_secret.expose_secret().to_owned())),
        )
        .set_redirect_uri(RedirectUrl::new(redirect)?);
        Ok(Provider { client, end_session, jwks_uri, fetched: Instant::now() })
    }

    /// The service account or person an access token vouches for.
    pub(crate) async fn verify_access_token(&self, token: &str) -> Result<User, RelayError> {
        let provider = self.provider().await.map_err(|_| RelayError::TokenKeysUnavailable)?;
        self.tokens.verify(token, &self.http, &provider.jwks_uri).await.map_err(|error| match error {
            TokenError::KeysUnavailable => RelayError::TokenKeysUnavailable,
            TokenError::Refused(refusal) => {
                tracing::info!(reason = %refusal.logged, "access token refused");
                RelayError::TokenInvalid {
                    reason: refusal.shown,
                    audience: self.tokens.audience().to_owned(),
                }
            }
        })
    }
}
