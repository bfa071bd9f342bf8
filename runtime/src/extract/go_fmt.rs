//! Go's `fmt.Sprintf("%v", v)` of what `encoding/json` decodes into `interface{}`: `fmt`
//! (`print.go` `printValue`/`fmtFloat`, `format.go` `fmtFloat`) and `strconv` (`ftoa.go`,
//! `ftoaryu.go`) for the shortest float64 digits.

use std::fmt;
use std::io::Write as _;

use serde_json::{Number, Value};
use zeroize::Zeroizing;

/// Appends Go's `fmt.Sprintf("%v", v)` of the value `encoding/json` decodes into `interface{}`
/// to `out` (exposed for tests and fuzzing).
///
/// Strings are written raw, booleans as `true`/`false`, null as `<nil>`, numbers as Go's `%v` of
/// a `float64` (integers are first rounded to the nearest `f64`, as Go's `ParseFloat` does;
/// `-0` stays `-0`), arrays as `[a b c]` and objects as `map[a:1 b:x]` with keys sorted by their
/// bytes, whatever order the [`Map`](serde_json::Map) keeps them in.
pub fn go_format(value: &Value, out: &mut String) {
    // Iterative, so that a deeply nested value cannot overflow the stack.
    enum Item<'a> {
        Value(&'a Value),
        Text(&'a str),
    }
    let mut work = vec![Item::Value(value)];
    while let Some(item) = work.pop() {
        let value = match item {
            Item::Text(text) => {
                out.push_str(text);
                continue;
            }
            Item::Value(value) => value,
        };
        match value {
            // fmt print.go printValue: a nil interface prints nilAngleString.
            Value::Null => out.push_str("<nil>"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => push_number(n, out),
            Value::String(s) => out.push_str(s),
            // printValue, reflect.Slice: '[' elements separated by ' ' ']'.
            Value::Array(items) => {
                out.push('[');
                work.push(Item::Text("]"));
                for (i, item) in items.iter().enumerate().rev() {
                    work.push(Item::Value(item));
                    if i > 0 {
                        work.push(Item::Text(" "));
                    }
                }
            }
            // printValue, reflect.Map: "map[" key ':' value, ' ' between, ']', keys sorted by
            // internal/fmtsort (byte-wise for strings). Sorted here because serde_json's
            // `preserve_order` feature, if anything in the build enables it, keeps insertion order.
            Value::Object(map) => {
                out.push_str("map[");
                work.push(Item::Text("]"));
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                for (i, (key, item)) in entries.into_iter().enumerate().rev() {
                    work.push(Item::Value(item));
                    work.push(Item::Text(":"));
                    work.push(Item::Text(key));
                    if i > 0 {
                        work.push(Item::Text(" "));
                    }
                }
            }
        }
    }
}

/// Go's `%v` of a JSON number, which `encoding/json` always decodes as `float64`.
fn push_number(n: &Number, out: &mut String) {
    match n.as_f64() {
        // For u64/i64 this is a round-to-nearest-even conversion, the same result as Go's
        // ParseFloat on the integer's digits.
        Some(f) => push_go_float(f, out),
        // Only reachable with serde_json's `arbitrary_precision` and a number outside f64 range,
        // which Go would have rejected while decoding; print it as is rather than panic.
        None => out.push_str(&n.to_string()),
    }
}

/// `strconv.AppendFloat(f, 'g', -1, 64)`, which fmt's `%v` uses verbatim for a float64
/// (print.go `fmtFloat`: `case 'v': p.fmt.fmtFloat(v, size, 'g', -1)`; format.go `fmtFloat`
/// only strips the `+` it reserved for the sign).
pub(super) fn push_go_float(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
        return;
    }
    if f.is_infinite() {
        out.push_str(if f > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if f.is_sign_negative() {
        out.push('-');
    }
    if f == 0.0 {
        // ftoa.go: zero has no digits (nd == 0), so fmtF prints "0" (and "-0" for negative zero).
        out.push('0');
        return;
    }

    let (digits, nd, exp) = shortest_digits(f.abs());
    let digits = &digits[..nd];
    let nd = nd as i32;
    // Go's decimalSlice: value = 0.d1d2d3… × 10^dp.
    let dp = exp + 1;

    // ftoa.go formatDigits, case 'g' with shortest == true: `eprec = 6`, and
    // `if exp < -4 || exp >= eprec` use %e with prec nd-1, else %f with prec max(nd-dp, 0).
    if !(-4..6).contains(&exp) {
        // fmtE: d[.ddd]e±dd (at least two exponent digits).
        if let Some((&first, rest)) = digits.split_first() {
            out.push(char::from(first));
            if !rest.is_empty() {
                out.push('.');
                for &d in rest {
                    out.push(char::from(d));
                }
            }
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        // Writing into a String cannot fail.
        let _ = fmt::Write::write_fmt(out, format_args!("{e}"));
    } else {
        // fmtF: integer part padded with zeros, then the fraction.
        if dp > 0 {
            for i in 0..dp {
                out.push(if i < nd {
                    char::from(digits[i as usize])
                } else {
                    '0'
                });
            }
        } else {
            out.push('0');
        }
        let frac = (nd - dp).max(0);
        if frac > 0 {
            out.push('.');
            for i in 0..frac {
                let j = dp + i;
                out.push(if (0..nd).contains(&j) {
                    char::from(digits[j as usize])
                } else {
                    '0'
                });
            }
        }
    }
}

/// Go's shortest decimal form of a positive finite `f`: the digits (no trailing zeros), their
/// count, and the decimal exponent of the first digit (`f ≈ d.ddd × 10^exp`).
///
/// Go (`ftoaryu.go` `ryuFtoaShortest`, older versions Grisu3 with `roundShortest`) picks the
/// fewest digits whose value lies in `f`'s rounding interval (bounds included when the mantissa
/// is even), and among those the one closest to `f`, ties to even. Rust's `{:e}` breaks such
/// ties upwards (`1658206780088562.25` gives `…623` where Go prints `…622`), so it cannot be
/// used. Instead, for each length `p` this takes the correctly rounded `p`-digit value (Rust's
/// `{:.*e}`, ties to even) and, when that does not parse back to `f`, its neighbour on the other
/// side of `f` (needed only at powers of two, whose interval is lopsided); "parses back to `f`"
/// is exactly "lies in the rounding interval", since parsing also rounds ties to even.
fn shortest_digits(f: f64) -> (Zeroizing<[u8; 17]>, usize, i32) {
    let mut digits = Zeroizing::new([0u8; 17]);
    for p in 1..=17 {
        let (nd, exp) = exact_digits(f, p, &mut digits);
        let nearest = parse_digits(&digits[..nd], exp);
        if nearest == f {
            return trimmed(digits, nd, exp);
        }
        let mut other = digits.clone();
        let other_exp = if nearest < f {
            increment(&mut other[..nd], exp)
        } else {
            decrement(&mut other[..nd], exp)
        };
        if parse_digits(&other[..nd], other_exp) == f {
            return trimmed(other, nd, other_exp);
        }
    }
    // Unreachable: 17 significant digits always round-trip a float64.
    let (nd, exp) = exact_digits(f, 17, &mut digits);
    trimmed(digits, nd, exp)
}

/// `f` correctly rounded to `p` significant digits: writes them to `digits`, returns
/// `(p, exponent of the first digit)`.
fn exact_digits(f: f64, p: usize, digits: &mut [u8; 17]) -> (usize, i32) {
    let mut buf = Zeroizing::new([0u8; 40]);
    let len = {
        let mut cursor: &mut [u8] = &mut buf[..];
        let capacity = cursor.len();
        // At most 23 bytes ("1.7976931348623157e308"), so this cannot fail.
        let _ = write!(cursor, "{:.*e}", p - 1, f);
        capacity - cursor.len()
    };
    let text = &buf[..len];
    let e_at = text.iter().position(|&b| b == b'e').unwrap_or(len);
    let mut nd = 0;
    for &b in text[..e_at].iter().filter(|b| b.is_ascii_digit()) {
        if nd < digits.len() {
            digits[nd] = b;
            nd += 1;
        }
    }
    let exp = text
        .get(e_at + 1..)
        .and_then(|e| std::str::from_utf8(e).ok())
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    (nd, exp)
}

/// The float64 nearest to `d.ddd × 10^exp`.
fn parse_digits(digits: &[u8], exp: i32) -> f64 {
    let mut buf = Zeroizing::new([0u8; 40]);
    let len = {
        let mut cursor: &mut [u8] = &mut buf[..];
        let capacity = cursor.len();
        let _ = cursor.write_all(digits);
        let _ = write!(cursor, "e{}", exp - (digits.len() as i32 - 1));
        capacity - cursor.len()
    };
    std::str::from_utf8(&buf[..len])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Adds one unit in the last place to `d.ddd × 10^exp`, keeping the digit count; returns the
/// new exponent (`9.99` becomes `1.00e+1`).
fn increment(digits: &mut [u8], exp: i32) -> i32 {
    for d in digits.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return exp;
        }
    }
    if let Some(first) = digits.first_mut() {
        *first = b'1';
    }
    exp + 1
}

/// Subtracts one unit in the last place from `d.ddd × 10^exp`, keeping the digit count; returns
/// the new exponent (`1.00` becomes `9.99e-1`: the next smaller value with that many digits).
fn decrement(digits: &mut [u8], exp: i32) -> i32 {
    for d in digits.iter_mut().rev() {
        if *d == b'0' {
            *d = b'9';
        } else {
            *d -= 1;
            break;
        }
    }
    if digits.first() == Some(&b'0') {
        digits.rotate_left(1);
        if let Some(last) = digits.last_mut() {
            *last = b'9';
        }
        return exp - 1;
    }
    exp
}

/// Drops trailing zeros, as `ryuDigits` does.
fn trimmed(
    digits: Zeroizing<[u8; 17]>,
    mut nd: usize,
    exp: i32,
) -> (Zeroizing<[u8; 17]>, usize, i32) {
    while nd > 1 && digits[nd - 1] == b'0' {
        nd -= 1;
    }
    (digits, nd, exp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::testing::v;

    fn format(value: &Value) -> String {
        let mut out = String::new();
        go_format(value, &mut out);
        out
    }

    #[test]
    fn integers_use_go_percent_v() {
        assert_eq!(v("0"), "0");
        assert_eq!(v("5432"), "5432");
        assert_eq!(v("-17"), "-17");
        assert_eq!(v("100000"), "100000");
        assert_eq!(v("123456"), "123456");
        assert_eq!(v("999999"), "999999");
        // Seven or more integer digits switch to exponent form (eprec = 6 in ftoa.go).
        assert_eq!(v("1000000"), "1e+06");
        assert_eq!(v("1234567"), "1.234567e+06");
        assert_eq!(v("-1234567"), "-1.234567e+06");
        assert_eq!(v("10000000"), "1e+07");
        assert_eq!(v("100000000000000000000"), "1e+20");
        assert_eq!(v("1000000000000000000000"), "1e+21");
    }

    #[test]
    fn big_integers_are_rounded_to_float64_first() {
        assert_eq!(v("12345678901234567890"), "1.2345678901234567e+19");
        assert_eq!(v("18446744073709551615"), "1.8446744073709552e+19");
        assert_eq!(v("-9223372036854775808"), "-9.223372036854776e+18");
        // 2^53 + 1 is not a float64: ties to even gives 2^53.
        assert_eq!(v("9007199254740993"), "9.007199254740992e+15");
        assert_eq!(
            v("123456789012345678901234567890"),
            "1.2345678901234568e+29"
        );
    }

    #[test]
    fn fractions_and_exponents_use_go_percent_v() {
        assert_eq!(v("0.25"), "0.25");
        assert_eq!(v("-12.5"), "-12.5");
        assert_eq!(v("0.1"), "0.1");
        assert_eq!(v("3.14159"), "3.14159");
        assert_eq!(v("123456.789"), "123456.789");
        assert_eq!(v("1.0"), "1");
        assert_eq!(v("100.000"), "100");
        assert_eq!(v("1E2"), "100");
        assert_eq!(v("1e+2"), "100");
        assert_eq!(v("0.0001"), "0.0001");
        assert_eq!(v("0.000123"), "0.000123");
        // Exponent below -4: exponent form, at least two exponent digits.
        assert_eq!(v("0.00001"), "1e-05");
        assert_eq!(v("0.000025"), "2.5e-05");
        assert_eq!(v("1e-7"), "1e-07");
        assert_eq!(v("1.5e300"), "1.5e+300");
        assert_eq!(v("1e-100"), "1e-100");
        assert_eq!(v("5e-324"), "5e-324");
        assert_eq!(v("2.2250738585072014e-308"), "2.2250738585072014e-308");
        assert_eq!(v("1.7976931348623157e308"), "1.7976931348623157e+308");
        assert_eq!(v("0.30000000000000004"), "0.30000000000000004");
        // Shortest digits may end exactly on the rounding boundary when the mantissa is even.
        assert_eq!(v("4.468743327960138e16"), "4.468743327960138e+16");
        // Two 17-digit candidates equally close: Go rounds to even (ftoaryu.go ryuDigits32),
        // where Rust's own `{:e}` would print …623.
        assert_eq!(v("1658206780088562.25"), "1.6582067800885622e+15");
        assert_eq!(v("9007199254740993e-10"), "900719.9254740993");
    }

    #[test]
    fn zeros_keep_their_sign() {
        assert_eq!(v("-0"), "-0");
        assert_eq!(v("-0.0"), "-0");
        assert_eq!(v("-0e5"), "-0");
        assert_eq!(v("0.0"), "0");
        assert_eq!(v("0e-5"), "0");
        // Underflow is not an error in Go's ParseFloat: it gives a signed zero.
        assert_eq!(v("1e-400"), "0");
        assert_eq!(v("-1e-400"), "-0");
    }

    #[test]
    fn booleans_and_null() {
        assert_eq!(v("true"), "true");
        assert_eq!(v("false"), "false");
        assert_eq!(v("null"), "<nil>");
    }

    #[test]
    fn arrays_are_space_separated() {
        assert_eq!(v(r#"[1,2,"x"]"#), "[1 2 x]");
        assert_eq!(v("[]"), "[]");
        assert_eq!(v(r#"[ "a b" , "c" ]"#), "[a b c]");
        assert_eq!(v("[[1,[2]],[]]"), "[[1 [2]] []]");
        assert_eq!(
            v(r#"[true,null,1.5,"s",{"k":"v"},-0,1000000,0.00001]"#),
            "[true <nil> 1.5 s map[k:v] -0 1e+06 1e-05]"
        );
    }

    #[test]
    fn objects_are_maps_with_sorted_keys() {
        assert_eq!(v("{}"), "map[]");
        assert_eq!(
            v(r#"{"b":1,"a":"x","c":{"z":null,"y":[1,{"q":true}]}}"#),
            "map[a:x b:1 c:map[y:[1 map[q:true]] z:<nil>]]"
        );
        // Byte order, as Go's fmtsort compares strings: "B" < "_" < "a" < "b" < "é".
        assert_eq!(
            v(r#"{"b":1,"B":2,"a":3,"é":4,"_":5}"#),
            "map[B:2 _:5 a:3 b:1 é:4]"
        );
        assert_eq!(v(r#"{"":0,"k":[]}"#), "map[:0 k:[]]");
    }

    #[test]
    fn go_format_of_serde_json_values() {
        use serde_json::json;
        assert_eq!(format(&json!(null)), "<nil>");
        assert_eq!(
            format(&json!(12345678901234567890u64)),
            "1.2345678901234567e+19"
        );
        assert_eq!(format(&json!(-1234567i64)), "-1.234567e+06");
        assert_eq!(format(&json!(-0.0)), "-0");
        assert_eq!(format(&json!(0.25)), "0.25");
        assert_eq!(
            format(&json!({"z": [1, "two", null], "a": {"y": false, "x": 1e21}})),
            "map[a:map[x:1e+21 y:false] z:[1 two <nil>]]"
        );
        // Appends rather than overwrites.
        let mut out = String::from("x=");
        go_format(&json!("y"), &mut out);
        assert_eq!(out, "x=y");
        // serde_json's parser agrees where it accepts the input.
        let parsed: Value = serde_json::from_str(r#"{"b":[1,2.5,-0],"a":"s"}"#).unwrap();
        assert_eq!(format(&parsed), "map[a:s b:[1 2.5 -0]]");
    }

    /// Shortest digits and decimal exponent of a float rendered by any shortest formatter
    /// (`1.25e-7`, `123.0`, `1e21`, …): ("125", -7).
    fn digits_and_exponent(text: &str) -> (String, i32) {
        let text = text.trim_start_matches('-');
        let (mantissa, exp) = match text.find(['e', 'E']) {
            Some(i) => (&text[..i], text[i + 1..].parse::<i32>().unwrap()),
            None => (text, 0),
        };
        let point = mantissa.find('.').unwrap_or(mantissa.len()) as i32;
        let all: String = mantissa.chars().filter(|c| *c != '.').collect();
        let leading = (all.len() - all.trim_start_matches('0').len()) as i32;
        let digits = all
            .trim_start_matches('0')
            .trim_end_matches('0')
            .to_string();
        (digits, exp + point - leading - 1)
    }

    #[test]
    fn float_formatting_agrees_with_ryu_and_go_rules() {
        // Deterministic xorshift over raw bit patterns plus "human" decimal numbers.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut checked = 0;
        for i in 0..60_000 {
            let f = if i % 2 == 0 {
                f64::from_bits(next())
            } else {
                let mantissa = (next() % 100_000_000) as f64;
                mantissa * 10f64.powi((next() % 40) as i32 - 20)
            };
            if !f.is_finite() || f == 0.0 {
                continue;
            }
            let mut ours = String::new();
            push_go_float(f, &mut ours);
            // Round-trips exactly.
            assert_eq!(
                ours.parse::<f64>().unwrap().to_bits(),
                f.to_bits(),
                "{ours}"
            );
            // Same shortest digits as an independent implementation (Ryū, via serde_json).
            let ryu = serde_json::to_string(&f).unwrap();
            let (digits, exp) = digits_and_exponent(&ours);
            assert_eq!(
                (digits.clone(), exp),
                digits_and_exponent(&ryu),
                "{ours} vs {ryu}"
            );
            // Go's layout: exponent form exactly when exp < -4 or exp >= 6, and then
            // e±dd with at least two digits; otherwise plain decimal without an exponent.
            let exponent_form = !(-4..6).contains(&exp);
            assert_eq!(ours.contains('e'), exponent_form, "{ours}");
            if exponent_form {
                let tail = &ours[ours.find('e').unwrap() + 1..];
                assert!(tail.starts_with(['+', '-']) && tail.len() >= 3, "{ours}");
                assert!(!ours[..ours.find('e').unwrap()].ends_with('0') || digits.len() == 1);
            } else {
                assert!(!ours.ends_with('.'), "{ours}");
                assert!(!(ours.contains('.') && ours.ends_with('0')), "{ours}");
            }
            assert_eq!(ours.starts_with('-'), f < 0.0);
            checked += 1;
        }
        assert!(checked > 55_000);
    }

    #[test]
    fn powers_of_two_use_the_lopsided_interval() {
        // Below a power of two the neighbours are twice as close, so the shortest digits may
        // lie on the far side. Rust's `{:e}` handles that correctly (ties cannot arise here:
        // a tie needs an odd neighbour at equal distance), so it is the reference.
        let mut neighbour_used = 0;
        for e in -1074i32..=1023 {
            let f = if e < -1022 {
                f64::from_bits(1u64 << (e + 1074)) // subnormal
            } else {
                f64::from_bits(((e + 1023) as u64) << 52)
            };
            let (digits, nd, exp) = shortest_digits(f);
            let ours = (String::from_utf8(digits[..nd].to_vec()).unwrap(), exp);
            assert_eq!(
                ours,
                digits_and_exponent(&serde_json::to_string(&f).unwrap()),
                "2^{e}"
            );
            let mut nearest = [0u8; 17];
            let (nnd, nexp) = exact_digits(f, nd, &mut nearest);
            if (&nearest[..nnd], nexp) != (&digits[..nd], exp) {
                neighbour_used += 1;
            }
        }
        // The neighbour path is really exercised.
        assert!(neighbour_used > 0);
    }
}
