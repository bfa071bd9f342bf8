//! How direct loading (feature `aws`) splits its requests, against the local AWS endpoint (moto,
//! started by `scripts/test`) through a counting proxy: at most 20 secrets a
//! `BatchGetSecretValue`, 10 parameters a `GetParameters`, and one of each per region, each in
//! the region of its ARN.
#![cfg(feature = "aws")]

use ecs_secrets::EcsSecrets;
use ecs_secrets_testkit::{self as testkit, Moto};
use serde_json::Value;

#[path = "support/common.rs"]
mod common;
use common::loader;
use testkit::{BATCH, PARAMS};

#[tokio::test]
async fn twenty_five_secrets_take_two_batches() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Many {
        #[ecs(secret = "{p}/s01")]
        s01: String,
        #[ecs(secret = "{p}/s02")]
        s02: String,
        #[ecs(secret = "{p}/s03")]
        s03: String,
        #[ecs(secret = "{p}/s04")]
        s04: String,
        #[ecs(secret = "{p}/s05")]
        s05: String,
        #[ecs(secret = "{p}/s06")]
        s06: String,
        #[ecs(secret = "{p}/s07")]
        s07: String,
        #[ecs(secret = "{p}/s08")]
        s08: String,
        #[ecs(secret = "{p}/s09")]
        s09: String,
        #[ecs(secret = "{p}/s10")]
        s10: String,
        #[ecs(secret = "{p}/s11")]
        s11: String,
        #[ecs(secret = "{p}/s12")]
        s12: String,
        #[ecs(secret = "{p}/s13")]
        s13: String,
        #[ecs(secret = "{p}/s14")]
        s14: String,
        #[ecs(secret = "{p}/s15")]
        s15: String,
        #[ecs(secret = "{p}/s16")]
        s16: String,
        #[ecs(secret = "{p}/s17")]
        s17: String,
        #[ecs(secret = "{p}/s18")]
        s18: String,
        #[ecs(secret = "{p}/s19")]
        s19: String,
        #[ecs(secret = "{p}/s20")]
        s20: String,
        #[ecs(secret = "{p}/s21")]
        s21: String,
        #[ecs(secret = "{p}/s22")]
        s22: String,
        #[ecs(secret = "{p}/s23")]
        s23: String,
        #[ecs(secret = "{p}/s24")]
        s24: String,
        #[ecs(secret = "{p}/s25", key = "k")]
        s25: String,
        #[ecs(secret = "{p}/s25", key = "j")]
        s25_again: String,
    }
    let Some(moto) = Moto::start("many").await else {
        return;
    };
    for i in 1..25 {
        moto.secret(&format!("/s{i:02}"), &format!("v{i}")).await;
    }
    moto.secret("/s25", r#"{"k":"v25","j":"w25"}"#).await;

    let m = loader(&moto).fetch::<Many>().await.unwrap();
    let got = [
        &m.s01, &m.s02, &m.s03, &m.s04, &m.s05, &m.s06, &m.s07, &m.s08, &m.s09, &m.s10, &m.s11,
        &m.s12, &m.s13, &m.s14, &m.s15, &m.s16, &m.s17, &m.s18, &m.s19, &m.s20, &m.s21, &m.s22,
        &m.s23, &m.s24, &m.s25,
    ];
    let want: Vec<String> = (1..=25).map(|i| format!("v{i}")).collect();
    assert_eq!(
        got.map(String::as_str),
        want.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    assert_eq!(m.s25_again, "w25");
    assert_eq!(moto.counts(), [2, 0, 0], "25 distinct secrets: 20 + 5");
    assert_eq!(moto.proxy.list_sizes(BATCH, "SecretIdList"), [5, 20]);
}

#[tokio::test]
async fn twenty_three_parameters_take_three_calls() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    struct Many {
        #[ecs(ssm = "/{p}/p01")]
        p01: String,
        #[ecs(ssm = "/{p}/p02")]
        p02: String,
        #[ecs(ssm = "/{p}/p03")]
        p03: String,
        #[ecs(ssm = "/{p}/p04")]
        p04: String,
        #[ecs(ssm = "/{p}/p05")]
        p05: String,
        #[ecs(ssm = "/{p}/p06")]
        p06: String,
        #[ecs(ssm = "/{p}/p07")]
        p07: String,
        #[ecs(ssm = "/{p}/p08")]
        p08: String,
        #[ecs(ssm = "/{p}/p09")]
        p09: String,
        #[ecs(ssm = "/{p}/p10")]
        p10: String,
        #[ecs(ssm = "/{p}/p11")]
        p11: String,
        #[ecs(ssm = "/{p}/p12")]
        p12: String,
        #[ecs(ssm = "/{p}/p13")]
        p13: String,
        #[ecs(ssm = "/{p}/p14")]
        p14: String,
        #[ecs(ssm = "/{p}/p15")]
        p15: String,
        #[ecs(ssm = "/{p}/p16")]
        p16: String,
        #[ecs(ssm = "/{p}/p17")]
        p17: String,
        #[ecs(ssm = "/{p}/p18")]
        p18: String,
        #[ecs(ssm = "/{p}/p19")]
        p19: String,
        #[ecs(ssm = "/{p}/p20")]
        p20: String,
        #[ecs(ssm = "/{p}/p21")]
        p21: String,
        #[ecs(ssm = "/{p}/p22")]
        p22: String,
        #[ecs(ssm = "/{p}/p23")]
        p23: String,
    }
    let Some(moto) = Moto::start("params").await else {
        return;
    };
    for i in 1..=23 {
        let name = format!("/{}/p{i:02}", moto.prefix);
        testkit::put_parameter(&moto.direct, &name, &format!("v{i}"), i % 2 == 0).await;
    }

    let m = loader(&moto).fetch::<Many>().await.unwrap();
    let got = [
        &m.p01, &m.p02, &m.p03, &m.p04, &m.p05, &m.p06, &m.p07, &m.p08, &m.p09, &m.p10, &m.p11,
        &m.p12, &m.p13, &m.p14, &m.p15, &m.p16, &m.p17, &m.p18, &m.p19, &m.p20, &m.p21, &m.p22,
        &m.p23,
    ];
    let want: Vec<String> = (1..=23).map(|i| format!("v{i}")).collect();
    assert_eq!(
        got.map(String::as_str),
        want.iter().map(String::as_str).collect::<Vec<_>>()[..]
    );
    assert_eq!(moto.counts(), [0, 0, 3], "23 parameters: 10 + 10 + 3");
    assert_eq!(moto.proxy.list_sizes(PARAMS, "Names"), [3, 10, 10]);
    assert!(
        moto.proxy
            .bodies(PARAMS)
            .iter()
            .all(|b| b["WithDecryption"] == Value::Bool(true))
    );
}

