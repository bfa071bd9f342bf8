//! Live configuration: a [`Watch`] holds the current value of a configuration
//! struct and refreshes it from Secrets Manager / SSM in the background, so a rotated secret
//! reaches a running task without a redeploy.
//!
//! - Readers call [`Watch::current`]: an `Arc<T>` out of an [`ArcSwap`], no lock, never blocked
//!   by a refresh, nothing held across an `.await`.
//! - A refresh is one load of every sourced field with the watch's [`Loader`](super::Loader) (the same plan,
//!   batching, clients and errors as [`Loader::fetch`](super::Loader::fetch)), except that it reads only what
//!   rotated: one `DescribeSecret` per secret and one `GetParameters` without decryption per
//!   ten parameters tell which versions changed, and only those values are fetched; the others
//!   come from the last answers, which the watch keeps in wiped memory (why, and what it costs:
//!   the refresh module's docs, RELIABILITY.md). Any field error fails the whole refresh: the
//!   last good value stays, the error goes to [`Status`] and a `tracing` warning. A value is
//!   replaced only by a complete one.
//! - Which fields changed: the loader shows each sourced field's raw text to the watch, which
//!   compares a keyed digest of it (SipHash with a per-watch random key, std's `RandomState`)
//!   with the digest of the current value's text.
//! - Concurrent [`Watch::refresh_now`] calls share one refresh, but never one that started
//!   before the call: refreshes run one at a time under an async mutex and are numbered when
//!   they start; a caller that finds, once it holds the mutex, that a refresh numbered after its
//!   call has finished takes that outcome instead of fetching again. A refresh already in flight
//!   at the call may have read AWS before the rotation the caller reacts to, so it is not
//!   shared: a storm of calls during a refresh costs that refresh and one more.
//! - The background task belongs to the handles: dropping the last [`Watch`] aborts it.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use tokio::sync::broadcast;
use tokio::task::AbortHandle;
use tracing::Instrument;

pub(crate) mod refresh;

use super::answers::{self as load, Mode};
use super::engine::Engine;
use crate::EcsSecrets;
use crate::error::{Error, ErrorKind, FetchCode, FieldError};
use crate::load::Raw;
use refresh::Kept;

/// The default of [`WatchOptions::interval`]: 5 minutes.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);
/// The default of [`WatchOptions::jitter`]: each wait is the interval ±10 %, so a fleet started
/// together does not refresh in lockstep.
pub const DEFAULT_JITTER: f64 = 0.1;
/// Changes a subscriber can fall behind by before it is told "everything may have changed".
const CHANNEL_CAPACITY: usize = 16;

/// How a [`Watch`] refreshes. A builder:
///
/// ```
/// use std::time::Duration;
/// use ecs_secrets::aws::{Initial, WatchOptions};
///
/// let options = WatchOptions::new()
///     .interval(Duration::from_secs(60))
///     .jitter(0.2)
///     .initial(Initial::Load);
/// assert_eq!(options.get_interval(), Duration::from_secs(60));
/// ```
///
/// How each load fetches (timeouts, deadline, retries, batching, lookup, placeholders) is the
/// [`Loader`](super::Loader)'s.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    interval: Duration,
    jitter: f64,
    initial: Initial,
}

/// Where a [`Watch`]'s first value comes from. Every refresh reads AWS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Initial {
    /// Every sourced field from AWS, as [`Loader::fetch`](super::Loader::fetch).
    #[default]
    Fetch,
    /// What the environment has first (in ECS: what ECS injected), the rest from AWS, as
    /// [`Loader::load`](super::Loader::load). Refreshes still read AWS, so the task role needs read access
    /// ([`Role::Task`](crate::Role::Task)).
    Load,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            interval: DEFAULT_INTERVAL,
            jitter: DEFAULT_JITTER,
            initial: Initial::Fetch,
        }
    }
}

impl WatchOptions {
    /// Every 5 minutes ±10 %, the first value from AWS.
    pub fn new() -> Self {
        WatchOptions::default()
    }

    /// The time between background refreshes (at least 1 ms). Default: 5 minutes.
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Each wait is the interval times a random factor in `1 ± jitter` (clamped to `0..=1`).
    /// Default: 0.1.
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = if jitter.is_nan() {
            0.0
        } else {
            jitter.clamp(0.0, 1.0)
        };
        self
    }

    /// Where the first value comes from. Default: [`Initial::Fetch`].
    pub fn initial(mut self, initial: Initial) -> Self {
        self.initial = initial;
        self
    }

    /// Where the first value comes from.
    pub fn get_initial(&self) -> Initial {
        self.initial
    }

    /// The interval.
    pub fn get_interval(&self) -> Duration {
        self.interval
    }

    /// The jitter fraction.
    pub fn get_jitter(&self) -> f64 {
        self.jitter
    }

    /// The wait before the next background refresh.
    fn delay(&self) -> Duration {
        // A uniform draw in [-1, 1) (the backoff's: a fresh random key per draw, so the draws
        // of a fleet's processes are independent).
        let unit = super::engine::backoff::unit().mul_add(2.0, -1.0);
        self.interval
            .mul_f64(self.jitter.mul_add(unit, 1.0).max(0.0))
    }
}

