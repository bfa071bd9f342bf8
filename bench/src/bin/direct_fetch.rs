//! §1 of docs/benchmarks.md: time to configuration when a service fetches its secrets itself, four
//! ways, through a proxy that adds a fixed latency to every request so that the network, not
//! moto's own processing, dominates:
//!
//! - a: ecs-secrets `from_aws` (distinct secrets once, batched, all requests concurrent);
//! - b: one `GetSecretValue` / `GetParameter` per field, one after another;
//! - c: the same per-field requests, all at once;
//! - d: an entrypoint shell script running one AWS CLI process per field (`aws … | jq`).
//!
//! ```text
//! scripts/with-moto cargo run --release -p ecs-secrets-bench --features aws --bin direct_fetch
//! ... -- --latency-ms 100,20 --runs 5 [--no-cli] [--no-scaling]
//! ```
//!
//! Every run's values are checked against the fixtures, and every run's requests are counted at
//! the proxy. Figures go to the `direct_fetch` section of `target/bench/results.json`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use ecs_secrets::EcsSecrets;
use ecs_secrets::aws::Loader;
use ecs_secrets_bench::fetch::{
    Fetch10, Fetch50, Fetch200, Fetch1000, Item, Pin, SPEC10, SPEC50, SPEC200, SPEC1000, Values,
};
use ecs_secrets_bench::fixture::Fixture;
use ecs_secrets_testkit::aws_config::SdkConfig;
use ecs_secrets_testkit::{self as testkit, Proxy, aws_sdk_secretsmanager, aws_sdk_ssm};
use serde_json::{Value, json};

struct Args {
    latencies_ms: Vec<u64>,
    runs: usize,
    cli: bool,
    scaling: bool,
    profile: bool,
}

impl Args {
    fn parse() -> Args {
        let mut args = Args {
            latencies_ms: vec![100, 20],
            runs: 5,
            cli: true,
            scaling: true,
            profile: false,
        };
        let mut it = std::env::args().skip(1);
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--latency-ms" => {
                    let list = it.next().expect("--latency-ms takes a list such as 100,20");
                    args.latencies_ms = list
                        .split(',')
                        .map(|v| v.trim().parse().expect("a latency in ms"))
                        .collect();
                }
                "--runs" => {
                    args.runs = it
                        .next()
                        .and_then(|v| v.parse().ok())
                        .expect("--runs takes a count");
                }
                "--no-cli" => args.cli = false,
                "--no-scaling" => args.scaling = false,
                "--profile" => args.profile = true,
                other => panic!(
                    "unknown argument {other}; usage: direct_fetch [--latency-ms 100,20] \
                     [--runs 5] [--no-cli] [--no-scaling] [--profile]"
                ),
            }
        }
        assert!(args.runs >= 1, "--runs must be at least 1");
        args
    }
}

/// (a) ecs-secrets.
async fn approach_a<T: EcsSecrets + Values>(
    config: &SdkConfig,
    fx: &Fixture,
) -> Vec<(&'static str, String)> {
    let options = Loader::new(config).vars(fx.vars()).lookup(|_| None);
    options
        .fetch::<T>()
        .await
        .unwrap_or_else(|e| panic!("from_aws: {e}"))
        .values()
}

/// What one field reads, owned, so that (c) can spawn it.
#[derive(Clone)]
enum Request {
    Secret {
        id: String,
        key: &'static str,
        pin: Pin,
        version_id: Option<String>,
    },
    Param(String),
}

fn requests(fx: &Fixture) -> Vec<(&'static str, Request)> {
    fx.spec
        .fields
        .iter()
        .map(|item| match *item {
            Item::Secret { env, secret, key } => (
                env,
                Request::Secret {
                    id: fx.secret_id(secret),
                    key,
                    pin: fx.spec.secrets[secret].pin,
                    version_id: fx.version_ids.get(&secret).cloned(),
                },
            ),
            Item::Param { env, param } => (env, Request::Param(fx.param_name(param))),
        })
        .collect()
}

