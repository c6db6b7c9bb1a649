//! The hosted setup for `cargo xtask bench`: relays with sign-in on (a
//! session in memory, a session in Redis) and two relays behind nginx
//! sharing Redis, each reached with a real session cookie got by signing
//! in at the real OpenID Connect provider with curl.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    time::Duration,
};

use anyhow::{Context, bail};
use serde_json::json;

use crate::{
    cmd::workspace_root,
    processes::{Running, free_port, start_announcing, start_relay},
    tools::Toolchain,
};

const CLIENT_ID: &str = "billing-relay-bench";
const CLIENT_SECRET: &str = "bench-client-secret-3b9e1f";
const SERVICE_CLIENT: &str = "bench-export";
const COOKIE_KEY: &str = "5e0c3a9f1b7d2e8a4c6f0b1d3e5a7c9f2b4d6e8a0c1e3f5a7b9d0c2e4f6a8b1d3c5e";

/// Where each hosted variant answers, and the header that signs it in.
pub struct Hosted {
    /// One relay, sessions in its memory.
    pub memory: String,
    /// `Cookie: billing_session=…` for it.
    pub memory_cookie: String,
    /// One relay, sessions in Redis.
    pub redis: String,
    /// nginx round-robin over that relay and a second one, both on Redis.
    pub pair: String,
    /// `Cookie: …`, valid on every relay that shares Redis.
    pub redis_cookie: String,
    /// `Authorization: Bearer …`: a service account's access token.
    pub bearer: String,
    _processes: Vec<Running>,
}

/// `base_config` is the bench relay's configuration (profiles, limits);
/// sign-in and sessions are added to it.
pub fn start(
    toolchain: &Toolchain,
    binaries: &Path,
    scratch: &Path,
    base_config: &str,
) -> anyhow::Result<Hosted> {
    let mut processes = Vec::new();
    let redis_port = free_port()?;
    let mut redis = Command::new("redis-server");
    redis.args(["--bind", "127.0.0.1", "--port", &redis_port.to_string()]).args([
        "--save",
        "",
        "--appendonly",
        "no",
    ]);
    let (redis, _) = start_announcing_line(redis, "Ready to accept connections")?;
    processes.push(redis);
    let redis_url = format!("redis://127.0.0.1:{redis_port}/0");

    let [memory_port, pair_port] = [free_port()?, free_port()?];
    let memory_public = format!("http://localhost:{memory_port}");
    let pair_public = format!("http://localhost:{pair_port}");
    let provider_config = json!({
        "clients": [{
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [format!("{memory_public}/auth/callback"), format!("{pair_public}/auth/callback")],
        }, {
            "client_id": SERVICE_CLIENT,
            "client_secret": CLIENT_SECRET,
            "grant_types": ["client_credentials"],
            "redirect_uris": [],
            "response_types": [],
        }],
        "users": { "alice": { "name": "Alice", "email": "alice@bench.example", "email_verified": true, "groups": ["finance"] } },
    });
    let mut provider = toolchain.command("node");
    provider
        .arg(workspace_root().join("xtask/oidc/provider.mjs"))
        .env("OIDC_PROVIDER_MODULES", crate::tools::node_modules()?)
        .env("OIDC_PROVIDER_CONFIG", provider_config.to_string());
    let (provider, issuer) = start_announcing(provider, "oidc-provider listening on ")?;
    processes.push(provider);

    let relay = |name: &str,
                 listen: &str,
                 public_url: &str,
                 redis: bool|
     -> anyhow::Result<(Running, String)> {
        let sessions = if redis {
            format!("[sessions]\nredis_url = \"{redis_url}\"\ncookie_key_env = \"BENCH_COOKIE_KEY\"\n")
        } else {
            String::new()
        };
        let config = base_config.replace("listen = \"127.0.0.1:0\"", &format!("listen = \"{listen}\""))
            + &format!(
                "\n{sessions}\n[sign_in]\nissuer_url = \"{issuer}\"\nclient_id = \"{CLIENT_ID}\"\n\
                 client_secret_env = \"BENCH_CLIENT_SECRET\"\npublic_url = \"{public_url}\"\n\n\
                 [[access]]\nprofile = \"bench\"\nallow_groups = [\"finance\"]\nallow_clients = [\"{SERVICE_CLIENT}\"]\n"
            );
        let file = scratch.join(format!("relay-{name}.toml"));
        std::fs::write(&file, config)?;
        let secrets = [("BENCH_CLIENT_SECRET", CLIENT_SECRET), ("BENCH_COOKIE_KEY", COOKIE_KEY)];
        start_relay(binaries, &file, &scratch.join(format!("data-{name}")), &secrets)
    };
    let (memory_relay, _) = relay("memory", &format!("127.0.0.1:{memory_port}"), &memory_public, false)?;
    processes.push(memory_relay);
    let (first, redis) = relay("redis-1", "127.0.0.1:0", &pair_public, true)?;
    processes.push(first);
    let (second, second_url) = relay("redis-2", "127.0.0.1:0", &pair_public, true)?;
    processes.push(second);

    let nginx_dir = scratch.join("nginx-pair");
    std::fs::create_dir_all(&nginx_dir)?;
    let upstreams = [&redis, &second_url].map(|url| url.trim_start_matches("http://").to_owned());
    std::fs::write(nginx_dir.join("nginx.conf"), pair_config(&nginx_dir, pair_port, &upstreams))?;
    processes.push(crate::processes::start_nginx(toolchain, &nginx_dir)?);
    std::thread::sleep(Duration::from_millis(500));

    let memory_cookie = session_cookie(&memory_public, &scratch.join("jar-memory.txt"))?;
    let redis_cookie = session_cookie(&pair_public, &scratch.join("jar-pair.txt"))?;
    let bearer = format!("Authorization: Bearer {}", service_token(&issuer, &pair_public)?);
    Ok(Hosted {
        memory: memory_public,
        memory_cookie,
        redis,
        pair: pair_public,
        redis_cookie,
        bearer,
        _processes: processes,
    })
}

