//! §4 of docs/benchmarks.md: a fleet of tasks that start at once, within the regional quotas.
//!
//! The parent starts testkit's proxy in front of moto with a token bucket per operation (the
//! regional quotas divided by `--scale`, each bucket starting full with half a second's worth),
//! the latency of §1, and answers of repeated identical reads from a cache (moto serializes
//! requests, ~10 ms each, and would otherwise be the bottleneck instead of the quotas). It then
//! starts N tasks, **each its own OS process** (this binary with `--task`): its own `SdkConfig`,
//! `Loader`, clients and SDK retry state, as real tasks have — the SDK shares its retry token
//! bucket and adaptive rate limiter per retry partition within a process, so tasks simulated in
//! one process would throttle each other's retries. Each task builds its configuration, says
//! `ready`, waits for one byte on stdin, loads, and prints one JSON line: its outcome and when
//! it was configured. The parent releases all tasks at once, and attributes every request the
//! proxy saw to its task by the SDK's user agent (`app/task-N`, the task's `SdkConfig` app name).
//!
//! ```text
//! scripts/with-moto cargo run --release -p ecs-secrets-bench --features aws --bin fleet -- \
//!     [--n 50,200] [--scale 50] [--decl 5,50] [--strategies default,no-batching,per-field,sdk-standard] \
//!     [--latency-ms 20] [--ssm-tps 3000] [--runs 1] [--append]
//! ```
//!
//! Figures go to the `fleet` section of `target/bench/results.json`.

mod task;

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use ecs_secrets::Vars;
use ecs_secrets::aws::Loader;
use ecs_secrets_bench::fetch::{Fetch50, Pin, SPEC50, Values};
use ecs_secrets_bench::fixture::Fixture;
use ecs_secrets_testkit::aws_config::SdkConfig;
use ecs_secrets_testkit::{self as testkit, Proxy, Quota};
use serde_json::{Value, json};

use task::{Fleet5, TaskArgs, per_field_5, per_field_50, task_main, unix_ms, value5};

/// The regional quotas of AWS, per second (docs/ecs-facts.md, "Direct-fetch APIs").
const GET_QUOTA: f64 = 10_000.0;
const BATCH_QUOTA: f64 = 100.0;

const TARGET_GET_PARAMETER: &str = "AmazonSSM.GetParameter";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decl {
    Five,
    Fifty,
}

impl Decl {
    fn parse(s: &str) -> Decl {
        match s {
            "5" => Decl::Five,
            "50" => Decl::Fifty,
            other => panic!("--decl takes 5 and/or 50, not {other}"),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Decl::Five => "5 secrets (5 fields)",
            Decl::Fifty => "50 fields (12 secrets, 2 pinned; 20 parameters)",
        }
    }

    fn key(self) -> usize {
        match self {
            Decl::Five => 5,
            Decl::Fifty => 50,
        }
    }

    /// Per task: (unpinned secrets, pinned secrets, GetParameters calls).
    fn shape(self) -> (usize, usize, usize) {
        match self {
            Decl::Five => (5, 0, 0),
            Decl::Fifty => {
                let pinned = SPEC50.secrets.iter().filter(|s| s.pin != Pin::None).count();
                (
                    SPEC50.secrets.len() - pinned,
                    pinned,
                    SPEC50.params.len().div_ceil(10),
                )
            }
        }
    }
}

const STRATEGIES: [&str; 6] = [
    "default",
    "no-batching",
    "per-field",
    "sdk-standard",
    "sdk-standard-12",
    "sdk-adaptive",
];

/// The quotas of one run, scaled.
#[derive(Clone, Copy, Debug)]
struct Quotas {
    get: Quota,
    batch: Quota,
    params: Quota,
}

impl Quotas {
    fn scaled(scale: f64, ssm_tps: f64) -> Quotas {
        Quotas {
            get: Quota::half_second_burst(GET_QUOTA / scale),
            batch: Quota::half_second_burst(BATCH_QUOTA / scale),
            params: Quota::half_second_burst(ssm_tps / scale),
        }
    }

    fn apply(&self, proxy: &Proxy) {
        proxy.set_quota(testkit::GET, self.get);
        proxy.set_quota(testkit::BATCH, self.batch);
        proxy.set_quota(testkit::PARAMS, self.params);
        // SSM's GetParameter has a quota of its own, the same size.
        proxy.set_quota(TARGET_GET_PARAMETER, self.params);
    }

