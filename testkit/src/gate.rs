//! A gate that holds the proxy's answers until the test lets them through: the way a test
//! orders events between the code under test and the endpoint without measuring time.

use std::fmt;
use std::sync::Arc;

use tokio::sync::watch;

/// Holds the answers of the requests a [`FaultKind::Hold`](crate::FaultKind::Hold) rule
/// matches, until the test releases them. The request is forwarded at once; the endpoint's
/// answer waits at the proxy. A gate starts closed; clones share it, and it works from any
/// runtime or thread.
///
/// ```no_run
/// # async fn demo(proxy: ecs_secrets_testkit::Proxy) {
/// use ecs_secrets_testkit::{Fault, FaultKind, Gate};
/// let gate = Gate::new();
/// proxy.add_fault(Fault::any(usize::MAX, FaultKind::Hold(gate.clone())));
/// // ... start the code under test ...
/// gate.until_held(3).await; // three requests answered by the endpoint, all held at once
/// gate.open();
/// # }
/// ```
///
/// A gate that is never opened holds its answers for good: the client gives up (an attempt
/// timeout, a deadline) however slow the machine is, which a long delay cannot promise.
#[derive(Clone, Default)]
pub struct Gate(Arc<watch::Sender<Counts>>);

#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    /// Answers that ever waited at the gate; the n-th (from 0) is released once `released > n`.
    queued: usize,
    released: usize,
    /// Releases given before there was an answer to take them.
    ahead: usize,
    open: bool,
    peak: usize,
}

impl Counts {
    fn held(&self) -> usize {
        self.queued - self.released
    }
}

impl Gate {
    /// A closed gate.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many answers wait at the gate now.
    #[must_use]
    pub fn held(&self) -> usize {
        self.0.borrow().held()
    }

    /// The most answers that waited at the gate at once.
    #[must_use]
    pub fn peak(&self) -> usize {
        self.0.borrow().peak
    }

    /// Lets the next `n` answers through: those waiting now, oldest first, then ones still to
    /// come. They no longer count as [`held`](Gate::held) from this call on.
    pub fn release(&self, n: usize) {
        self.0.send_modify(|c| {
            let now = n.min(c.held());
            c.released += now;
            c.ahead += n - now;
        });
    }

    /// Lets every answer through, now and from now on.
    pub fn open(&self) {
        self.0.send_modify(|c| {
            c.open = true;
            c.released = c.queued;
        });
    }

    /// Waits until at least `n` answers wait at the gate at once. Bound it with a timeout: it
    /// waits forever if they never come.
    pub async fn until_held(&self, n: usize) {
        let mut rx = self.0.subscribe();
        // The sender lives in `self`: the channel cannot close while this waits.
        let _ = rx.wait_for(|c| c.held() >= n).await;
    }

    /// The proxy's side: returns when this answer may go on.
    pub(crate) async fn pass(&self) {
        let mut rx = self.0.subscribe();
        let mut ticket = None;
        self.0.send_if_modified(|c| {
            if c.open {
                false
            } else if c.ahead > 0 {
                c.ahead -= 1;
                false
            } else {
                ticket = Some(c.queued);
                c.queued += 1;
                c.peak = c.peak.max(c.held());
                true
            }
        });
        if let Some(ticket) = ticket {
            let _ = rx.wait_for(|c| c.open || c.released > ticket).await;
        }
    }
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = *self.0.borrow();
        f.debug_struct("Gate")
            .field("held", &c.held())
            .field("peak", &c.peak)
            .field("open", &c.open)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    fn ready<F: Future>(f: std::pin::Pin<&mut F>) -> bool {
        f.poll(&mut Context::from_waker(Waker::noop())).is_ready()
    }

    #[test]
    fn answers_wait_until_released_oldest_first() {
        let gate = Gate::new();
        let (a, b) = (gate.clone(), gate.clone());
        let mut first = pin!(a.pass());
        let mut second = pin!(b.pass());
        assert!(!ready(first.as_mut()) && !ready(second.as_mut()));
        assert_eq!((gate.held(), gate.peak()), (2, 2));
        gate.release(1);
        assert_eq!(gate.held(), 1, "released answers stop counting at once");
        assert!(ready(first.as_mut()));
        assert!(!ready(second.as_mut()));
        gate.open();
        assert!(ready(second.as_mut()));
        assert_eq!((gate.held(), gate.peak()), (0, 2));
        assert!(ready(pin!(gate.pass())), "an open gate holds nothing");
    }

    #[test]
    fn releases_ahead_of_the_answers_are_kept() {
        let gate = Gate::new();
        gate.release(2);
        assert_eq!(gate.held(), 0);
        assert!(ready(pin!(gate.pass())));
        assert!(ready(pin!(gate.pass())));
        let mut third = pin!(gate.pass());
        assert!(!ready(third.as_mut()));
        assert_eq!((gate.held(), gate.peak()), (1, 1));
    }

    #[test]
    fn until_held_waits_for_the_count() {
        let gate = Gate::new();
        let mut two = pin!(gate.until_held(2));
        assert!(!ready(two.as_mut()));
        let other = gate.clone();
        let mut held = pin!(other.pass());
        assert!(!ready(held.as_mut()));
        assert!(!ready(two.as_mut()));
        let another = gate.clone();
        let mut held2 = pin!(another.pass());
        assert!(!ready(held2.as_mut()));
        assert!(ready(two.as_mut()));
        assert!(matches!(
            pin!(gate.until_held(0))
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop())),
            Poll::Ready(())
        ));
    }
}
