//! Direct loading from AWS Secrets Manager and SSM Parameter Store (feature `aws`), for services
//! that run outside ECS or need values ECS did not inject.
//!
//! Everything goes through a [`Loader`], built once from the caller's `SdkConfig`:
//! [`Loader::fetch`] fetches every sourced field; [`Loader::load`] takes each field from the
//! environment when its variable is set and fetches only the others; [`Loader::watch`] keeps a
//! live value that follows rotation; [`Loader::pin`] pins the current version ids into a
//! [`Deployment`](crate::Deployment); [`Loader::preflight`] proves before a deploy that every
//! reference of a `Deployment` will resolve at task start. Loads fetch the way ECS does (docs/ecs-facts.md, "Direct
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

mod backoff;
mod batch;
mod fetch;
mod load;
mod loader;
mod pin;
mod plan;
mod preflight;
mod throttle;
mod watch;

pub use loader::{DEFAULT_DEADLINE, DEFAULT_MAX_CONCURRENCY, Loader};
pub use preflight::{
    Check, Finding, PARAMETER_VALUE_LIMIT, PreflightOptions, PreflightReport, SECRET_VALUE_LIMIT,
};
pub use watch::{
    Change, DEFAULT_INTERVAL, DEFAULT_JITTER, Initial, Status, Subscription, Watch, WatchOptions,
};
