//! The system calls of a write, and what a failure at each of them leaves behind.

use std::fs::{File, Permissions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt, fchown};
use std::path::{Path, PathBuf};

use super::{Steps, WriteError, write_file};

/// A directory of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ecs-secrets-write-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fixture file with `contents`, its group `group` if given, then its `mode`: all set on the
/// open file (a change of owner clears set-id bits, so the mode comes last).
fn fixture(path: &Path, contents: impl AsRef<[u8]>, group: Option<u32>, mode: u32) {
    let mut file = File::create(path).unwrap();
    file.write_all(contents.as_ref()).unwrap();
    if group.is_some() {
        fchown(&file, None, group).unwrap();
    }
    file.set_permissions(Permissions::from_mode(mode)).unwrap();
}

fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".ecs-secrets-"))
        .collect()
}

#[test]
fn every_call_goes_through_the_directory_handle_or_the_open_file() {
    let dir = scratch("calls");
    let path = dir.join("td.json");
    fixture(&path, "old", None, 0o640);
    let mut steps = Steps::default();
    write_file(&path, "new", &mut steps).unwrap();
    assert_eq!(
        steps.log,
        [
            "open directory",
            "fstat directory",
            "lstat target",
            "create temporary",
            "write",
            "fstat temporary",
            "fchmod",
            "fsync",
            "renameat",
            "fsync directory",
        ]
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o7777, 0o640, "{mode:o}");

    // A new file keeps the temporary's 0600: nothing to carry over.
    let mut steps = Steps::default();
    write_file(&dir.join("new.json"), "x", &mut steps).unwrap();
    assert_eq!(
        steps.log,
        [
            "open directory",
            "fstat directory",
            "lstat target",
            "create temporary",
            "write",
            "fsync",
            "renameat",
            "fsync directory",
        ]
    );
    let mode = std::fs::metadata(dir.join("new.json")).unwrap().mode();
    assert_eq!(mode & 0o7777, 0o600, "{mode:o}");
    assert!(temporaries(&dir).is_empty());
}

/// No call in the module names a path where a handle is due: the log above lists every call,
/// and none of the path-based ones is even named in the source.
#[test]
fn no_mode_or_owner_is_set_through_a_path() {
    let source = include_str!("write.rs");
    for call in [
        "set_permissions",
        "fs::chmod",
        "chmodat",
        "fs::chown",
        "chownat",
        "lchown",
        "fs::rename(",
        "canonicalize",
    ] {
        assert!(!source.contains(call), "{call}");
    }
}

/// Whatever call fails, the target is the old file byte for byte, and no temporary file is left.
#[test]
fn a_failure_at_any_call_leaves_the_target_as_it_was() {
    let dir = scratch("failures");
    let path = dir.join("td.json");
    let before = b"{\"family\": \"app\"}\n";
    let owner_differs = rustix::process::geteuid().is_root();
    for step in [
        "open directory",
        "fstat directory",
        "lstat target",
        "create temporary",
        "write",
        "fstat temporary",
        "fchown",
        "fchmod",
        "fsync",
        "renameat",
    ] {
        // With another group, the owner is carried over with `fchown`.
        fixture(&path, before, owner_differs.then_some(12345), 0o640);
        if !owner_differs && step == "fchown" {
            continue;
        }
        let mut steps = Steps {
            fail_at: Some(step),
            ..Steps::default()
        };
        let err = write_file(&path, "new", &mut steps).unwrap_err();
        assert!(
            matches!(&err, WriteError::Io(e) if e.to_string() == format!("forced failure of {step}")),
            "{step}: {err:?}"
        );
        assert!(steps.log.contains(&step), "{step}: {:?}", steps.log);
        assert_eq!(std::fs::read(&path).unwrap(), before, "{step}");
        let mode = std::fs::metadata(&path).unwrap().mode();
        assert_eq!(mode & 0o7777, 0o640, "{step}");
        assert_eq!(temporaries(&dir), Vec::<String>::new(), "{step}");
        // The temporary is removed only once it exists.
        let created = steps.log.contains(&"write");
        assert_eq!(
            steps.log.last() == Some(&"unlinkat temporary"),
            created,
            "{step}: {:?}",
            steps.log
        );
    }
}

#[test]
fn owner_and_group_are_kept_where_the_process_may() {
    if !rustix::process::geteuid().is_root() {
        // Only root can give a file another group it is not in; the integration tests check
        // the rest of the rule.
        eprintln!("owner_and_group_are_kept_where_the_process_may: not root, nothing to check");
        return;
    }
    let dir = scratch("owner");
    let path = dir.join("td.json");
    fixture(&path, "old", Some(12345), 0o6755);
    let mut steps = Steps::default();
    write_file(&path, "new", &mut steps).unwrap();
    assert!(steps.log.contains(&"fchown"), "{:?}", steps.log);
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (0, 12345));
    // Permission bits only: set-user-id and set-group-id are dropped.
    assert_eq!(meta.mode() & 0o7777, 0o755, "{:o}", meta.mode());
}

#[test]
fn paths_that_name_no_file_are_refused() {
    for path in ["", "/", "dir/"] {
        let err = write_file(Path::new(path), "x", &mut Steps::default()).unwrap_err();
        assert!(
            matches!(&err, WriteError::Refused(r) if r == "it does not name a file"),
            "{path:?}: {err:?}"
        );
    }
}
