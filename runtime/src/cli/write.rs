//! Writing the CLI's files (`-o`, `--in-place`, `migrate --apply`) so that nobody who can write
//! to the target's directory can redirect the write or change what it leaves behind.
//!
//! - The target's directory is opened once (`O_DIRECTORY`) and everything after goes through
//!   that handle: the temporary file is created in it with `O_CREAT | O_EXCL | O_NOFOLLOW`, mode
//!   0600 and a name nobody can predict, and `renameat` puts it in the target's place. A task
//!   definition may hold plain `environment` values, so until then only its owner can read it.
//! - Mode and owner are set on the open file (`fchmod`, `fchown`), never through a path. The
//!   result gets the original's permission bits only (`& 0o777`: set-user-id, set-group-id and
//!   sticky are dropped) and keeps its owner and group where the process may: both, else the
//!   group alone, else neither (a user who may not give a file away is no reason to fail). A
//!   new file stays 0600.
//! - The file is written and `fsync`ed before the rename, and any failure removes the temporary
//!   file: the target is either the old file, byte for byte, or the new one.
//! - A symbolic link at the target is followed (its file is replaced, the link stays) only when
//!   it is the caller's own and cannot be swapped under the write: the link belongs to the
//!   effective user, and its directory to that user or root and is writable by nobody else,
//!   or is sticky (then no one else can remove or rename the link). Anything else is refused,
//!   whatever the machine's `fs.protected_symlinks` says: that rule (Linux `proc_sys_fs(5)`)
//!   still follows a link that the directory's owner planted, and a deploy tool run by root
//!   must not write wherever another user's link points.
//! - An existing file in a shared sticky directory (like `/tmp`) is replaced only when it
//!   belongs to the caller or to the directory's owner (the kernel's `protected_regular` rule,
//!   applied here because the result takes the original's owner and mode: a file planted by
//!   another user would otherwise make the caller hand that user the output).

use std::ffi::OsStr;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, CWD, FileType, Gid, Mode, OFlags, Stat, Uid};

/// How many symbolic links one write follows (Linux's own limit for a path lookup is 40).
const MAX_LINKS: usize = 40;

/// Why a write did not happen.
#[derive(Debug)]
pub(super) enum WriteError {
    /// A system call failed.
    Io(io::Error),
    /// The target is not one this command writes (a planted link, a directory…): why.
    Refused(String),
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        WriteError::Io(e)
    }
}

impl From<rustix::io::Errno> for WriteError {
    fn from(e: rustix::io::Errno) -> Self {
        WriteError::Io(e.into())
    }
}

/// The system calls of a write, each under its name: the unit tests read the log (to see that
/// no call goes through a path where a handle is due) and make a chosen call fail.
#[derive(Debug, Default)]
pub(super) struct Steps {
    #[cfg(test)]
    pub(super) log: Vec<&'static str>,
    #[cfg(test)]
    pub(super) fail_at: Option<&'static str>,
}

impl Steps {
    fn call<T, E: Into<io::Error>>(
        &mut self,
        step: &'static str,
        f: impl FnOnce() -> Result<T, E>,
    ) -> io::Result<T> {
        #[cfg(test)]
        {
            self.log.push(step);
            if self.fail_at == Some(step) {
                return Err(io::Error::other(format!("forced failure of {step}")));
            }
        }
        let _ = step;
        f().map_err(Into::into)
    }
}

/// Writes `text` to `path` (see the [module docs](self)).
pub(super) fn write_file(path: &Path, text: &str, steps: &mut Steps) -> Result<(), WriteError> {
    let euid = rustix::process::geteuid().as_raw();
    let mut target = path.to_owned();
    for _ in 0..=MAX_LINKS {
        let (dir_path, name) = split(&target)?;
        let dir = steps.call("open directory", || {
            rustix::fs::openat(
                CWD,
                &dir_path,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                Mode::empty(),
            )
        })?;
        let dir_stat = steps.call("fstat directory", || rustix::fs::fstat(&dir))?;
        let found = steps.call("lstat target", || {
            rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW)
        });
        let stat = match found {
            Ok(stat) => stat,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return replace(&dir, name, None, text, steps);
            }
            Err(e) => return Err(e.into()),
        };
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Symlink => {
                may_follow(&stat, &dir_stat, euid).map_err(WriteError::Refused)?;
                let to = steps.call("readlinkat", || {
                    rustix::fs::readlinkat(&dir, name, Vec::new())
                })?;
                let to = Path::new(OsStr::from_bytes(to.as_bytes()));
                target = dir_path.join(to);
            }
            FileType::RegularFile => {
                may_replace(&stat, &dir_stat, euid).map_err(WriteError::Refused)?;
                return replace(&dir, name, Some(&stat), text, steps);
            }
            _ => return Err(WriteError::Refused("it is not a regular file".to_owned())),
        }
    }
    Err(WriteError::Refused(format!(
        "it leads through more than {MAX_LINKS} symbolic links"
    )))
}

