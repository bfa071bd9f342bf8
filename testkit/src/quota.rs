//! The token bucket behind [`Proxy::set_quota`](crate::Proxy::set_quota): a regional API quota
//! as AWS enforces it, a steady rate with a burst.

use std::time::Instant;

/// A request rate: `per_second` on average, at most `burst` at once. A bucket of `burst` tokens
/// that refills at `per_second`; each request takes one, and a request that finds none is
/// throttled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quota {
    /// The steady rate.
    pub per_second: f64,
    /// The bucket's size, and what it holds at the start.
    pub burst: f64,
}

impl Quota {
    /// `per_second`, with half a second's worth of burst (at least one request).
    #[must_use]
    pub fn half_second_burst(per_second: f64) -> Self {
        Quota {
            per_second,
            burst: (per_second / 2.0).max(1.0),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Bucket {
    quota: Quota,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    pub(crate) fn new(quota: Quota, now: Instant) -> Self {
        Bucket {
            quota,
            tokens: quota.burst,
            at: now,
        }
    }

    pub(crate) fn quota(&self) -> Quota {
        self.quota
    }

    /// Takes a token if there is one at `now`.
    pub(crate) fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.quota.per_second).min(self.quota.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_admits_its_burst_then_its_rate() {
        let start = Instant::now();
        let mut b = Bucket::new(
            Quota {
                per_second: 10.0,
                burst: 3.0,
            },
            start,
        );
        let admitted = (0..5).filter(|_| b.take(start)).count();
        assert_eq!(admitted, 3, "the burst, then nothing");
        // 0.25 s at 10/s: two more tokens.
        let later = start + Duration::from_millis(250);
        let admitted = (0..5).filter(|_| b.take(later)).count();
        assert_eq!(admitted, 2);
        // A long pause refills no more than the burst.
        let much_later = later + Duration::from_secs(60);
        let admitted = (0..10).filter(|_| b.take(much_later)).count();
        assert_eq!(admitted, 3);
    }

    #[test]
    fn half_a_second_of_burst() {
        assert_eq!(Quota::half_second_burst(200.0).burst, 100.0);
        assert_eq!(Quota::half_second_burst(0.8).burst, 1.0);
    }
}