/// Which fields a refresh changed. Names only: never a value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Change {
    /// The Rust names of the changed fields, in declaration order.
    pub fields: Vec<&'static str>,
    /// Their environment variables, in the same order (unique even across `flatten`).
    pub env: Vec<&'static str>,
}

impl Change {
    /// Whether the field with this Rust name changed.
    pub fn contains(&self, field: &str) -> bool {
        self.fields.contains(&field)
    }

    fn of<T: EcsSecrets>(indices: impl IntoIterator<Item = usize>) -> Change {
        let (fields, env) = indices
            .into_iter()
            .map(|i| (T::FIELDS[i].name, T::FIELDS[i].env))
            .unzip();
        Change { fields, env }
    }
}

/// What a [`Watch`] has been doing, for logs and health checks. Never holds a value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// When the last successful load ended (the first load counts).
    pub last_success: SystemTime,
    /// When the last refresh failed.
    pub last_failure: Option<SystemTime>,
    /// Why the last failed refresh failed (kept after later successes; see
    /// [`Status::consecutive_failures`] for whether it is current).
    pub last_error: Option<Error>,
    /// When a refresh last changed a value.
    pub last_change: Option<SystemTime>,
    /// Refreshes that ran to the end, successful or not (the first load not counted; callers
    /// that shared a refresh count once).
    pub refreshes: u64,
    /// How many of them failed.
    pub failures: u64,
    /// Failed refreshes since the last success: 0 when the value is as fresh as the last
    /// refresh.
    pub consecutive_failures: u64,
}

/// A receiver of [`Change`]s, from [`Watch::subscribe`].
pub struct Subscription {
    rx: broadcast::Receiver<Change>,
    /// Every sourced field: what a subscriber that fell behind is told.
    all: Change,
}

impl Subscription {
    /// Waits for the next change. A subscriber that fell more than 16 changes behind gets one
    /// `Change` naming every sourced field (some changes were lost, so anything may have
    /// changed), then the changes that follow. `None` once the watch is gone.
    pub async fn recv(&mut self) -> Option<Change> {
        match self.rx.recv().await {
            Ok(change) => Some(change),
            Err(broadcast::error::RecvError::Lagged(_)) => Some(self.all.clone()),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("pending", &self.rx.len())
            .finish()
    }
}

/// A configuration struct that follows Secrets Manager rotation: see [`Loader::watch`](super::Loader::watch). Cheap to clone; every clone is the same
/// watch. The background refresh stops when the last clone is dropped.
pub struct Watch<T> {
    handle: Arc<Handle<T>>,
}

impl<T> Clone for Watch<T> {
    fn clone(&self) -> Self {
        Watch {
            handle: Arc::clone(&self.handle),
        }
    }
}

/// Owned by the handles only (the task holds the [`Shared`] part), so the last handle's drop
/// is what stops the task.
struct Handle<T> {
    shared: Arc<Shared<T>>,
    task: AbortHandle,
}

impl<T> Drop for Handle<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Shared<T> {
    engine: Engine,
    options: WatchOptions,
    current: ArcSwap<T>,
    changes: broadcast::Sender<Change>,
    status: Mutex<Status>,
    /// Refreshes started so far: the number of the latest one.
    started: AtomicU64,
    refresh: tokio::sync::Mutex<Refreshing>,
    /// The digest key: random per watch, so digests mean nothing outside this process.
    key: RandomState,
}

/// The state refreshes take turns on.
struct Refreshing {
    /// Per field of `T::FIELDS`, the digest of its text in the current value.
    digests: Vec<Digest>,
    /// The last answers and their versions, so a refresh reads only what rotated.
    kept: Kept,
    /// The number and outcome of the last refresh that finished.
    last: Option<(u64, Outcome)>,
}

type Outcome = Result<Option<Change>, Error>;

/// A sourced field's text in a load, as a keyed digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Digest {
    /// Not seen (a plain field, or a failed answer).
    None,
    /// The source does not exist (an `Option` field that is `None`).
    Absent,
    /// The text's digest.
    Text(u64),
}

impl Digest {
    fn of(key: &RandomState, answer: &Raw) -> Digest {
        match answer {
            Raw::Value(text) => Digest::Text(key.hash_one(text.as_bytes())),
            Raw::Absent => Digest::Absent,
            Raw::NotUnicode | Raw::Failed(_) => Digest::None,
        }
    }
}

