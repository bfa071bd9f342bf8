//! One statement of a policy document and its `Condition` block.

use serde::ser::{Serialize, SerializeMap, SerializeStruct, Serializer};

use super::Action;

/// One `Allow` statement: one action on its sorted, deduplicated resources, maybe under
/// conditions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Statement {
    pub(super) action: Action,
    pub(super) resources: Vec<String>,
    pub(super) condition: Option<Condition>,
    pub(super) context: Option<Condition>,
}

impl Statement {
    /// The action.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The resources (ARNs and ARN patterns; for `BatchGetSecretValue`, `*`), sorted and
    /// deduplicated.
    pub fn resources(&self) -> &[String] {
        &self.resources
    }

    /// The statement's `kms:ViaService` condition ([`Condition::ViaService`]), on the KMS
    /// actions; none elsewhere.
    pub fn condition(&self) -> Option<&Condition> {
        self.condition.as_ref()
    }

    /// The encryption context the statement requires ([`Condition::SecretArn`] or
    /// [`Condition::ParameterArn`]), on the execution and task roles' `kms:Decrypt`; none
    /// elsewhere.
    pub fn encryption_context(&self) -> Option<&Condition> {
        self.context.as_ref()
    }
}

impl Serialize for Statement {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let conditions: Vec<&Condition> = self.condition.iter().chain(&self.context).collect();
        let fields = if conditions.is_empty() { 3 } else { 4 };
        let mut s = serializer.serialize_struct("Statement", fields)?;
        s.serialize_field("Effect", "Allow")?;
        s.serialize_field("Action", &[self.action.as_str()])?;
        s.serialize_field("Resource", &self.resources)?;
        if !conditions.is_empty() {
            s.serialize_field("Condition", &Block(&conditions))?;
        }
        s.end()
    }
}

/// A statement's conditions: one operator, one key, its values (sorted, deduplicated). Several
/// in one statement must all hold.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Condition {
    /// `{"StringEquals": {"kms:ViaService": [SERVICES]}}`: the key may be used only by these
    /// services (`secretsmanager.us-east-1.amazonaws.com`) on the principal's behalf.
    ViaService(Vec<String>),
    /// `{"StringLike": {"kms:EncryptionContext:SecretARN": [ARNS]}}`: only to decrypt these
    /// secrets, which Secrets Manager names in the encryption context by their complete ARN
    /// (`-??????` stands for the random suffix of a partial one).
    SecretArn(Vec<String>),
    /// `{"StringEquals": {"kms:EncryptionContext:PARAMETER_ARN": [ARNS]}}`: only to decrypt
    /// these parameters, which Parameter Store names in the encryption context by their ARN.
    ParameterArn(Vec<String>),
}

impl Condition {
    /// The condition operator (`StringEquals`, `StringLike`).
    pub fn operator(&self) -> &'static str {
        match self {
            Condition::ViaService(_) | Condition::ParameterArn(_) => "StringEquals",
            Condition::SecretArn(_) => "StringLike",
        }
    }

    /// The condition key (`kms:ViaService`, `kms:EncryptionContext:SecretARN`…).
    pub fn key(&self) -> &'static str {
        match self {
            Condition::ViaService(_) => "kms:ViaService",
            Condition::SecretArn(_) => "kms:EncryptionContext:SecretARN",
            Condition::ParameterArn(_) => "kms:EncryptionContext:PARAMETER_ARN",
        }
    }

    /// The values the key may take, sorted and deduplicated.
    pub fn values(&self) -> &[String] {
        match self {
            Condition::ViaService(values)
            | Condition::SecretArn(values)
            | Condition::ParameterArn(values) => values,
        }
    }
}

/// The condition block alone: `{"OPERATOR": {"KEY": [VALUES]}}`.
impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Block(&[self]).serialize(serializer)
    }
}

/// A `Condition` block: each operator once, with its keys in the order given.
struct Block<'a>(&'a [&'a Condition]);

impl Serialize for Block<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Keys<'a>(&'a [&'a Condition], &'static str);
        impl Serialize for Keys<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut m = serializer.serialize_map(None)?;
                for c in self.0.iter().filter(|c| c.operator() == self.1) {
                    m.serialize_entry(c.key(), c.values())?;
                }
                m.end()
            }
        }
        let mut operators: Vec<&'static str> = Vec::new();
        for c in self.0 {
            if !operators.contains(&c.operator()) {
                operators.push(c.operator());
            }
        }
        let mut m = serializer.serialize_map(Some(operators.len()))?;
        for operator in operators {
            m.serialize_entry(operator, &Keys(self.0, operator))?;
        }
        m.end()
    }
}
