//! Scheduled runs: jobs in the configuration (`[[schedule]]`) that fetch a
//! month's invoices through the same path as a person, keep them in the
//! archive, and record what they found.

pub mod routes;
pub mod runner;

use std::sync::Arc;

use billing::api::runs::RunRecord;
use chrono::NaiveDate;

use crate::{config::RelayConfig, decisions::Shared, documents::Forwarding, observe::metrics::Metrics};

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
    job.check(&config)?;
    let metrics = Arc::new(Metrics::default());
    let database = crate::open_database(&config.archive).await?;
    let archive = crate::open_archive(&config.archive, &database, metrics.clone()).await?;
    let config = Arc::new(config);
    let runner = runner::Runner {
        forwarding: Arc::new(Forwarding::new(config.clone(), metrics, archive)?),
        config,
        runs: database.runs.clone(),
        decisions: Arc::new(Shared {
            decisions: database.decisions.clone(),
            records: database.records.clone(),
        }),
        holder: runner::holder(),
    };
    runner.run(&job, job.window.month_of(today), true).await
}
