//! Direct loading from AWS Secrets Manager and SSM Parameter Store (feature `aws`), for services
//! that run outside ECS or need values ECS did not inject.
//!
//! Everything goes through a [`Loader`], built once from the caller's `SdkConfig`:
//! [`Loader::fetch`] fetches every sourced field; [`Loader::load`] takes each field from the
//! environment when its variable is set and fetches only the others; [`Loader::watch`] keeps a
//! live value that follows rotation. The deploy-time verbs of the same handle (pin, preflight,
//! migrate) are feature `deploy`, so that a service links only what loading needs. Loads fetch the way ECS does (docs/ecs-facts.md, "Direct
//! fetching"): each source in the region of its ARN with the identifier the `valueFrom` holds,
//! each distinct secret version once, JSON keys extracted byte for byte as the ECS agent
//! injects them. Parsing, `Option`s, defaults and the all-errors-at-once report are the same
//! code as [`EcsSecrets::from_env`](crate::EcsSecrets::from_env): this module only fetches and
//! answers the loader's questions from what it fetched.
//!
//! A sourced field's `default` is **not** used when its secret or parameter is missing: a
//! default taken because AWS said "not found" would be a silent wrong value in production. An
//! `Option` field whose secret or parameter does not exist is `None`; any other failure is an
//! error.
//!
//! With the `metrics` feature, requests, attempts, retries, throttles and watch refreshes are
//! counted through the `metrics` facade:
//!
//! | name | kind | labels | what |
//! |---|---|---|---|
//! | `ecs_secrets_requests_total` | counter | `operation`, `outcome` | AWS requests by operation and outcome after the SDK's retries: `ok`, `throttled`, `denied`, `not_found`, `timeout`, `error` (a throttled load request the loader sends again counts once per sending) |
//! | `ecs_secrets_attempts_total` | counter | `operation` | HTTP attempts the SDK made |
//! | `ecs_secrets_retries_total` | counter | `operation` | requests sent again: the SDK's retries (attempts after the first) and the loader's own after throttling (each of those is a request of its own, with its `throttled` outcome) |
//! | `ecs_secrets_throttles_total` | counter | `operation` | attempts answered with a throttling error |
//! | `ecs_secrets_refreshes_total` | counter | `outcome` (`ok`, `failed`) | [`Watch`] refreshes |
//! | `ecs_secrets_value_age_seconds` | gauge | `config` | per watch, set at each refresh: the age of its current value |
//! | `ecs_secrets_last_success_seconds` | gauge | `config` | per watch: Unix time of its last successful load |
//!
//! Labels carry no secret or parameter name, no region and no value: operations, outcomes, and
//! the configuration type's name.

mod answers;
pub(crate) mod engine;
mod loader;
pub(crate) mod read;
mod watch;

pub use loader::{DEFAULT_DEADLINE, DEFAULT_MAX_CONCURRENCY, Loader};
pub use watch::{
    Change, DEFAULT_INTERVAL, DEFAULT_JITTER, Initial, Status, Subscription, Watch, WatchOptions,
};
