//! Reading and writing the CLI's files.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::CliError;

pub(super) use crate::formats::pretty;

pub(super) fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

pub(super) fn read_json(path: &Path) -> Result<Value, CliError> {
    let file_error = |reason: String| CliError::File {
        path: path.to_owned(),
        reason,
    };
    // Wiped when dropped: the file may hold plaintext values (what `migrate` moves). The copies
    // serde_json makes while parsing are out of reach.
    let mut text = zeroize::Zeroizing::new(String::new());
    let read = if is_stdin(path) {
        std::io::stdin().read_to_string(&mut text).map(drop)
    } else {
        std::fs::File::open(path).and_then(|mut f| {
            // Room for the whole file up front, so that growing leaves no unwiped copy behind.
            let len = f.metadata().map_or(0, |m| m.len());
            text.reserve(usize::try_from(len).unwrap_or(0).saturating_add(1));
            f.read_to_string(&mut text).map(drop)
        })
    };
    read.map_err(|e| file_error(format!("cannot read it: {e}")))?;
    serde_json::from_str(text.as_str()).map_err(|e| file_error(json_error(&e)))
}

/// What is wrong with a JSON file, by kind and line only: the file may hold plaintext values,
/// and a column inside one (serde_json's message has it) would tell where in the value the
/// parser stopped. A value holds no raw newline, so the line names an entry, not a position in
/// a value.
fn json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let kind = match e.classify() {
        Category::Io => "it could not be read",
        Category::Syntax => "a syntax error",
        Category::Data => "a value of the wrong type",
        Category::Eof => "it ends too early",
    };
    format!("not valid JSON: {kind} (line {})", e.line())
}

/// Writes through a temporary file beside the target and a rename, so an interrupted
/// `--in-place` never leaves half a task definition behind. A task definition may hold plain
/// `environment` values, so the result keeps the original file's permissions, and the temporary
/// file is created exclusively (never through an existing path or symlink, with a name nobody
/// can predict) and readable by its owner only until it takes the original's place. A symlink
/// target is written through: the file it points to is replaced, the link stays.
pub(super) fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    use std::hash::BuildHasher;

    let file_error = |e: std::io::Error| CliError::File {
        path: path.to_owned(),
        reason: format!("cannot write it: {e}"),
    };
    let target = match std::fs::canonicalize(path) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => path.to_owned(),
        Err(e) => return Err(file_error(e)),
    };
    let permissions = std::fs::metadata(&target).ok().map(|m| m.permissions());
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let base = target.file_name().unwrap_or_default().to_string_lossy();
    let mut attempt = 0u32;
    let (tmp, mut file) = loop {
        let nonce = std::collections::hash_map::RandomState::new().hash_one(attempt);
        let tmp = dir.join(format!(".{base}.ecs-secrets-{nonce:016x}.tmp"));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&tmp) {
            Ok(file) => break (tmp, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 8 => attempt += 1,
            Err(e) => return Err(file_error(e)),
        }
    };
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| match permissions {
            Some(p) => std::fs::set_permissions(&tmp, p),
            None => Ok(()),
        })
        .and_then(|()| std::fs::rename(&tmp, &target));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        file_error(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_say_the_kind_and_line_never_the_column() {
        let error = |text: &str| json_error(&serde_json::from_str::<Value>(text).unwrap_err());
        // The same bad escape, after a short and after a long value prefix: the same message.
        let short = error("{\n \"a\": \"s3\\q\"\n}");
        let long = error("{\n \"a\": \"s3cr3tP@ssw0rd-longer\\q\"\n}");
        assert_eq!(short, "not valid JSON: a syntax error (line 2)");
        assert_eq!(short, long);
        assert_eq!(
            error("{\"a\": "),
            "not valid JSON: it ends too early (line 1)"
        );
    }
}
