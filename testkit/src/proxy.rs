//! A counting, slowing, fault-injecting HTTP proxy in front of the local AWS endpoint.
//!
//! It runs on its own thread with its own Tokio runtime, so it works the same under
//! `#[tokio::test]`, a multi-threaded runtime, a benchmark harness or a plain `#[test]`, and a test
//! that blocks cannot stall it.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::fault::{Fault, FaultKind};
use crate::http::{Head, Wire, reason};
use crate::quota::{Bucket, Quota};

struct Armed {
    target: Option<String>,
    remaining: usize,
    kind: Arc<FaultKind>,
}

/// An answer of the endpoint: its head and body.
type Answer = (Head, Vec<u8>);

/// One request as the proxy saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Its `X-Amz-Target` (or `METHOD PATH`).
    pub target: String,
    /// Its body.
    pub body: Vec<u8>,
    /// Its `X-Amz-User-Agent` (or `User-Agent`) header: the SDK puts the `SdkConfig`'s app name
    /// there (`app/NAME`), which tells the requests of several clients apart.
    pub user_agent: String,
    /// Whether its operation's [`Quota`] answered it with `ThrottlingException`.
    pub throttled: bool,
    /// Arrival number, to find it again after the latency.
    seq: u64,
}

#[derive(Default)]
struct State {
    /// Every request in arrival order.
    log: Vec<Seen>,
    latency: Duration,
    faults: Vec<Armed>,
    connections: usize,
    /// Requests that arrived since the proxy started (the log can be reset).
    arrived: u64,
    /// Token buckets by target.
    quotas: HashMap<String, Bucket>,
    /// The endpoint's successful answers by (target, body), when answering from a cache.
    cache: Option<HashMap<(String, Vec<u8>), Answer>>,
}

struct Shared {
    upstream: String,
    state: Mutex<State>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not take the proxy down with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records an arriving request and decides its latency and fault; returns its arrival number.
    fn arrive(
        &self,
        target: &str,
        body: &[u8],
        user_agent: &str,
    ) -> (u64, Duration, Option<Arc<FaultKind>>) {
        let mut state = self.state();
        state.arrived += 1;
        let at = state.arrived;
        state.log.push(Seen {
            target: target.to_owned(),
            body: body.to_vec(),
            user_agent: user_agent.to_owned(),
            throttled: false,
            seq: at,
        });
        let fault = state
            .faults
            .iter_mut()
            .find(|f| f.remaining > 0 && f.target.as_deref().is_none_or(|t| t == target));
        let fault = fault.map(|f| {
            f.remaining -= 1;
            Arc::clone(&f.kind)
        });
        (at, state.latency, fault)
    }

    /// Whether the quota of `target` (if any) admits the request that arrived `at`th now; a
    /// request it does not admit is marked throttled.
    fn admit(&self, at: u64, target: &str) -> bool {
        let mut state = self.state();
        let admitted = state
            .quotas
            .get_mut(target)
            .is_none_or(|b| b.take(Instant::now()));
        if !admitted && let Some(seen) = state.log.iter_mut().rev().find(|s| s.seq == at) {
            seen.throttled = true;
        }
        admitted
    }

    fn cached(&self, target: &str, body: &[u8]) -> Option<Answer> {
        let state = self.state();
        let cache = state.cache.as_ref()?;
        cache.get(&(target.to_owned(), body.to_vec())).cloned()
    }

    fn remember(&self, target: &str, body: &[u8], head: &Head, answer: &[u8]) {
        if head.status() != 200 {
            return;
        }
        if let Some(cache) = self.state().cache.as_mut() {
            cache.insert(
                (target.to_owned(), body.to_vec()),
                (head.clone(), answer.to_vec()),
            );
        }
    }
}

