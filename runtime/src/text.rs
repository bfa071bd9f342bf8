//! Text from outside — a task definition, an AWS answer, a command line — made safe to print in
//! a human message.

use core::fmt;

/// `text` as a message prints it: each control character (newline, carriage return, ESC…) and
/// each invisible character that reorders or hides text (bidirectional overrides, zero-width
/// spaces) shown as its Rust escape (`\n`, `\u{1b}`, `\u{202e}`), so that a name read from a
/// file cannot forge a line of the report or drive the terminal. Everything else, backslashes
/// included, prints as it is: messages that hold no such character print unchanged, so escaping
/// text twice changes nothing. JSON output is never escaped this way; serde_json escapes its
/// own strings exactly.
pub(crate) fn escaped(text: &str) -> Escaped<'_> {
    Escaped(text)
}

/// See [`escaped`].
#[derive(Clone, Copy)]
pub(crate) struct Escaped<'a>(&'a str);

/// Characters that print nothing visible but change how the text around them reads.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{AD}'
            | '\u{61C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(|c: char| c.is_control() || invisible(c)) {
            f.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            if c.is_control() {
                write!(f, "{}", c.escape_debug())?;
            } else {
                write!(f, "{}", c.escape_unicode())?;
            }
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

impl fmt::Debug for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::escaped;

    #[test]
    fn control_and_invisible_characters_print_as_escapes() {
        let forged = "X\ncontainer `app`: no drift\u{1b}[8m";
        assert_eq!(
            escaped(forged).to_string(),
            "X\\ncontainer `app`: no drift\\u{1b}[8m"
        );
        assert_eq!(
            escaped("a\r\tb\u{7f}\u{85}").to_string(),
            "a\\r\\tb\\u{7f}\\u{85}"
        );
        assert_eq!(
            escaped("rev\u{202e}txt\u{200b}").to_string(),
            "rev\\u{202e}txt\\u{200b}"
        );
        // Everything else is as it was, so escaping twice changes nothing.
        for plain in ["DB_PASSWORD", "a\\nb", "é/ü `x` \"q\" 'r'", ""] {
            assert_eq!(escaped(plain).to_string(), plain);
        }
        let once = escaped(forged).to_string();
        assert_eq!(escaped(&once).to_string(), once);
    }
}
