//! "Did you mean …?" for a misspelt attribute key: the closest valid key by edit distance.

/// The key of `candidates` closest to `name`, when it is close enough to be a likely typo: at
/// most a third of the longer name's characters edited (`secrets` → `secret`, `acount` →
/// `account`), and never `name` itself.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (distance(name, c), c))
        .filter(|&(d, c)| d * 3 <= name.chars().count().max(c.chars().count()))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, with a swap of two neighbours counting as one edit (`secrte`).
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // rows[i][j]: the distance between a[..i] and b[..j].
    let mut rows = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    rows[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::closest;

    const FIELD_KEYS: [&str; 9] = [
        "env",
        "secret",
        "key",
        "version_stage",
        "version_id",
        "ssm",
        "default",
        "json",
        "flatten",
    ];

    #[test]
    fn typos_find_their_key() {
        for (typo, key) in [
            ("secrets", "secret"),
            ("secrte", "secret"),
            ("sercet", "secret"),
            ("ssn", "ssm"),
            ("defualt", "default"),
            ("version-stage", "version_stage"),
            ("versionid", "version_id"),
            ("flaten", "flatten"),
        ] {
            assert_eq!(closest(typo, FIELD_KEYS), Some(key), "{typo}");
        }
    }

    #[test]
    fn unrelated_names_get_no_suggestion() {
        for name in ["region", "password", "x", "arn", "optional"] {
            assert_eq!(closest(name, FIELD_KEYS), None, "{name}");
        }
    }
}