/// An HTTP proxy on `127.0.0.1:0` in front of the local AWS endpoint. Point the code under test at
/// [`Proxy::url`]; the proxy stops when dropped.
///
/// ```no_run
/// # async fn demo() {
/// use ecs_secrets_testkit::{Fault, FaultKind, Proxy};
/// let Some(ep) = ecs_secrets_testkit::endpoint() else { return };
/// let proxy = Proxy::start(&ep);
/// proxy.add_fault(Fault::on("secretsmanager.GetSecretValue", 1, FaultKind::Throttle));
/// let config = ecs_secrets_testkit::sdk_config(proxy.url()).await;
/// // ... call the code under test with `config` ...
/// assert_eq!(proxy.count("secretsmanager.GetSecretValue"), 2);
/// # }
/// ```
///
/// Requests are counted by their `X-Amz-Target` header; one without it (such as moto's
/// `/moto-api/`) is recorded as `METHOD PATH`. Each connection is served on its own task, so
/// concurrent requests, and their latency, overlap.
pub struct Proxy {
    url: String,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Starts a proxy in front of `upstream`, an `http://HOST:PORT` URL such as the one
    /// [`endpoint`](crate::endpoint) returns.
    ///
    /// # Panics
    ///
    /// When `upstream` is not a plain `http://` URL, or no loopback port can be bound.
    #[must_use]
    pub fn start(upstream: &str) -> Self {
        let authority = upstream
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("Proxy::start: {upstream:?} is not an http:// URL"));
        let authority = authority.split('/').next().unwrap_or_default();
        assert!(
            !authority.is_empty(),
            "Proxy::start: no host in {upstream:?}"
        );
        let upstream = if authority.contains(':') {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };

        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("Proxy::start: cannot bind 127.0.0.1:0: {e}"));
        listener
            .set_nonblocking(true)
            .expect("Proxy::start: set_nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("local_addr"));

        let shared = Arc::new(Shared {
            upstream,
            state: Mutex::new(State::default()),
        });
        let (shutdown, stopped) = oneshot::channel::<()>();
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("testkit-proxy".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("Proxy: tokio runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener).expect("Proxy: listener");
                    tokio::select! {
                        _ = stopped => {}
                        () = accept_loop(listener, thread_shared) => {}
                    }
                });
                // Dropping the runtime cancels every connection task and closes its sockets.
            })
            .expect("Proxy: spawn thread");
        Self {
            url,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The proxy's URL, `http://127.0.0.1:PORT`, to use as the SDK's endpoint.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many requests with this `X-Amz-Target` arrived, faulty ones and retries included.
    #[must_use]
    pub fn count(&self, target: &str) -> usize {
        self.shared
            .state()
            .log
            .iter()
            .filter(|s| s.target == target)
            .count()
    }

    /// How many requests with this `X-Amz-Target` its [`Quota`] answered with
    /// `ThrottlingException`.
    #[must_use]
    pub fn throttled(&self, target: &str) -> usize {
        self.shared
            .state()
            .log
            .iter()
            .filter(|s| s.throttled && s.target == target)
            .count()
    }

    /// Every request seen so far, in arrival order.
    #[must_use]
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.state().log.clone()
    }

    /// Limits the requests with this `X-Amz-Target` to a token bucket (see [`Quota`]), shared by
    /// every client of the proxy as a region's quota is shared by an account: past the rate
    /// they get HTTP 400 `ThrottlingException`, as AWS answers, without reaching the endpoint.
    /// The bucket starts full. Checked after the added latency, when the request "arrives".
    pub fn set_quota(&self, target: &str, quota: Quota) {
        self.shared
            .state()
            .quotas
            .insert(target.to_owned(), Bucket::new(quota, Instant::now()));
    }

    /// Refills every bucket (as if the quotas had been idle for a while).
    pub fn refill_quotas(&self) {
        let now = Instant::now();
        for bucket in self.shared.state().quotas.values_mut() {
            *bucket = Bucket::new(bucket.quota(), now);
        }
    }

    /// Answers a request whose target and body equal an earlier successful one's from a copy of
    /// that answer, without asking the endpoint. For benchmarks whose fixtures do not change:
    /// moto serializes requests (several ms each), which would otherwise cap the rate a
    /// simulated fleet can reach below the quotas it is meant to meet.
    pub fn cache_answers(&self, on: bool) {
        self.shared.state().cache = on.then(HashMap::new);
    }

    /// The targets of all requests, in arrival order.
    #[must_use]
    pub fn targets(&self) -> Vec<String> {
        self.shared
            .state()
            .log
            .iter()
            .map(|s| s.target.clone())
            .collect()
    }

    /// How many requests arrived.
    #[must_use]
    pub fn total(&self) -> usize {
        self.shared.state().log.len()
    }

    /// The JSON bodies of the requests with this target, in arrival order (`null` for an empty
    /// body, a JSON string for one that is not JSON).
    #[must_use]
    pub fn bodies(&self, target: &str) -> Vec<Value> {
        self.shared
            .state()
            .log
            .iter()
            .filter(|s| s.target == target)
            .map(|Seen { body, .. }| {
                if body.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(body).unwrap_or_else(|_| {
                        Value::String(String::from_utf8_lossy(body).into_owned())
                    })
                }
            })
            .collect()
    }

    /// The lengths of the JSON list `list` in the bodies of the requests with this target, sorted
    /// (0 for a body without it): how a client split its ids between requests.
    #[must_use]
    pub fn list_sizes(&self, target: &str, list: &str) -> Vec<usize> {
        let mut sizes: Vec<usize> = self
            .bodies(target)
            .iter()
            .map(|b| b[list].as_array().map_or(0, Vec::len))
            .collect();
        sizes.sort_unstable();
        sizes
    }

    /// Forgets the requests seen so far (counts, targets, bodies). Faults and latency stay.
    pub fn reset_counts(&self) {
        self.shared.state().log.clear();
    }

    /// Delays every request from now on by `latency` before forwarding it (zero turns it off).
    pub fn set_latency(&self, latency: Duration) {
        self.shared.state().latency = latency;
    }

    /// Adds a fault rule (see [`Fault`]).
    pub fn add_fault(&self, fault: Fault) {
        self.shared.state().faults.push(Armed {
            target: fault.target,
            remaining: fault.times,
            kind: Arc::new(fault.kind),
        });
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.shared.state().faults.clear();
    }

    /// How many faults the rules still hold: zero once every rule has fired all its `times`.
    #[must_use]
    pub fn pending_faults(&self) -> usize {
        self.shared
            .state()
            .faults
            .iter()
            .fold(0, |n, f| n.saturating_add(f.remaining))
    }

    /// How many client connections the proxy accepted (keep-alive reuses them).
    #[must_use]
    pub fn connections(&self) -> usize {
        self.shared.state().connections
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("url", &self.url)
            .field("upstream", &self.shared.upstream)
            .finish_non_exhaustive()
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                shared.state().connections += 1;
                tokio::spawn(serve(Wire::new(stream), Arc::clone(&shared)));
            }
            // Out of file descriptors and the like: back off instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// Serves one client connection, request after request, over its own upstream connection. Any
