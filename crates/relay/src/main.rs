use std::{io::Write, net::SocketAddr, path::PathBuf};

use clap::Parser;
use relay::{Application, RelayConfig};

/// The whitelisted relay between browsers and the vendor Billing API.
///
/// Settings come from the TOML file, then `BILLING_*` environment
/// variables, then these flags.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The TOML configuration file (see relay.example.toml).
    #[arg(long, env = "BILLING_CONFIG")]
    config: Option<PathBuf>,
    /// Add an embedded vendor emulator with a demo profile per API
    /// generation, and admit loopback clients.
    #[arg(long)]
    demo: bool,
    /// With --demo: also a profile for each way the vendor can fail, and a
    /// customer named with markup (for the browser tests).
    #[arg(long, requires = "demo")]
    demo_faults: bool,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// The built web app to serve (trunk's dist directory).
    #[arg(long)]
    app_dir: Option<PathBuf>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut config = RelayConfig::load(args.config.as_deref())?;
    config.listen = args.listen.unwrap_or(config.listen);
    config.app_dir = args.app_dir.unwrap_or(config.app_dir);
    // Kept alive for as long as the relay serves.
    let _vendor = if args.demo {
        let (vendor, profiles) = relay::demo::start_vendor(args.demo_faults).await?;
        config.profiles.extend(profiles);
        config.allowlist.extend(vendor_sim::config::loopback());
        if args.demo_faults {
            // demo-unresponsive answers after 5 s; the tests should not wait a minute.
            config.timeouts.response = std::time::Duration::from_secs(2);
        }
        Some(vendor)
    } else {
        None
    };
    anyhow::ensure!(
        !config.profiles.is_empty(),
        "no vendor profiles are configured: pass --config FILE (see relay.example.toml), \
         or run `billing-relay --demo` to use the embedded emulator"
    );
    let application = Application::build(config).await?;
    let addr = application.local_addr()?;
    // Scripts and tests read the address from this line.
    println!("billing-relay listening on http://{addr}/");
    std::io::stdout().flush()?;
    application.run_until_stopped().await?;
    Ok(())
}
