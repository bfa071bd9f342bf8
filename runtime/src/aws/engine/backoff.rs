//! The loader's own retry of throttled requests: full-jitter exponential backoff with a floor
//! and a cap, a retry budget per load, and never past the load's deadline.
//!
//! Why the crate retries throttling itself instead of leaving it to the SDK: the SDK's standard
//! mode gives up after 3 attempts, and its backoff starts at 1 s, so a fleet that starts at once
//! either fails tasks (too few attempts) or waits seconds longer than the quota needs (too long
//! a first backoff; more attempts do not help that). Its adaptive mode paces each process on
//! its own and was slower still (docs/benchmarks.md, "Fleet start"). The loader knows what the SDK
//! does not: the load's deadline. So throttling is retried here, until it succeeds, the budget
//! is spent or the next wait would pass the deadline; every other retryable error (5xx,
//! timeouts, resets) stays the SDK's, under the `SdkConfig`'s retry policy. A caller who sets
//! [`Loader::retry_config`](crate::aws::Loader::retry_config) gets the SDK's policy for everything,
//! throttling included, as before.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::error::ErrorKind;

use super::failure::Failure;
use super::throttle::is_throttling;

/// The waits between attempts of one throttled request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Backoff {
    /// No wait is shorter: a throttled request is never resent at once.
    pub floor: Duration,
    /// The window of the first retry; it doubles with each retry…
    pub base: Duration,
    /// …up to this one…
    pub cap: Duration,
    /// …and up to this share of how long the request has waited so far (but no less than
    /// `short`).
    pub share: f64,
    /// The window the share never goes below.
    pub short: Duration,
}

/// The backoff of a default loader. A window is how long a request may sleep while the quota
/// has room again, which is what the last task of a fleet waits beyond the quota floor: the
/// share keeps that to a quarter of the time already waited (a fleet served in 1 s waits at
/// most ~0.25 s more, one served in 4 s ~1 s more), the cap to 1 s. The floor and the doubling
/// bound how often a throttled task asks.
pub(crate) const BACKOFF: Backoff = Backoff {
    floor: Duration::from_millis(20),
    base: Duration::from_millis(50),
    cap: Duration::from_millis(1000),
    share: 0.25,
    short: Duration::from_millis(100),
};

/// Retries a load may spend, per request of its plan (shared by all of them, so a few unlucky
/// requests can take more than their share).
pub(crate) const RETRIES_PER_REQUEST: usize = 50;

impl Backoff {
    /// The wait before retry number `retry` (1 for the first) of a request that has waited
    /// `waited` since its first attempt, when the random draw is `unit` (in `[0, 1)`): full
    /// jitter, `unit × min(base × 2^(retry-1), cap, max(short, share × waited))`, at least the
    /// floor.
    pub fn delay(&self, retry: u32, unit: f64, waited: Duration) -> Duration {
        let doublings = retry.saturating_sub(1).min(30);
        let by_share = waited.mul_f64(self.share).max(self.short);
        let window = self
            .base
            .checked_mul(1 << doublings)
            .unwrap_or(self.cap)
            .min(self.cap)
            .min(by_share);
        window.mul_f64(unit.clamp(0.0, 1.0)).max(self.floor)
    }
}

/// The retries one load may still spend.
#[derive(Debug)]
pub(crate) struct Budget(AtomicUsize);

impl Budget {
    pub fn new(retries: usize) -> Self {
        Budget(AtomicUsize::new(retries))
    }

    /// Takes one retry; `false` when none is left.
    pub fn take(&self) -> bool {
        self.0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// What to do with a throttled answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Send it again after this wait.
    Retry(Duration),
    /// Report the throttling: the load's retries are spent.
    BudgetSpent,
    /// Report the throttling: the wait would end past the load's deadline.
    PastDeadline,
}

impl Decision {
    /// Why a request was given up, for its error message (`None` when it is retried).
    pub fn gave_up(self) -> Option<&'static str> {
        match self {
            Decision::Retry(_) => None,
            Decision::BudgetSpent => Some("the load's retry budget is spent"),
            Decision::PastDeadline => Some("another wait would pass the load's deadline"),
        }
    }
}

/// The throttling retries of one load (a load has none when the SDK retries throttling).
#[derive(Debug)]
pub(crate) struct Retries {
    pub backoff: Backoff,
    pub budget: Budget,
    /// When the load's deadline passes, if it has one.
    pub deadline: Option<Instant>,
    /// Retries made, for the load's request count.
    made: AtomicUsize,
}

impl Retries {
    /// The retries of a load of `requests` requests that started at `started`.
    pub fn new(requests: usize, started: Instant, deadline: Option<Duration>) -> Self {
        Retries {
            backoff: BACKOFF,
            budget: Budget::new(requests.max(1) * RETRIES_PER_REQUEST),
            deadline: deadline.map(|d| started + d),
            made: AtomicUsize::new(0),
        }
    }

    /// How many retries were made.
    pub fn made(&self) -> usize {
        self.made.load(Ordering::Relaxed)
    }

    /// The decision on retry number `retry` at `now` of a request first sent at `first`, with
    /// the random draw `unit`. The budget is spent only on a retry that is made.
    pub fn decide(&self, retry: u32, unit: f64, first: Instant, now: Instant) -> Decision {
        let waited = now.saturating_duration_since(first);
        let delay = self.backoff.delay(retry, unit, waited);
        if self.deadline.is_some_and(|d| now + delay >= d) {
            return Decision::PastDeadline;
        }
        if !self.budget.take() {
            return Decision::BudgetSpent;
        }
        Decision::Retry(delay)
    }
}