    /// The least time any plan could take for `n` tasks of `decl`: for every split of the tasks
    /// into `x` that batch and `n - x` that do not, the busiest operation's requests beyond its
    /// burst over its rate; the best split.
    fn floor(&self, decl: Decl, n: usize) -> f64 {
        let (unpinned, pinned, params) = decl.shape();
        let over = |count: usize, q: Quota| ((count as f64 - q.burst) / q.per_second).max(0.0);
        (0..=n)
            .map(|x| {
                let batches = x * unpinned.div_ceil(20);
                let gets = n * pinned + (n - x) * unpinned;
                over(batches, self.batch)
                    .max(over(gets, self.get))
                    .max(over(n * params, self.params))
            })
            .fold(f64::INFINITY, f64::min)
    }
}

struct Args {
    ns: Vec<usize>,
    scales: Vec<f64>,
    decls: Vec<Decl>,
    strategies: Vec<String>,
    latency_ms: u64,
    ssm_tps: f64,
    runs: usize,
    /// Add the runs to those already in the `fleet` section instead of replacing them.
    append: bool,
}

fn list<T>(it: &mut impl Iterator<Item = String>, flag: &str, f: impl Fn(&str) -> T) -> Vec<T> {
    let v = it
        .next()
        .unwrap_or_else(|| panic!("{flag} takes a comma-separated list"));
    v.split(',').map(|s| f(s.trim())).collect()
}

impl Args {
    fn parse(mut it: impl Iterator<Item = String>) -> Args {
        let mut args = Args {
            ns: vec![50, 200],
            scales: vec![50.0],
            decls: vec![Decl::Five, Decl::Fifty],
            strategies: STRATEGIES[..4].iter().map(|s| (*s).to_owned()).collect(),
            latency_ms: 20,
            ssm_tps: 3000.0,
            runs: 1,
            append: false,
        };
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--n" => args.ns = list(&mut it, "--n", |s| s.parse().expect("a task count")),
                "--scale" => {
                    args.scales = list(&mut it, "--scale", |s| s.parse().expect("a factor"));
                }
                "--decl" => args.decls = list(&mut it, "--decl", Decl::parse),
                "--strategies" => {
                    args.strategies = list(&mut it, "--strategies", |s| {
                        assert!(STRATEGIES.contains(&s), "unknown strategy {s}");
                        s.to_owned()
                    });
                }
                "--latency-ms" => {
                    args.latency_ms = it.next().and_then(|v| v.parse().ok()).expect("ms");
                }
                "--ssm-tps" => {
                    args.ssm_tps = it.next().and_then(|v| v.parse().ok()).expect("a rate");
                }
                "--runs" => args.runs = it.next().and_then(|v| v.parse().ok()).expect("a count"),
                "--append" => args.append = true,
                other => panic!(
                    "unknown argument {other}; usage: fleet [--n 50,200] [--scale 50] \
                     [--decl 5,50] [--strategies {}] [--latency-ms 20] [--ssm-tps 3000] \
                     [--runs 1] [--append]",
                    STRATEGIES.join(",")
                ),
            }
        }
        args
    }
}

// ---------------------------------------------------------------------------------------------
// The parent.

struct Fleet {
    children: Vec<(Child, BufReader<ChildStdout>)>,
}

impl Fleet {
    /// Starts `n` tasks and waits until every one is ready.
    fn start(n: usize, decl: Decl, strategy: &str, proxy: &Proxy, fixtures: &Fixtures) -> Fleet {
        let exe = std::env::current_exe().expect("the fleet binary's path");
        let mut children = Vec::with_capacity(n);
        for id in 0..n {
            let mut cmd = Command::new(&exe);
            cmd.arg("--task")
                .args(["--id", &id.to_string()])
                .args(["--endpoint", proxy.url()])
                .args(["--decl", &decl.key().to_string()])
                .args(["--strategy", strategy]);
            match decl {
                Decl::Five => cmd.args(["--prefix", &fixtures.five]),
                Decl::Fifty => {
                    cmd.args(["--prefix", &fixtures.fifty.prefix]);
                    for (i, v) in &fixtures.fifty.version_ids {
                        cmd.args(["--version-id", &format!("{i}={v}")]);
                    }
                    &mut cmd
                }
            };
            // What aws-config would read from the environment stays out of the measurement.
            for var in [
                "AWS_MAX_ATTEMPTS",
                "AWS_RETRY_MODE",
                "AWS_PROFILE",
                "AWS_CONFIG_FILE",
            ] {
                cmd.env_remove(var);
            }
            cmd.env("AWS_EC2_METADATA_DISABLED", "true")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped());
            let mut child = cmd.spawn().expect("start a task process");
            let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
            children.push((child, stdout));
        }
        for (_, stdout) in &mut children {
            let mut line = String::new();
            stdout.read_line(&mut line).expect("a task's ready line");
            assert_eq!(line.trim(), "ready", "a task did not start");
        }
        Fleet { children }
    }

    /// Releases every task at once; returns when the release began and each task's report.
    fn release(mut self) -> (f64, Vec<Value>) {
        let released = unix_ms();
        for (child, _) in &mut self.children {
            let stdin = child.stdin.as_mut().expect("piped stdin");
            let _ = stdin.write_all(b"g").and_then(|()| stdin.flush());
        }
        let mut reports = Vec::new();
        for (mut child, mut stdout) in self.children {
            let mut line = String::new();
            let _ = stdout.read_line(&mut line);
            let report = serde_json::from_str(&line)
                .unwrap_or_else(|_| json!({"ok": false, "errors": ["NoReport"]}));
            reports.push(report);
            let _ = child.wait();
        }
        (released, reports)
    }
}

