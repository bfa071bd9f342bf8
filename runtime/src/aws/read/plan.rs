//! The fetch plan: which requests a load sends, derived from the fields' resolved `valueFrom`s.
//! Pure data, no I/O, so the rules (dedupe, batching, chunk sizes, regions) are unit-tested.
//!
//! Rules (docs/ecs-facts.md, "Direct-fetch APIs" and "Where moto differs from AWS"):
//! - one fetch per distinct (secret id, version stage, version id); an explicit `AWSCURRENT` is
//!   the same fetch as no stage, and may be batched;
//! - unpinned secrets go through `BatchGetSecretValue`, at most 20 ids per call (moto accepts
//!   more, AWS does not), grouped by the region of their ARN;
//! - pinned ones (a stage other than `AWSCURRENT`, or a version id) go through `GetSecretValue`;
//! - SSM parameters go through `GetParameters`, at most 10 names per call, grouped by region (the
//!   ARN's, or the caller's for a bare name), each distinct identifier once.

use crate::deployment::iam::AWSCURRENT;
use crate::value_from::{SecretsManagerRef, SsmRef, ValueFrom, strip_random_suffix};

/// `BatchGetSecretValue` takes at most this many ids.
pub(crate) const BATCH_MAX: usize = 20;
/// `GetParameters` takes at most this many names.
pub(crate) const PARAMS_MAX: usize = 10;

/// One distinct secret version to fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SecretFetch {
    /// The ARN's region: Secrets Manager `valueFrom`s are always ARNs.
    pub region: String,
    /// The ARN as the `valueFrom` holds it (partial or complete), without the ECS-only tail:
    /// the identifier ECS sends.
    pub secret_id: String,
    /// The secret's name as written in the ARN (with the random suffix if the ARN has it).
    pub name: String,
    /// A version stage other than `AWSCURRENT`.
    pub stage: Option<String>,
    /// A version id.
    pub version_id: Option<String>,
}

impl SecretFetch {
    fn new(r: &SecretsManagerRef) -> Self {
        SecretFetch {
            region: r.region().to_owned(),
            secret_id: r.secret_id(),
            name: r.secret_name().to_owned(),
            stage: r
                .version_stage()
                .filter(|s| *s != AWSCURRENT)
                .map(str::to_owned),
            version_id: r.version_id().map(str::to_owned),
        }
    }

    /// Whether a version is selected, so only `GetSecretValue` can fetch it.
    pub fn pinned(&self) -> bool {
        self.stage.is_some() || self.version_id.is_some()
    }

    /// The id as it reads in messages and spans: `ARN`, `ARN (stage S)` or `ARN (version V)`.
    pub fn describe(&self) -> String {
        match (&self.stage, &self.version_id) {
            (Some(s), _) => format!("{} (stage {s})", self.secret_id),
            (_, Some(v)) => format!("{} (version {v})", self.secret_id),
            _ => self.secret_id.clone(),
        }
    }
}

/// One distinct SSM parameter to fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParamFetch {
    /// The ARN's region, or the caller's for a bare name (`None` when the caller's config has
    /// none: the request then fails with the SDK's own error).
    pub region: Option<String>,
    /// What goes into `Names`: the `valueFrom` as written (ARN or name), as ECS sends it.
    pub ident: String,
    /// The normalized parameter name (`/a/b`, `foo`), to match an answer that names it
    /// differently from the request.
    pub name: String,
}

/// Where a field's value comes from in the fetched data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// Index into [`Plan::secrets`], and the JSON key to extract, if any.
    Secret(usize, Option<String>),
    /// Index into [`Plan::params`].
    Param(usize),
}

/// Every distinct fetch of a load, and for each field where its value comes from.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub secrets: Vec<SecretFetch>,
    pub params: Vec<ParamFetch>,
    /// `(field index, target)` for every field that is fetched, in field order.
    pub fields: Vec<(usize, Target)>,
}

/// One request of a load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Request {
    /// `BatchGetSecretValue` for these secrets (indices into [`Plan::secrets`]), one region.
    Batch { region: String, items: Vec<usize> },
    /// `GetSecretValue` for one secret.
    Get { item: usize },
    /// `GetParameters` for these parameters (indices into [`Plan::params`]), one region.
    Params {
        region: Option<String>,
        items: Vec<usize>,
    },
}

