use std::net::SocketAddr;

use clap::Parser;
use secrecy::SecretString;

/// Serve the emulated vendor Billing API.
#[derive(Parser)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "VENDOR_SIM_LISTEN", default_value = "127.0.0.1:9090")]
    listen: SocketAddr,
    /// The API key the emulator accepts.
    #[arg(long, env = "VENDOR_SIM_KEY", hide_env_values = true)]
    key: SecretString,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let args = Args::parse();
    let vendor = vendor_sim::spawn(args.listen, vendor_sim::Config::single_key("cli", args.key)).await?;
    println!("vendor-sim listening on {}", vendor.base_url());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
