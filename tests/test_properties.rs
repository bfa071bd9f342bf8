//! Properties of the `valueFrom` grammar, of templates and of JSON key extraction, over
//! generated input: every valid reference formats and re-parses to itself, whatever the parser
//! accepts obeys ECS's grammar (`support/ecs_grammar.rs`, written independently of the parser),
//! the forms ECS rejects are rejected, and `json_key` agrees with a reference model.

use std::collections::HashMap;

use ecs_secrets::extract::{ExtractError, json_key};
// The grammar's builders and template functions, and the derive's own template helpers.
use ecs_secrets::{EcsSecrets, ErrorKind, SsmRef, TemplateError, ValueFrom, Vars};
use ecs_secrets_grammar as vf;
use ecs_secrets_grammar::__derive::{self as derive, Piece};
use proptest::prelude::*;
use proptest::sample::select;

#[path = "support/common.rs"]
mod common;
#[path = "support/ecs_grammar.rs"]
mod ecs_grammar;
use common::SM;

const UUID: &str = "9d4cb84b-ad69-40c0-a0ab-cead3EXAMPLE";

fn partition() -> impl Strategy<Value = String> {
    prop_oneof![
        select(&["aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b"][..]).prop_map(String::from),
        "aws(-[a-z0-9]{1,4}){1,3}",
    ]
}

fn region() -> impl Strategy<Value = String> {
    prop_oneof![
        select(&["us-east-1", "eu-west-3", "cn-north-1", "us-gov-west-1"][..])
            .prop_map(String::from),
        "[a-z][a-z0-9-]{0,20}",
    ]
}

fn account() -> impl Strategy<Value = String> {
    "[0-9]{12}"
}

/// Secret names: partial (no suffix), complete (`-` + 6), managed by another service (`rds!…`),
/// and long ones near the 512 limit.
fn secret_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9/_+=.@-]{1,40}",
        2 => "[A-Za-z0-9/_+=.@-]{1,40}-[A-Za-z0-9]{6}",
        1 => "[a-z][a-z0-9-]{0,8}![A-Za-z0-9/_+=.@-]{1,40}(-[A-Za-z0-9]{6})?",
        1 => "[a-z]{500,512}",
        1 => "[a-z]{505}-[A-Za-z0-9]{6}",
    ]
}

/// Text of a selector field: anything but ':' and the placeholder wildcard.
fn field_text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[^:\\x1a]{{1,{max}}}")).unwrap()
}

fn version_id() -> impl Strategy<Value = String> {
    prop_oneof![Just(UUID.to_owned()), "[A-Za-z0-9-]{32,64}"]
}

/// The `:key:stage:id` tail: none, or three fields with at most one of stage and id.
fn selector() -> impl Strategy<Value = Option<(String, String, String)>> {
    let key = prop_oneof![Just(String::new()), field_text(20)];
    let version = prop_oneof![
        Just((String::new(), String::new())),
        prop_oneof![Just("AWSPREVIOUS".to_owned()), field_text(256)]
            .prop_map(|s| (s, String::new())),
        version_id().prop_map(|i| (String::new(), i)),
    ];
    proptest::option::of((key, version).prop_map(|(k, (s, i))| (k, s, i)))
}

/// SSM names: `name`, or `/a/b/c`.
fn ssm_name() -> impl Strategy<Value = String> {
    let segments = proptest::collection::vec("[A-Za-z0-9_.-]{1,12}", 1..5);
    (segments, any::<bool>()).prop_map(|(segs, hierarchy)| {
        if hierarchy {
            format!("/{}", segs.join("/"))
        } else {
            segs.concat()
        }
    })
}

/// What `SsmRef::parameter_name` must give for a name: `/x` and `x` are the same parameter; a
/// hierarchy keeps its leading slash.
fn normalized(name: &str) -> String {
    let bare = name.strip_prefix('/').unwrap_or(name);
    if bare.contains('/') {
        format!("/{bare}")
    } else {
        bare.to_owned()
    }
}

fn none_if_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

fn parse_ok(text: &str) -> ValueFrom {
    let v: ValueFrom = text
        .parse()
        .unwrap_or_else(|e| panic!("{text:?} was rejected: {e}"));
    assert_eq!(v.to_string(), text, "formats back to the input");
    assert_eq!(
        text.parse::<ValueFrom>().as_ref(),
        Ok(&v),
        "re-parses equal"
    );
    assert_eq!(ecs_grammar::check(text), Ok(()), "{text:?}");
    v
}

