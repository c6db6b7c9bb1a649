use std::{io::Write, net::SocketAddr, path::PathBuf};

use clap::Parser;
use relay::{Application, RelayConfig};

/// The whitelisted relay between browsers and the vendor Billing API.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Run against an embedded vendor emulator with a demo profile.
    #[arg(long)]
    demo: bool,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "BILLING_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The built web app to serve (trunk's dist directory).
    #[arg(long, env = "BILLING_APP_DIR", default_value = "dist")]
    app_dir: PathBuf,
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
    anyhow::ensure!(
        args.demo,
        "no vendor profiles are configured: run `billing-relay --demo` to use the embedded emulator"
    );
    let (_vendor, profiles) = relay::demo::start_vendor().await?;
    let application =
        Application::build(RelayConfig { listen: args.listen, app_dir: args.app_dir, profiles }).await?;
    let addr = application.local_addr()?;
    // Scripts and tests read the address from this line.
    println!("billing-relay listening on http://{addr}/");
    std::io::stdout().flush()?;
    application.run_until_stopped().await?;
    Ok(())
}
