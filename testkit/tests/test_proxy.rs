//! The proxy against the local endpoint: what it counts and records, its latency, its gates, and
//! what each fault looks like to the AWS SDK. Nothing here depends on the machine's speed: a
//! latency is checked as a lower bound only, and whatever must overlap or give up is held at a
//! [`Gate`].

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use ecs_secrets_testkit::{
    self as testkit, BATCH, Fault, FaultKind, GET, Gate, PATIENCE, Proxy, bounded,
};
use serde_json::{Value, json};

/// A secret written straight to the endpoint, a proxy in front of it, and a client of the proxy.
struct Setup {
    proxy: Proxy,
    client: Client,
    name: String,
}

async fn setup(value: &str) -> Option<Setup> {
    let ep = testkit::endpoint()?;
    let direct = testkit::sdk_config(&ep).await;
    let name = testkit::unique("proxy");
    testkit::create_secret(&direct, &name, value).await;
    let proxy = Proxy::start(&ep);
    let client = Client::new(&testkit::sdk_config(proxy.url()).await);
    Some(Setup {
        proxy,
        client,
        name,
    })
}

async fn get(client: &Client, id: &str) -> Result<String, String> {
    client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map(|out| out.secret_string().unwrap_or_default().to_owned())
        .map_err(|e| match &e {
            SdkError::ServiceError(_) => e.code().unwrap_or("no code").to_owned(),
            SdkError::TimeoutError(_) => "timeout".to_owned(),
            SdkError::DispatchFailure(_) => "dispatch failure".to_owned(),
            SdkError::ResponseError(_) => "response error".to_owned(),
            other => format!("{other:?}"),
        })
}

#[tokio::test]
async fn counts_targets_in_order_and_records_bodies() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("v").await
    else {
        return;
    };
    let direct = testkit::sdk_config(&testkit::endpoint().unwrap()).await;
    let other = testkit::unique("proxy-other");
    testkit::create_secret(&direct, &other, "w").await;

    assert_eq!(get(&client, &name).await, Ok("v".into()));
    let batch = client
        .batch_get_secret_value()
        .secret_id_list(&name)
        .secret_id_list(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(batch.secret_values().len(), 2);
    client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();

    assert_eq!(
        proxy.targets(),
        [GET, BATCH, "secretsmanager.DescribeSecret"]
    );
    assert_eq!(proxy.total(), 3);
    assert_eq!(proxy.count(GET), 1);
    assert_eq!(proxy.count(BATCH), 1);
    assert_eq!(proxy.count("AmazonSSM.GetParameters"), 0);
    assert_eq!(proxy.bodies(GET), [json!({ "SecretId": name })]);
    assert_eq!(proxy.bodies(BATCH)[0]["SecretIdList"], json!([name, other]));

    proxy.reset_counts();
    assert_eq!(proxy.total(), 0);
    assert!(proxy.targets().is_empty());
    assert!(proxy.bodies(GET).is_empty());
    assert_eq!(get(&client, &name).await, Ok("v".into()));
    assert_eq!(proxy.targets(), [GET]);
}

#[tokio::test]
async fn counts_ssm_requests() {
    let Some(ep) = testkit::endpoint() else {
        return;
    };
    let direct = testkit::sdk_config(&ep).await;
    let name = format!("/{}", testkit::unique("proxy"));
    testkit::put_parameter(&direct, &name, "p", true).await;
    let proxy = Proxy::start(&ep);
    let ssm = aws_sdk_ssm::Client::new(&testkit::sdk_config(proxy.url()).await);

    let out = ssm
        .get_parameters()
        .names(&name)
        .names("/does/not/exist")
        .with_decryption(true)
        .send()
        .await
        .unwrap();
    assert_eq!(out.parameters()[0].value(), Some("p"));
    assert_eq!(out.invalid_parameters(), ["/does/not/exist"]);
    assert_eq!(proxy.targets(), ["AmazonSSM.GetParameters"]);
    assert_eq!(
        proxy.bodies("AmazonSSM.GetParameters"),
        [json!({ "Names": [name, "/does/not/exist"], "WithDecryption": true })]
    );
}

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("v").await
    else {
        return;
    };
    for _ in 0..10 {
        assert_eq!(get(&client, &name).await, Ok("v".into()));
    }
    assert_eq!(proxy.count(GET), 10);
    assert_eq!(proxy.connections(), 1);
}