/// error closes the connection, which is what a client sees from a broken server too.
async fn serve(mut down: Wire, shared: Arc<Shared>) {
    let mut up = None;
    let _ = serve_requests(&mut down, &mut up, &shared).await;
}

async fn serve_requests(down: &mut Wire, up: &mut Option<Wire>, shared: &Shared) -> io::Result<()> {
    while let Some(head) = down.read_head().await? {
        let body = down.read_request_body(&head).await?;
        let target = head.header("x-amz-target").map_or_else(
            || format!("{} {}", head.method(), head.path()),
            str::to_owned,
        );
        let user_agent = head
            .header("x-amz-user-agent")
            .or_else(|| head.header("user-agent"))
            .unwrap_or_default()
            .to_owned();
        let (at, latency, fault) = shared.arrive(&target, &body, &user_agent);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let close = !head.keep_alive(true);
        let quota_fault = (!shared.admit(at, &target)).then_some(FaultKind::Throttle);
        let fault = quota_fault.as_ref().or(fault.as_deref());
        if fault.is_none()
            && let Some((rhead, rbody)) = shared.cached(&target, &body)
        {
            send(down, &rhead, &rbody, close).await?;
            if close {
                return Ok(());
            }
            continue;
        }

        if let Some(FaultKind::Reset) = fault {
            down.stream.set_zero_linger()?;
            return Ok(());
        }
        if let Some((status, body, content_type)) = fault.and_then(FaultKind::canned) {
            let head = Head {
                start: format!("HTTP/1.1 {status} {}", reason(status)),
                headers: vec![
                    ("Content-Type".into(), content_type),
                    (
                        "x-amzn-RequestId".into(),
                        "ecs-secrets-testkit-fault".into(),
                    ),
                ],
            };
            send(down, &head, body.as_bytes(), close).await?;
        } else {
            let mut request = head.to_bytes(body.len(), false);
            request.extend_from_slice(&body);
            let (rhead, mut rbody) =
                match forward(up, &shared.upstream, &request, head.method()).await {
                    Ok(answer) => answer,
                    Err(e) => {
                        let head = Head {
                            start: "HTTP/1.1 502 Bad Gateway".into(),
                            headers: vec![("Content-Type".into(), "text/plain".into())],
                        };
                        let msg = format!("ecs-secrets-testkit proxy: upstream failed: {e}");
                        return send(down, &head, msg.as_bytes(), true).await;
                    }
                };
            if fault.is_none() {
                shared.remember(&target, &body, &rhead, &rbody);
            }
            match fault {
                Some(FaultKind::Delay(delay)) => tokio::time::sleep(*delay).await,
                Some(FaultKind::Hold(gate)) => gate.pass().await,
                Some(FaultKind::Rewrite(rewrite)) => {
                    if let Ok(json) = serde_json::from_slice(&rbody) {
                        rbody = serde_json::to_vec(&rewrite(json)).expect("JSON serializes");
                    }
                }
                Some(FaultKind::TruncateBody) => {
                    let mut bytes = rhead.to_bytes(rbody.len(), true);
                    bytes.extend_from_slice(&rbody[..rbody.len() / 2]);
                    down.write_all(&bytes).await?;
                    let _ = down.stream.shutdown().await;
                    return Ok(());
                }
                _ => {}
            }
            send(down, &rhead, &rbody, close).await?;
        }
        if close {
            return Ok(());
        }
    }
    Ok(())
}