impl<T: EcsSecrets + Send + Sync + 'static> Watch<T> {
    /// Loads `T` once (see [`Initial`]) and starts the background refresh.
    pub(crate) async fn start(engine: Engine, options: WatchOptions) -> Result<Watch<T>, Error> {
        let key = RandomState::new();
        let mut digests = vec![Digest::None; T::FIELDS.len()];
        let mut kept = Kept::default();
        let mode = match options.initial {
            Initial::Fetch => Mode::All,
            Initial::Load => Mode::Missing,
        };
        let value = {
            let mut observe = |i: usize, answer: &Raw| digests[i] = Digest::of(&key, answer);
            load::load_with::<T>(&engine, mode, Some(&mut observe), Some(&mut kept)).await?
        };
        #[cfg(feature = "metrics")]
        super::engine::metrics::loaded(
            crate::deployment::iam::short_type_name::<T>(),
            SystemTime::now(),
        );
        let shared = Arc::new(Shared {
            engine,
            options,
            current: ArcSwap::from_pointee(value),
            changes: broadcast::channel(CHANNEL_CAPACITY).0,
            status: Mutex::new(Status {
                last_success: SystemTime::now(),
                last_failure: None,
                last_error: None,
                last_change: None,
                refreshes: 0,
                failures: 0,
                consecutive_failures: 0,
            }),
            started: AtomicU64::new(0),
            refresh: tokio::sync::Mutex::new(Refreshing {
                digests,
                kept,
                last: None,
            }),
            key,
        });
        let span = tracing::info_span!(
            "ecs_secrets.aws.watch",
            config = crate::deployment::iam::short_type_name::<T>()
        );
        let task = tokio::spawn(background(Arc::clone(&shared)).instrument(span));
        Ok(Watch {
            handle: Arc::new(Handle {
                shared,
                task: task.abort_handle(),
            }),
        })
    }

    /// The current value: the last complete load. Never waits for a refresh.
    pub fn current(&self) -> Arc<T> {
        self.handle.shared.current.load_full()
    }

    /// Refreshes now and waits for it, e.g. after a connection failed to authenticate: `Ok`
    /// with the change, if any, or the error of a failed refresh (the current value is then
    /// the last good one).
    ///
    /// Never answers with data older than the call: a refresh already in flight when the call
    /// is made (it may have read AWS before the rotation the caller reacts to) is waited out,
    /// not taken. Calls that overlap share the refresh that starts after them, so a storm of
    /// calls after a failed connection costs at most that refresh and one more.
    pub async fn refresh_now(&self) -> Result<Option<Change>, Error> {
        self.handle.shared.refresh().await
    }

    /// A receiver of the changes from now on.
    pub fn subscribe(&self) -> Subscription {
        let sourced = T::FIELDS
            .iter()
            .enumerate()
            .filter(|(_, f)| f.source.value_from().is_some())
            .map(|(i, _)| i);
        Subscription {
            rx: self.handle.shared.changes.subscribe(),
            all: Change::of::<T>(sourced),
        }
    }

    /// The refresh history: last success, last error, counts.
    pub fn status(&self) -> Status {
        self.handle.shared.status().clone()
    }
}

impl<T> fmt::Debug for Watch<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shared = &self.handle.shared;
        f.debug_struct("Watch")
            .field("interval", &shared.options.interval)
            .field("status", &*shared.status())
            .finish_non_exhaustive()
    }
}

/// Refreshes every interval (with jitter) until aborted.
async fn background<T: EcsSecrets + Send + Sync + 'static>(shared: Arc<Shared<T>>) {
    loop {
        tokio::time::sleep(shared.options.delay()).await;
        // The outcome is in the status and the log already.
        let _ = shared.refresh().await;
    }
}

impl<T> Shared<T> {
    fn status(&self) -> std::sync::MutexGuard<'_, Status> {
        // A panic while holding it cannot leave a `Status` half-written in a harmful way.
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: EcsSecrets + Send + Sync + 'static> Shared<T> {
    async fn refresh(&self) -> Outcome {
        // Every refresh numbered above this one started after the call.
        let called = self.started.load(Ordering::SeqCst);
        let mut state = self.refresh.lock().await;
        if let Some((number, outcome)) = &state.last {
            if *number > called {
                return outcome.clone();
            }
        }
        // Numbered while holding the mutex, so numbers follow the order refreshes run in. (A
        // refresh whose caller was cancelled finishes nothing: the next caller runs one.)
        let number = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let Refreshing { digests, kept, .. } = &mut *state;
        let outcome = self.refresh_once(digests, kept).await;
        state.last = Some((number, outcome.clone()));
        outcome
    }