#[test]
fn requests_without_a_target_are_recorded_by_method_and_path() {
    let Some(ep) = testkit::endpoint() else {
        return;
    };
    // A plain blocking client: the proxy runs on its own thread and needs no runtime here.
    let proxy = Proxy::start(&ep);
    let addr = proxy.url().strip_prefix("http://").unwrap();
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .write_all(b"GET /moto-api/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();

    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("\r\nConnection: close\r\n"), "{answer}");
    assert_eq!(proxy.targets(), ["GET /moto-api/"]);
}

/// A latency delays each request by at least its length (a lower bound holds on any machine);
/// zero turns it off: after an hour's latency, a request with none answers.
#[tokio::test]
async fn latency_is_added_to_each_request_until_turned_off() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("v").await
    else {
        return;
    };
    let latency = Duration::from_millis(400);
    proxy.set_latency(latency);
    let start = Instant::now();
    get(&client, &name).await.unwrap();
    assert!(start.elapsed() >= latency, "{:?}", start.elapsed());

    proxy.set_latency(Duration::from_secs(3600));
    proxy.set_latency(Duration::ZERO);
    assert_eq!(
        bounded("a request without latency", get(&client, &name)).await,
        Ok("v".into())
    );
}

/// Each connection is served on its own task: four requests are held at the gate at once, then
/// all answered; a released answer no longer counts as held.
#[tokio::test]
async fn requests_overlap_and_a_gate_holds_their_answers() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("v").await
    else {
        return;
    };
    let gate = Gate::new();
    proxy.add_fault(Fault::on(GET, 4, FaultKind::Hold(gate.clone())));
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (client, name) = (client.clone(), name.clone());
            tokio::spawn(async move { get(&client, &name).await })
        })
        .collect();
    bounded("four answers held at once", gate.until_held(4)).await;
    assert_eq!(proxy.count(GET), 4, "each forwarded at once");
    gate.release(1);
    assert_eq!(gate.held(), 3);
    gate.open();
    for task in tasks {
        assert_eq!(task.await.unwrap(), Ok("v".into()));
    }
    assert_eq!((gate.held(), gate.peak()), (0, 4));
    assert_eq!(proxy.pending_faults(), 0);
}

#[tokio::test]
async fn throttle_once_is_retried_by_the_sdk() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("v").await
    else {
        return;
    };
    proxy.add_fault(Fault::on(GET, 1, FaultKind::Throttle));
    assert_eq!(get(&client, &name).await, Ok("v".into()));
    assert_eq!(proxy.count(GET), 2);
    assert_eq!(proxy.pending_faults(), 0);
}

#[tokio::test]
async fn throttle_on_every_attempt_surfaces_after_three_attempts() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("v").await
    else {
        return;
    };
    proxy.add_fault(Fault::on(GET, 5, FaultKind::Throttle));
    assert_eq!(get(&client, &name).await, Err("ThrottlingException".into()));
    assert_eq!(proxy.count(GET), 3);
    assert_eq!(proxy.pending_faults(), 2);
}

#[tokio::test]
async fn status_500_is_retried() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("v").await
    else {
        return;
    };
    proxy.add_fault(Fault::on(
        GET,
        2,
        FaultKind::Status(500, "boom".into(), "text/plain".into()),
    ));
    assert_eq!(get(&client, &name).await, Ok("v".into()));
    assert_eq!(proxy.count(GET), 3);
}

#[tokio::test]
async fn json_error_status_carries_its_code() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("v").await
    else {
        return;
    };
    proxy.add_fault(Fault::on(
        GET,
        1,
        FaultKind::json_error(400, "DecryptionFailure", "KMS says no"),
    ));
    let err = client
        .get_secret_value()
        .secret_id(&name)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_decryption_failure(), "{err:?}");
    assert_eq!(err.message(), Some("KMS says no"));
    assert_eq!(proxy.count(GET), 1);
}

#[tokio::test]
async fn access_denied_is_not_retried() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("v").await
    else {
        return;
    };
    proxy.add_fault(Fault::on(GET, 1, FaultKind::AccessDenied));
    assert_eq!(
        get(&client, &name).await,
        Err("AccessDeniedException".into())
    );
    assert_eq!(proxy.count(GET), 1);
    // The rule has run out: the next call goes through.
    assert_eq!(get(&client, &name).await, Ok("v".into()));
}

