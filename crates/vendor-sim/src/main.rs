use std::net::SocketAddr;

use anyhow::Context;
use axum::http::HeaderName;
use billing::Endpoint;
use chrono::NaiveDate;
use clap::Parser;
use ipnet::IpNet;
use secrecy::SecretString;
use vendor_sim::{ApiKey, Config, DataSpec, Fault, Permission, config::loopback};

/// Serve the emulated vendor Billing API with one API key.
#[derive(Parser)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "VENDOR_SIM_LISTEN", default_value = "127.0.0.1:9090")]
    listen: SocketAddr,
    /// The API key the emulator accepts.
    #[arg(long, env = "VENDOR_SIM_KEY", hide_env_values = true)]
    key: SecretString,
    /// The request header the key arrives in.
    #[arg(long, default_value = billing::api::vendor::DEFAULT_KEY_HEADER)]
    key_header: HeaderName,
    /// Networks allowed to use the key (repeatable); loopback by default.
    #[arg(long = "whitelist")]
    whitelist: Vec<IpNet>,
    /// The one endpoint the key may read, e.g. `invoices`; all by default.
    #[arg(long, value_parser = parse_endpoint)]
    only: Option<Endpoint>,
    /// The last day the key works, YYYY-MM-DD.
    #[arg(long)]
    expires: Option<NaiveDate>,
    /// Seed of the invented reseller: the same seed gives the same documents.
    #[arg(long, default_value_t = DataSpec::default().seed)]
    seed: u64,
    /// Number of end customers; documents grow in proportion.
    #[arg(long, default_value_t = DataSpec::default().customers)]
    customers: usize,
    /// The vendor's today, YYYY-MM-DD; the real date by default.
    #[arg(long)]
    today: Option<NaiveDate>,
    /// Faults on every answer (repeatable): latency=MS, drip=BYTES:MS, drop,
    /// status500, status500=N, html200, truncate, malformed, reissue=N.
    #[arg(long = "fault")]
    faults: Vec<Fault>,
}

fn parse_endpoint(path: &str) -> Result<Endpoint, String> {
    Endpoint::from_path(path).ok_or_else(|| format!("unknown endpoint `{path}`"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let args = Args::parse();
    let key = ApiKey {
        expires: args.expires,
        permission: args.only.map_or(Permission::All, Permission::Only),
        whitelist: if args.whitelist.is_empty() { loopback() } else { args.whitelist },
        faults: args.faults,
        ..ApiKey::new("cli", args.key)
    };
    let config = Config {
        keys: vec![key],
        key_header: args.key_header,
        data: DataSpec { seed: args.seed, customers: args.customers, hostile_names: false },
        today: args.today,
    };
    let vendor = vendor_sim::spawn(args.listen, config).await.context("cannot listen")?;
    println!("vendor-sim listening on {}", vendor.base_url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
