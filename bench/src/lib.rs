//! Benchmarks of ecs-secrets beside what services use today. Nothing here runs under
//! `cargo test`; BENCHMARKS.md at the repository root has the commands and the figures.
//!
//! - `benches/from_lookup.rs` (§2): loading a 100-field struct from the environment, against
//!   envconfig and envy.
//! - `build-cost.sh` (§3): cold build of a tiny crate, against envconfig and the dependency floor.
//! - `service-cost.sh` (§3, a service that loads): cold build of a service on feature `aws`,
//!   against the same service written on the AWS SDK alone.
//!
//! Every part merges its figures into one section of `target/bench/results.json`.

use std::path::PathBuf;

/// The generated 100-field configurations (see `build.rs`).
pub mod env100 {
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    // envconfig's derive names its trait unqualified.
    use envconfig::Envconfig;
    include!(concat!(env!("OUT_DIR"), "/env100.rs"));
}

/// §1: the direct-fetch configurations (see `build.rs`) and the table that describes them.
#[cfg(feature = "aws")]
pub mod fetch {
    #![allow(missing_docs, clippy::all, clippy::pedantic)]

    /// One configuration as data: what each field reads, and the fixtures behind it.
    pub struct Spec {
        pub fields: &'static [Item],
        pub secrets: &'static [SecretSpec],
        pub params: &'static [ParamSpec],
    }

    /// What one field reads.
    pub enum Item {
        /// Key `key` of secret `secrets[secret]`.
        Secret {
            env: &'static str,
            secret: usize,
            key: &'static str,
        },
        /// Parameter `params[param]`.
        Param { env: &'static str, param: usize },
    }

    /// A JSON secret `{PREFIX}/NAME` with these keys.
    pub struct SecretSpec {
        pub name: &'static str,
        pub keys: &'static [&'static str],
        pub pin: Pin,
    }

    /// Which version of a secret the fields read.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub enum Pin {
        /// The current one (fetched in batches by ecs-secrets).
        None,
        /// `AWSPREVIOUS`: the secret has two versions, the fields read the first.
        PreviousStage,
        /// The first version's id (placeholder `{vN}`, N the secret's index).
        FirstVersionId,
    }

    /// An SSM parameter `/{PREFIX}/NAME`.
    pub struct ParamSpec {
        pub name: &'static str,
        pub secure: bool,
    }

    /// A loaded configuration as `(env name, value)` pairs, to compare approaches.
    pub trait Values {
        fn values(&self) -> Vec<(&'static str, String)>;
    }

    impl Spec {
        /// The fewest requests that can fetch this configuration:
        /// ⌈unpinned distinct secrets / 20⌉ + pinned distinct secrets + ⌈parameters / 10⌉.
        pub fn min_requests(&self) -> usize {
            let pinned = self.secrets.iter().filter(|s| s.pin != Pin::None).count();
            let unpinned = self.secrets.len() - pinned;
            unpinned.div_ceil(20) + pinned + self.params.len().div_ceil(10)
        }

        /// The value field `item` must load.
        pub fn expected(&self, item: &Item) -> String {
            match *item {
                Item::Secret { secret, key, .. } => {
                    let s = &self.secrets[secret];
                    let version = if s.pin == Pin::None {
                        "current"
                    } else {
                        "first"
                    };
                    format!("{}-{key}-{version}", s.name)
                }
                Item::Param { param, .. } => format!("{}-value", self.params[param].name),
            }
        }

        /// The JSON of one version of secret `s` (`current` or `first`).
        pub fn secret_json(&self, s: usize, version: &str) -> String {
            let spec = &self.secrets[s];
            let object: serde_json::Map<String, serde_json::Value> = spec
                .keys
                .iter()
                .map(|k| {
                    (
                        (*k).to_owned(),
                        format!("{}-{k}-{version}", spec.name).into(),
                    )
                })
                .collect();
            serde_json::Value::Object(object).to_string()
        }
    }

    include!(concat!(env!("OUT_DIR"), "/fetch.rs"));
}

#[cfg(feature = "aws")]
pub mod fixture;

/// The workspace's target directory: `CARGO_TARGET_DIR` when set, else `target/` beside the
/// workspace manifest.
#[must_use]
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
    }
}

/// `target/bench/results.json`.
#[must_use]
pub fn results_path() -> PathBuf {
    target_dir().join("bench").join("results.json")
}

/// Replaces `section` of `target/bench/results.json` with `value`, keeping the other sections
/// (each part of the harness writes its own).
///
/// # Errors
///
/// When the file cannot be written, or exists and is not a JSON object.
pub fn merge_results(section: &str, value: serde_json::Value) -> std::io::Result<PathBuf> {
    let path = results_path();
    let mut all = match std::fs::read(&path) {
        Ok(bytes) => {
            serde_json::from_slice::<serde_json::Value>(&bytes).map_err(std::io::Error::other)?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({}),
        Err(e) => return Err(e),
    };
    let Some(object) = all.as_object_mut() else {
        return Err(std::io::Error::other(format!(
            "{} is not a JSON object",
            path.display()
        )));
    };
    object.insert(section.to_owned(), value);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(&all).map_err(std::io::Error::other)?;
    std::fs::write(&path, text + "\n")?;
    Ok(path)
}
