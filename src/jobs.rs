//! Scheduled work of a running gateway: signed checkpoints of the audit log
//! at a fixed interval, and the daily retention run. With several gateway
//! instances on PostgreSQL, each job runs inside a write transaction that
//! holds the store's write lock, so two instances never do it at once (and
//! both are idempotent).

use crate::app::App;
use std::sync::Arc;
use std::time::Duration;

/// The running jobs; `abort` stops them.
#[derive(Debug)]
pub struct Jobs(Vec<tokio::task::JoinHandle<()>>);

impl Jobs {
    /// Stops every job.
    pub fn abort(&self) {
        for j in &self.0 {
            j.abort();
        }
    }
}

/// Starts the jobs.
pub fn spawn(app: Arc<App>) -> Jobs {
    let every = Duration::from_secs(app.config.gateway.audit.checkpoint_interval_secs.max(1));
    let a = app.clone();
    let checkpoints = tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match a.checkpoint().await {
                Ok((size, _)) => tracing::debug!(size, "audit checkpoint"),
                Err(e) => tracing::error!(error = %e, "cannot sign an audit checkpoint"),
            }
        }
    });
    let a = app.clone();
    let retention = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(24 * 3600));
        loop {
            tick.tick().await;
            if let Err(e) = crate::retention::run(&a, crate::util::now_ms()).await {
                tracing::error!(error = %e, "retention run failed");
            }
        }
    });
    Jobs(vec![checkpoints, retention])
}