/// After a failed attempt of a request: when it was throttled and `retries` allow another
/// attempt, waits and returns `true` (send it again; `retry` counts the retries of this request).
/// Otherwise returns `false`; a throttled request given up says why in its reason. A retry is
/// counted in `ecs_secrets_retries_total{operation}` (feature `metrics`), as the SDK's own are.
pub(crate) async fn after_failure(
    operation: &'static str,
    retries: Option<&Retries>,
    retry: &mut u32,
    first: Instant,
    failure: &mut Failure,
) -> bool {
    let Some(retries) = retries else {
        return false;
    };
    let ErrorKind::Aws { code, reason } = &mut failure.kind else {
        return false;
    };
    if !is_throttling(code) {
        return false;
    }
    *retry += 1;
    match retries.decide(*retry, unit(), first, Instant::now()) {
        Decision::Retry(delay) => {
            retries.made.fetch_add(1, Ordering::Relaxed);
            #[cfg(feature = "metrics")]
            super::metrics::retried(operation);
            #[cfg(not(feature = "metrics"))]
            let _ = operation;
            tracing::debug!(
                retry = *retry,
                delay_ms = delay.as_millis() as u64,
                "throttled; retrying"
            );
            tokio::time::sleep(delay).await;
            true
        }
        other => {
            let why = other.gave_up().unwrap_or_default();
            let tries = *retry;
            reason.push_str(&format!(" (throttled on {tries} attempts; {why})"));
            false
        }
    }
}

/// A uniform draw in `[0, 1)`: std's randomly keyed hasher over a counter (no dependency; the
/// jitter needs spread between tasks and requests, not cryptographic quality).
pub(crate) fn unit() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let bits = RandomState::new().hash_one(n) >> 11;
    // 53 random bits over 2^53.
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn the_window_doubles_up_to_the_cap_and_never_goes_below_the_floor() {
        let b = BACKOFF;
        // Long into a wait, the share allows more than the cap: the doubling and the cap rule.
        let long = Duration::from_secs(60);
        let windows: Vec<Duration> = (1..=8).map(|r| b.delay(r, 1.0, long)).collect();
        assert_eq!(
            windows,
            [
                MS(50),
                MS(100),
                MS(200),
                MS(400),
                MS(800),
                MS(1000),
                MS(1000),
                MS(1000)
            ]
        );
        assert_eq!(
            b.delay(1, 0.0, long),
            b.floor,
            "a draw of 0 still waits the floor"
        );
        assert_eq!(b.delay(3, 0.5, long), MS(100));
        assert_eq!(b.delay(u32::MAX, 0.999, long), b.cap.mul_f64(0.999));
        assert_eq!(
            b.delay(2, 7.0, long),
            MS(100),
            "a draw out of range is clamped"
        );
    }

    #[test]
    fn the_window_is_at_most_a_quarter_of_the_wait_so_far() {
        let b = BACKOFF;
        // 1.2 s into its wait, retry 6 (window 1 s by doubling) gets at most 300 ms.
        assert_eq!(b.delay(6, 1.0, MS(1200)), MS(300));
        assert_eq!(b.delay(6, 0.5, MS(1200)), MS(150));
        // Early on, the share's window is never below 100 ms…
        assert_eq!(b.delay(3, 1.0, MS(40)), MS(100));
        // …but the doubling's smaller windows stay as they are.
        assert_eq!(b.delay(1, 1.0, MS(0)), MS(50));
        // At 4 s the share reaches the cap.
        assert_eq!(b.delay(9, 1.0, MS(4000)), MS(1000));
        assert_eq!(b.delay(9, 1.0, MS(8000)), MS(1000));
    }

    #[test]
    fn the_budget_is_shared_and_runs_out() {
        let start = Instant::now();
        let r = Retries::new(2, start, None);
        let made = (1..=200)
            .map(|i| r.decide(i % 7 + 1, 0.5, start, start))
            .filter(|d| matches!(d, Decision::Retry(_)))
            .count();
        assert_eq!(made, 2 * RETRIES_PER_REQUEST);
        assert_eq!(r.decide(1, 0.5, start, start), Decision::BudgetSpent);
        assert!(Decision::BudgetSpent.gave_up().is_some());
    }

    #[test]
    fn no_wait_ends_past_the_deadline_and_such_a_decision_spends_nothing() {
        let start = Instant::now();
        let r = Retries::new(1, start, Some(Duration::from_secs(1)));
        // 900 ms in, a 100 ms wait would end at the deadline: given up.
        let late = start + MS(900);
        assert_eq!(r.decide(3, 0.5, start, late), Decision::PastDeadline);
        // A shorter wait at the same moment still fits.
        assert_eq!(r.decide(1, 0.5, start, late), Decision::Retry(MS(25)));
        let left = (0..100)
            .filter(|_| r.decide(1, 0.5, start, start) != Decision::BudgetSpent)
            .count();
        assert_eq!(
            left,
            RETRIES_PER_REQUEST - 1,
            "only the retry made was spent"
        );
        let unbounded = Retries::new(1, start, None);
        let hour = start + Duration::from_secs(3600);
        assert!(matches!(
            unbounded.decide(30, 0.99, start, hour),
            Decision::Retry(_)
        ));
    }

    #[test]
    fn draws_are_in_the_unit_interval_and_spread() {
        let draws: Vec<f64> = (0..1000).map(|_| unit()).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        let low = draws.iter().filter(|u| **u < 0.5).count();
        assert!((350..=650).contains(&low), "{low} of 1000 below 0.5");
    }
}
