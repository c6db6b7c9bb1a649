//! What the relay serves and on whose behalf.

use std::{net::SocketAddr, path::PathBuf};

use billing::{Endpoint, Generation, ProfileSummary};
use secrecy::SecretString;

pub struct RelayConfig {
    pub listen: SocketAddr,
    /// The built web app (trunk's `dist/`).
    pub app_dir: PathBuf,
    pub profiles: Vec<Profile>,
}

/// One vendor API key and how to reach the vendor with it.
pub struct Profile {
    pub name: String,
    pub environment: String,
    pub generation: Generation,
    pub base_url: String,
    pub versions: Vec<String>,
    pub endpoints: Vec<Endpoint>,
    pub key: SecretString,
    pub key_header: String,
}

impl Profile {
    /// What a browser may know about this profile: never the key or URL.
    pub fn summary(&self) -> ProfileSummary {
        ProfileSummary {
            name: self.name.clone(),
            environment: self.environment.clone(),
            generation: self.generation,
            versions: self.versions.clone(),
            endpoints: self.endpoints.clone(),
        }
    }
}
