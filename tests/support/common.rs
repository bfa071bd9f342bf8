//! The helpers several test files share, once: an environment from pairs, the codes and reasons
//! of a load's errors, the renderings of a result and the check that no canary is in them, and
//! (feature `aws`) the loader every test against the local endpoint starts from and the capture
//! of what it traces. The helpers of the AWS side itself (the endpoint, the proxy, fixtures,
//! `bounded`) are in the testkit.

// Each test file uses its own part.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt::{Debug, Display};
use std::time::Duration;

use ecs_secrets::{Error, ErrorKind, FieldError};

/// The start of a Secrets Manager ARN in the region and account of the tests (moto's), up to the
/// secret's name.
pub const SM: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";

/// The refresh interval of a watch that must not refresh on its own during a test.
pub const NEVER: Duration = Duration::from_secs(3600);

/// An environment: what `from_lookup` and `Loader::lookup` read variables through.
pub type Env = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// An environment of these variables only (boxed, so that it borrows nothing from `pairs`,
/// whatever their type).
pub fn lookup<V: AsRef<str>>(pairs: &[(&str, V)]) -> Env {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.as_ref().to_owned()))
        .collect();
    Box::new(move |k| map.get(k).cloned())
}

/// `(env, code)` of every error, in order.
pub fn codes(e: &Error) -> Vec<(&str, &str)> {
    field_codes(e.errors())
}

/// `(env, code)` of each of these errors.
pub fn field_codes(errors: &[FieldError]) -> Vec<(&str, &str)> {
    errors.iter().map(|e| (e.env, e.kind.code())).collect()
}

/// The reason of the source error (`Aws` or `Fetch`) on the field of variable `env`.
///
/// # Panics
///
/// When no field of that variable failed, or its error is of another kind.
pub fn reason<'a>(e: &'a Error, env: &str) -> &'a str {
    let Some(fe) = e.errors().iter().find(|e| e.env == env) else {
        panic!("{env} has no error: {e}");
    };
    match &fe.kind {
        ErrorKind::Aws { reason, .. } | ErrorKind::Fetch { reason, .. } => reason,
        other => panic!("{env}: not a source error: {other:?}"),
    }
}

/// A JSON secret of a database user `app` with this password.
pub fn db_json(password: &str) -> String {
    serde_json::json!({"username": "app", "password": password}).to_string()
}

/// Every rendering of a result a program might log: `Debug` and pretty `Debug` of a value, and
/// `Display` too of an error.
pub fn outputs<T: Debug, E: Debug + Display>(r: &Result<T, E>) -> String {
    match r {
        Ok(v) => format!("{v:?}\n{v:#?}"),
        Err(e) => format!("{e}\n{e:?}\n{e:#?}"),
    }
}

/// Fails when any of `canaries` is in `text`, naming `what` and the line but never quoting a
/// canary: the panic message of a leak test must not be a leak of its own.
pub fn assert_clean(what: &str, text: &str, canaries: &[&str]) {
    let Some(at) = canaries.iter().filter_map(|c| text.find(c)).min() else {
        return;
    };
    let line = text[..at].matches('\n').count() + 1;
    let shown = canaries.iter().fold(
        text.lines().nth(line - 1).unwrap_or_default().to_owned(),
        |shown, c| shown.replace(c, "***"),
    );
    panic!("a canary leaked into {what}, line {line}: {shown}");
}

#[cfg(feature = "aws")]
#[allow(unused_imports)] // as `dead_code` above
pub use aws::*;

#[cfg(feature = "aws")]
mod aws {
    use std::time::Duration;

    use ecs_secrets::Vars;
    use ecs_secrets::aws::Loader;
    #[cfg(feature = "deploy")]
    use ecs_secrets::deploy::PreflightReport;
    use ecs_secrets_testkit::{Captured, Moto, WAIT};
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::fmt::format::FmtSpan;
    use tracing_subscriber::util::SubscriberInitExt;

    /// Everything traced on this thread at TRACE level, span events and the SDK's own output
    /// included, until the returned guard drops. The tests' runtime is single-threaded: the
    /// loader's tasks and the SDK run on this thread.
    pub fn capture_trace() -> (Captured, impl Sized) {
        // A silent global dispatcher besides this thread's: with a single dispatcher
        // registered, tracing-core keeps a callsite's interest as the first thread to reach it
        // found it, so a sibling test's thread (no subscriber) would silence it here too.
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::sink)
            .with_max_level(LevelFilter::OFF)
            .finish()
            .try_init();
        let log = Captured::default();
        let writer = log.clone();
        let guard = tracing_subscriber::fmt()
            .with_max_level(LevelFilter::TRACE)
            .with_span_events(FmtSpan::FULL)
            .with_writer(move || writer.clone())
            .finish()
            .set_default();
        (log, guard)
    }

    #[cfg(feature = "deploy")]
    /// Every rendering of a preflight report: `Display`, `Debug`, pretty `Debug` and the JSON.
    pub fn report_outputs(report: &PreflightReport) -> String {
        format!("{report}\n{report:?}\n{report:#?}\n{}", report.to_json())
    }

    /// The deadline of [`loader`]'s loads: below the tests' own bound ([`WAIT`]), so that a
    /// load that hangs fails as the loader's error.
    pub const DEADLINE: Duration = Duration::from_secs(15);
    const _: () = assert!(DEADLINE.as_secs() < WAIT.as_secs());

    /// A loader through the proxy of `moto`: `{p}` is the test's prefix, the environment is
    /// empty, the deadline is [`DEADLINE`].
    pub fn loader(moto: &Moto) -> Loader {
        Loader::new(&moto.config)
            .vars(Vars::new().with("p", &moto.prefix))
            .lookup(|_| None)
            .deadline(DEADLINE)
    }
}
