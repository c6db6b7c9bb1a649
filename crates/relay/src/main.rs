use std::{
    io::{IsTerminal, Write},
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::Context;
use clap::Parser;
use relay::{Application, RelayConfig, audit};
use tracing_subscriber::{
    EnvFilter, Layer,
    filter::{FilterExt, LevelFilter, Targets},
    fmt,
    layer::SubscriberExt,
    util::SubscriberInitExt,
};

/// Each request allocates a few hundred small objects; glibc's malloc took
/// an eighth of the relay's time on small documents, mimalloc far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// With --demo: also a scheduled job, `demo-last-month`, that fetches
    /// last month's purchases and sales of the demo profile at start.
    #[arg(long, requires = "demo")]
    demo_job: bool,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// The built web app to serve (trunk's dist directory).
    #[arg(long)]
    app_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Look after the archive instead of serving.
    Archive {
        #[command(subcommand)]
        action: ArchiveAction,
    },
    /// Run one [[schedule]] job now, for its rule's month, and print what
    /// it found; exits with 1 when the run failed.
    Run {
        /// The job's name.
        job: String,
    },
}

#[derive(clap::Subcommand)]
enum ArchiveAction {
    /// Remove the documents fetched more than retention_years ago (and
    /// only those), with an audit line for each.
    Purge,
}

/// The log on stderr; the audit log too, unless it has a file of its own,
/// where it goes as JSON lines.
fn init_logging(audit_log: Option<&Path>) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let audit_file = audit_log
        .map(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("cannot open the audit log {}", path.display()))
        })
        .transpose()?;
    // Targets rather than filter functions: a function is asked at every
    // span and event, so each request's span was made and entered though
    // the level left it out; targets say so once per call site.
    let mut shown = Targets::new().with_default(LevelFilter::TRACE);
    if audit_file.is_some() {
        shown = shown.with_target(audit::TARGET, LevelFilter::OFF);
    }
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(filter.and(shown));
    let logging = tracing_subscriber::registry().with(stderr);
    // No audit layer rather than an empty one, which would say yes to every span.
    match audit_file {
        Some(file) => logging
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .with_span_list(false)
                    .with_writer(std::sync::Mutex::new(file))
                    .with_filter(Targets::new().with_target(audit::TARGET, LevelFilter::TRACE)),
            )
            .init(),
        None => logging.init(),
    }
    Ok(())
}

/// With `--demo`, the embedded emulator and its profiles.
#[cfg(feature = "demo")]
async fn start_demo(
    demo: bool,
    faults: bool,
    config: &mut RelayConfig,
) -> anyhow::Result<Option<vendor_sim::RunningVendor>> {
    if !demo {
        return Ok(None);
    }
    let (vendor, profiles) = relay::demo::start_vendor(faults).await?;
    config.profiles.extend(profiles);
    config.allowlist.extend(relay::config::loopback());
    if faults {
        // demo-unresponsive answers after 5 s; the tests should not wait a minute.
        config.timeouts.response = std::time::Duration::from_secs(2);
    }
    Ok(Some(vendor))
}

/// Built without the emulator, `--demo` says how to get it.
#[cfg(not(feature = "demo"))]
async fn start_demo(demo: bool, _faults: bool, _config: &mut RelayConfig) -> anyhow::Result<Option<()>> {
    anyhow::ensure!(
        !demo,
        "this billing-relay was built without the demo (the embedded vendor emulator); \
         build it with `--features demo`, as `cargo xtask serve` does"
    );
    Ok(None)
}

async fn purge(config: &RelayConfig) -> anyhow::Result<()> {
    let metrics = std::sync::Arc::new(relay::Metrics::default());
    let database = relay::open_database(&config.archive).await?;
    let Some(archive) = relay::open_archive(&config.archive, &database, metrics).await? else {
        anyhow::bail!("archiving is off in this configuration: there is nothing to purge");
    };
    let years = config.archive.retention_years;
    let purged = relay::archive::purge::purge(&archive, years, chrono::Utc::now()).await?;
    println!(
        "billing-relay archive purge: {} documents older than {years} years removed, {} stored files freed, \
         {} half-written transfers swept",
        purged.records, purged.files, purged.incoming
    );
    Ok(())
}

async fn run_job(config: RelayConfig, job: &str) -> anyhow::Result<()> {
    let now = chrono::Local::now().naive_local();
    let Some(run) = relay::schedule::run_now(config, job, now).await? else {
        anyhow::bail!("another relay is running `{job}` now; try again when it has finished");
    };
    println!("{}", run.summary());
    if !run.told.is_empty() {
        println!("told: {}", run.told.join(", "));
    }
    if run.status == billing::api::runs::RunStatus::Failed {
        std::process::exit(1);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut config = RelayConfig::load(args.config.as_deref())?;
    init_logging(config.audit_log.as_deref())?;
    if let Some(Command::Archive { action: ArchiveAction::Purge }) = args.command {
        return purge(&config).await;
    }
    config.listen = args.listen.unwrap_or(config.listen);
    config.app_dir = args.app_dir.unwrap_or(config.app_dir);
    // Kept alive for as long as the relay serves.
    let _vendor = start_demo(args.demo, args.demo_faults, &mut config).await?;
    #[cfg(feature = "demo")]
    if args.demo_job {
        config.schedule.push(relay::demo::job());
    }
    if let Some(Command::Run { job }) = args.command {
        return run_job(config, &job).await;
    }
    anyhow::ensure!(
        !config.profiles.is_empty(),
        "no vendor profiles are configured: pass --config FILE (see relay.example.toml), \
         or run `billing-relay --demo` to use the embedded emulator"
    );
    let application = Application::build(config).await?;
    let addr = application.local_addr()?;
    // Scripts and tests read the address from this line.
    println!("billing-relay listening on http://{addr}/");
    if let Some(metrics) = application.metrics_addr() {
        println!("billing-relay metrics on http://{metrics}/metrics");
    }
    std::io::stdout().flush()?;
    application.run_until_stopped().await?;
    Ok(())
}
