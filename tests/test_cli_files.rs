//! The files the command line writes and reads: a write nobody else can redirect (a link
//! planted by another user is refused, the caller's own is followed), the original's permission
//! bits, owner and group kept and its set-id bits dropped, and reads bounded at 16 MiB, however
//! large a file claims to be.
//!
//! The cases with other users' files need root (to `lchown` a link to another uid); CI runs as
//! root. Elsewhere they say so on standard error and check nothing.
#![cfg(unix)]

#[path = "support/cli.rs"]
mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use ecs_secrets::EcsSecrets;
use ecs_secrets::cli::{CliError, EXIT_ERROR, Output};
use serde_json::{Value, json};
use support::{scratch, temporaries};

#[allow(dead_code)]
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
struct App {
    #[ecs(secret = "prod/app/db", key = "password")]
    db_password: String,
}

/// A uid no test process runs as.
const OTHER: u32 = 4242;

fn task_definition() -> Value {
    json!({"family": "app", "containerDefinitions": [{"name": "app", "image": "app:1"}]})
}

fn merged() -> Value {
    let mut td = task_definition();
    App::deployment().merge_into(&mut td, "app").unwrap();
    td
}

fn run(args: &[&str]) -> Result<Output, CliError> {
    support::run::<App>(args)
}

fn merge_in_place(path: &Path) -> Result<Output, CliError> {
    run(&[
        "merge",
        "--container",
        "app",
        path.to_str().unwrap(),
        "--in-place",
    ])
}

fn merge_to(input: &Path, output: &Path) -> Result<Output, CliError> {
    let (input, output) = (input.to_str().unwrap(), output.to_str().unwrap());
    run(&["merge", "--container", "app", input, "-o", output])
}

fn json_at(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

/// Whether this process may give files away (root); if not, says which test checks nothing.
fn root(test: &str) -> bool {
    let probe = scratch(&format!("{test}-probe")).join("probe");
    std::fs::write(&probe, "").unwrap();
    let root = std::fs::metadata(&probe).unwrap().uid() == 0;
    if !root {
        eprintln!("{test}: not root, so no file of another user can be made; nothing checked");
    }
    root
}

/// A shared directory like `/tmp`: world-writable and sticky.
fn shared_dir(name: &str) -> std::path::PathBuf {
    let dir = scratch(name);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    dir
}

#[test]
fn a_link_another_user_planted_at_the_target_is_refused() {
    if !root("planted-link") {
        return;
    }
    let dir = shared_dir("planted-link");
    let input = dir.join("td.json");
    std::fs::write(&input, task_definition().to_string()).unwrap();
    // The file the link aims the write at, and the link, owned by another user.
    let decoy = dir.join("decoy");
    let precious = task_definition().to_string();
    std::fs::write(&decoy, &precious).unwrap();
    std::fs::set_permissions(&decoy, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = dir.join("out.json");
    std::os::unix::fs::symlink(&decoy, &link).unwrap();
    std::os::unix::fs::lchown(&link, Some(OTHER), Some(OTHER)).unwrap();

    let err = merge_to(&input, &link).unwrap_err();
    assert_eq!(err.exit_code(), EXIT_ERROR);
    assert_eq!(
        err.to_string(),
        format!(
            "error: {}: cannot write it: it is a symbolic link that belongs to another user \
             (uid 4242), which this command does not follow; give the path of the file itself",
            link.display()
        )
    );
    // The same refusal when the planted link is the file given to rewrite.
    let in_place = merge_in_place(&link).unwrap_err();
    assert_eq!(in_place.to_string(), err.to_string());

    assert_eq!(std::fs::read(&decoy).unwrap(), precious.as_bytes());
    assert_eq!(mode(&decoy), 0o600);
    assert_eq!(std::fs::read_link(&link).unwrap(), decoy);
    assert_eq!(temporaries(&dir), Vec::<String>::new());
}

#[test]
fn the_callers_own_link_is_followed_where_nobody_else_can_swap_it() {
    let dir = shared_dir("own-link");
    let real = dir.join("real.json");
    std::fs::write(&real, task_definition().to_string()).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink("real.json", &link).unwrap();

    // In a sticky directory nobody else can remove or rename the caller's link.
    merge_in_place(&link).unwrap();
    assert_eq!(json_at(&real), merged());
    assert_eq!(mode(&real), 0o640);
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    assert_eq!(temporaries(&dir), Vec::<String>::new());

    // In a directory that belongs to another user, the link could be swapped: refused.
    if !root("own-link") {
        return;
    }
    let theirs = scratch("own-link-theirs");
    std::os::unix::fs::chown(&theirs, Some(OTHER), Some(OTHER)).unwrap();
    let link = theirs.join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let before = std::fs::read(&real).unwrap();
    let err = merge_to(&dir.join("real.json"), &link).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "error: {}: cannot write it: it is a symbolic link in a directory that other users \
             can change, which this command does not follow; give the path of the file itself",
            link.display()
        )
    );
    assert_eq!(std::fs::read(&real).unwrap(), before);
}

