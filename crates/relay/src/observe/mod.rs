//! What the relay tells its operators: the audit log of who fetched what,
//! and the metrics Prometheus scrapes.

pub mod audit;
pub mod metrics;
