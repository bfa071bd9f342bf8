//! Reading and writing the CLI's files.

use std::io::Read;
#[cfg(not(unix))]
use std::io::Write;
use std::path::Path;

use serde_json::Value;
use zeroize::Zeroizing;

use super::CliError;

pub(super) use crate::deployment::formats::pretty;

pub(super) fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The most the command line reads from one file, or from standard input: far above ECS's
/// 64 KiB for a task definition, and a bound on the memory a mistaken path (a device, a huge
/// or sparse file) can take.
pub(super) const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// How [`MAX_INPUT_BYTES`] reads in messages.
const MAX_INPUT: &str = "16 MiB";

pub(super) fn read_json(path: &Path) -> Result<Value, CliError> {
    let file_error = |reason: String| CliError::File {
        path: path.to_owned(),
        reason,
    };
    let bytes = if is_stdin(path) {
        read_bounded(std::io::stdin().lock())
    } else {
        std::fs::File::open(path)
            .map_err(ReadError::Io)
            .and_then(read_bounded)
    };
    let bytes = bytes.map_err(|e| file_error(e.to_string()))?;
    // A UTF-8 error's offset would tell where in a value the bad byte is: the kind only.
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| file_error("cannot read it: it is not UTF-8 text".to_owned()))?;
    serde_json::from_str(text).map_err(|e| file_error(json_error(&e)))
}

/// Why a file could not be read.
#[derive(Debug)]
pub(super) enum ReadError {
    Io(std::io::Error),
    TooLarge,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "cannot read it: {e}"),
            ReadError::TooLarge => write!(
                f,
                "it is larger than {MAX_INPUT}, the most this command reads from a file"
            ),
        }
    }
}

/// Reads everything from `input`, refusing more than [`MAX_INPUT_BYTES`], into memory that is
/// wiped when dropped: the file may hold plaintext values (what `migrate` moves). Nothing is
/// reserved from a file's size as its metadata tells it (a sparse file can claim a terabyte):
/// the buffer grows as bytes arrive, each larger one a fresh wiped buffer, so that growing
/// leaves no unwiped copy behind. The copies serde_json makes while parsing are out of reach.
pub(super) fn read_bounded(mut input: impl Read) -> Result<Zeroizing<Vec<u8>>, ReadError> {
    let mut buf = Zeroizing::new(Vec::with_capacity(64 * 1024));
    loop {
        if buf.len() == buf.capacity() {
            let capacity = (buf.capacity() * 2).min(MAX_INPUT_BYTES + 1);
            let mut larger = Zeroizing::new(Vec::with_capacity(capacity));
            larger.extend_from_slice(&buf);
            buf = larger;
        }
        let (len, capacity) = (buf.len(), buf.capacity());
        buf.resize(capacity, 0);
        let read = input.read(&mut buf[len..]);
        buf.truncate(len + *read.as_ref().unwrap_or(&0));
        match read {
            Ok(0) => return Ok(buf),
            Ok(_) if buf.len() > MAX_INPUT_BYTES => return Err(ReadError::TooLarge),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
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

/// Writes `text` to `path` through a handle on its directory (see [`super::write`]).
#[cfg(unix)]
pub(super) fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    use super::write::{Steps, WriteError, write_file};

    write_file(path, text, &mut Steps::default()).map_err(|e| CliError::File {
        path: path.to_owned(),
        reason: match e {
            WriteError::Io(e) => format!("cannot write it: {e}"),
            WriteError::Refused(why) => format!("cannot write it: {why}"),
        },
    })
}

/// Writes `text` to `path` through a temporary file created exclusively beside it and a rename
/// (no modes or owners to keep off Unix).
#[cfg(not(unix))]
pub(super) fn write_file(path: &Path, text: &str) -> Result<(), CliError> {
    use std::hash::BuildHasher;

    let file_error = |e: std::io::Error| CliError::File {
        path: path.to_owned(),
        reason: format!("cannot write it: {e}"),
    };
    let nonce = std::collections::hash_map::RandomState::new().hash_one(0u8);
    let tmp = path.with_extension(format!("ecs-secrets-{nonce:016x}.tmp"));
    let mut file = std::fs::File::create_new(&tmp).map_err(file_error)?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    written.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        file_error(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_bounded_whatever_the_source() {
        // Exactly the limit is read; one byte more is refused, from any reader (standard input
        // takes the same path).
        let limit = MAX_INPUT_BYTES as u64;
        let read = read_bounded(std::io::repeat(b' ').take(limit)).unwrap();
        assert_eq!(read.len(), MAX_INPUT_BYTES);
        let err = read_bounded(std::io::repeat(b' ').take(limit + 1)).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge), "{err:?}");
        assert_eq!(
            err.to_string(),
            "it is larger than 16 MiB, the most this command reads from a file"
        );
        // An endless reader stops at the limit too.
        assert!(matches!(
            read_bounded(std::io::repeat(0)),
            Err(ReadError::TooLarge)
        ));
        assert_eq!(*read_bounded(&b"{}"[..]).unwrap(), b"{}");
        assert!(read_bounded(&b""[..]).unwrap().is_empty());
    }

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
