//! Scheduled runs: jobs in the configuration (`[[schedule]]`) that fetch a
//! month's invoices through the same path as a person, keep them in the
//! archive, and record what they found.

pub mod routes;
pub mod runner;
pub mod tell;

use std::{sync::Arc, time::Duration};

use billing::api::runs::RunRecord;
use chrono::NaiveDateTime;

use crate::{
    config::RelayConfig, decisions::Shared, documents::Forwarding, observe::metrics::Metrics, store::Database,
};

/// The configured jobs, each run when due by whichever relay sharing the
/// database claims it first.
pub struct Scheduler {
    runner: runner::Runner,
    every: Duration,
    mailer: Option<tell::Mailer>,
    poster: tell::Poster,
    /// The portal as people reach it, for links.
    portal: String,
}

impl Scheduler {
    pub fn new(runner: runner::Runner, every: Duration) -> anyhow::Result<Self> {
        let config = &runner.config;
        let signed_in_portal = || {
            config
                .sign_in
                .as_ref()
                .map(|sign_in| sign_in.public_url.as_str().trim_end_matches('/').to_owned())
        };
        let portal = config
            .smtp
            .as_ref()
            .and_then(|smtp| smtp.portal_url.clone())
            .or_else(signed_in_portal)
            .unwrap_or_else(|| format!("http://{}", config.listen));
        let mailer = config.smtp.as_ref().map(tell::Mailer::new).transpose()?;
        Ok(Self { runner, every, mailer, poster: tell::Poster::new()?, portal })
    }

    /// A scheduler of its own over `config`'s database and archive, for
    /// trying what it does on a given day.
    pub async fn open(config: RelayConfig) -> anyhow::Result<Self> {
        let every = config.schedule_check;
        Self::new(open_runner(config).await?, every)
    }

    /// Tells each ended run's job's channels of it, once: the relay that
    /// claims the telling tells every channel not told yet, and gives it
    /// back when one failed (the mail server is down), so that channel is
    /// tried again at the next check. How many channels were told.
    pub async fn tell(&self) -> usize {
        let runs = match self.runner.runs.unreported(100).await {
            Ok(runs) => runs,
            Err(error) => {
                tracing::error!(%error, "cannot read the runs to tell people of");
                return 0;
            }
        };
        let mut told = 0;
        for run in runs {
            if !matches!(self.runner.runs.claim_report(run.id, chrono::Utc::now()).await, Ok(true)) {
                continue;
            }
            let config = &self.runner.config;
            let Some((job, profile)) = config
                .schedule
                .iter()
                .find(|job| job.name == run.job)
                .and_then(|job| Some((job, job.profile_in(config).ok()?)))
            else {
                tracing::info!(job = %run.job, run = run.id, "the run's job is no longer configured: nobody to tell");
                continue;
            };
            if !job.alert.tells(&run) {
                tracing::info!(job = %job.name, run = run.id, "nothing worth telling under the job's alert rule");
                continue;
            }
            let link = tell::link(&self.portal, &run, job.version(profile), job.format);
            let mut undelivered = false;
            for channel in tell::Channel::of(job, &config.webhooks) {
                let label = channel.label();
                if run.told.contains(&label) {
                    continue;
                }
                let delivered = match channel {
                    tell::Channel::Email => match &self.mailer {
                        Some(mailer) => mailer.send(&job.tell, &run, &link).await,
                        None => Err("no [smtp] server is configured".to_owned()),
                    },
                    tell::Channel::Webhook(webhook) => self.poster.post(webhook, &run, &link).await,
                };
                match delivered {
                    Ok(()) => {
                        told += 1;
                        tracing::info!(job = %job.name, run = run.id, channel = %label, "told of the run");
                        if let Err(error) = self.runner.runs.told(run.id, &label).await {
                            tracing::error!(%error, run = run.id, channel = %label, "cannot note the telling");
                        }
                    }
                    Err(error) => {
                        undelivered = true;
                        tracing::warn!(job = %job.name, run = run.id, channel = %label, %error, "cannot tell of the run; trying again later");
                    }
                }
            }
            if undelivered && let Err(error) = self.runner.runs.release_report(run.id).await {
                tracing::error!(%error, run = run.id, "cannot give the telling back");
            }
        }
        told
    }

    /// Runs each job due at `now` (local time) that no relay has run or is
    /// running (a month not yet published: that was not tried today); the
    /// runs this relay made.
    pub async fn tick(&self, now: NaiveDateTime) -> Vec<RunRecord> {
        let mut ran = Vec::new();
        for job in &self.runner.config.schedule {
            let Some(slot) = job.window.due(now) else { continue };
            match self.runner.run(job, &slot, false, now.date()).await {
                Ok(run) => ran.extend(run),
                Err(error) => tracing::error!(job = %job.name, %error, "the scheduled run could not be kept"),
            }
        }
        self.tell().await;
        self.runner.forwarding.metrics.schedule_checked();
        ran
    }

    /// Ticks at once, so a relay that was down at a job's time catches up
    /// when it starts, and then every `every`, or sooner at a cron rule's
    /// next time.
    pub async fn run(self) {
        loop {
            let now = chrono::Local::now().naive_local();
            self.tick(now).await;
            let now = chrono::Local::now().naive_local();
            let next_cron =
                self.runner.config.schedule.iter().filter_map(|job| job.window.next_time(now)).min();
            let until_cron = next_cron.and_then(|next| (next - now).to_std().ok());
            tokio::time::sleep(until_cron.map_or(self.every, |wait| wait.min(self.every))).await;
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

/// `billing-relay run JOB`: the job's run for the month (or cron time)
/// its rule gives at `now`, whatever has run before, and its telling;
/// `None` while another relay is on it.
pub async fn run_now(
    config: RelayConfig,
    name: &str,
    now: NaiveDateTime,
) -> anyhow::Result<Option<RunRecord>> {
    let job = config
        .schedule
        .iter()
        .find(|job| job.name == name)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no [[schedule]] job is named `{name}`"))?;
    let scheduler = Scheduler::open(config).await?;
    let Some(run) = scheduler.runner.run(&job, &job.window.slot_of(now), true, now.date()).await? else {
        return Ok(None);
    };
    scheduler.tell().await;
    Ok(Some(scheduler.runner.runs.run(run.id).await?.unwrap_or(run)))
}