#[test]
fn a_file_another_user_planted_in_a_shared_directory_is_not_replaced() {
    if !root("planted-file") {
        return;
    }
    let dir = shared_dir("planted-file");
    let input = dir.join("td.json");
    std::fs::write(&input, task_definition().to_string()).unwrap();
    // Replacing it would hand the output, plain values and all, to the file's owner.
    let planted = dir.join("out.json");
    std::fs::write(&planted, "theirs\n").unwrap();
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o666)).unwrap();
    std::os::unix::fs::chown(&planted, Some(OTHER), Some(OTHER)).unwrap();

    let err = merge_to(&input, &planted).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "error: {}: cannot write it: it belongs to another user (uid 4242) in a shared \
             directory, and the result would take that owner; remove it or write elsewhere",
            planted.display()
        )
    );
    assert_eq!(std::fs::read(&planted).unwrap(), b"theirs\n");
    assert_eq!(mode(&planted), 0o666);
    assert_eq!(temporaries(&dir), Vec::<String>::new());
}

#[test]
fn permission_bits_owner_and_group_are_kept_and_set_id_bits_dropped() {
    if !root("owner") {
        return;
    }
    let dir = scratch("owner");
    // 640 root:12345 in, 640 root:12345 out, through `-o` onto an existing file.
    let input = dir.join("td.json");
    std::fs::write(&input, task_definition().to_string()).unwrap();
    let out = dir.join("out.json");
    std::fs::write(&out, "old").unwrap();
    std::os::unix::fs::chown(&out, Some(0), Some(12345)).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o640)).unwrap();
    merge_to(&input, &out).unwrap();
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!(
        (meta.mode() & 0o7777, meta.uid(), meta.gid()),
        (0o640, 0, 12345)
    );
    assert_eq!(json_at(&out), merged());

    // A set-user-id and set-group-id file: the bits are dropped, the owner kept.
    std::os::unix::fs::chown(&input, Some(OTHER), Some(12345)).unwrap();
    std::fs::set_permissions(&input, std::fs::Permissions::from_mode(0o6755)).unwrap();
    merge_in_place(&input).unwrap();
    let meta = std::fs::metadata(&input).unwrap();
    assert_eq!(
        (meta.mode() & 0o7777, meta.uid(), meta.gid()),
        (0o755, OTHER, 12345)
    );
    assert_eq!(json_at(&input), merged());
    assert_eq!(temporaries(&dir), Vec::<String>::new());
}

#[test]
fn a_target_that_is_no_file_is_refused_and_nothing_is_left_behind() {
    let dir = scratch("not-a-file");
    let input = dir.join("td.json");
    std::fs::write(&input, task_definition().to_string()).unwrap();
    let target = dir.join("out.json");
    std::fs::create_dir(&target).unwrap();
    let err = merge_to(&input, &target).unwrap_err();
    assert_eq!(err.exit_code(), EXIT_ERROR);
    assert_eq!(
        err.to_string(),
        format!(
            "error: {}: cannot write it: it is not a regular file",
            target.display()
        )
    );
    assert!(std::fs::metadata(&target).unwrap().is_dir());
    assert_eq!(temporaries(&dir), Vec::<String>::new());
}

/// A sparse file of 1 TiB: refused after 16 MiB, with the exit status of any file error.
#[test]
fn files_over_16_mib_are_refused_whatever_size_they_claim() {
    let dir = scratch("huge");
    let huge = dir.join("huge.json");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(1 << 40)
        .unwrap();
    let p = huge.to_str().unwrap();
    let expected =
        format!("error: {p}: it is larger than 16 MiB, the most this command reads from a file");
    for args in [
        &["merge", "--container", "app", p][..],
        &["check", "--container", "app", p][..],
    ] {
        let err = run(args).unwrap_err();
        assert!(matches!(err, CliError::File { .. }), "{err:?}");
        assert_eq!(err.exit_code(), EXIT_ERROR);
        assert_eq!(err.to_string(), expected);
    }
    // Just over the limit, written out: the same.
    let big = dir.join("big.json");
    std::fs::write(&big, vec![b' '; 16 * 1024 * 1024 + 1]).unwrap();
    let err = run(&["check", "--container", "app", big.to_str().unwrap()]).unwrap_err();
    assert_eq!(err.to_string(), expected.replace("huge.json", "big.json"));
    std::fs::remove_dir_all(&dir).unwrap();
}
