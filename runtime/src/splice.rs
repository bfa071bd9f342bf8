//! How a struct's [`FIELDS`](crate::EcsSecrets::FIELDS) are made at compile time: its own
//! fields and each flattened struct's, in declaration order, each through a [`Site`].
//!
//! A `flatten` site may prefix every env name of the struct it flattens (`env_prefix`) and
//! replace that struct's struct-level `secret`; the flattening struct's `partition`, `region`
//! and `account` complete the keys whose structs named none. The new names and `valueFrom`s are
//! text, so they are written into a byte array the generated code keeps in a `const` (its length
//! is [`spliced_len`], its bytes [`spliced_bytes`]), and the fields [`splice`] returns point
//! into it. Everything that reads a declaration (loading, the fragment, the policies, the AWS
//! loader) reads the result, so they agree on every name and reference.
//!
//! A key's `valueFrom` is made here and nowhere else, also for the struct that declares it (a
//! struct's own field goes through [`Site::OWN`]): with its secret's name, the ARN of
//! [`secret_arn`](crate::value_from::secret_arn) from the partition (default `aws`), region and
//! account, where no struct named a region or account, the placeholders `{region}` and
//! `{account}`; with a secret's ARN, that ARN. Then the key's `:key:stage:id`.

use crate::model::{Field, KeyOf, Source, Template};
use crate::value_from::{has_placeholder, secret_arn_parts};

/// Where fields join a struct's `FIELDS`: as its own, or through a `flatten` site.
#[derive(Clone, Copy, Debug)]
pub struct Site {
    flattened: bool,
    prefix: &'static str,
    secret: Option<&'static str>,
    partition: Option<&'static str>,
    region: Option<&'static str>,
    account: Option<&'static str>,
}

impl Site {
    /// A struct's own field: a key's `valueFrom` is made, nothing else changes.
    pub const OWN: Site = Site {
        flattened: false,
        prefix: "",
        secret: None,
        partition: None,
        region: None,
        account: None,
    };
}

/// A `flatten` site: its `env_prefix` (empty for none) and `secret`, and the flattening
/// struct's `partition`, `region` and `account` as written.
pub const fn flatten(
    prefix: &'static str,
    secret: Option<&'static str>,
    partition: Option<&'static str>,
    region: Option<&'static str>,
    account: Option<&'static str>,
) -> Site {
    Site {
        flattened: true,
        prefix,
        secret,
        partition,
        region,
        account,
    }
}

/// A key of the struct-level `secret`, before any site completes it.
pub const fn key(
    secret: &'static str,
    selector: &'static str,
    partition: Option<&'static str>,
    region: Option<&'static str>,
    account: Option<&'static str>,
) -> KeyOf {
    KeyOf {
        secret,
        selector,
        partition,
        region,
        account,
        own: true,
    }
}

/// A field made a key (its `valueFrom` is made when it is spliced).
pub const fn with_key(field: Field, key: KeyOf) -> Field {
    Field {
        source: Source::SecretsManager(Template::__new("")),
        key_of: Some(key),
        ..field
    }
}

/// The pieces of a key's `valueFrom`.
const VALUE_FROM: usize = 9;

