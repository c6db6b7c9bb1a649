//! `cargo xtask serve --sign-in`: a real OpenID Connect provider on
//! 127.0.0.1 (npm's oidc-provider through `xtask/oidc/provider.mjs`) with
//! two demo people, and the relay configured to sign in through it.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Command, Stdio},
};

use anyhow::Context;
use serde_json::json;

use crate::{cmd::workspace_root, tools::Toolchain};

const CLIENT_ID: &str = "billing-portal-demo";

/// Starts the provider and points `relay` (the `billing-relay --demo`
/// command) at it through a configuration file and the client secret in
/// its environment. The provider lives as long as the relay's terminal.
pub fn configure(toolchain: &Toolchain, listen: SocketAddr, relay: &mut Command) -> anyhow::Result<()> {
    let host = if listen.ip().is_loopback() { "localhost".to_owned() } else { listen.ip().to_string() };
    // The relay is `localhost` and the provider 127.0.0.1: another site, as in production.
    let public_url = format!("http://{host}:{}", listen.port());
    let client_secret = random_hex();
    let provider_config = json!({
        "clients": [{
            "client_id": CLIENT_ID,
            "client_secret": client_secret,
            "redirect_uris": [format!("{public_url}/auth/callback")],
            "post_logout_redirect_uris": [format!("{public_url}/auth/signed-out")],
            "backchannel_logout_uri": format!("{public_url}/auth/backchannel-logout"),
            "backchannel_logout_session_required": true,
        }],
        "users": {
            "alice": { "name": "Alice (finance)", "email": "alice@demo.example", "email_verified": true, "groups": ["finance"] },
            "bob": { "name": "Bob (account manager)", "email": "bob@demo.example", "email_verified": true, "groups": ["account-managers"] },
        },
    });
    let mut provider = toolchain
        .command("node")
        .arg(workspace_root().join("xtask/oidc/provider.mjs"))
        .env("OIDC_PROVIDER_MODULES", crate::tools::node_modules()?)
        .env("OIDC_PROVIDER_CONFIG", provider_config.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start node: install Node.js (apt-get install nodejs npm)")?;
    let mut first_line = String::new();
    BufReader::new(provider.stdout.take().expect("piped")).read_line(&mut first_line)?;
    let issuer = first_line
        .trim()
        .strip_prefix("oidc-provider listening on ")
        .context("the OpenID provider did not start")?
        .to_owned();
    let config = format!(
        r#"# Written by `cargo xtask serve --sign-in`.
[sign_in]
issuer_url = "{issuer}"
client_id = "{CLIENT_ID}"
client_secret_env = "BILLING_DEMO_CLIENT_SECRET"
public_url = "{public_url}"
access_contact = "the demo's administrator"

[[access]]
profile = "demo"
allow_groups = ["finance"]

[[access]]
profile = "demo-current"
allow_groups = ["finance", "account-managers"]
"#
    );
    let dir = workspace_root().join("target/xtask");
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("sign-in-demo.toml");
    std::fs::write(&file, config)?;
    println!(
        "xtask: OpenID provider at {issuer}; sign in at {public_url}/ as alice (both profiles) or bob (demo-current)"
    );
    relay.arg("--config").arg(file).env("BILLING_DEMO_CLIENT_SECRET", client_secret);
    Ok(())
}

/// A fresh secret per run, so nothing comes to depend on a known one.
fn random_hex() -> String {
    use std::hash::{BuildHasher, RandomState};
    (0..4)
        .map(|round| format!("{:016x}", RandomState::new().hash_one((round, std::time::SystemTime::now()))))
        .collect()
}
