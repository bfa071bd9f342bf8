//! [`Run`]: one batch of requests under one concurrency limit, within what is left of one
//! deadline, with one budget for the loader's own retries of throttled requests. Every verb sends
//! through a run: a load and its fallbacks, a watch's refresh (its version checks and its reads
//! share one run), pin, preflight and migrate.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::Engine;
use super::backoff::{self, Retries};
use super::failure::{Failure, unanswered};

/// A request's work, boxed so that jobs of different requests run in one set.
pub(crate) type Job<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Jobs named by the operation they send, for the deadline's errors.
pub(crate) type Jobs<T> = Vec<(&'static str, Job<Result<T, Failure>>)>;

/// See the module docs. Cheap to clone: clones share the permits and the retry budget.
#[derive(Clone, Debug)]
pub(crate) struct Run {
    permits: Arc<Semaphore>,
    started: Instant,
    deadline: Option<Duration>,
    retries: Option<Arc<Retries>>,
}

impl Run {
    /// A run that starts now with the engine's settings; `requests` sizes the throttling retry
    /// budget (the loader answers throttling itself unless the caller chose a retry policy).
    pub fn new(engine: &Engine, requests: usize) -> Self {
        let settings = engine.settings();
        let started = Instant::now();
        Run {
            permits: Arc::new(Semaphore::new(settings.max_concurrency.max(1))),
            started,
            deadline: settings.deadline,
            retries: engine
                .retries_throttling()
                .then(|| Arc::new(Retries::new(requests, started, settings.deadline))),
        }
    }

    /// Whether throttled requests are retried by this run (else by the SDK's policy).
    pub fn retries_throttling(&self) -> bool {
        self.retries.is_some()
    }

    /// The loader's throttling retries this run made, for request counts.
    pub fn retries_made(&self) -> usize {
        self.retries.as_ref().map_or(0, |r| r.made())
    }

    /// The configured deadline of the whole run.
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// A permit to send one attempt: at most the concurrency limit are out at once.
    pub async fn permit(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.permits).acquire_owned().await.ok()
    }

    /// Runs `work` within what is left of the run's deadline: `Some(deadline)` when it passed
    /// first (the configured deadline, as messages name it).
    pub async fn within(&self, work: impl Future<Output = ()>) -> Option<Duration> {
        match self.deadline {
            Some(d) => {
                let left = d.saturating_sub(self.started.elapsed());
                tokio::time::timeout(left, work).await.err().map(|_| d)
            }
            None => {
                work.await;
                None
            }
        }
    }

    /// Sends one request: each attempt under a permit (released while a throttled request
    /// waits), throttling answered by the run's backoff. `attempt` sends it once.
    pub async fn send<T, F>(
        &self,
        operation: &'static str,
        mut attempt: impl FnMut() -> F,
    ) -> Result<T, Failure>
    where
        F: Future<Output = Result<T, Failure>>,
    {
        let first = Instant::now();
        let mut retry = 0;
        loop {
            let permit = self.permit().await;
            let answer = attempt().await;
            drop(permit);
            match answer {
                Ok(out) => return Ok(out),
                Err(mut failure) => {
                    let retries = self.retries.as_deref();
                    if !backoff::after_failure(operation, retries, &mut retry, first, &mut failure)
                        .await
                    {
                        return Err(failure);
                    }
                }
            }
        }
    }

    /// Runs every job at once, each under a permit for its whole time (so such a job must not
    /// [`send`](Run::send) through the same run), until the run's deadline; a job that has not
    /// answered by then is `Err` with the operation it was named with.
    #[cfg(feature = "deploy")]
    pub async fn all<T: Send + 'static>(&self, jobs: Jobs<T>) -> Vec<Result<T, Failure>> {
        self.collect(jobs, true).await
    }

    /// [`Run::all`] for jobs that [`send`](Run::send) through this run, which takes a permit
    /// per attempt (and none while a throttled request waits).
    pub async fn all_sending<T: Send + 'static>(&self, jobs: Jobs<T>) -> Vec<Result<T, Failure>> {
        self.collect(jobs, false).await
    }

    async fn collect<T: Send + 'static>(
        &self,
        jobs: Jobs<T>,
        hold_permit: bool,
    ) -> Vec<Result<T, Failure>> {
        let ops: Vec<&'static str> = jobs.iter().map(|(op, _)| *op).collect();
        let mut tasks = JoinSet::new();
        for (i, (_, job)) in jobs.into_iter().enumerate() {
            let run = self.clone();
            tasks.spawn(async move {
                let _permit = if hold_permit {
                    run.permit().await
                } else {
                    None
                };
                (i, job.await)
            });
        }
        let mut out: Vec<Option<Result<T, Failure>>> = (0..ops.len()).map(|_| None).collect();
        let collect = async {
            while let Some(joined) = tasks.join_next().await {
                if let Ok((i, answer)) = joined {
                    out[i] = Some(answer);
                }
            }
        };
        let missed = self.within(collect).await;
        // Dropping the set aborts whatever is still running.
        drop(tasks);
        out.into_iter()
            .zip(ops)
            .map(|(answer, op)| answer.unwrap_or_else(|| Err(unanswered(op, missed))))
            .collect()
    }
}
