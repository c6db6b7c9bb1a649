//! Scheduled runs: jobs in the configuration (`[[schedule]]`) that fetch a
//! month's invoices through the same path as a person, keep them in the
//! archive, and record what they found.

pub mod routes;
pub mod runner;
pub mod tell;

use std::{sync::Arc, time::Duration};

use billing::api::runs::RunRecord;
use chrono::NaiveDate;

use crate::{
    config::RelayConfig, decisions::Shared, documents::Forwarding, observe::metrics::Metrics, store::Database,
};

/// The configured jobs, each run when due by whichever relay sharing the
/// database claims it first.
pub struct Scheduler {
    runner: runner::Runner,
    every: Duration,
    mailer: Option<tell::Mailer>,
}

impl Scheduler {
    pub fn new(runner: runner::Runner, every: Duration) -> anyhow::Result<Self> {
        let config = &runner.config;
        let portal = match &config.sign_in {
            Some(sign_in) => sign_in.public_url.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{}", config.listen),
        };
        let mailer = config.smtp.as_ref().map(|smtp| tell::Mailer::new(smtp, portal)).transpose()?;
        Ok(Self { runner, every, mailer })
    }

    /// A scheduler of its own over `config`'s database and archive, for
    /// trying what it does on a given day.
    pub async fn open(config: RelayConfig) -> anyhow::Result<Self> {
        let every = config.schedule_check;
        Self::new(open_runner(config).await?, every)
    }

    /// Tells the people each ended run's job names, once: a telling that
    /// fails (the mail server is down) is tried again at the next check.
    /// How many messages went.
    pub async fn tell(&self) -> usize {
        let Some(mailer) = &self.mailer else { return 0 };
        let runs = match self.runner.runs.unreported(100).await {
            Ok(runs) => runs,
            Err(error) => {
                tracing::error!(%error, "cannot read the runs to tell people of");
                return 0;
            }
        };
        let mut told = 0;
        for run in runs {
            let Some(job) = self.runner.config.schedule.iter().find(|job| job.name == run.job) else {
                continue;
            };
            let Ok(profile) = job.profile_in(&self.runner.config) else { continue };
            if job.tell.is_empty()
                || !matches!(self.runner.runs.claim_report(run.id, chrono::Utc::now()).await, Ok(true))
            {
                continue;
            }
            if !job.alert.tells(&run) {
                tracing::info!(job = %job.name, run = run.id, "nothing worth telling under the job's alert rule");
                continue;
            }
            match mailer.send(&job.tell, &run, job.version(profile), job.format).await {
                Ok(()) => {
                    told += 1;
                    tracing::info!(job = %job.name, run = run.id, people = job.tell.len(), "told of the run");
                }
                Err(error) => {
                    tracing::warn!(job = %job.name, run = run.id, %error, "cannot tell of the run; trying again later");
                    if let Err(error) = self.runner.runs.release_report(run.id).await {
                        tracing::error!(%error, run = run.id, "cannot give the telling back");
                    }
                }
            }
        }
        told
    }

    /// Runs each job due on `today` that no relay has run or is running
    /// (a month not yet published: that was not tried today); the runs
    /// this relay made.
    pub async fn tick(&self, today: NaiveDate) -> Vec<RunRecord> {
        let mut ran = Vec::new();
        for job in &self.runner.config.schedule {
            let Some(month) = job.window.month_due(today) else { continue };
            match self.runner.run(job, month, false, today).await {
                Ok(run) => ran.extend(run),
                Err(error) => tracing::error!(job = %job.name, %error, "the scheduled run could not be kept"),
            }
        }
        self.tell().await;
        self.runner.forwarding.metrics.schedule_checked();
        ran
    }

    /// Ticks at once, so a relay that was down at a job's time catches up
    /// when it starts, and then every `every`.
    pub async fn run(self) {
        loop {
            self.tick(chrono::Local::now().date_naive()).await;
            tokio::time::sleep(self.every).await;
        }
    }
}

/// The runner over a relay's parts.
pub fn runner(
    config: Arc<RelayConfig>,
    forwarding: Arc<Forwarding>,
    database: &Database,
    decisions: Arc<Shared>,
) -> runner::Runner {
    runner::Runner { config, forwarding, runs: database.runs.clone(), decisions, holder: runner::holder() }
}

async fn open_runner(config: RelayConfig) -> anyhow::Result<runner::Runner> {
    for job in &config.schedule {
        job.check(&config)?;
    }
    let metrics = Arc::new(Metrics::default());
    let database = crate::open_database(&config.archive).await?;
    let archive = crate::open_archive(&config.archive, &database, metrics.clone()).await?;
    let config = Arc::new(config);
    let forwarding = Arc::new(Forwarding::new(config.clone(), metrics, archive)?);
    let decisions =
        Arc::new(Shared { decisions: database.decisions.clone(), records: database.records.clone() });
    Ok(runner(config, forwarding, &database, decisions))
}

/// `billing-relay run JOB`: the job's run for the month its rule gives on
/// `today`, now, whatever has run before; `None` while another relay is
/// on it.
pub async fn run_now(config: RelayConfig, name: &str, today: NaiveDate) -> anyhow::Result<Option<RunRecord>> {
    let job = config
        .schedule
        .iter()
        .find(|job| job.name == name)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no [[schedule]] job is named `{name}`"))?;
    let runner = open_runner(config).await?;
    runner.run(&job, job.window.month_of(today), true, today).await
}
