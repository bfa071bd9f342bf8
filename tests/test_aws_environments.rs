//! One declaration, two environments, against moto: the environment is picked by the `STAGE`
//! variable where the binary runs, as a deployed service would.

#![cfg(feature = "aws")]

use ecs_secrets::aws::Loader;
use ecs_secrets::{EcsSecrets, Secret, Vars};
use ecs_secrets_testkit::{self as testkit, Moto};

#[derive(Debug, EcsSecrets)]
#[ecs(region = "{region}", account = "{account}")]
struct Config {
    #[ecs(secret = "{stage}/my-app/db", key = "password")]
    password: Secret<String>,
    #[ecs(ssm = "/{stage}/my-app/api-url")]
    api_url: String,
    #[ecs(default = "3000")]
    port: u16,
}

/// The variables of one environment, as the process environment would hold them.
fn env(moto: &Moto, stage: &str) -> Loader {
    let stage = stage.to_owned();
    Loader::new(&moto.config).lookup(move |name| match name {
        "STAGE" => Some(stage.clone()),
        "REGION" => Some(testkit::REGION.to_owned()),
        "ACCOUNT" => Some(testkit::ACCOUNT_ID.to_owned()),
        _ => None,
    })
}

#[tokio::test]
async fn the_stage_variable_selects_the_environment() {
    let Some(moto) = testkit::Moto::start("envs").await else {
        return;
    };
    let (staging, prod) = (moto.name("-staging"), moto.name("-prod"));
    for (stage, password, url) in [
        (&staging, "staging-pw", "https://staging.example"),
        (&prod, "prod-pw", "https://example"),
    ] {
        let body = format!(r#"{{"password":"{password}"}}"#);
        testkit::create_secret(&moto.direct, &format!("{stage}/my-app/db"), &body).await;
        testkit::put_parameter(
            &moto.direct,
            &format!("/{stage}/my-app/api-url"),
            url,
            false,
        )
        .await;
    }

    let s = env(&moto, &staging).fetch::<Config>().await.unwrap();
    let p = env(&moto, &prod).fetch::<Config>().await.unwrap();
    assert_eq!(
        (
            s.password.expose_secret().as_str(),
            s.api_url.as_str(),
            s.port
        ),
        ("staging-pw", "https://staging.example", 3000)
    );
    assert_eq!(
        (p.password.expose_secret().as_str(), p.api_url.as_str()),
        ("prod-pw", "https://example")
    );
    // One batch and one GetParameters per load.
    assert_eq!(moto.proxy.count("secretsmanager.BatchGetSecretValue"), 2);
    assert_eq!(moto.proxy.count("AmazonSSM.GetParameters"), 2);

    // The fragment for the same environment names exactly what was fetched.
    let vars = Vars::new()
        .with("stage", &prod)
        .with("region", testkit::REGION)
        .with("account", testkit::ACCOUNT_ID);
    let fragment = Config::deployment_for(&vars).unwrap().secrets();
    assert_eq!(
        fragment[0].value_from,
        format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{prod}/my-app/db:password::")
    );
    let asked: Vec<String> = moto
        .proxy
        .bodies("AmazonSSM.GetParameters")
        .iter()
        .flat_map(|b| b["Names"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n.as_str().map(str::to_owned))
        .collect();
    assert!(asked.contains(&fragment[1].value_from), "{asked:?}");

    // An environment whose secrets do not exist fails on every sourced field, naming them.
    let e = (env(&moto, &moto.name("-preview")))
        .fetch::<Config>()
        .await
        .unwrap_err();
    let fields: Vec<_> = e
        .errors()
        .iter()
        .map(|e| (e.field, e.kind.code()))
        .collect();
    assert_eq!(
        fields,
        [
            ("password", "ResourceNotFoundException"),
            ("api_url", "ParameterNotFound")
        ],
        "{e}"
    );
}
