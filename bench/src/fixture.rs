//! The fixtures of a direct-fetch configuration in moto (§1 and §4): its secrets, with two
//! versions for the pinned ones, and its parameters, under a prefix of their own.

use std::collections::HashMap;

use ecs_secrets::Vars;
use ecs_secrets_testkit::aws_config::SdkConfig;
use ecs_secrets_testkit::{self as testkit, aws_sdk_secretsmanager};

use crate::fetch::{Item, Pin, Spec};

/// The fixtures of one configuration: its name prefix and the version ids of its id-pinned
/// secrets.
pub struct Fixture {
    /// The configuration's table.
    pub spec: &'static Spec,
    /// The name prefix of its secrets and parameters (`{p}`).
    pub prefix: String,
    /// The first version ids of the id-pinned secrets, by secret index (`{vN}`).
    pub version_ids: HashMap<usize, String>,
}

impl Fixture {
    pub async fn create(direct: &SdkConfig, spec: &'static Spec) -> Fixture {
        let prefix = testkit::unique("bench");
        let sm = aws_sdk_secretsmanager::Client::new(direct);
        let mut version_ids = HashMap::new();
        for (i, s) in spec.secrets.iter().enumerate() {
            let name = format!("{prefix}/{}", s.name);
            if s.pin == Pin::None {
                testkit::create_secret(direct, &name, &spec.secret_json(i, "current")).await;
                continue;
            }
            let first = sm
                .create_secret()
                .name(&name)
                .secret_string(spec.secret_json(i, "first"))
                .send()
                .await
                .expect("create a pinned secret");
            let first = first.version_id.expect("a version id");
            testkit::put_secret_value(direct, &name, &spec.secret_json(i, "current")).await;
            if s.pin == Pin::FirstVersionId {
                version_ids.insert(i, first);
            }
        }
        for p in spec.params {
            let name = format!("/{prefix}/{}", p.name);
            testkit::put_parameter(direct, &name, &format!("{}-value", p.name), p.secure).await;
        }
        Fixture {
            spec,
            prefix,
            version_ids,
        }
    }

    pub fn vars(&self) -> Vars {
        let mut vars = Vars::new().with("p", &self.prefix);
        for (i, id) in &self.version_ids {
            vars.set(format!("v{i}"), id);
        }
        vars
    }

    pub fn secret_id(&self, secret: usize) -> String {
        format!("{}/{}", self.prefix, self.spec.secrets[secret].name)
    }

    pub fn param_name(&self, param: usize) -> String {
        format!("/{}/{}", self.prefix, self.spec.params[param].name)
    }

    /// Panics unless `values` are exactly the configuration's values, in field order.
    pub fn check(&self, approach: &str, values: &[(&str, String)]) {
        assert_eq!(
            values.len(),
            self.spec.fields.len(),
            "{approach}: field count"
        );
        for (item, (env, value)) in self.spec.fields.iter().zip(values) {
            let (Item::Secret { env: want, .. } | Item::Param { env: want, .. }) = item;
            assert_eq!(env, want, "{approach}: field order");
            assert_eq!(
                *value,
                self.spec.expected(item),
                "{approach}: value of {env}"
            );
        }
    }
}
