//! JSON values as block-style YAML, for the CloudFormation templates (`--format
//! cloudformation-yaml`). Every string is written double-quoted with JSON's escapes, which YAML
//! reads the same, so no value can turn into a number, a boolean or a YAML tag (`"on"`,
//! `"1e3"`, `"!Ref"` stay strings); keys likewise. No dependency: the output is a few shapes.

use core::fmt::Write;

use serde_json::Value;

/// `value` as a YAML document with a final newline.
pub(crate) fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => block(&mut out, value, 0),
        Value::Array(list) if !list.is_empty() => block(&mut out, value, 0),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
    out
}

/// A scalar, or an empty collection, on one line.
fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quoted(s),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
    }
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a string always serializes")
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Array(list) => !list.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => false,
    }
}

/// A non-empty collection, each entry on its own line at `indent` spaces.
fn block(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                if is_block(item) {
                    let _ = writeln!(out, "{pad}{}:", quoted(key));
                    block(out, item, indent + 2);
                } else {
                    let _ = writeln!(out, "{pad}{}: {}", quoted(key), inline(item));
                }
            }
        }
        Value::Array(list) => {
            for item in list {
                if is_block(item) {
                    // The first line of the entry goes after the dash, the rest below it.
                    let mut inner = String::new();
                    block(&mut inner, item, indent + 2);
                    let first = inner.len() - inner.trim_start().len();
                    let _ = write!(out, "{pad}- {}", &inner[first..]);
                } else {
                    let _ = writeln!(out, "{pad}- {}", inline(item));
                }
            }
        }
        scalar => {
            let _ = writeln!(out, "{pad}{}", inline(scalar));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn block_yaml_of_every_shape() {
        let value = json!({
            "A": {"B": [1, "on", {"C": true, "D": [null]}, []], "E": {}},
            "F": "line\nbreak \"quoted\"",
        });
        assert_eq!(
            to_yaml(&value),
            "\"A\":\n  \"B\":\n    - 1\n    - \"on\"\n    - \"C\": true\n      \"D\":\n        - null\n    - []\n  \"E\": {}\n\"F\": \"line\\nbreak \\\"quoted\\\"\"\n"
        );
        assert_eq!(to_yaml(&json!([])), "[]\n");
        assert_eq!(to_yaml(&json!("x")), "\"x\"\n");
    }
}