struct Fixtures {
    five: String,
    fifty: Fixture,
}

async fn create_fixtures(direct: &SdkConfig) -> Fixtures {
    let five = testkit::unique("fleet");
    for i in 0..5 {
        testkit::create_secret(direct, &format!("{five}/f{i}"), &value5(i)).await;
    }
    Fixtures {
        five,
        fifty: Fixture::create(direct, &SPEC50).await,
    }
}

/// The task id in a user agent (`app/task-N`).
fn task_of(user_agent: &str) -> Option<usize> {
    let at = user_agent.find("app/task-")? + "app/task-".len();
    let digits: String = user_agent[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn short(target: &str) -> &str {
    target.rsplit('.').next().unwrap_or(target)
}

/// One fleet run, measured.
#[allow(clippy::too_many_arguments)]
fn run_fleet(
    proxy: &Proxy,
    fixtures: &Fixtures,
    quotas: &Quotas,
    scale: f64,
    decl: Decl,
    strategy: &str,
    n: usize,
    latency_ms: u64,
) -> Value {
    let fleet = Fleet::start(n, decl, strategy, proxy, fixtures);
    // Let the start-up of the last processes settle, and the buckets fill.
    std::thread::sleep(Duration::from_millis(500));
    proxy.reset_counts();
    proxy.refill_quotas();
    let (released, reports) = fleet.release();
    let seen = proxy.seen();

    let failures = reports.iter().filter(|r| r["ok"] != json!(true)).count();
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for r in &reports {
        for c in r["errors"].as_array().into_iter().flatten() {
            *codes
                .entry(c.as_str().unwrap_or("?").to_owned())
                .or_default() += 1;
        }
    }
    let last = reports
        .iter()
        .filter(|r| r["ok"] == json!(true))
        .filter_map(|r| r["configured_unix_ms"].as_f64())
        .fold(f64::NAN, f64::max);
    let last_s = (last - released) / 1000.0;
    let release_skew_ms = reports
        .iter()
        .filter_map(|r| r["released_unix_ms"].as_f64())
        .fold(0.0, |m: f64, t| m.max(t - released));
    let mut task_ms: Vec<f64> = reports.iter().filter_map(|r| r["ms"].as_f64()).collect();
    task_ms.sort_by(f64::total_cmp);
    let median_task_ms = task_ms.get(task_ms.len() / 2).copied();

    let mut requests: BTreeMap<String, usize> = BTreeMap::new();
    let mut throttled: BTreeMap<String, usize> = BTreeMap::new();
    let mut distinct: HashSet<(Option<usize>, &str, &[u8])> = HashSet::new();
    for s in &seen {
        *requests.entry(short(&s.target).to_owned()).or_default() += 1;
        if s.throttled {
            *throttled.entry(short(&s.target).to_owned()).or_default() += 1;
        }
        distinct.insert((task_of(&s.user_agent), &s.target, &s.body));
    }
    let retries = seen.len() - distinct.len();
    let floor = quotas.floor(decl, n);
    let rtt = latency_ms as f64 / 1000.0;
    let entry = json!({
        "declaration": decl.key(),
        "strategy": strategy,
        "tasks": n,
        "scale": scale,
        "last_configured_s": if failures == n { Value::Null } else { json!(last_s) },
        "median_task_ms": median_task_ms,
        "release_skew_ms": release_skew_ms,
        "failures": failures,
        "error_codes": codes,
        "requests": requests,
        "requests_total": seen.len(),
        "throttled": throttled,
        "retries": retries,
        "quota_floor_s": floor,
        "ratio_to_floor": if floor > 0.0 { json!(last_s / floor) } else { Value::Null },
        "goal_met": failures == 0 && last_s <= 1.25 * floor + rtt,
    });
    eprintln!(
        "{:>2}-decl {:<12} N={:<4} ÷{:<4} last {:>6.2} s  floor {:>6.2} s  ratio {:>5}  failed {:>3}  \
         requests {:?}  throttled {:?}  retries {}",
        decl.key(),
        strategy,
        n,
        scale,
        last_s,
        floor,
        if floor > 0.0 {
            format!("{:.2}", last_s / floor)
        } else {
            "-".into()
        },
        failures,
        requests,
        throttled,
        retries
    );
    entry
}

async fn warm(proxy: &Proxy, fixtures: &Fixtures) {
    // Every request any strategy sends, once, through the proxy without quotas: fills the answer
    // cache (else a fleet's first wave would queue at moto) and checks the fixtures.
    let config = testkit::sdk_config(proxy.url()).await;
    for batching in [true, false] {
        let five: Fleet5 = Loader::new(&config)
            .vars(Vars::new().with("p", &fixtures.five))
            .lookup(|_| None)
            .batching(batching)
            .fetch()
            .await
            .expect("the 5-secret declaration loads");
        assert!(five.check());
        let fifty: Fetch50 = Loader::new(&config)
            .vars(fixtures.fifty.vars())
            .lookup(|_| None)
            .batching(batching)
            .fetch()
            .await
            .expect("the 50-field declaration loads");
        fixtures.fifty.check("warm-up", &fifty.values());
    }
    per_field_5(&config, &fixtures.five)
        .await
        .expect("the per-field loop loads");
    per_field_50(&config, &fixtures.fifty)
        .await
        .expect("the per-field loop loads");
}

fn parent(args: Args, endpoint: String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    let direct = runtime.block_on(testkit::sdk_config(&endpoint));
    let proxy = Proxy::start(&endpoint);
    proxy.cache_answers(true);
    eprintln!("creating fixtures …");
    let fixtures = runtime.block_on(create_fixtures(&direct));
    runtime.block_on(warm(&proxy, &fixtures));
    proxy.set_latency(Duration::from_millis(args.latency_ms));

    let mut runs = Vec::new();
    for &scale in &args.scales {
        let quotas = Quotas::scaled(scale, args.ssm_tps);
        quotas.apply(&proxy);
        for &decl in &args.decls {
            for &n in &args.ns {
                for strategy in &args.strategies {
                    for _ in 0..args.runs {
                        runs.push(run_fleet(
                            &proxy,
                            &fixtures,
                            &quotas,
                            scale,
                            decl,
                            strategy,
                            n,
                            args.latency_ms,
                        ));
                    }
                }
            }
        }
    }
    if args.append
        && let Ok(text) = std::fs::read_to_string(ecs_secrets_bench::results_path())
        && let Ok(all) = serde_json::from_str::<Value>(&text)
        && let Some(earlier) = all["fleet"]["runs"].as_array()
    {
        runs.splice(0..0, earlier.iter().cloned());
    }
    let section = json!({
        "command": "scripts/with-moto cargo run --release -p ecs-secrets-bench --features aws --bin fleet",
        "tasks_are": "separate OS processes (own SdkConfig, Loader, clients, SDK retry state), released at once by a byte on stdin",
        "quotas_real_per_second": {
            "GetSecretValue": GET_QUOTA,
            "BatchGetSecretValue": BATCH_QUOTA,
            "GetParameters": args.ssm_tps,
            "GetParameter": args.ssm_tps,
        },
        "bucket_burst": "half a second's worth of the scaled rate, full at the release",
        "latency_ms": args.latency_ms,
        "answers": "repeated identical reads answered from the proxy's cache of moto's answers",
        "declarations": args.decls.iter().map(|d| d.name()).collect::<Vec<_>>(),
        "runs": runs,
    });
    match ecs_secrets_bench::merge_results("fleet", section) {
        Ok(path) => eprintln!("written to {}", path.display()),
        Err(e) => eprintln!("could not write the results: {e}"),
    }
}

fn main() {
    let mut it = std::env::args().skip(1).peekable();
    if it.peek().map(String::as_str) == Some("--task") {
        it.next();
        task_main(TaskArgs::parse(it));
        return;
    }
    let args = Args::parse(it);
    let Some(endpoint) = testkit::endpoint() else {
        return;
    };
    parent(args, endpoint);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_takes_the_best_split() {
        let q = Quotas::scaled(50.0, 3000.0);
        // 50 tasks × 5 secrets: all one by one, 250 GetSecretValue beyond a burst of 100 at
        // 200/s take 0.75 s; the best split batches 2 tasks (one in the burst, one 0.5 s later
        // at 2/s) and leaves 240 GetSecretValue: 0.70 s.
        let floor = q.floor(Decl::Five, 50);
        assert!((floor - 0.70).abs() < 1e-9, "{floor}");
        // Everything in the bursts: no wait at all.
        assert_eq!(q.floor(Decl::Five, 10), 0.0);
    }

    #[test]
    fn user_agents_name_their_task() {
        assert_eq!(
            task_of("aws-sdk-rust/1.3 os/linux app/task-17 md/x"),
            Some(17)
        );
        assert_eq!(task_of("aws-sdk-rust/1.3"), None);
    }
}