impl Plan {
    /// Builds the plan for `(field index, resolved valueFrom)` pairs. `default_region` is the
    /// caller's region, where ECS would look up a bare SSM name.
    pub fn new(fields: &[(usize, ValueFrom)], default_region: Option<&str>) -> Self {
        let mut plan = Plan::default();
        for (index, value_from) in fields {
            let target = match value_from {
                ValueFrom::SecretsManager(r) => {
                    let fetch = SecretFetch::new(r);
                    let i = position_or_push(&mut plan.secrets, fetch);
                    Target::Secret(i, r.json_key().map(str::to_owned))
                }
                ValueFrom::Ssm(r) => {
                    let fetch = ParamFetch {
                        region: r.region().or(default_region).map(str::to_owned),
                        ident: ssm_ident(r),
                        name: r.parameter_name(),
                    };
                    Target::Param(position_or_push(&mut plan.params, fetch))
                }
            };
            plan.fields.push((*index, target));
        }
        plan
    }

    /// The requests that fetch everything: batches first (in order of first appearance of
    /// their region), then single secrets, then parameter calls.
    pub fn requests(&self, batching: bool) -> Vec<Request> {
        let mut out = Vec::new();
        let unpinned = |s: &&SecretFetch| batching && !s.pinned();
        let regions = distinct(self.secrets.iter().filter(unpinned).map(|s| &s.region));
        for region in regions {
            let items: Vec<usize> = (0..self.secrets.len())
                .filter(|&i| unpinned(&&self.secrets[i]) && self.secrets[i].region == *region)
                .collect();
            out.extend(items.chunks(BATCH_MAX).map(|c| Request::Batch {
                region: region.clone(),
                items: c.to_vec(),
            }));
        }
        out.extend(
            (0..self.secrets.len())
                .filter(|&i| !unpinned(&&self.secrets[i]))
                .map(|item| Request::Get { item }),
        );
        for region in distinct(self.params.iter().map(|p| &p.region)) {
            let items: Vec<usize> = (0..self.params.len())
                .filter(|&i| self.params[i].region == *region)
                .collect();
            out.extend(items.chunks(PARAMS_MAX).map(|c| Request::Params {
                region: region.clone(),
                items: c.to_vec(),
            }));
        }
        out
    }
}

/// The identifier ECS sends for a parameter: the `valueFrom` as written.
fn ssm_ident(r: &SsmRef) -> String {
    match r {
        SsmRef::Arn { .. } => r.arn().unwrap_or_else(|| r.parameter_name()),
        SsmRef::Name(name) => name.clone(),
    }
}

pub(crate) fn position_or_push<T: PartialEq>(items: &mut Vec<T>, item: T) -> usize {
    match items.iter().position(|x| *x == item) {
        Some(i) => i,
        None => {
            items.push(item);
            items.len() - 1
        }
    }
}

