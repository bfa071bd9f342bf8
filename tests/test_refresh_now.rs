//! `Watch::refresh_now` against the local AWS endpoint, through the counting proxy: a call never
//! takes the outcome of a refresh that was in flight when it was made (that refresh may have
//! read AWS before the rotation the caller reacts to), and overlapping calls share one refresh.
//!
//! No timing is asserted: what must happen while a refresh is in flight happens while its
//! answers are held at the proxy, and every wait is for an event, with a generous timeout.
#![cfg(feature = "aws")]

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use ecs_secrets_testkit::{self as testkit, Fault, FaultKind, Gate, bounded};

#[path = "support/common.rs"]
mod common;
#[path = "support/rotation.rs"]
mod rotation;
use common::db_json;
use rotation::{until, watched};

/// Polls `call` once: a call to `refresh_now` is made (it decides which refresh may answer it)
/// when it is first polled.
async fn make<F: Future + Unpin>(call: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut *call).poll(cx))).await
}

#[tokio::test]
async fn refresh_now_storms_coalesce_into_two_loads() {
    let Some((moto, db, watch)) = watched("storm").await else {
        return;
    };
    testkit::put_secret_value(&moto.direct, &db, &db_json("pw-2")).await;
    moto.proxy.reset_counts();
    // The first refresh's answers are held until every call has been made: all of them are
    // made while it is in flight.
    let gate = Gate::new();
    moto.proxy
        .add_fault(Fault::any(usize::MAX, FaultKind::Hold(gate.clone())));
    let made = Arc::new(AtomicUsize::new(0));
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (watch, made) = (watch.clone(), Arc::clone(&made));
        calls.spawn(async move {
            let mut call = Box::pin(watch.refresh_now());
            let first = make(&mut call).await;
            made.fetch_add(1, Ordering::SeqCst);
            match first {
                Poll::Ready(outcome) => outcome,
                Poll::Pending => call.await,
            }
        });
    }
    until("every call made", || made.load(Ordering::SeqCst) == 20).await;
    gate.open();
    let outcomes = bounded("the storm", calls.join_all()).await;
    moto.proxy.clear_faults();
    // The first call starts a refresh; the 19 that arrive while it is in flight may not take it
    // (it may have read AWS before what they react to) and share the next one. Each refresh
    // describes both secrets and checks the parameter's version; only the first finds the
    // rotated secret and reads it.
    assert_eq!(
        (moto.counts(), moto.proxy.count(testkit::DESCRIBE)),
        ([1, 0, 2], 4),
        "20 calls, two refreshes: {:?}",
        moto.proxy.targets()
    );
    let mut changed: Vec<_> = outcomes
        .iter()
        .map(|o| o.as_ref().unwrap().as_ref().map(|c| c.fields.clone()))
        .collect();
    changed.sort();
    let mut expected = vec![None; 19];
    expected.push(Some(vec!["password"]));
    assert_eq!(
        changed, expected,
        "one saw the change, the rest share the next"
    );
    assert_eq!(watch.status().refreshes, 2);
    assert_eq!(watch.current().password.expose_secret(), "pw-2");

    // The next call after the storm is a new refresh.
    assert_eq!(watch.refresh_now().await, Ok(None));
    assert_eq!(
        (moto.counts(), moto.proxy.count(testkit::DESCRIBE)),
        ([1, 0, 3], 6)
    );
}

/// A refresh in flight when `refresh_now` is called may have read AWS before the rotation the
/// caller reacts to: the call must not take its outcome.
#[tokio::test]
async fn refresh_now_never_answers_with_data_older_than_the_call() {
    let Some((moto, db, watch)) = watched("fresh").await else {
        return;
    };
    moto.proxy.reset_counts();
    // The next refresh's version checks (a DescribeSecret per secret) are answered by moto at
    // once, but the answers are held at the proxy: they name the old version.
    let gate = Gate::new();
    moto.proxy.add_fault(Fault::on(
        testkit::DESCRIBE,
        2,
        FaultKind::Hold(gate.clone()),
    ));
    let in_flight = {
        let watch = watch.clone();
        tokio::spawn(async move { watch.refresh_now().await })
    };
    bounded("the first version checks answered", gate.until_held(2)).await;
    testkit::put_secret_value(&moto.direct, &db, &db_json("pw-2")).await;

    // The caller learned of the rotation (an authentication failure), and calls while that
    // refresh is in flight: it gets the new value.
    let mut call = Box::pin(watch.refresh_now());
    assert!(make(&mut call).await.is_pending(), "it waits");
    gate.open();
    let change = bounded("refresh_now", call).await.unwrap();
    assert_eq!(
        change.map(|c| c.fields),
        Some(vec!["password"]),
        "the call's own refresh saw the rotation"
    );
    assert_eq!(watch.current().password.expose_secret(), "pw-2");
    let first = bounded("the refresh in flight", in_flight)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first, None, "the refresh in flight saw the old version");
    assert_eq!(
        moto.counts()[0],
        1,
        "only the call's own refresh read a value: the rotated secret"
    );
}
