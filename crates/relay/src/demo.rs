//! `--demo`: the relay in front of an in-process vendor emulator, so the
//! product runs on a fresh machine with no vendor account. With faults, it
//! adds a profile for each way the vendor can fail, for the browser tests.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};

use billing::Generation;
use secrecy::SecretString;
use vendor_sim::{ApiKey, DataSpec, Fault, RunningVendor};

use crate::{
    Profile,
    config::{AlertRule, Job, WindowRule},
};

/// Starts the emulator on an ephemeral loopback port and returns a profile
/// for each API generation that reaches it, and with `faults` one per vendor
/// failure; the emulator stops when the handle is dropped.
pub async fn start_vendor(faults: bool) -> std::io::Result<(RunningVendor, Vec<Profile>)> {
    let key = |name: &str| SecretString::from(format!("{name}-{}", random_suffix()));
    let demo_key = key("demo");
    let mut keys = vec![ApiKey::new("demo", demo_key.clone())];
    // (profile, vendor key restrictions or faults)
    let mut failing: Vec<(&str, SecretString)> = Vec::new();
    if faults {
        let with_faults = |name: &str, faults: &[&str]| ApiKey {
            faults: faults.iter().map(|fault| fault.parse::<Fault>().expect("a known fault")).collect(),
            ..ApiKey::new(name, key(name))
        };
        let elsewhere = ApiKey {
            whitelist: vec!["192.0.2.0/24".parse().expect("a network")],
            ..ApiKey::new("far", key("far"))
        };
        for vendor_key in [
            elsewhere,
            with_faults("failing", &["status500"]),
            with_faults("slow", &["drip=2048:100"]),
            with_faults("maintenance", &["html200"]),
            with_faults("malformed", &["malformed"]),
            with_faults("unresponsive", &["latency=5000"]),
        ] {
            let profile = match vendor_key.name.as_str() {
                "far" => "demo-unwhitelisted",
                "failing" => "demo-failing",
                "slow" => "demo-slow",
                "maintenance" => "demo-maintenance",
                "unresponsive" => "demo-unresponsive",
                _ => "demo-malformed",
            };
            failing.push((profile, vendor_key.secret.clone()));
            keys.push(vendor_key);
        }
        failing.push(("demo-revoked", key("revoked")));
    }
    let config = vendor_sim::Config {
        keys,
        data: DataSpec { hostile_names: faults, ..DataSpec::default() },
        ..vendor_sim::Config::single_key("unused", SecretString::from(String::new()))
    };
    let vendor = vendor_sim::spawn(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await?;
    let profile = |name: &str, generation: Generation, base_url: String, key: SecretString| {
        Profile::whole_generation(name, "DEMO", generation, base_url, key)
    };
    let mut profiles = vec![
        profile("demo", Generation::Legacy, vendor.base_url(), demo_key.clone()),
        profile("demo-current", Generation::Current, vendor.base_url(), demo_key.clone()),
    ];
    for (name, key) in failing {
        profiles.push(profile(name, Generation::Legacy, vendor.base_url(), key));
    }
    if faults {
        profiles.push(profile("demo-down", Generation::Legacy, closed_port_url()?, demo_key));
    }
    Ok((vendor, profiles))
}

/// `--demo-job`: last month's purchase invoices of the demo profile with
/// their sales side, so the Archive tab has a run to show.
pub fn job() -> Job {
    Job {
        name: "demo-last-month".to_owned(),
        profile: "demo".to_owned(),
        endpoint: billing::Endpoint::Invoices,
        version: None,
        format: billing::Format::Xml,
        window: WindowRule::LastMonth,
        other_side: true,
        retries: 3,
        retry_wait: std::time::Duration::from_secs(10),
        tell: Vec::new(),
        webhooks: Vec::new(),
        alert: AlertRule::Always,
    }
}

/// A loopback URL where nothing listens.
fn closed_port_url() -> std::io::Result<String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(format!("http://{}", listener.local_addr()?))
}

/// Fresh keys per run, so nothing comes to depend on a well-known demo key.
fn random_suffix() -> String {
    use std::hash::{BuildHasher, RandomState};
    let random = RandomState::new().hash_one(std::time::SystemTime::now());
    format!("{random:016x}")
}