fn distinct<'a, T: PartialEq + 'a>(items: impl Iterator<Item = &'a T>) -> Vec<&'a T> {
    let mut out: Vec<&T> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Whether a `GetParameters` answer (`Name`, `ARN`) is the parameter `p`. Matched by value,
/// never by position: AWS sorts the answer and moto shuffles it. AWS names a parameter asked by
/// ARN by that ARN, moto by its plain name; an answer's ARN never repeats a hierarchy's leading
/// slash (`/a/b` is `…:parameter/a/b`).
pub(crate) fn param_matches(p: &ParamFetch, name: Option<&str>, arn: Option<&str>) -> bool {
    let ident = Some(p.ident.as_str());
    if name == ident || arn == ident {
        return true;
    }
    if p.ident.starts_with("arn:") {
        // Asked by ARN: only that ARN is the same parameter (an account or region could differ).
        return false;
    }
    name == Some(p.name.as_str())
        || arn
            .and_then(|a| a.split_once(":parameter/"))
            .is_some_and(|(_, rest)| rest == p.name.strip_prefix('/').unwrap_or(&p.name))
}

/// Whether a `BatchGetSecretValue` entry (`ARN`, `Name`) is the secret `s`: its ARN equals the
/// requested one, or the request was a partial ARN and the entry is that secret's complete ARN
/// (the same text plus `-` and 6 random characters) with the same name.
pub(crate) fn secret_matches(s: &SecretFetch, arn: Option<&str>, name: Option<&str>) -> bool {
    let Some(arn) = arn else {
        return false;
    };
    if arn == s.secret_id {
        return true;
    }
    let partial = strip_random_suffix(arn) == Some(s.secret_id.as_str());
    partial && name == Some(s.name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SM: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:";
    const SM_EU: &str = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:";
    const PARAM: &str = "arn:aws:ssm:us-east-1:123456789012:parameter/";
    const UUID: &str = "9d4cb84b-ad69-40c0-a0ab-cead3EXAMPLE";

    fn vf(s: &str) -> ValueFrom {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn plan(values: &[String]) -> Plan {
        let fields: Vec<(usize, ValueFrom)> =
            values.iter().enumerate().map(|(i, s)| (i, vf(s))).collect();
        Plan::new(&fields, Some("us-east-1"))
    }

    fn sizes(requests: &[Request]) -> Vec<(&'static str, usize)> {
        requests
            .iter()
            .map(|r| match r {
                Request::Batch { items, .. } => ("batch", items.len()),
                Request::Get { .. } => ("get", 1),
                Request::Params { items, .. } => ("params", items.len()),
            })
            .collect()
    }

    #[test]
    fn keys_of_one_secret_are_one_fetch() {
        let p = plan(&[
            format!("{SM}db:password::"),
            format!("{SM}db:port::"),
            format!("{SM}db"),
            format!("{SM}db::AWSCURRENT:"),
            format!("{SM}db:user:AWSCURRENT:"),
        ]);
        assert_eq!(p.secrets.len(), 1, "{:?}", p.secrets);
        assert_eq!(p.secrets[0].secret_id, format!("{SM}db"));
        assert!(!p.secrets[0].pinned(), "explicit AWSCURRENT is unpinned");
        assert_eq!(
            p.fields,
            [
                (0, Target::Secret(0, Some("password".into()))),
                (1, Target::Secret(0, Some("port".into()))),
                (2, Target::Secret(0, None)),
                (3, Target::Secret(0, None)),
                (4, Target::Secret(0, Some("user".into()))),
            ]
        );
        assert_eq!(
            p.requests(true),
            [Request::Batch {
                region: "us-east-1".into(),
                items: vec![0]
            }]
        );
        assert_eq!(p.requests(false), [Request::Get { item: 0 }]);
    }

    #[test]
    fn versions_are_distinct_fetches_and_pinned() {
        let p = plan(&[
            format!("{SM}db:a::"),
            format!("{SM}db:a:AWSPREVIOUS:"),
            format!("{SM}db:b:AWSPREVIOUS:"),
            format!("{SM}db:a::{UUID}"),
            format!("{SM}db-AbC123"),
        ]);
        let ids: Vec<String> = p.secrets.iter().map(SecretFetch::describe).collect();
        assert_eq!(
            ids,
            [
                format!("{SM}db"),
                format!("{SM}db (stage AWSPREVIOUS)"),
                format!("{SM}db (version {UUID})"),
                format!("{SM}db-AbC123"),
            ]
        );
        assert_eq!(
            p.requests(true),
            [
                Request::Batch {
                    region: "us-east-1".into(),
                    items: vec![0, 3]
                },
                Request::Get { item: 1 },
                Request::Get { item: 2 },
            ]
        );
    }

    #[test]
    fn batches_hold_at_most_20_per_region() {
        let mut values: Vec<String> = (0..25).map(|i| format!("{SM}s{i}")).collect();
        values.extend((0..3).map(|i| format!("{SM_EU}e{i}")));
        values.extend((0..41).map(|i| format!("{SM}s{}:k{i}::", i % 25)));
        let p = plan(&values);
        assert_eq!(p.secrets.len(), 28);
        let requests = p.requests(true);
        assert_eq!(
            sizes(&requests),
            [("batch", 20), ("batch", 5), ("batch", 3)]
        );
        let Request::Batch { region, items } = &requests[2] else {
            unreachable!()
        };
        assert_eq!(
            (region.as_str(), items.as_slice()),
            ("eu-west-1", &[25, 26, 27][..])
        );
        let mut all: Vec<usize> = requests
            .iter()
            .flat_map(|r| match r {
                Request::Batch { items, .. } => items.clone(),
                _ => vec![],
            })
            .collect();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..28).collect::<Vec<_>>(),
            "every secret exactly once"
        );
        assert_eq!(sizes(&plan(&values[..20]).requests(true)), [("batch", 20)]);
        assert_eq!(
            sizes(&plan(&values[..21]).requests(true)),
            [("batch", 20), ("batch", 1)]
        );
    }

    #[test]
    fn parameters_in_calls_of_at_most_10_and_each_name_once() {
        let mut values: Vec<String> = (0..23).map(|i| format!("/app/p{i}")).collect();
        values.push("/app/p0".into());
        values.push(format!("{PARAM}app/p1"));
        values.push(format!("{PARAM}app/p1"));
        let p = plan(&values);
        assert_eq!(p.params.len(), 24, "the same identifier is one name");
        assert_eq!(p.fields[23], (23, Target::Param(0)));
        assert_eq!(p.fields[25], (25, Target::Param(23)));
        assert_eq!(p.params[23].ident, format!("{PARAM}app/p1"));
        assert_eq!(p.params[23].name, "/app/p1");
        assert_eq!(p.params[23].region.as_deref(), Some("us-east-1"));
        assert_eq!(
            sizes(&p.requests(true)),
            [("params", 10), ("params", 10), ("params", 4)]
        );
        let p = plan(&values[..23]);
        assert_eq!(
            sizes(&p.requests(false)),
            [("params", 10), ("params", 10), ("params", 3)]
        );
    }

    #[test]
    fn parameters_group_by_region() {
        let p = plan(&[
            "/a".into(),
            "arn:aws:ssm:eu-west-1:123456789012:parameter/a".into(),
            format!("{PARAM}b"),
        ]);
        assert_eq!(
            p.requests(true),
            [
                Request::Params {
                    region: Some("us-east-1".into()),
                    items: vec![0, 2]
                },
                Request::Params {
                    region: Some("eu-west-1".into()),
                    items: vec![1]
                },
            ]
        );
        let no_region = Plan::new(&[(0, vf("/a"))], None);
        assert_eq!(no_region.params[0].region, None);
    }

    #[test]
    fn parameter_answers_match_by_name_or_arn() {
        let by_name = ParamFetch {
            region: None,
            ident: "/a/b".into(),
            name: "/a/b".into(),
        };
        assert!(param_matches(&by_name, Some("/a/b"), None));
        assert!(param_matches(&by_name, None, Some(&format!("{PARAM}a/b"))));
        assert!(!param_matches(
            &by_name,
            Some("/a/bc"),
            Some(&format!("{PARAM}a/bc"))
        ));
        let flat = ParamFetch {
            region: None,
            ident: "x".into(),
            name: "x".into(),
        };
        assert!(param_matches(&flat, None, Some(&format!("{PARAM}x"))));
        let by_arn = ParamFetch {
            region: None,
            ident: format!("{PARAM}a/b"),
            name: "/a/b".into(),
        };
        assert!(param_matches(&by_arn, Some(&format!("{PARAM}a/b")), None));
        assert!(param_matches(
            &by_arn,
            Some("/a/b"),
            Some(&format!("{PARAM}a/b"))
        ));
        let other_account = "arn:aws:ssm:us-east-1:999999999999:parameter/a/b";
        assert!(!param_matches(&by_arn, Some("/a/b"), Some(other_account)));
    }

    #[test]
    fn batch_entries_match_partial_and_complete_arns() {
        let partial = SecretFetch::new(match &vf(&format!("{SM}db")) {
            ValueFrom::SecretsManager(r) => r,
            ValueFrom::Ssm(_) => unreachable!(),
        });
        let full = format!("{SM}db-AbC123");
        assert!(secret_matches(&partial, Some(&full), Some("db")));
        assert!(secret_matches(&partial, Some(&format!("{SM}db")), None));
        assert!(!secret_matches(&partial, Some(&full), Some("db-AbC123")));
        assert!(!secret_matches(
            &partial,
            Some(&format!("{SM}db-x-AbC123")),
            Some("db-x")
        ));
        assert!(!secret_matches(
            &partial,
            Some(&format!("{SM}db2")),
            Some("db2")
        ));
        assert!(!secret_matches(&partial, None, Some("db")));
    }
}
