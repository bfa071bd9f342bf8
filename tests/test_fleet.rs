//! A small fleet starting at once within a quota (docs/reliability.md, "Faults on the AWS path"):
//! 20 tasks, each loading 4 secrets, through testkit's proxy with token buckets far below what
//! the fleet asks at once (`BatchGetSecretValue` one in all, `GetSecretValue` 10/s, with a burst
//! of 1 and 5).
//!
//! Each task is **its own OS process** (this test binary, started again to run this same test
//! with `ECS_SECRETS_FLEET_TASK` set, which makes it one task): its own `SdkConfig`, `Loader`, clients and SDK retry state. The
//! SDK keeps its retry token bucket per retry partition, shared by every client of a service in
//! one process, and an `SdkConfig` cannot name a partition of its own; 20 loaders in one process
//! would spend one bucket between them and fail in ways separate tasks do not. Every task's
//! `SdkConfig` has the SDK's standard retries (3 attempts, 1 s initial backoff), as
//! `aws-config`'s defaults give a real task.
//!
//! The loader's default must configure every task, with exactly the requests its plan predicts:
//! one batch per task, never retried; for every throttled batch, its 4 secrets one by one; one
//! more `GetSecretValue` for every throttled one. The SDK's standard policy for everything
//! (`Loader::retry_config(RetryConfig::standard())`, the loader's behaviour before it answered
//! throttling itself) fails tasks under the same quotas. Counts and outcomes are asserted, never
//! times (docs/benchmarks.md §4 measures those).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use ecs_secrets::aws::Loader;
use ecs_secrets::{EcsSecrets, Vars};
use ecs_secrets_testkit::aws_config::retry::RetryConfig;
use ecs_secrets_testkit::{self as testkit, Moto, Quota};
use serde_json::{Value, json};

use testkit::{BATCH, GET};

const TASKS: usize = 20;
const SECRETS: usize = 4;
const TASK_VAR: &str = "ECS_SECRETS_FLEET_TASK";
/// What a task's lines start with (the test harness prints lines of its own).
const MARK: &str = "fleet-task: ";
const TEST_NAME: &str = "a_fleet_starts_within_the_quotas";

#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct Task {
    #[ecs(secret = "{p}/s0")]
    s0: String,
    #[ecs(secret = "{p}/s1")]
    s1: String,
    #[ecs(secret = "{p}/s2")]
    s2: String,
    #[ecs(secret = "{p}/s3")]
    s3: String,
}

fn value(i: usize) -> String {
    format!("fleet-{i}")
}

/// The fleet; in a task's process, that task.
#[tokio::test]
async fn a_fleet_starts_within_the_quotas() {
    match std::env::var(TASK_VAR) {
        Ok(strategy) => task(&strategy).await,
        Err(_) => fleet().await,
    }
}

/// One task: configure, say `ready`, wait for the release byte, load, report one JSON line.
async fn task(strategy: &str) {
    let endpoint = std::env::var("FLEET_ENDPOINT").expect("FLEET_ENDPOINT");
    let prefix = std::env::var("FLEET_PREFIX").expect("FLEET_PREFIX");
    let config = testkit::sdk_config_with(&endpoint, RetryConfig::standard(), None).await;
    let loader = Loader::new(&config)
        .vars(Vars::new().with("p", &prefix))
        .lookup(|_| None);
    let loader = match strategy {
        "default" => loader,
        "sdk-standard" => loader.retry_config(RetryConfig::standard()),
        other => panic!("unknown strategy {other}"),
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "\n{MARK}ready")
        .and_then(|()| out.flush())
        .unwrap();
    let mut byte = [0u8; 1];
    assert_eq!(std::io::stdin().read(&mut byte).unwrap(), 1, "the release");
    let report = match loader.fetch::<Task>().await {
        Ok(t) => {
            let got = [&t.s0, &t.s1, &t.s2, &t.s3];
            let right = got.iter().enumerate().all(|(i, v)| **v == value(i));
            json!({ "ok": right, "codes": [] })
        }
        Err(e) => {
            let codes: Vec<&str> = e.errors().iter().map(|e| e.kind.code()).collect();
            json!({ "ok": false, "codes": codes })
        }
    };
    writeln!(out, "{MARK}{report}")
        .and_then(|()| out.flush())
        .unwrap();
}