#[tokio::test]
async fn reset_is_a_dispatch_failure_that_is_retried() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("v").await
    else {
        return;
    };
    proxy.add_fault(Fault::on(GET, 1, FaultKind::Reset));
    assert_eq!(get(&client, &name).await, Ok("v".into()));
    assert_eq!(proxy.count(GET), 2);

    proxy.add_fault(Fault::on(GET, 3, FaultKind::Reset));
    assert_eq!(get(&client, &name).await, Err("dispatch failure".into()));
    assert_eq!(proxy.count(GET), 5);
}

/// A client of the proxy with an attempt timeout, and the SDK's 3 attempts.
async fn timing_out(proxy: &Proxy, attempt: Duration) -> Client {
    let timeout = TimeoutConfig::builder()
        .operation_attempt_timeout(attempt)
        .build();
    let retry = RetryConfig::standard()
        .with_max_attempts(3)
        .with_initial_backoff(Duration::from_millis(10));
    let config: SdkConfig = testkit::sdk_config_with(proxy.url(), retry, Some(timeout)).await;
    Client::new(&config)
}

/// An answer held for good is abandoned at the attempt timeout and the request retried: the
/// value arrives, from the second attempt. Held on every attempt, the request times out.
#[tokio::test]
async fn an_answer_past_the_attempt_timeout_is_retried() {
    let Some(ep) = testkit::endpoint() else {
        return;
    };
    let direct = testkit::sdk_config(&ep).await;
    let name = testkit::unique("proxy");
    testkit::create_secret(&direct, &name, "v").await;
    let proxy = Proxy::start(&ep);
    let never = Gate::new();

    // The second attempt must beat the timeout: a generous one.
    let client = timing_out(&proxy, PATIENCE).await;
    proxy.add_fault(Fault::on(GET, 1, FaultKind::Hold(never.clone())));
    assert_eq!(get(&client, &name).await, Ok("v".into()));
    assert_eq!(proxy.count(GET), 2);

    // Nothing must beat it: a short one.
    let client = timing_out(&proxy, Duration::from_millis(300)).await;
    proxy.add_fault(Fault::on(GET, 3, FaultKind::Hold(never.clone())));
    assert_eq!(get(&client, &name).await, Err("timeout".into()));
    assert_eq!(proxy.count(GET), 5);
    assert_eq!(never.held(), 4, "no held answer ever went out");
}

#[tokio::test]
async fn delay_within_the_timeout_only_slows_the_answer() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("v").await
    else {
        return;
    };
    get(&client, &name).await.unwrap();
    proxy.add_fault(Fault::any(1, FaultKind::Delay(Duration::from_millis(300))));
    let start = Instant::now();
    assert_eq!(get(&client, &name).await, Ok("v".into()));
    assert!(start.elapsed() >= Duration::from_millis(300));
    assert_eq!(proxy.count(GET), 2);
}

#[tokio::test]
async fn truncated_body_is_a_response_error_that_is_retried() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("v").await
    else {
        return;
    };
    proxy.add_fault(Fault::on(GET, 1, FaultKind::TruncateBody));
    assert_eq!(get(&client, &name).await, Ok("v".into()));
    assert_eq!(proxy.count(GET), 2);

    proxy.add_fault(Fault::on(GET, 3, FaultKind::TruncateBody));
    assert_eq!(get(&client, &name).await, Err("response error".into()));
    assert_eq!(proxy.count(GET), 5);
}

#[tokio::test]
async fn rewrite_can_move_a_secret_into_the_batch_errors() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("v").await
    else {
        return;
    };
    let direct = testkit::sdk_config(&testkit::endpoint().unwrap()).await;
    let denied = testkit::unique("proxy-denied");
    testkit::create_secret(&direct, &denied, "w").await;

    let moved = denied.clone();
    proxy.add_fault(Fault::on(
        BATCH,
        1,
        FaultKind::rewrite(move |mut body: Value| {
            let values = body["SecretValues"].as_array_mut().unwrap();
            values.retain(|v| v["Name"] != moved.as_str());
            body["Errors"] = json!([{
                "SecretId": moved,
                "ErrorCode": "AccessDeniedException",
                "Message": "not authorized",
            }]);
            body
        }),
    ));
    let out = client
        .batch_get_secret_value()
        .secret_id_list(&name)
        .secret_id_list(&denied)
        .send()
        .await
        .unwrap();
    assert_eq!(out.secret_values().len(), 1);
    assert_eq!(out.secret_values()[0].name(), Some(name.as_str()));
    assert_eq!(out.errors().len(), 1);
    assert_eq!(out.errors()[0].secret_id(), Some(denied.as_str()));
    assert_eq!(out.errors()[0].error_code(), Some("AccessDeniedException"));

    // Used up: the next batch is the endpoint's own answer.
    let out = client
        .batch_get_secret_value()
        .secret_id_list(&name)
        .secret_id_list(&denied)
        .send()
        .await
        .unwrap();
    assert_eq!(out.secret_values().len(), 2);
    assert!(out.errors().is_empty());
    assert_eq!(proxy.count(BATCH), 2);
}