async fn send(down: &mut Wire, head: &Head, body: &[u8], close: bool) -> io::Result<()> {
    let mut bytes = head.to_bytes(body.len(), close);
    bytes.extend_from_slice(body);
    down.write_all(&bytes).await
}

/// Sends one request upstream and reads the answer. A kept-alive upstream connection that turns
/// out to be closed (the server dropped it while idle) is replaced once, before any answer byte.
async fn forward(
    up: &mut Option<Wire>,
    upstream: &str,
    request: &[u8],
    method: &str,
) -> io::Result<(Head, Vec<u8>)> {
    let mut retried = false;
    loop {
        let reused = up.is_some();
        let wire = match up {
            Some(wire) => wire,
            None => up.insert(Wire::new(TcpStream::connect(upstream).await?)),
        };
        let head = match send_and_read_head(wire, request).await {
            Ok(Some(head)) => head,
            Ok(None) | Err(_) if reused && !retried => {
                *up = None;
                retried = true;
                continue;
            }
            Ok(None) => {
                *up = None;
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            Err(e) => {
                *up = None;
                return Err(e);
            }
        };
        return match wire.read_response_body(&head, method).await {
            Ok((body, to_eof)) => {
                if to_eof || !head.keep_alive(false) {
                    *up = None;
                }
                Ok((head, body))
            }
            Err(e) => {
                *up = None;
                Err(e)
            }
        };
    }
}

/// Writes the request and reads the answer's head, skipping interim (1xx) answers; `None` when the
/// server closed the connection without answering.
async fn send_and_read_head(wire: &mut Wire, request: &[u8]) -> io::Result<Option<Head>> {
    wire.write_all(request).await?;
    loop {
        match wire.read_head().await? {
            Some(head) if (100..200).contains(&head.status()) && head.status() != 101 => {}
            other => return Ok(other),
        }
    }
}
