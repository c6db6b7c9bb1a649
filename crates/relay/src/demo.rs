//! `--demo`: the relay in front of an in-process vendor emulator, so the
//! product runs on a fresh machine with no vendor account.

use std::net::{Ipv4Addr, SocketAddr};

use billing::Generation;
use secrecy::SecretString;
use vendor_sim::RunningVendor;

use crate::Profile;

/// Starts the emulator on an ephemeral loopback port and returns a profile
/// for each API generation that reaches it; the emulator stops when the
/// handle is dropped.
pub async fn start_vendor() -> std::io::Result<(RunningVendor, Vec<Profile>)> {
    let key = SecretString::from(demo_key());
    let vendor = vendor_sim::spawn(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        vendor_sim::Config::single_key("demo", key.clone()),
    )
    .await?;
    let profile = |name: &str, generation: Generation| Profile {
        name: name.to_owned(),
        environment: "DEMO".to_owned(),
        generation,
        base_url: vendor.base_url(),
        versions: generation.versions().iter().map(|v| (*v).to_owned()).collect(),
        endpoints: generation.endpoints().to_vec(),
        key: key.clone(),
        key_header: vendor_sim::DEFAULT_KEY_HEADER.to_owned(),
    };
    let profiles = vec![profile("demo", Generation::Legacy), profile("demo-current", Generation::Current)];
    Ok((vendor, profiles))
}

/// A fresh key per run, so nothing comes to depend on a well-known demo key.
fn demo_key() -> String {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new().hash_one(std::time::SystemTime::now());
    format!("demo-{random:016x}")
}