#[tokio::test]
async fn faults_match_their_target_in_rule_order_and_run_out() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("v").await
    else {
        return;
    };
    proxy.add_fault(Fault::on(GET, 1, FaultKind::AccessDenied));
    proxy.add_fault(Fault::any(1, FaultKind::Throttle));
    assert_eq!(proxy.pending_faults(), 2);

    // DescribeSecret skips the GetSecretValue rule and takes the catch-all throttle (then retries).
    client
        .describe_secret()
        .secret_id(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(proxy.count("secretsmanager.DescribeSecret"), 2);
    assert_eq!(proxy.pending_faults(), 1);

    assert_eq!(
        get(&client, &name).await,
        Err("AccessDeniedException".into())
    );
    assert_eq!(proxy.pending_faults(), 0);
    assert_eq!(get(&client, &name).await, Ok("v".into()));

    proxy.add_fault(Fault::any(9, FaultKind::AccessDenied));
    proxy.clear_faults();
    assert_eq!(proxy.pending_faults(), 0);
    assert_eq!(get(&client, &name).await, Ok("v".into()));
}

#[test]
fn dropping_the_proxy_closes_its_port() {
    let Some(ep) = testkit::endpoint() else {
        return;
    };
    let proxy = Proxy::start(&ep);
    let addr = proxy.url().strip_prefix("http://").unwrap().to_owned();
    assert!(std::net::TcpStream::connect(&addr).is_ok());
    drop(proxy);
    let err = std::net::TcpStream::connect(&addr).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

/// A quota admits its burst, then answers `ThrottlingException` without asking the endpoint,
/// counts those answers by target, and marks them in the log with the client's user agent.
#[tokio::test]
async fn a_quota_throttles_past_its_burst_and_counts_it() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("v").await
    else {
        return;
    };
    // Two at once, and no refill.
    let quota = ecs_secrets_testkit::Quota {
        per_second: 0.0,
        burst: 2.0,
    };
    proxy.set_quota(GET, quota);
    let no_retry = Client::from_conf(
        client
            .config()
            .to_builder()
            .retry_config(RetryConfig::disabled())
            .build(),
    );
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(get(&no_retry, &name).await);
    }
    let throttled = Err("ThrottlingException".to_owned());
    assert_eq!(
        got,
        [Ok("v".into()), Ok("v".into()), throttled.clone(), throttled]
    );
    assert_eq!((proxy.count(GET), proxy.throttled(GET)), (4, 2));
    assert_eq!(proxy.throttled(BATCH), 0);
    let seen = proxy.seen();
    let flags: Vec<bool> = seen.iter().map(|s| s.throttled).collect();
    assert_eq!(flags, [false, false, true, true]);
    assert!(
        seen[0].user_agent.contains("aws-sdk-rust"),
        "{}",
        seen[0].user_agent
    );
    // Another target has no quota; a refill gives the burst back.
    proxy.refill_quotas();
    assert_eq!(get(&no_retry, &name).await, Ok("v".into()));
}

/// With the cache on, a repeated identical read is answered from the endpoint's first answer:
/// a value written afterwards is not seen (the cache is for fixtures that do not change).
#[tokio::test]
async fn the_answer_cache_repeats_the_first_answer() {
    let Some(Setup {
        proxy,
        client,
        name,
    }) = setup("first").await
    else {
        return;
    };
    proxy.cache_answers(true);
    assert_eq!(get(&client, &name).await, Ok("first".into()));
    let ep = testkit::endpoint().unwrap();
    testkit::put_secret_value(&testkit::sdk_config(&ep).await, &name, "second").await;
    assert_eq!(
        get(&client, &name).await,
        Ok("first".into()),
        "from the cache"
    );
    proxy.cache_answers(false);
    assert_eq!(get(&client, &name).await, Ok("second".into()));
}
