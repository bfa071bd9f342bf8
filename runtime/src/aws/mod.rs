#![doc = include_str!("../../docs/aws.md")]

mod answers;
pub(crate) mod engine;
mod loader;
pub(crate) mod read;
mod watch;

pub use loader::{DEFAULT_DEADLINE, DEFAULT_MAX_CONCURRENCY, Loader};
pub use watch::{
    Change, DEFAULT_INTERVAL, DEFAULT_JITTER, Initial, Status, Subscription, Watch, WatchOptions,
};