/// Starts `command` and waits for a stdout line containing `marker`.
fn start_announcing_line(mut command: Command, marker: &str) -> anyhow::Result<(Running, String)> {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().context("cannot start")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let running = Running(child);
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line?;
        if line.contains(marker) {
            // The rest is not read; a thread keeps the pipe drained.
            std::thread::spawn(move || lines.for_each(drop));
            return Ok((running, line));
        }
    }
    bail!("the process ended without printing `{marker}`")
}

/// Signs alice in at `relay` through the provider's login form with curl,
/// and returns the session cookie as a `Cookie` header value.
fn session_cookie(relay: &str, jar: &Path) -> anyhow::Result<String> {
    let _ = std::fs::remove_file(jar);
    let curl = |args: &[&str]| -> anyhow::Result<String> {
        let output = Command::new("curl")
            .args(["--silent", "--show-error", "--output", "/dev/null", "--cookie"])
            .arg(jar)
            .arg("--cookie-jar")
            .arg(jar)
            .args(args)
            .output()
            .context("cannot run curl")?;
        anyhow::ensure!(
            output.status.success(),
            "curl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let authorization = curl(&["--write-out", "%{redirect_url}", &format!("{relay}/auth/login")])?;
    let form = curl(&["--location", "--write-out", "%{url_effective}", &authorization])?;
    anyhow::ensure!(form.contains("/interaction/"), "the provider did not show its login form: {form}");
    let landed = curl(&[
        "--location",
        "--write-out",
        "%{url_effective}",
        "--data",
        "login=alice",
        &format!("{form}/login"),
    ])?;
    anyhow::ensure!(landed.starts_with(relay), "the sign-in ended at {landed}, not the relay");
    let jar = std::fs::read_to_string(jar)?;
    let line = jar
        .lines()
        .find(|line| line.contains("\tbilling_session\t"))
        .context("no session cookie after signing in")?;
    let value = line.rsplit('\t').next().context("a cookie line without value")?;
    Ok(format!("Cookie: billing_session={value}"))
}

/// The service account's access token for `audience`, as the README's
/// month-end script gets one.
fn service_token(issuer: &str, audience: &str) -> anyhow::Result<String> {
    let output = Command::new("curl")
        .args(["--silent", "--show-error", "--fail", "--user", &format!("{SERVICE_CLIENT}:{CLIENT_SECRET}")])
        .args(["--data", "grant_type=client_credentials", "--data", "scope=documents"])
        .args(["--data-urlencode", &format!("resource={audience}")])
        .arg(format!("{issuer}/token"))
        .output()
        .context("cannot run curl")?;
    anyhow::ensure!(output.status.success(), "no token: {}", String::from_utf8_lossy(&output.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    answer["access_token"].as_str().map(str::to_owned).context("the provider sent no access token")
}

/// nginx in front of two relays, as in the README's "Hosting for a team"
/// (without TLS here, to compare with nginx alone in front of the emulator).
fn pair_config(dir: &Path, port: u16, upstreams: &[String; 2]) -> String {
    let [first, second] = upstreams;
    let http = format!(
        r#"    upstream relays {{ server {first}; server {second}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://relays;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"#
    );
    crate::processes::nginx_config_in(dir, &http)
}