/// The directory to open and the name in it.
fn split(target: &Path) -> Result<(PathBuf, &OsStr), WriteError> {
    let name = match target.file_name() {
        Some(name) if !target.as_os_str().as_bytes().ends_with(b"/") => name,
        _ => return Err(WriteError::Refused("it does not name a file".to_owned())),
    };
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name))
}

/// Whether a directory's mode lets users other than its owner change its entries.
fn shared(dir: &Stat) -> bool {
    dir.st_mode & 0o022 != 0
}

fn sticky(dir: &Stat) -> bool {
    dir.st_mode & 0o1000 != 0
}

/// The rule for following a link (see the module docs).
fn may_follow(link: &Stat, dir: &Stat, euid: u32) -> Result<(), String> {
    if link.st_uid != euid {
        return Err(format!(
            "it is a symbolic link that belongs to another user (uid {}), which this command \
             does not follow; give the path of the file itself",
            link.st_uid
        ));
    }
    if (dir.st_uid != euid && dir.st_uid != 0) || (shared(dir) && !sticky(dir)) {
        return Err(
            "it is a symbolic link in a directory that other users can change, which \
                    this command does not follow; give the path of the file itself"
                .to_owned(),
        );
    }
    Ok(())
}

/// The rule for replacing an existing file (see the module docs).
fn may_replace(file: &Stat, dir: &Stat, euid: u32) -> Result<(), String> {
    if sticky(dir) && shared(dir) && file.st_uid != euid && file.st_uid != dir.st_uid {
        return Err(format!(
            "it belongs to another user (uid {}) in a shared directory, and the result would \
             take that owner; remove it or write elsewhere",
            file.st_uid
        ));
    }
    Ok(())
}

/// Puts a file with `text` in place of `name` in `dir`, with the mode and owner of `original`.
fn replace(
    dir: &impl rustix::fd::AsFd,
    name: &OsStr,
    original: Option<&Stat>,
    text: &str,
    steps: &mut Steps,
) -> Result<(), WriteError> {
    let (temporary, file) = create_temporary(dir, name, steps)?;
    let mut file = std::fs::File::from(file);
    let mut fill = || -> io::Result<()> {
        steps.call("write", || file.write_all(text.as_bytes()))?;
        if let Some(original) = original {
            keep_owner(&file, original, steps)?;
            let mode = Mode::from_raw_mode(original.st_mode & 0o777);
            steps.call("fchmod", || rustix::fs::fchmod(&file, mode))?;
        }
        steps.call("fsync", || file.sync_all())?;
        steps.call("renameat", || {
            rustix::fs::renameat(dir, &temporary, dir, name)
        })
    };
    if let Err(e) = fill() {
        let _ = steps.call("unlinkat temporary", || {
            rustix::fs::unlinkat(dir, &temporary, AtFlags::empty())
        });
        return Err(e.into());
    }
    // The rename is durable once the directory is; some file systems refuse to sync one, and
    // the file is in place either way.
    let _ = steps.call("fsync directory", || rustix::fs::fsync(dir));
    Ok(())
}

/// Creates the temporary file beside the target: exclusively, never through a link, readable
/// by its owner only, under a name nobody can predict (a keyed hash the process seeds at
/// random).
fn create_temporary(
    dir: &impl rustix::fd::AsFd,
    name: &OsStr,
    steps: &mut Steps,
) -> io::Result<(PathBuf, std::os::fd::OwnedFd)> {
    use std::hash::BuildHasher;

    // A short prefix of the name, so that the temporary name stays within NAME_MAX.
    let prefix = String::from_utf8_lossy(&name.as_bytes()[..name.len().min(64)]).into_owned();
    let mut attempt = 0u32;
    loop {
        let nonce = std::collections::hash_map::RandomState::new().hash_one(attempt);
        let temporary = PathBuf::from(format!(".{prefix}.ecs-secrets-{nonce:016x}.tmp"));
        let created = steps.call("create temporary", || {
            rustix::fs::openat(
                dir,
                &temporary,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )
        });
        match created {
            Ok(file) => return Ok((temporary, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 8 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Gives the open file the original's owner and group where the process may: both, else the
/// group alone, else neither.
fn keep_owner(file: &std::fs::File, original: &Stat, steps: &mut Steps) -> io::Result<()> {
    let now = steps.call("fstat temporary", || rustix::fs::fstat(file))?;
    if (now.st_uid, now.st_gid) == (original.st_uid, original.st_gid) {
        return Ok(());
    }
    let (uid, gid) = (
        Uid::from_raw(original.st_uid),
        Gid::from_raw(original.st_gid),
    );
    let not_permitted = |e: &io::Error| e.kind() == io::ErrorKind::PermissionDenied;
    match steps.call("fchown", || rustix::fs::fchown(file, Some(uid), Some(gid))) {
        Err(e) if not_permitted(&e) && now.st_gid != original.st_gid => {
            match steps.call("fchown group", || rustix::fs::fchown(file, None, Some(gid))) {
                Err(e) if not_permitted(&e) => Ok(()),
                other => other,
            }
        }
        Err(e) if not_permitted(&e) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
#[path = "write_tests.rs"]
mod tests;
