//! What the tests of preflight and of the verbs built on it (test_preflight, test_optional)
//! assert about the requests: which were sent, and that no parameter was decrypted.

// Each test file uses its own part of the support.
#![allow(dead_code)]

use ecs_secrets_testkit::{self as testkit, Moto};
use serde_json::json;

/// `X-Amz-Target` of KMS `DescribeKey`.
pub const DESCRIBE_KEY: &str = "TrentService.DescribeKey";
/// `X-Amz-Target` of SSM `DescribeParameters`.
pub const DESCRIBE_PARAMETERS: &str = "AmazonSSM.DescribeParameters";

/// `[DescribeSecret, GetParameters, GetSecretValue, BatchGetSecretValue, DescribeKey,
/// DescribeParameters]`; and no other request at all.
pub fn request_counts(moto: &Moto) -> [usize; 6] {
    let targets = [
        testkit::DESCRIBE,
        testkit::PARAMS,
        testkit::GET,
        testkit::BATCH,
        DESCRIBE_KEY,
        DESCRIBE_PARAMETERS,
    ];
    let counts = targets.map(|t| moto.proxy.count(t));
    assert_eq!(
        counts.iter().sum::<usize>(),
        moto.proxy.total(),
        "{:?}",
        moto.proxy.targets()
    );
    counts
}

/// No `GetParameters` asked for decryption.
pub fn assert_no_decryption(moto: &Moto) {
    for body in moto.proxy.bodies(testkit::PARAMS) {
        assert_ne!(body.get("WithDecryption"), Some(&json!(true)), "{body}");
    }
}
