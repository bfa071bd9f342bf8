//! A declaration of 50 fields for request counts: 30 keys of 10 secrets `{p}/s0`…`{p}/s9`
//! (keys `k0`…`k2`) and 20 parameters `/{p}/q0`…`/{p}/q19`, all in one region.

use ecs_secrets::EcsSecrets;

/// 30 keys of 10 secrets and 20 parameters: the request count of a 50-field declaration.
#[derive(EcsSecrets)]
#[ecs(region = "us-east-1", account = "123456789012")]
#[allow(dead_code)]
pub struct Fifty {
    #[ecs(secret = "{p}/s0", key = "k0")]
    s0_k0: String,
    #[ecs(secret = "{p}/s0", key = "k1")]
    s0_k1: String,
    #[ecs(secret = "{p}/s0", key = "k2")]
    s0_k2: String,
    #[ecs(secret = "{p}/s1", key = "k0")]
    s1_k0: String,
    #[ecs(secret = "{p}/s1", key = "k1")]
    s1_k1: String,
    #[ecs(secret = "{p}/s1", key = "k2")]
    s1_k2: String,
    #[ecs(secret = "{p}/s2", key = "k0")]
    s2_k0: String,
    #[ecs(secret = "{p}/s2", key = "k1")]
    s2_k1: String,
    #[ecs(secret = "{p}/s2", key = "k2")]
    s2_k2: String,
    #[ecs(secret = "{p}/s3", key = "k0")]
    s3_k0: String,
    #[ecs(secret = "{p}/s3", key = "k1")]
    s3_k1: String,
    #[ecs(secret = "{p}/s3", key = "k2")]
    s3_k2: String,
    #[ecs(secret = "{p}/s4", key = "k0")]
    s4_k0: String,
    #[ecs(secret = "{p}/s4", key = "k1")]
    s4_k1: String,
    #[ecs(secret = "{p}/s4", key = "k2")]
    s4_k2: String,
    #[ecs(secret = "{p}/s5", key = "k0")]
    s5_k0: String,
    #[ecs(secret = "{p}/s5", key = "k1")]
    s5_k1: String,
    #[ecs(secret = "{p}/s5", key = "k2")]
    s5_k2: String,
    #[ecs(secret = "{p}/s6", key = "k0")]
    s6_k0: String,
    #[ecs(secret = "{p}/s6", key = "k1")]
    s6_k1: String,
    #[ecs(secret = "{p}/s6", key = "k2")]
    s6_k2: String,
    #[ecs(secret = "{p}/s7", key = "k0")]
    s7_k0: String,
    #[ecs(secret = "{p}/s7", key = "k1")]
    s7_k1: String,
    #[ecs(secret = "{p}/s7", key = "k2")]
    s7_k2: String,
    #[ecs(secret = "{p}/s8", key = "k0")]
    s8_k0: String,
    #[ecs(secret = "{p}/s8", key = "k1")]
    s8_k1: String,
    #[ecs(secret = "{p}/s8", key = "k2")]
    s8_k2: String,
    #[ecs(secret = "{p}/s9", key = "k0")]
    s9_k0: String,
    #[ecs(secret = "{p}/s9", key = "k1")]
    s9_k1: String,
    #[ecs(secret = "{p}/s9", key = "k2")]
    s9_k2: String,
    #[ecs(ssm = "/{p}/q0")]
    q0: String,
    #[ecs(ssm = "/{p}/q1")]
    q1: String,
    #[ecs(ssm = "/{p}/q2")]
    q2: String,
    #[ecs(ssm = "/{p}/q3")]
    q3: String,
    #[ecs(ssm = "/{p}/q4")]
    q4: String,
    #[ecs(ssm = "/{p}/q5")]
    q5: String,
    #[ecs(ssm = "/{p}/q6")]
    q6: String,
    #[ecs(ssm = "/{p}/q7")]
    q7: String,
    #[ecs(ssm = "/{p}/q8")]
    q8: String,
    #[ecs(ssm = "/{p}/q9")]
    q9: String,
    #[ecs(ssm = "/{p}/q10")]
    q10: String,
    #[ecs(ssm = "/{p}/q11")]
    q11: String,
    #[ecs(ssm = "/{p}/q12")]
    q12: String,
    #[ecs(ssm = "/{p}/q13")]
    q13: String,
    #[ecs(ssm = "/{p}/q14")]
    q14: String,
    #[ecs(ssm = "/{p}/q15")]
    q15: String,
    #[ecs(ssm = "/{p}/q16")]
    q16: String,
    #[ecs(ssm = "/{p}/q17")]
    q17: String,
    #[ecs(ssm = "/{p}/q18")]
    q18: String,
    #[ecs(ssm = "/{p}/q19")]
    q19: String,
}