/// A field as a site changes it: the pieces of its new env name (`None`: unchanged) and, for a
/// key, the key completed and the pieces of its `valueFrom`.
struct Spliced {
    env: Option<[&'static str; 2]>,
    key: Option<(KeyOf, [&'static str; VALUE_FROM])>,
}

const fn or(a: Option<&'static str>, b: Option<&'static str>) -> Option<&'static str> {
    match a {
        Some(_) => a,
        None => b,
    }
}

const fn or_text(a: Option<&'static str>, default: &'static str) -> &'static str {
    match a {
        Some(a) => a,
        None => default,
    }
}

const fn starts_with(s: &str, prefix: &str) -> bool {
    let (s, p) = (s.as_bytes(), prefix.as_bytes());
    if s.len() < p.len() {
        return false;
    }
    let mut i = 0;
    while i < p.len() {
        if s[i] != p[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn spliced(site: &Site, field: &Field) -> Spliced {
    let env = if site.prefix.is_empty() {
        None
    } else {
        Some([site.prefix, field.env])
    };
    let Some(k) = field.key_of else {
        return Spliced { env, key: None };
    };
    let secret = match site.secret {
        Some(secret) if k.own => secret,
        _ => k.secret,
    };
    let k = KeyOf {
        secret,
        selector: k.selector,
        partition: or(k.partition, site.partition),
        region: or(k.region, site.region),
        account: or(k.account, site.account),
        own: k.own && !site.flattened,
    };
    let text = if starts_with(k.secret, "arn:") {
        [k.secret, k.selector, "", "", "", "", "", "", ""]
    } else {
        let p = secret_arn_parts(
            or_text(k.partition, "aws"),
            or_text(k.region, "{region}"),
            or_text(k.account, "{account}"),
            k.secret,
        );
        [p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], k.selector]
    };
    Spliced {
        env,
        key: Some((k, text)),
    }
}

const fn len_of(pieces: &[&str]) -> usize {
    let (mut n, mut i) = (0, 0);
    while i < pieces.len() {
        n += pieces[i].len();
        i += 1;
    }
    n
}

/// The bytes of the new names and `valueFrom`s of `fields` at `site`.
pub const fn spliced_len(site: &Site, fields: &[Field]) -> usize {
    let (mut n, mut i) = (0, 0);
    while i < fields.len() {
        let s = spliced(site, &fields[i]);
        if let Some(env) = &s.env {
            n += len_of(env);
        }
        if let Some((_, text)) = &s.key {
            n += len_of(text);
        }
        i += 1;
    }
    n
}

const fn write<const L: usize>(out: &mut [u8; L], mut at: usize, pieces: &[&str]) -> usize {
    let mut p = 0;
    while p < pieces.len() {
        let bytes = pieces[p].as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            out[at] = bytes[i];
            at += 1;
            i += 1;
        }
        p += 1;
    }
    at
}

/// The new names and `valueFrom`s of `fields` at `site`, field after field; `L` is
/// [`spliced_len`].
pub const fn spliced_bytes<const L: usize>(site: &Site, fields: &[Field]) -> [u8; L] {
    let mut out = [0; L];
    let (mut at, mut i) = (0, 0);
    while i < fields.len() {
        let s = spliced(site, &fields[i]);
        if let Some(env) = &s.env {
            at = write(&mut out, at, env);
        }
        if let Some((_, text)) = &s.key {
            at = write(&mut out, at, text);
        }
        i += 1;
    }
    assert!(at == L, "ecs-secrets: spliced length mismatch");
    out
}

/// Takes the next `pieces`' worth of text from `bytes`.
const fn take(bytes: &'static [u8], pieces: &[&str]) -> (&'static str, &'static [u8]) {
    let (text, rest) = bytes.split_at(len_of(pieces));
    match core::str::from_utf8(text) {
        Ok(text) => (text, rest),
        Err(_) => panic!("ecs-secrets: spliced text is not UTF-8"),
    }
}

/// `fields` at `site`, their new text taken from `bytes` ([`spliced_bytes`] of the same).
pub const fn splice<const N: usize>(
    site: &Site,
    fields: &[Field],
    bytes: &'static [u8],
) -> [Field; N] {
    assert!(N == fields.len(), "ecs-secrets: spliced count mismatch");
    let mut out = [Field::__placeholder(); N];
    let (mut rest, mut i) = (bytes, 0);
    while i < N {
        let s = spliced(site, &fields[i]);
        let mut field = fields[i];
        if let Some(env) = &s.env {
            let (env, tail) = take(rest, env);
            (field.env, rest) = (env, tail);
        }
        if let Some((key, text)) = &s.key {
            let (text, tail) = take(rest, text);
            field.source = Source::SecretsManager(Template::__new(text));
            (field.key_of, rest) = (Some(*key), tail);
        }
        out[i] = field;
        i += 1;
    }
    assert!(rest.is_empty(), "ecs-secrets: spliced length mismatch");
    out
}

/// Whether any field is a key of the struct-level `secret` of the struct whose `FIELDS` these
/// are: a `flatten` site's `secret` replaces that one.
pub const fn has_own_keys(fields: &[Field]) -> bool {
    let mut i = 0;
    while i < fields.len() {
        if let Some(KeyOf { own: true, .. }) = fields[i].key_of {
            return true;
        }
        i += 1;
    }
    false
}

/// Whether any source or `kms_key` has a `{placeholder}`.
pub const fn has_placeholders(fields: &[Field], kms_keys: &[&str]) -> bool {
    let mut i = 0;
    while i < fields.len() {
        if let Some(t) = fields[i].source.value_from() {
            if has_placeholder(t.as_str()) {
                return true;
            }
        }
        i += 1;
    }
    i = 0;
    while i < kms_keys.len() {
        if has_placeholder(kms_keys[i]) {
            return true;
        }
        i += 1;
    }
    false
}
