//! `cargo xtask serve | test | bench`: the two README commands and the
//! benchmarks, each installing what it needs first.

mod archive_bench;
mod bench;
mod cmd;
mod goals;
mod hosting_bench;
#[cfg(test)]
mod modules;
mod page;
mod precompress;
mod processes;
mod relay_bench;
mod sign_in_demo;
mod test;
mod tools;

use std::net::SocketAddr;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Build, run and check billing-portal")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Install what is missing, build the app in release mode and run
    /// `billing-relay --demo` serving it.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Also start a local OpenID Connect provider and sign in through
        /// it: alice may use both demo profiles, bob only demo-current.
        #[arg(long)]
        sign_in: bool,
    },
    /// Install what is missing and run every check and test, stopping at the
    /// first failure.
    Test,
    /// Report what a first page load costs and how fast documents parse.
    Bench {
        /// Only the relay beside nginx (throughput, latency, memory), not
        /// the app's figures.
        #[arg(long)]
        relay_only: bool,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Serve { listen, sign_in } => serve(listen, sign_in),
        Task::Test => return test::run(),
        Task::Bench { relay_only } => bench::run(relay_only),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn serve(listen: SocketAddr, sign_in: bool) -> anyhow::Result<()> {
    let toolchain = tools::Toolchain::ensure(tools::Needs::Build)?;
    if sign_in {
        toolchain.ensure_oidc_provider()?;
    }
    crate::page::build_app(&toolchain)?;
    cmd::run(toolchain.command("cargo").args([
        "build",
        "--release",
        "--package",
        "relay",
        "--bin",
        "billing-relay",
        // The embedded emulator; a relay built for real keys can leave it out.
        "--features",
        "demo",
    ]))?;
    let relay = cmd::workspace_root().join("target/release/billing-relay");
    println!("xtask: starting the relay on the embedded demo; stop it with Ctrl-C");
    let mut command = toolchain.command(relay);
    command
        .arg("--demo")
        // A scheduled job's run for the Archive tab to show.
        .arg("--demo-job")
        .arg("--listen")
        .arg(listen.to_string())
        .arg("--app-dir")
        .arg(cmd::workspace_root().join("dist"))
        // The demo's archive outlives a restart of `serve`, and `cargo clean` removes it.
        .env("BILLING_DATA_DIR", cmd::workspace_root().join("target/billing-data"));
    if sign_in {
        sign_in_demo::configure(&toolchain, listen, &mut command)?;
    }
    cmd::replace_process(command)
}