#[tokio::test]
async fn each_source_is_fetched_in_the_region_of_its_arn() {
    #[derive(Debug, EcsSecrets)]
    #[ecs(region = "eu-west-1", account = "123456789012")]
    struct Config {
        #[ecs(secret = "{p}/db", key = "password")]
        password: String,
        #[ecs(ssm = "/{p}/token")]
        token: String,
        #[ecs(secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:{p}/home")]
        home: String,
    }
    let Some(moto) = Moto::start("region").await else {
        return;
    };
    // Fixtures in eu-west-1; the caller's config says us-east-1.
    let ep = testkit::endpoint().unwrap();
    let eu = testkit::aws_config::defaults(testkit::aws_config::BehaviorVersion::latest())
        .region(testkit::aws_config::Region::new("eu-west-1"))
        .credentials_provider(moto.direct.credentials_provider().unwrap())
        .endpoint_url(ep)
        .load()
        .await;
    testkit::create_secret(&eu, &moto.name("/db"), r#"{"password":"eu-pw"}"#).await;
    testkit::put_parameter(&eu, &format!("/{}/token", moto.prefix), "eu-tok", false).await;
    moto.secret("/home", "us").await;

    let c = loader(&moto).fetch::<Config>().await.unwrap();
    assert_eq!(
        (c.password.as_str(), c.token.as_str(), c.home.as_str()),
        ("eu-pw", "eu-tok", "us")
    );
    assert_eq!(moto.counts(), [2, 0, 1], "one batch per region");
}
