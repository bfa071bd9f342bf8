//! Generated code uses absolute paths only: shadowing prelude names around a derive changes
//! nothing.

#![allow(dead_code, non_camel_case_types)]

mod shadowed {
    use ecs_secrets::EcsSecrets;

    struct Result;
    struct Option;
    struct Some;
    struct None;
    struct Ok;
    struct Err;
    struct String;
    struct Vec;
    struct Box;
    struct core;
    struct std;
    struct u8;
    struct str;
    mod ecs {}
    #[allow(unused_macros)]
    macro_rules! assert {
        () => {};
    }

    #[derive(EcsSecrets)]
    #[ecs(region = "us-east-1", account = "123456789012")]
    pub struct Config {
        #[ecs(secret = "prod/db", key = "password")]
        pub password: ::ecs_secrets::Secret<::std::string::String>,
        #[ecs(default = "1")]
        pub port: u16,
        pub maybe: ::core::option::Option<::core::primitive::u8>,
        #[ecs(flatten)]
        pub inner: Inner,
        #[ecs(flatten, env_prefix = "REPLICA_", secret = "prod/db-replica")]
        pub replica: Db,
    }

    /// A schema: its fields are keys of one secret, completed where it is flattened.
    #[derive(EcsSecrets)]
    #[ecs(secret = "prod/db")]
    pub struct Db {
        pub username: ::std::string::String,
        #[ecs(plain, default = "2")]
        pub pool: ::core::primitive::u8,
    }

    #[derive(EcsSecrets)]
    pub struct Inner {
        pub name: ::std::string::String,
    }
}

#[test]
fn derive_is_hygienic() {
    use ecs_secrets::EcsSecrets;
    let c = shadowed::Config::from_lookup(|k| match k {
        "PASSWORD" => Some("p".to_owned()),
        "NAME" => Some("n".to_owned()),
        "REPLICA_USERNAME" => Some("u".to_owned()),
        _ => None,
    })
    .unwrap();
    assert_eq!(c.port, 1);
    assert_eq!(c.maybe, None);
    assert_eq!(c.inner.name, "n");
    assert_eq!((c.replica.username.as_str(), c.replica.pool), ("u", 2));
    let secrets = shadowed::Config::deployment().secrets();
    assert_eq!(secrets.len(), 2);
    assert_eq!(
        secrets[1].value_from,
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-replica:username::"
    );
}

/// The derive names one type per placeholder after the placeholder (for the error of
/// `deployment()` on a struct with placeholders): placeholders named like a field's type, a
/// keyword, the struct itself or `self` change nothing.
mod placeholder_names {
    use ecs_secrets::EcsSecrets;

    #[derive(EcsSecrets)]
    #[ecs(region = "{u16}", account = "{Templated}")]
    pub struct Templated {
        #[ecs(secret = "{String}/{type}/{self}/db", key = "password")]
        pub password: String,
        #[ecs(default = "1")]
        pub port: u16,
    }
}

#[test]
fn placeholder_names_are_hygienic() {
    use ecs_secrets::{EcsSecrets, Vars};
    let vars = Vars::new()
        .with("u16", "us-east-1")
        .with("Templated", "123456789012")
        .with("String", "a")
        .with("type", "b")
        .with("self", "c");
    let d = placeholder_names::Templated::deployment_for(&vars).unwrap();
    assert_eq!(
        d.secrets()[0].value_from,
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:a/b/c/db:password::"
    );
    let c = placeholder_names::Templated::from_lookup(|k| (k == "PASSWORD").then(|| "p".into()));
    assert_eq!(c.unwrap().port, 1);
}