/// Starts the fleet's processes, releases them at once, and returns their reports.
fn run_fleet(moto: &Moto, strategy: &str) -> Vec<Value> {
    let exe = std::env::current_exe().unwrap();
    let mut children: Vec<_> = (0..TASKS)
        .map(|_| {
            let mut child = Command::new(&exe)
                .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
                .env(TASK_VAR, strategy)
                .env("FLEET_ENDPOINT", moto.proxy.url())
                .env("FLEET_PREFIX", &moto.prefix)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("start a task");
            let stdout = BufReader::new(child.stdout.take().unwrap());
            (child, stdout)
        })
        .collect();
    for (_, stdout) in &mut children {
        assert_eq!(task_line(stdout), "ready");
    }
    moto.proxy.reset_counts();
    moto.proxy.refill_quotas();
    for (child, _) in &mut children {
        let stdin = child.stdin.as_mut().unwrap();
        stdin.write_all(b"g").and_then(|()| stdin.flush()).unwrap();
    }
    children
        .into_iter()
        .map(|(mut child, mut stdout)| {
            let line = task_line(&mut stdout);
            // The rest of the harness's output.
            std::io::copy(&mut stdout, &mut std::io::sink()).unwrap();
            assert!(child.wait().unwrap().success(), "a task crashed");
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
        })
        .collect()
}

/// The next line a task wrote (after [`MARK`]), skipping the test harness's own (which may start
/// the same line: libtest prints `test NAME ... ` before the test runs).
fn task_line(stdout: &mut impl BufRead) -> String {
    loop {
        let mut line = String::new();
        assert_ne!(
            stdout.read_line(&mut line).unwrap(),
            0,
            "a task ended early"
        );
        if let Some((_, rest)) = line.trim_end().split_once(MARK) {
            return rest.to_owned();
        }
    }
}

fn failures(reports: &[Value]) -> Vec<&Value> {
    reports.iter().filter(|r| r["ok"] != json!(true)).collect()
}

async fn fleet() {
    let Some(moto) = Moto::start("fleet").await else {
        return;
    };
    for i in 0..SECRETS {
        moto.secret(&format!("/s{i}"), &value(i)).await;
    }
    // The batch bucket holds one and (for this test's length) never refills: exactly one
    // batch is served however long the release takes on a busy machine.
    moto.proxy.set_quota(
        BATCH,
        Quota {
            per_second: 0.001,
            burst: 1.0,
        },
    );
    moto.proxy.set_quota(
        GET,
        Quota {
            per_second: 10.0,
            burst: 5.0,
        },
    );

    // The loader's default: every task configured, with the requests its plan predicts.
    let reports = run_fleet(&moto, "default");
    assert_eq!(failures(&reports), Vec::<&Value>::new(), "no task fails");
    let (batches, gets) = (moto.proxy.count(BATCH), moto.proxy.count(GET));
    let (throttled_batches, throttled_gets) =
        (moto.proxy.throttled(BATCH), moto.proxy.throttled(GET));
    assert_eq!(batches, TASKS, "one batch per task, never retried");
    assert_eq!(
        throttled_batches,
        TASKS - 1,
        "the bucket's one batch served, the rest throttled"
    );
    assert_eq!(
        gets,
        SECRETS * throttled_batches + throttled_gets,
        "each throttled batch's secrets one by one, and one retry per throttled answer"
    );
    assert!(throttled_gets > 0, "the quota bound the fleet");
    assert_eq!(moto.proxy.total(), batches + gets, "no other request");
    println!(
        "default: {TASKS} tasks configured; {batches} batches ({throttled_batches} throttled), \
         {gets} GetSecretValue ({throttled_gets} throttled)"
    );

    // The SDK's standard policy for everything: tasks fail, throttled.
    let reports = run_fleet(&moto, "sdk-standard");
    let failed = failures(&reports);
    assert!(
        !failed.is_empty(),
        "the old default fails tasks under these quotas"
    );
    for r in &failed {
        let codes = r["codes"].as_array().unwrap();
        assert!(!codes.is_empty(), "{r}");
        assert!(
            codes.iter().all(|c| c == "ThrottlingException"),
            "a failed task was throttled: {r}"
        );
    }
    let batches = moto.proxy.count(BATCH);
    assert!(
        batches > TASKS && batches <= 3 * TASKS,
        "the SDK retried throttled batches, at most 3 attempts each: {batches}"
    );
    assert!(moto.proxy.count(GET) <= 3 * SECRETS * TASKS);
    println!(
        "sdk-standard: {} of {TASKS} tasks failed; {batches} batches, {} GetSecretValue",
        failed.len(),
        moto.proxy.count(GET)
    );
}
