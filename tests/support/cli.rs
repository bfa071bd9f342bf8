//! What the command-line tests share: a run of the command line for a declaration, and a
//! directory of a test's own.

// Each test file uses its own part.
#![allow(dead_code)]

use std::path::PathBuf;

use ecs_secrets::EcsSecrets;
use ecs_secrets::cli::{self, CliError, Output};

/// `deploy ARGS…` for declaration `T`, with no environment for `--vars-from-env`.
pub fn run<T: EcsSecrets>(args: &[&str]) -> Result<Output, CliError> {
    let argv = std::iter::once("deploy").chain(args.iter().copied());
    cli::run_with_env::<T>(argv, &|_| None)
}

/// An empty directory of the calling test's own (`name`, unique in the test binary).
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ecs-secrets-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The temporary files a write left in `dir` (there should be none).
pub fn temporaries(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".ecs-secrets-"))
        .collect()
}