    /// One load; the value and digests are replaced only when it is complete.
    async fn refresh_once(&self, digests: &mut [Digest], kept: &mut Kept) -> Outcome {
        let mut fresh = vec![Digest::None; T::FIELDS.len()];
        let loaded = {
            let key = &self.key;
            let mut observe = |i: usize, answer: &Raw| fresh[i] = Digest::of(key, answer);
            load::load_with::<T>(&self.engine, Mode::All, Some(&mut observe), Some(kept)).await
        };
        let loaded = loaded.and_then(|value| vanished::<T>(digests, &fresh).map(|()| value));
        let now = SystemTime::now();
        let value = match loaded {
            Ok(value) => value,
            Err(error) => {
                tracing::warn!(
                    errors = error.errors().len(),
                    %error,
                    "refresh failed; keeping the last good value"
                );
                let mut status = self.status();
                status.refreshes += 1;
                status.failures += 1;
                status.consecutive_failures += 1;
                status.last_failure = Some(now);
                status.last_error = Some(error.clone());
                #[cfg(feature = "metrics")]
                super::engine::metrics::refreshed(
                    crate::deployment::iam::short_type_name::<T>(),
                    false,
                    status.last_success,
                );
                return Err(error);
            }
        };
        let changed: Vec<usize> = (0..T::FIELDS.len())
            .filter(|&i| fresh[i] != Digest::None && fresh[i] != digests[i])
            .collect();
        let change = if changed.is_empty() {
            // Same texts: keep the current `Arc`, so readers see no churn.
            None
        } else {
            for &i in &changed {
                digests[i] = fresh[i];
            }
            self.current.store(Arc::new(value));
            Some(Change::of::<T>(changed))
        };
        {
            let mut status = self.status();
            status.refreshes += 1;
            status.consecutive_failures = 0;
            status.last_success = now;
            if change.is_some() {
                status.last_change = Some(now);
            }
        }
        #[cfg(feature = "metrics")]
        super::engine::metrics::refreshed(
            crate::deployment::iam::short_type_name::<T>(),
            true,
            now,
        );
        if let Some(change) = &change {
            tracing::info!(fields = ?change.fields, "refresh changed values");
            // No receiver is not an error: nobody subscribed.
            let _ = self.changes.send(change.clone());
        } else {
            tracing::debug!("refresh found no change");
        }
        change.map_or(Ok(None), |c| Ok(Some(c)))
    }
}

/// An `Option` field whose source existed and now does not: refused like a failure, since
/// taking it would replace a good value with `None` (a deleted secret is also what a
/// mis-scoped role or a wrong region looks like). The current value stays.
fn vanished<T: EcsSecrets>(before: &[Digest], after: &[Digest]) -> Result<(), Error> {
    let errors: Vec<FieldError> = T::FIELDS
        .iter()
        .enumerate()
        .filter(|&(i, _)| matches!(before[i], Digest::Text(_)) && after[i] == Digest::Absent)
        .map(|(_, field)| {
            FieldError::new(
                field,
                ErrorKind::Fetch {
                    code: FetchCode::SourceVanished,
                    reason: "the secret or parameter had a value and no longer exists; \
                             keeping the last good value"
                        .to_owned(),
                },
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::new(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_within_the_jitter() {
        let o = WatchOptions::new().interval(Duration::from_secs(100));
        let delays: Vec<Duration> = (0..200).map(|_| o.delay()).collect();
        assert!(
            delays
                .iter()
                .all(|d| (Duration::from_secs(90)..=Duration::from_secs(110)).contains(d)),
            "{delays:?}"
        );
        assert!(
            delays.iter().any(|d| *d != delays[0]),
            "jittered, not constant"
        );
        let none = o.clone().jitter(0.0);
        assert_eq!(none.delay(), Duration::from_secs(100));
        assert_eq!(o.clone().jitter(f64::NAN).get_jitter(), 0.0);
        assert_eq!(o.clone().jitter(5.0).get_jitter(), 1.0);
        assert_eq!(
            o.interval(Duration::ZERO).get_interval(),
            Duration::from_millis(1)
        );
    }

    #[test]
    fn digests_are_keyed_per_watch() {
        let text = || Raw::Value(zeroize::Zeroizing::new("pw".to_owned()));
        let (a, b) = (RandomState::new(), RandomState::new());
        assert_eq!(Digest::of(&a, &text()), Digest::of(&a, &text()));
        assert_ne!(Digest::of(&a, &text()), Digest::of(&b, &text()));
        assert_eq!(Digest::of(&a, &Raw::Absent), Digest::Absent);
        assert_eq!(Digest::of(&a, &Raw::NotUnicode), Digest::None);
    }
}