fn parse_err(text: &str) -> String {
    match text.parse::<ValueFrom>() {
        Ok(v) => panic!("{text:?} was accepted as {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// Mixes the pieces of valid references, so that arbitrary inputs come near the grammar.
fn near_miss() -> impl Strategy<Value = String> {
    let token = select(
        &[
            "arn",
            "aws",
            "aws-cn",
            "AWS",
            "secretsmanager",
            "ssm",
            "s3",
            "us-east-1",
            "1us",
            "123456789012",
            "12345678901",
            "secret",
            "secret/db",
            "parameter/x",
            "parameter//x",
            "parameter",
            "rotation",
            "db",
            "db-AbC123",
            "",
            "password",
            "AWSPREVIOUS",
            UUID,
            "short-id",
            "/a/b",
            "a//b",
            "x",
            "{stage}",
            "\u{1A}",
            " ",
            "é",
        ][..],
    );
    let sep = select(&[":", "/", ":", ":", ""][..]);
    proptest::collection::vec((token, sep), 1..14)
        .prop_map(|parts| parts.into_iter().flat_map(|(t, s)| [t, s]).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn secrets_manager_arns_round_trip(
        p in partition(), r in region(), a in account(), name in secret_name(), sel in selector(),
    ) {
        let arn = format!("arn:{p}:secretsmanager:{r}:{a}:secret:{name}");
        let text = match &sel {
            Some((k, s, i)) => format!("{arn}:{k}:{s}:{i}"),
            None => arn.clone(),
        };
        // The builders the derive and the fragment use give the same text.
        prop_assert_eq!(vf::secret_arn(&p, &r, &a, &name), arn.clone());
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        let any_set =
            |(k, s, i): &&(String, String, String)| !(k.is_empty() && s.is_empty() && i.is_empty());
        if let Some((k, s, i)) = sel.as_ref().filter(any_set) {
            let [k, s, i] = [k, s, i].map(|x| opt(x));
            let built = vf::with_selector(&arn, k.as_deref(), s.as_deref(), i.as_deref());
            prop_assert_eq!(&built, &text);
        }
        let ValueFrom::SecretsManager(v) = parse_ok(&text) else {
            panic!("{text} is not Secrets Manager");
        };
        prop_assert_eq!(
            [v.partition(), v.region(), v.account(), v.secret_name()],
            [&*p, &*r, &*a, &*name]
        );
        prop_assert_eq!(v.secret_id(), arn.clone());
        let (k, s, i) = sel.unwrap_or_default();
        prop_assert_eq!(
            [v.json_key(), v.version_stage(), v.version_id()],
            [none_if_empty(&k), none_if_empty(&s), none_if_empty(&i)]
        );
        let complete = ecs_grammar::has_random_suffix(&name);
        prop_assert_eq!(v.is_complete_arn(), complete);
        // IAM matches the real ARN: a partial one needs exactly six more characters.
        let iam = if complete { arn } else { format!("{arn}-??????") };
        prop_assert_eq!(v.iam_resource(), iam);
    }

    #[test]
    fn ssm_arns_and_names_round_trip(
        p in partition(), r in region(), a in account(), name in ssm_name(),
    ) {
        let unslashed = name.strip_prefix('/').unwrap_or(&name);
        let arn = format!("arn:{p}:ssm:{r}:{a}:parameter/{unslashed}");
        prop_assert_eq!(vf::ssm_arn(&p, &r, &a, &name), arn.clone(), "no double slash");
        let ValueFrom::Ssm(v) = parse_ok(&arn) else { panic!("{arn} is not SSM") };
        prop_assert_eq!(v.parameter_name(), normalized(&name));
        prop_assert_eq!(v.arn(), Some(arn.clone()));
        prop_assert_eq!(v.region(), Some(&*r));

        // The bare name: SSM in the task's own region, as written.
        let ValueFrom::Ssm(bare) = parse_ok(&name) else { panic!("{name} is not SSM") };
        prop_assert_eq!(&bare, &SsmRef::Name(name.clone()));
        prop_assert_eq!(bare.parameter_name(), name.clone());
        prop_assert_eq!((bare.arn(), bare.region()), (None, None));
        // Its ARN names the same parameter.
        let again = vf::ssm_arn(&p, &r, &a, &bare.parameter_name());
        let ValueFrom::Ssm(again) = parse_ok(&again) else { panic!("not SSM") };
        prop_assert_eq!(again.parameter_name(), normalized(&name));
    }

    /// After the secret name ECS takes no fields or exactly three.
    #[test]
    fn other_field_counts_are_rejected(
        name in secret_name(), n in select(&[1usize, 2, 4, 5, 6][..]),
        fields in proptest::collection::vec("[A-Za-z0-9]{0,8}", 6),
    ) {
        let tail: String = fields[..n].iter().map(|f| format!(":{f}")).collect();
        let text = format!("{SM}{name}{tail}");
        let e = parse_err(&text);
        prop_assert!(e.contains(&format!("found {n}")), "{}", e);
    }

    #[test]
    fn stage_and_id_together_are_rejected(
        key in "[a-z]{0,5}", stage in "[A-Z]{1,12}", id in version_id(),
    ) {
        let e = parse_err(&format!("{SM}db:{key}:{stage}:{id}"));
        prop_assert!(e.contains("both a version stage and a version id"), "{}", e);
    }

    #[test]
    fn short_version_ids_are_rejected(id in "[a-f0-9-]{1,31}") {
        let e = parse_err(&format!("{SM}db:::{id}"));
        prop_assert!(e.contains("shorter than 32"), "{}", e);
    }

    /// No `:version`, `:label` or JSON key on an SSM parameter, by name or by ARN.
    #[test]
    fn ssm_selectors_are_rejected(
        name in ssm_name(), sel in "[A-Za-z0-9]{0,6}", arn in any::<bool>(),
    ) {
        let text = if arn {
            format!("{}:{sel}", vf::ssm_arn("aws", "us-east-1", "123456789012", &name))
        } else {
            format!("{name}:{sel}")
        };
        let e = parse_err(&text);
        prop_assert!(e.contains("ECS does not accept a `:version` or `:label`"), "{}", e);
    }

    /// Whatever the parser accepts, from any text or from near misses, obeys ECS's grammar and
    /// gives back its input.
    #[test]
    fn accepted_strings_obey_the_grammar(s in prop_oneof![any::<String>(), near_miss()]) {
        if let Ok(v) = s.parse::<ValueFrom>() {
            prop_assert_eq!(ecs_grammar::check(&s), Ok(()), "accepted {:?}", s);
            prop_assert_eq!(v.to_string(), s.clone());
            let service = s.split(':').nth(2);
            prop_assert_eq!(
                v.is_secrets_manager(),
                s.starts_with("arn:") && service == Some("secretsmanager")
            );
        }
        // Templates never make a parse panic either.
        let wild = derive::to_wildcards(&s).ok();
        if let Some(Ok(v)) = wild.as_deref().map(derive::parse_with_wildcards) {
            prop_assert_eq!(Some(v.to_string()), wild);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Templates.

#[derive(Clone, Debug)]
enum Part {
    Lit(String),
    Var(String),
}

fn placeholder_name() -> impl Strategy<Value = String> {
    select(&["stage", "region", "account", "app", "x", "_1"][..]).prop_map(String::from)
}

/// A placeholder value `resolve` accepts: non-empty, without ':', '{', '}' or the wildcard.
fn placeholder_value() -> impl Strategy<Value = String> {
    "[^:{}\\x1a]{1,10}"
}

fn parts() -> impl Strategy<Value = Vec<Part>> {
    let part = prop_oneof![
        any::<String>().prop_map(Part::Lit),
        "[{}a-z]{0,6}".prop_map(Part::Lit),
        placeholder_name().prop_map(Part::Var),
    ];
    proptest::collection::vec(part, 0..8)
}

fn template_text(parts: &[Part]) -> String {
    parts
        .iter()
        .map(|p| match p {
            Part::Lit(t) => derive::escape(t),
            Part::Var(n) => format!("{{{n}}}"),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// `{name}` is replaced by its value, `{{`/`}}` stand for braces, and nothing else changes.
    #[test]
    fn template_substitution_round_trips(
        parts in parts(),
        values in proptest::collection::hash_map(placeholder_name(), placeholder_value(), 0..=6),
    ) {
        let template = template_text(&parts);
        let mut names: Vec<String> = Vec::new();
        for p in &parts {
            match p {
                Part::Var(n) if !names.contains(n) => names.push(n.clone()),
                _ => {}
            }
        }
        prop_assert_eq!(vf::placeholders([template.as_str()]), names.clone());

        // Adjacent literals come back as one piece.
        let mut pieces: Vec<Piece> = Vec::new();
        for p in &parts {
            match (p, pieces.last_mut()) {
                (Part::Lit(t), _) if t.is_empty() => {}
                (Part::Lit(t), Some(Piece::Lit(last))) => last.push_str(t),
                (Part::Lit(t), _) => pieces.push(Piece::Lit(t.clone())),
                (Part::Var(n), _) => pieces.push(Piece::Var(n.clone())),
            }
        }
        prop_assert_eq!(derive::parse_template(&template), Ok(pieces));

        let lookup = |n: &str| values.get(n).cloned();
        let missing: Vec<&String> = names.iter().filter(|n| !values.contains_key(*n)).collect();
        match vf::resolve(&template, &lookup) {
            Ok(text) => {
                prop_assert!(missing.is_empty());
                let expected: String = parts
                    .iter()
                    .map(|p| match p {
                        Part::Lit(t) => t.clone(),
                        Part::Var(n) => values[n].clone(),
                    })
                    .collect();
                prop_assert_eq!(text, expected);
            }
            Err(errors) => {
                // Every missing placeholder, once, in order of appearance, and nothing else.
                let want: Vec<TemplateError> =
                    missing.iter().map(|n| TemplateError::Missing(n.to_string())).collect();
                prop_assert_eq!(errors, want);
            }
        }
    }

    /// A value that would change the reference's structure is refused, naming the placeholder.
    #[test]
    fn structural_placeholder_values_are_refused(
        before in "[a-z]{0,3}",
        bad in select(&[":", "{", "}", "\u{1A}"][..]),
        after in "[a-z]{0,3}",
    ) {
        let value = format!("{before}{bad}{after}");
        let lookup = |_: &str| Some(value.clone());
        let errors = vf::resolve(&format!("{SM}{{stage}}/db"), &lookup).unwrap_err();
        prop_assert_eq!(errors.len(), 1);
        prop_assert!(
            matches!(&errors[0], TemplateError::Invalid { name, .. } if name == "stage"),
            "{:?}", errors
        );
    }

    /// A derived declaration with placeholders: each environment's `secrets` are the references
    /// formatted with that environment's values, and each one parses back to itself.
    #[test]
    fn declared_templates_resolve_per_environment(
        r in region(), a in account(), stage in "[A-Za-z0-9_.-]{1,12}", app in "[a-z0-9]{1,8}",
    ) {
        #[derive(EcsSecrets)]
        #[ecs(region = "{region}", account = "{account}")]
        #[allow(dead_code)]
        struct Config {
            #[ecs(secret = "{stage}/db-{app}", key = "password")]
            password: String,
            #[ecs(ssm = "/{stage}/{app}/api-key")]
            api_key: String,
            #[ecs(secret = "{stage}/tls", version_stage = "AWSPREVIOUS")]
            tls: String,
        }
        let vars = Vars::new()
            .with("region", &r)
            .with("account", &a)
            .with("stage", &stage)
            .with("app", &app);
        let refs = Config::deployment_for(&vars).unwrap().secrets();
        let got: Vec<&str> = refs.iter().map(|s| s.value_from.as_str()).collect();
        let want = [
            format!("arn:aws:secretsmanager:{r}:{a}:secret:{stage}/db-{app}:password::"),
            format!("arn:aws:ssm:{r}:{a}:parameter/{stage}/{app}/api-key"),
            format!("arn:aws:secretsmanager:{r}:{a}:secret:{stage}/tls::AWSPREVIOUS:"),
        ];
        prop_assert_eq!(got, want.iter().map(String::as_str).collect::<Vec<_>>());
        let lookup = |n: &str| vars.get(n).map(str::to_owned);
        for (field, text) in Config::FIELDS.iter().zip(&want) {
            let template = field.source.value_from().unwrap();
            let v = template.resolve(&lookup).unwrap();
            prop_assert_eq!(&v.to_string(), text);
            parse_ok(text);
        }

        // A stage with ':' would split the ARN: refused once, naming every field that uses it.
        let bad = vars.clone().with("stage", format!("{stage}:x"));
        let e = Config::deployment_for(&bad).map(|d| d.secrets()).unwrap_err();
        prop_assert_eq!(e.errors().len(), 1);
        let ErrorKind::Placeholder { reason } = &e.errors()[0].kind else {
            panic!("not a placeholder error: {e}");
        };
        prop_assert!(reason.contains("`{stage}`") && reason.contains("':'"), "{}", e);
        prop_assert!(reason.ends_with("; also used by `Config.api_key` and `Config.tls`"), "{}", e);
    }
}

// ---------------------------------------------------------------------------------------------
// JSON key extraction against a model of the agent (Go's json.Unmarshal, then `%v`).

#[derive(Clone, Debug)]
enum Val {
    Str(String),
    Bool(bool),
    Null,
    /// Below a million, Go's `%v` of the float64 prints the integer as is.
    Int(i32),
    Ints(Vec<i32>),
}

impl Val {
    /// What ECS injects for this value.
    fn injected(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::Bool(b) => b.to_string(),
            Val::Null => "<nil>".into(),
            Val::Int(i) => i.to_string(),
            Val::Ints(v) => {
                let items: Vec<String> = v.iter().map(i32::to_string).collect();
                format!("[{}]", items.join(" "))
            }
        }
    }
}

fn val() -> impl Strategy<Value = Val> {
    prop_oneof![
        4 => any::<String>().prop_map(Val::Str),
        1 => any::<bool>().prop_map(Val::Bool),
        1 => Just(Val::Null),
        1 => (-999_999..=999_999i32).prop_map(Val::Int),
        1 => proptest::collection::vec(-999_999..=999_999i32, 0..4).prop_map(Val::Ints),
    ]
}

/// A JSON string literal, each character raw or `\u`-escaped (surrogate pairs above U+FFFF) as
/// `escape` says, and the characters JSON requires escaped always escaped.
fn json_string(s: &str, escape: &[bool]) -> String {
    let mut out = String::from('"');
    for (i, c) in s.chars().enumerate() {
        let wanted = escape
            .get(i % escape.len().max(1))
            .copied()
            .unwrap_or(false);
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' if !wanted => out.push_str("\\n"),
            c if wanted || c < ' ' => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_value(v: &Val, escape: &[bool]) -> String {
    match v {
        Val::Str(s) => json_string(s, escape),
        Val::Ints(items) => {
            let items: Vec<String> = items.iter().map(i32::to_string).collect();
            format!("[{}]", items.join(","))
        }
        other => match other {
            Val::Bool(b) => b.to_string(),
            Val::Null => "null".into(),
            Val::Int(i) => i.to_string(),
            _ => unreachable!(),
        },
    }
}

fn json_key_name() -> impl Strategy<Value = String> {
    prop_oneof![3 => "[a-c]{1,2}", 1 => any::<String>()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// A secret that is a JSON object, with duplicate keys, escapes and whitespace: `json_key`
    /// returns what the model says the agent injects (last duplicate wins, strings raw).
    #[test]
    fn json_key_agrees_with_the_model(
        members in proptest::collection::vec((json_key_name(), val()), 0..8),
        key in json_key_name(),
        escape in proptest::collection::vec(any::<bool>(), 0..8),
        ws in select(&["", " ", "\n\t", "\r\n  "][..]),
    ) {
        let body: Vec<String> = members
            .iter()
            .map(|(k, v)| {
                let (k, v) = (json_string(k, &escape), json_value(v, &escape));
                format!("{ws}{k}{ws}:{ws}{v}{ws}")
            })
            .collect();
        let secret = format!("{ws}{{{}}}{ws}", body.join(","));
        let model: HashMap<&str, &Val> = members.iter().map(|(k, v)| (k.as_str(), v)).collect();
        let got = json_key(&secret, &key);
        if key.is_empty() {
            // `:::` in valueFrom: no key, the whole secret.
            let whole = got.unwrap();
            prop_assert_eq!(whole.as_str(), &*secret);
            return Ok(());
        }
        match model.get(key.as_str()) {
            Some(v) => prop_assert_eq!(&**got.unwrap(), v.injected(), "{}", secret),
            None => prop_assert_eq!(got.unwrap_err(), ExtractError::KeyMissing),
        }
    }

    /// Valid JSON that is not an object has no keys; `null` decodes to an empty map in Go.
    #[test]
    fn json_key_on_other_shapes(v in val(), key in "[a-c]{1,2}") {
        let text = json_value(&v, &[]);
        let want = match v {
            Val::Null => ExtractError::KeyMissing,
            _ => ExtractError::NotObject,
        };
        prop_assert_eq!(json_key(&text, &key).unwrap_err(), want);
    }

    /// Cut a valid object short anywhere: never a panic, never a value.
    #[test]
    fn truncated_objects_are_not_json(
        members in proptest::collection::vec((json_key_name(), val()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let body: Vec<String> = members
            .iter()
            .map(|(k, v)| format!("{}:{}", json_string(k, &[]), json_value(v, &[])))
            .collect();
        let secret = format!("{{{}}}", body.join(","));
        let boundaries: Vec<usize> =
            (0..secret.len()).filter(|&i| secret.is_char_boundary(i)).collect();
        let at = boundaries[cut.index(boundaries.len())];
        let got = json_key(&secret[..at], "a");
        prop_assert!(
            matches!(got, Err(ExtractError::NotJson { .. })),
            "{:?} gave {:?}", &secret[..at], got
        );
    }
}