/// One field the way hand-written code does it: one request, JSON key picked out of the answer.
async fn fetch_one(
    sm: &aws_sdk_secretsmanager::Client,
    ssm: &aws_sdk_ssm::Client,
    request: Request,
) -> String {
    match request {
        Request::Secret {
            id,
            key,
            pin,
            version_id,
        } => {
            let mut call = sm.get_secret_value().secret_id(&id);
            match pin {
                Pin::None => {}
                Pin::PreviousStage => call = call.version_stage("AWSPREVIOUS"),
                Pin::FirstVersionId => call = call.set_version_id(version_id),
            }
            let out = call.send().await.expect("GetSecretValue");
            let json: Value =
                serde_json::from_str(out.secret_string().expect("a string secret")).expect("JSON");
            json[key].as_str().expect("a string key").to_owned()
        }
        Request::Param(name) => {
            let out = ssm
                .get_parameter()
                .name(&name)
                .with_decryption(true)
                .send()
                .await
                .expect("GetParameter");
            out.parameter
                .and_then(|p| p.value)
                .expect("a parameter value")
        }
    }
}

/// (b) one request per field, one after another, or (c) all at once.
async fn approach_per_field(
    config: &SdkConfig,
    fx: &Fixture,
    concurrent: bool,
) -> Vec<(&'static str, String)> {
    let sm = aws_sdk_secretsmanager::Client::new(config);
    let ssm = aws_sdk_ssm::Client::new(config);
    let requests = requests(fx);
    if !concurrent {
        let mut out = Vec::with_capacity(requests.len());
        for (env, request) in requests {
            out.push((env, fetch_one(&sm, &ssm, request).await));
        }
        return out;
    }
    let mut set = tokio::task::JoinSet::new();
    for (i, (env, request)) in requests.into_iter().enumerate() {
        let (sm, ssm) = (sm.clone(), ssm.clone());
        set.spawn(async move { (i, env, fetch_one(&sm, &ssm, request).await) });
    }
    let mut out: Vec<(usize, &'static str, String)> = set.join_all().await;
    out.sort_by_key(|(i, ..)| *i);
    out.into_iter().map(|(_, env, v)| (env, v)).collect()
}

/// (d) the entrypoint script: one AWS CLI process per field, then the "service" (`env`).
fn entrypoint_script(fx: &Fixture, json_key: &str) -> String {
    let mut s = String::from(
        "#!/usr/bin/env bash\n\
         # An ECS entrypoint that fetches each variable with the AWS CLI, then starts the service.\n\
         set -euo pipefail\n\
         aws() { \"$AWS_CLI\" --endpoint-url \"$BENCH_ENDPOINT\" --region us-east-1 \"$@\"; }\n",
    );
    s.push_str(json_key);
    s.push('\n');
    for (env, request) in requests(fx) {
        match request {
            Request::Secret {
                id,
                key,
                pin,
                version_id,
            } => {
                let selector = match pin {
                    Pin::None => String::new(),
                    Pin::PreviousStage => " --version-stage AWSPREVIOUS".to_owned(),
                    Pin::FirstVersionId => {
                        format!(" --version-id {}", version_id.expect("a version id"))
                    }
                };
                let _ = writeln!(
                    s,
                    "{env}=\"$(aws secretsmanager get-secret-value --secret-id '{id}'{selector} \
                     --query SecretString --output text | json_key '{key}')\"; export {env}"
                );
            }
            Request::Param(name) => {
                let _ = writeln!(
                    s,
                    "{env}=\"$(aws ssm get-parameter --name '{name}' --with-decryption \
                     --query Parameter.Value --output text)\"; export {env}"
                );
            }
        }
    }
    s.push_str("exec env\n");
    s
}

fn approach_cli(
    script: &Path,
    cli: &str,
    endpoint: &str,
    fx: &Fixture,
) -> Vec<(&'static str, String)> {
    let out = Command::new("bash")
        .arg(script)
        .env("AWS_CLI", cli)
        .env("BENCH_ENDPOINT", endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_PAGER", "")
        .output()
        .expect("run the entrypoint script");
    assert!(
        out.status.success(),
        "entrypoint script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let env: HashMap<&str, &str> = std::str::from_utf8(&out.stdout)
        .expect("UTF-8 env")
        .lines()
        .filter_map(|l| l.split_once('='))
        .collect();
    fx.spec
        .fields
        .iter()
        .map(|item| {
            let (Item::Secret { env: name, .. } | Item::Param { env: name, .. }) = *item;
            (
                name,
                env.get(name).map(|v| (*v).to_owned()).unwrap_or_default(),
            )
        })
        .collect()
}

/// The script's `json_key KEY` (stdin: a JSON object; stdout: the key's string value) and the
/// tool behind it: jq, as entrypoint scripts use, or the venv's Python where jq is missing.
fn json_tool(cli: &str) -> (&'static str, String) {
    if Command::new("jq").arg("--version").output().is_ok() {
        // `--arg` passes the key as data, not as a jq program.
        (
            "jq",
            "json_key() { jq -r --arg k \"$1\" '.[$k]'; }".to_owned(),
        )
    } else {
        let python = Path::new(cli).with_file_name("python");
        (
            "python",
            format!(
                "json_key() {{ '{}' -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' \"$1\"; }}",
                python.display()
            ),
        )
    }
}

#[derive(Default)]
struct Series {
    ms: Vec<f64>,
    requests: Vec<BTreeMap<String, usize>>,
}

impl Series {
    fn push(&mut self, elapsed: Duration, proxy: &Proxy) {
        self.ms.push(elapsed.as_secs_f64() * 1000.0);
        let mut by_target = BTreeMap::new();
        for t in proxy.targets() {
            *by_target.entry(t).or_insert(0) += 1;
        }
        self.requests.push(by_target);
    }

    fn sorted(&self) -> Vec<f64> {
        let mut v = self.ms.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    fn median(&self) -> f64 {
        let v = self.sorted();
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            f64::midpoint(v[n / 2 - 1], v[n / 2])
        }
    }

    fn total_requests(&self) -> Vec<usize> {
        self.requests.iter().map(|r| r.values().sum()).collect()
    }

    fn json(&self, a_median: Option<f64>) -> Value {
        let v = self.sorted();
        json!({
            "median_ms": self.median(),
            "min_ms": v.first(),
            "max_ms": v.last(),
            "runs_ms": self.ms,
            "requests_per_run": self.total_requests(),
            "requests_by_target_last_run": self.requests.last(),
            "ratio_median_to_a": a_median.map(|a| self.median() / a),
        })
    }
}

const OPERATIONS: [&str; 3] = ["a", "b", "c"];

async fn timed<F: Future<Output = Vec<(&'static str, String)>>>(
    proxy: &Proxy,
    fx: &Fixture,
    name: &str,
    series: &mut Series,
    f: F,
) {
    proxy.reset_counts();
    let start = Instant::now();
    let values = f.await;
    let elapsed = start.elapsed();
    series.push(elapsed, proxy);
    fx.check(name, &values);
}

/// Median wall time of one `GetParameter` through the proxy: what "one request" costs here.
async fn one_request(config: &SdkConfig, fx: &Fixture, runs: usize) -> Vec<f64> {
    let ssm = aws_sdk_ssm::Client::new(config);
    let name = fx.param_name(0);
    let mut ms = Vec::new();
    for _ in 0..=runs {
        let start = Instant::now();
        ssm.get_parameter()
            .name(&name)
            .with_decryption(true)
            .send()
            .await
            .expect("GetParameter");
        ms.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    ms.remove(0); // the first opens the connection
    ms.sort_by(f64::total_cmp);
    ms
}

/// `--profile`: where (a)'s time goes. Without added latency: (a) whole, and each of the
/// requests (a) sends, alone; then (a) at each concurrency limit, at 100 ms.
async fn profile(proxy: &Proxy, config: &SdkConfig, fx: &Fixture, runs: usize) {
    async fn median_ms<F: Future<Output = ()>>(runs: usize, f: impl Fn() -> F) -> f64 {
        let mut ms = Vec::new();
        for _ in 0..=runs {
            let start = Instant::now();
            f().await;
            ms.push(start.elapsed().as_secs_f64() * 1000.0);
        }
        ms.remove(0);
        ms.sort_by(f64::total_cmp);
        ms[ms.len() / 2]
    }
    let sm = aws_sdk_secretsmanager::Client::new(config);
    let ssm = aws_sdk_ssm::Client::new(config);
    let unpinned: Vec<String> = (0..fx.spec.secrets.len())
        .filter(|&i| fx.spec.secrets[i].pin == Pin::None)
        .map(|i| fx.secret_id(i))
        .collect();
    let params: Vec<String> = (0..10).map(|i| fx.param_name(i)).collect();
    for latency in [0, 100] {
        proxy.set_latency(Duration::from_millis(latency));
        let a = median_ms(runs, || async {
            approach_a::<Fetch50>(config, fx).await;
        })
        .await;
        let batch = median_ms(runs, || async {
            sm.batch_get_secret_value()
                .set_secret_id_list(Some(unpinned.clone()))
                .send()
                .await
                .expect("BatchGetSecretValue");
        })
        .await;
        let get = median_ms(runs, || async {
            sm.get_secret_value()
                .secret_id(fx.secret_id(fx.spec.secrets.len() - 2))
                .version_stage("AWSPREVIOUS")
                .send()
                .await
                .expect("GetSecretValue");
        })
        .await;
        let get_params = median_ms(runs, || async {
            ssm.get_parameters()
                .set_names(Some(params.clone()))
                .with_decryption(true)
                .send()
                .await
                .expect("GetParameters");
        })
        .await;
        eprintln!(
            "latency {latency} ms (medians of {runs}): from_aws {a:.1} ms; alone: \
             BatchGetSecretValue({}) {batch:.1} ms, GetSecretValue(pinned) {get:.1} ms, \
             GetParameters(10, decrypt) {get_params:.1} ms; the 5 requests one after another \
             would take {:.1} ms",
            unpinned.len(),
            batch + 2.0 * get + 2.0 * get_params
        );
    }
    proxy.set_latency(Duration::from_millis(100));
    for c in [1, 2, 5, 32] {
        let options = Loader::new(config)
            .vars(fx.vars())
            .lookup(|_| None)
            .max_concurrency(c);
        let ms = median_ms(runs, || async {
            options.fetch::<Fetch50>().await.expect("from_aws");
        })
        .await;
        eprintln!("latency 100 ms, max_concurrency {c}: from_aws {ms:.1} ms");
    }
}

fn results_dir() -> PathBuf {
    ecs_secrets_bench::target_dir().join("bench")
}

#[allow(clippy::too_many_lines)]
async fn run(args: Args, endpoint: String) {
    let cli = std::env::var(testkit::AWS_CLI_VAR).ok();
    assert!(
        cli.is_some() || !args.cli,
        "{} is not set: start the bench through scripts/with-moto (or pass --no-cli)",
        testkit::AWS_CLI_VAR
    );
    let direct = testkit::sdk_config(&endpoint).await;
    let proxy = Proxy::start(&endpoint);
    let config = testkit::sdk_config(proxy.url()).await;

    eprintln!("creating fixtures …");
    let fx50 = Fixture::create(&direct, &SPEC50).await;
    let scaling_fixtures = if args.scaling {
        Some((
            Fixture::create(&direct, &SPEC10).await,
            Fixture::create(&direct, &SPEC200).await,
            Fixture::create(&direct, &SPEC1000).await,
        ))
    } else {
        None
    };

    let (tool, json_key) = json_tool(cli.as_deref().unwrap_or("python3"));
    let script = entrypoint_script(&fx50, &json_key);
    let script_path = results_dir().join("direct_fetch_entrypoint.sh");
    std::fs::create_dir_all(results_dir()).expect("create target/bench");
    std::fs::write(&script_path, &script).expect("write the entrypoint script");

    if args.profile {
        profile(&proxy, &config, &fx50, args.runs).await;
        return;
    }

    let mut by_latency = Vec::new();
    for &latency_ms in &args.latencies_ms {
        let latency = Duration::from_millis(latency_ms);
        proxy.set_latency(latency);
        eprintln!("latency {latency_ms} ms: warming up …");
        // One untimed round of a, b, c: connections, moto's backends, the SDK's lazy state.
        proxy.reset_counts();
        approach_a::<Fetch50>(&config, &fx50).await;
        approach_per_field(&config, &fx50, false).await;
        approach_per_field(&config, &fx50, true).await;
        let one = one_request(&config, &fx50, args.runs).await;

        let mut series: BTreeMap<&str, Series> = BTreeMap::new();
        for run in 0..args.runs {
            eprintln!("latency {latency_ms} ms: run {}/{}", run + 1, args.runs);
            for name in OPERATIONS {
                let s = series.entry(name).or_default();
                match name {
                    "a" => {
                        timed(
                            &proxy,
                            &fx50,
                            name,
                            s,
                            approach_a::<Fetch50>(&config, &fx50),
                        )
                        .await
                    }
                    "b" => {
                        timed(
                            &proxy,
                            &fx50,
                            name,
                            s,
                            approach_per_field(&config, &fx50, false),
                        )
                        .await;
                    }
                    _ => {
                        timed(
                            &proxy,
                            &fx50,
                            name,
                            s,
                            approach_per_field(&config, &fx50, true),
                        )
                        .await;
                    }
                }
            }
            if let Some(cli) = cli.as_deref().filter(|_| args.cli) {
                let s = series.entry("d").or_default();
                proxy.reset_counts();
                let start = Instant::now();
                let values = approach_cli(&script_path, cli, proxy.url(), &fx50);
                s.push(start.elapsed(), &proxy);
                fx50.check("d", &values);
            }
        }

        let a = series["a"].median();
        let a_requests = series["a"].total_requests();
        let min_requests = SPEC50.min_requests();
        let ratio = |name: &str| series.get(name).map(|s| s.median() / a);
        let one_median = one[one.len() / 2];
        let goals = json!({
            "a_sends_the_minimum_requests": a_requests.iter().all(|&n| n == min_requests),
            "a_within_1_5x_latency": a <= 1.5 * latency_ms as f64,
            "a_within_1_5x_one_measured_request": a <= 1.5 * one_median,
            "b_over_a_at_least_20": ratio("b").map(|r| r >= 20.0),
            "d_over_a_at_least_300": ratio("d").map(|r| r >= 300.0),
        });
        let approaches: serde_json::Map<String, Value> = series
            .iter()
            .map(|(name, s)| ((*name).to_owned(), s.json(Some(a))))
            .collect();
        let entry = json!({
            "latency_ms": latency_ms,
            "one_request_ms": { "median": one_median, "min": one.first(), "max": one.last() },
            "a_over_latency": a / latency_ms as f64,
            "a_over_one_measured_request": a / one_median,
            "min_requests": min_requests,
            "approaches": approaches,
            "goals": goals,
        });
        eprintln!(
            "{}",
            serde_json::to_string_pretty(&entry).unwrap_or_default()
        );
        by_latency.push(entry);
    }

    let mut scaling = Vec::new();
    if let Some((fx10, fx200, fx1000)) = &scaling_fixtures {
        let latency_ms = args.latencies_ms[0];
        proxy.set_latency(Duration::from_millis(latency_ms));
        for n in [10, 50, 200, 1000] {
            eprintln!("scaling: {n} fields at {latency_ms} ms");
            let mut s = Series::default();
            let (fx, spec) = match n {
                10 => (fx10, &SPEC10),
                50 => (&fx50, &SPEC50),
                200 => (fx200, &SPEC200),
                _ => (fx1000, &SPEC1000),
            };
            for run in 0..=args.runs {
                let mut one = Series::default();
                let target = if run == 0 { &mut one } else { &mut s };
                match n {
                    10 => timed(&proxy, fx, "a", target, approach_a::<Fetch10>(&config, fx)).await,
                    50 => timed(&proxy, fx, "a", target, approach_a::<Fetch50>(&config, fx)).await,
                    200 => {
                        timed(&proxy, fx, "a", target, approach_a::<Fetch200>(&config, fx)).await;
                    }
                    _ => {
                        timed(
                            &proxy,
                            fx,
                            "a",
                            target,
                            approach_a::<Fetch1000>(&config, fx),
                        )
                        .await;
                    }
                }
            }
            let pinned = spec.secrets.iter().filter(|s| s.pin != Pin::None).count();
            let mut entry = s.json(None);
            entry["fields"] = json!(n);
            entry["latency_ms"] = json!(latency_ms);
            entry["distinct_secrets"] = json!(spec.secrets.len());
            entry["pinned_secrets"] = json!(pinned);
            entry["params"] = json!(spec.params.len());
            entry["min_requests"] = json!(spec.min_requests());
            entry["max_concurrency"] = json!(ecs_secrets::aws::DEFAULT_MAX_CONCURRENCY);
            entry["over_latency"] = json!(s.median() / latency_ms as f64);
            eprintln!("{}", serde_json::to_string(&entry).unwrap_or_default());
            scaling.push(entry);
        }
    }

    let section = json!({
        "command": "scripts/with-moto cargo run --release -p ecs-secrets-bench --features aws --bin direct_fetch",
        "endpoint": "moto (local), behind testkit's Proxy adding a fixed latency to every request",
        "runs": args.runs,
        "json_tool_of_d": tool,
        "entrypoint_script": script_path.display().to_string(),
        "reference": {
            "fields": SPEC50.fields.len(),
            "distinct_secrets": SPEC50.secrets.len(),
            "pinned_secrets": SPEC50.secrets.iter().filter(|s| s.pin != Pin::None).count(),
            "params": SPEC50.params.len(),
            "secure_params": SPEC50.params.iter().filter(|p| p.secure).count(),
            "min_requests": SPEC50.min_requests(),
        },
        "by_latency": by_latency,
        "scaling_a": scaling,
        "note": "shared 2-core machine; moto serializes requests (~3.4 ms each)",
    });
    match ecs_secrets_bench::merge_results("direct_fetch", section) {
        Ok(path) => eprintln!("written to {}", path.display()),
        Err(e) => eprintln!("could not write the results: {e}"),
    }
}

fn main() {
    let args = Args::parse();
    let Some(endpoint) = testkit::endpoint() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime");
    runtime.block_on(run(args, endpoint));
}
