//! Benchmarks of ecs-secrets beside what services use today. Nothing here runs under
//! `cargo test`; BENCHMARKS.md at the repository root has the commands and the figures.
//!
//! - `benches/from_lookup.rs` (§2): loading a 100-field struct from the environment, against
//!   envconfig and envy.
//! - `build-cost.sh` (§3): cold build of a tiny crate, against envconfig and the dependency floor.
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
