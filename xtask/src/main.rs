//! `cargo xtask serve | test | bench`: the two README commands and the
//! benchmarks, each installing what it needs first.

mod bench;
mod cmd;
mod relay_bench;
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
    },
    /// Install what is missing and run every check and test, stopping at the
    /// first failure.
    Test,
    /// Report what a first page load costs and how fast documents parse.
    Bench,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Serve { listen } => serve(listen),
        Task::Test => return test::run(),
        Task::Bench => bench::run(),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let toolchain = tools::Toolchain::ensure(tools::Needs::Build)?;
    toolchain.build_app()?;
    cmd::run(toolchain.command("cargo").args([
        "build",
        "--release",
        "--package",
        "relay",
        "--bin",
        "billing-relay",
    ]))?;
    let relay = cmd::workspace_root().join("target/release/billing-relay");
    println!("xtask: starting the relay on the embedded demo; stop it with Ctrl-C");
    let mut command = toolchain.command(relay);
    command
        .arg("--demo")
        .arg("--listen")
        .arg(listen.to_string())
        .arg("--app-dir")
        .arg(cmd::workspace_root().join("dist"));
    cmd::replace_process(command)
}
