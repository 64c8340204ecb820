//! The `sops` metadata block: which values are encrypted, the MAC, and the
//! master keys (grouped for Shamir) that hold the data key.

use std::collections::BTreeMap;

use regex::Regex;

use crate::timestamp::Timestamp;
use crate::tree::{Branch, Item, Value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("sops metadata not found")]
    NotFound,
    #[error("the sops metadata is not a mapping")]
    NotAMapping,
    #[error("sops metadata field {field:?} is invalid: {reason}")]
    Field { field: String, reason: &'static str },
    #[error(
        "cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, \
         unencrypted_regex, encrypted_comment_regex or unencrypted_comment_regex in the same file"
    )]
    ConflictingRules,
    #[error("no keys found in the sops metadata")]
    NoKeys,
}

/// A master key entry that can hold (a share of) the data key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MasterKey {
    Age {
        recipient: String,
        enc: String,
    },
    Pgp {
        fingerprint: String,
        enc: String,
    },
    /// A cloud KMS or Vault key: listed so errors can name it, never usable.
    Unsupported {
        kind: &'static str,
        id: String,
    },
}

impl MasterKey {
    pub fn describe(&self) -> String {
        match self {
            MasterKey::Age { recipient, .. } => format!("age recipient {recipient}"),
            MasterKey::Pgp { fingerprint, .. } => format!("pgp key {fingerprint}"),
            MasterKey::Unsupported { kind, id } => format!("{kind} key {id}"),
        }
    }
}

/// A regex from the metadata, with Go's behaviour for an invalid pattern
/// (sops ignores the compile error: the rule then never matches).
#[derive(Debug, Clone)]
pub(crate) struct Pattern(Option<Regex>);

impl Pattern {
    pub fn new(source: &str) -> Option<Pattern> {
        if source.is_empty() {
            return None;
        }
        Some(Pattern(Regex::new(source).ok()))
    }

    pub fn is_valid(&self) -> bool {
        self.0.is_some()
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.0.as_ref().is_some_and(|re| re.is_match(text))
    }
}

/// Which leaves are encrypted (sops' `shouldBeEncrypted` inputs).
#[derive(Debug, Clone, Default)]
pub(crate) struct Rules {
    pub unencrypted_suffix: String,
    pub encrypted_suffix: String,
    pub unencrypted_regex: Option<Pattern>,
    pub encrypted_regex: Option<Pattern>,
    pub unencrypted_comment_regex: Option<Pattern>,
    pub encrypted_comment_regex: Option<Pattern>,
    pub mac_only_encrypted: bool,
}

impl Rules {
    /// sops' `shouldBeEncrypted`: later rules override earlier ones.
    pub fn should_encrypt(
        &self,
        path: &[String],
        comments: &[Vec<String>],
        is_comment: bool,
    ) -> bool {
        let mut encrypted = true;
        if !self.unencrypted_suffix.is_empty()
            && path.iter().any(|p| p.ends_with(&self.unencrypted_suffix))
        {
            encrypted = false;
        }
        if !self.encrypted_suffix.is_empty() {
            encrypted = path.iter().any(|p| p.ends_with(&self.encrypted_suffix));
        }
        if let Some(re) = &self.unencrypted_regex
            && path.iter().any(|p| re.is_match(p))
        {
            encrypted = false;
        }
        if let Some(re) = &self.encrypted_regex {
            encrypted = path.iter().any(|p| re.is_match(p));
        }
        if let Some(re) = &self.unencrypted_comment_regex
            && comments.iter().flatten().any(|c| re.is_match(c))
        {
            encrypted = false;
        }
        if let Some(re) = &self.encrypted_comment_regex {
            encrypted = false;
            let last_group = comments.len().wrapping_sub(1);
            let last_len = comments.last().map_or(0, Vec::len);
            'outer: for (i, group) in comments.iter().enumerate() {
                for (j, comment) in group.iter().enumerate() {
                    // The marker comment itself stays clear; only the lines
                    // it governs are encrypted.
                    if is_comment && i == last_group && j + 1 == last_len {
                        continue;
                    }
                    if re.is_match(comment) {
                        encrypted = true;
                        break 'outer;
                    }
                }
            }
        }
        encrypted
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Metadata {
    /// `lastmodified` in RFC 3339 as sops re-formats it: the MAC's
    /// additional data.
    pub last_modified: String,
    pub mac: String,
    pub rules: Rules,
    pub key_groups: Vec<Vec<MasterKey>>,
    pub shamir_threshold: usize,
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) => Some(crate::gofmt::format_float_f(*f)),
        Value::Bool(b) => Some(b.to_string()),
        Value::Time(t) => Some(t.format_rfc3339_nano()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

fn field_error(field: &str, reason: &'static str) -> MetadataError {
    MetadataError::Field {
        field: field.to_string(),
        reason,
    }
}

fn text_field(branch: &Branch, field: &str) -> Result<String, MetadataError> {
    match branch.get(field) {
        None => Ok(String::new()),
        Some(v) => scalar_text(v).ok_or_else(|| field_error(field, "expected a string")),
    }
}

/// mapstructure's weak typing: numbers, numeric strings and booleans.
fn int_field(branch: &Branch, field: &str) -> Result<usize, MetadataError> {
    let parsed = match branch.get(field) {
        None | Some(Value::Null) => return Ok(0),
        Some(Value::Int(i)) => usize::try_from(*i).ok(),
        Some(Value::Float(f)) if f.fract() == 0.0 && *f >= 0.0 => Some(*f as usize),
        Some(Value::Bool(b)) => Some(usize::from(*b)),
        Some(Value::Str(s)) if s.is_empty() => Some(0),
        Some(Value::Str(s)) => {
            crate::gofmt::parse_int_base0(s).and_then(|i| usize::try_from(i).ok())
        }
        Some(_) => None,
    };
    parsed.ok_or_else(|| field_error(field, "expected a non-negative integer"))
}

fn bool_field(branch: &Branch, field: &str) -> Result<bool, MetadataError> {
    let parsed = match branch.get(field) {
        None | Some(Value::Null) => return Ok(false),
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::Int(i)) => Some(*i != 0),
        Some(Value::Str(s)) if s.is_empty() => Some(false),
        Some(Value::Str(s)) => crate::gofmt::parse_bool(s),
        Some(_) => None,
    };
    parsed.ok_or_else(|| field_error(field, "expected a boolean"))
}

fn list_of_maps<'a>(branch: &'a Branch, field: &str) -> Result<Vec<&'a Branch>, MetadataError> {
    match branch.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::List(items)) => items
            .iter()
            .filter(|v| !matches!(v, Value::Comment(_)))
            .map(|v| match v {
                Value::Map(b) => Ok(b),
                _ => Err(field_error(field, "expected a list of mappings")),
            })
            .collect(),
        Some(_) => Err(field_error(field, "expected a list")),
    }
}

fn check_created_at(entry: &Branch, field: &str) -> Result<(), MetadataError> {
    let created = text_field(entry, "created_at")?;
    if Timestamp::parse_rfc3339(&created).is_none() {
        return Err(field_error(field, "created_at is not an RFC 3339 time"));
    }
    Ok(())
}

/// The master keys of one group, in sops' order (KMS, GCP KMS, Azure, Vault,
/// age, PGP); decryption later tries age first, then PGP.
fn group_keys(group: &Branch, prefix: &str) -> Result<Vec<MasterKey>, MetadataError> {
    let mut keys = Vec::new();
    let unsupported = [
        ("kms", "aws kms", "arn"),
        ("gcp_kms", "gcp kms", "resource_id"),
        ("azure_kv", "azure key vault", "vault_url"),
        ("hc_vault", "hashicorp vault", "vault_address"),
    ];
    for (field, kind, id_field) in unsupported {
        for entry in list_of_maps(group, field)? {
            keys.push(MasterKey::Unsupported {
                kind,
                id: text_field(entry, id_field)?,
            });
        }
    }
    for entry in list_of_maps(group, "age")? {
        keys.push(MasterKey::Age {
            recipient: text_field(entry, "recipient")?,
            enc: text_field(entry, "enc")?,
        });
    }
    for entry in list_of_maps(group, "pgp")? {
        check_created_at(entry, &format!("{prefix}pgp"))?;
        keys.push(MasterKey::Pgp {
            fingerprint: text_field(entry, "fp")?,
            enc: text_field(entry, "enc")?,
        });
    }
    Ok(keys)
}

impl Metadata {
    pub fn from_branch(sops: &Branch) -> Result<Metadata, MetadataError> {
        let last_modified_text = text_field(sops, "lastmodified")?;
        let last_modified = Timestamp::parse_rfc3339(&last_modified_text)
            .ok_or_else(|| field_error("lastmodified", "not an RFC 3339 time"))?
            .format_rfc3339();

        let unencrypted_suffix = text_field(sops, "unencrypted_suffix")?;
        let encrypted_suffix = text_field(sops, "encrypted_suffix")?;
        let unencrypted_regex = text_field(sops, "unencrypted_regex")?;
        let encrypted_regex = text_field(sops, "encrypted_regex")?;
        let unencrypted_comment_regex = text_field(sops, "unencrypted_comment_regex")?;
        let encrypted_comment_regex = text_field(sops, "encrypted_comment_regex")?;
        let rule_count = [
            &unencrypted_suffix,
            &encrypted_suffix,
            &unencrypted_regex,
            &encrypted_regex,
            &unencrypted_comment_regex,
            &encrypted_comment_regex,
        ]
        .iter()
        .filter(|s| !s.is_empty())
        .count();
        if rule_count > 1 {
            return Err(MetadataError::ConflictingRules);
        }
        let rules = Rules {
            unencrypted_suffix: if rule_count == 0 {
                "_unencrypted".to_string()
            } else {
                unencrypted_suffix
            },
            encrypted_suffix,
            unencrypted_regex: Pattern::new(&unencrypted_regex),
            encrypted_regex: Pattern::new(&encrypted_regex),
            unencrypted_comment_regex: Pattern::new(&unencrypted_comment_regex),
            encrypted_comment_regex: Pattern::new(&encrypted_comment_regex),
            mac_only_encrypted: bool_field(sops, "mac_only_encrypted")?,
        };

        let top_level = group_keys(sops, "")?;
        let key_groups = if !top_level.is_empty() {
            vec![top_level]
        } else {
            let groups = list_of_maps(sops, "key_groups")?;
            if groups.is_empty() {
                return Err(MetadataError::NoKeys);
            }
            groups
                .into_iter()
                .enumerate()
                .map(|(i, g)| group_keys(g, &format!("key_groups[{i}].")))
                .collect::<Result<Vec<_>, _>>()?
        };

        Ok(Metadata {
            last_modified,
            mac: text_field(sops, "mac")?,
            rules,
            key_groups,
            shamir_threshold: int_field(sops, "shamir_threshold")?,
        })
    }
}

/// A node of a flattened metadata path while it is rebuilt.
enum Flat {
    Leaf(Value),
    Map(Vec<(String, Flat)>),
    List(BTreeMap<usize, Flat>),
}

fn split_flat_key(key: &str) -> Option<Vec<Result<String, usize>>> {
    const MAP: &str = "__map_";
    const LIST: &str = "__list_";
    let mut segments = Vec::new();
    let first_end = [key.find(MAP), key.find(LIST)]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(key.len());
    segments.push(Ok(key[..first_end].to_string()));
    let mut rest = &key[first_end..];
    while !rest.is_empty() {
        let (is_list, body) = if let Some(b) = rest.strip_prefix(LIST) {
            (true, b)
        } else if let Some(b) = rest.strip_prefix(MAP) {
            (false, b)
        } else {
            return None;
        };
        let end = [body.find(MAP), body.find(LIST)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(body.len());
        let segment = &body[..end];
        if is_list {
            segments.push(Err(segment.parse().ok()?));
        } else {
            segments.push(Ok(segment.to_string()));
        }
        rest = &body[end..];
    }
    Some(segments)
}

fn insert_flat(node: &mut Flat, path: &[Result<String, usize>], value: Value) {
    let Some((head, tail)) = path.split_first() else {
        *node = Flat::Leaf(value);
        return;
    };
    match head {
        Ok(key) => {
            if !matches!(node, Flat::Map(_)) {
                *node = Flat::Map(Vec::new());
            }
            if let Flat::Map(entries) = node {
                let index = match entries.iter().position(|(k, _)| k == key) {
                    Some(i) => i,
                    None => {
                        entries.push((key.clone(), Flat::Leaf(Value::Null)));
                        entries.len() - 1
                    }
                };
                insert_flat(&mut entries[index].1, tail, value);
            }
        }
        Err(index) => {
            if !matches!(node, Flat::List(_)) {
                *node = Flat::List(BTreeMap::new());
            }
            if let Flat::List(items) = node {
                let slot = items.entry(*index).or_insert(Flat::Leaf(Value::Null));
                insert_flat(slot, tail, value);
            }
        }
    }
}

fn flat_to_value(node: Flat) -> Value {
    match node {
        Flat::Leaf(v) => v,
        Flat::Map(entries) => Value::Map(Branch(
            entries
                .into_iter()
                .map(|(k, v)| Item::new(k, flat_to_value(v)))
                .collect(),
        )),
        Flat::List(items) => Value::List(items.into_values().map(flat_to_value).collect()),
    }
}

/// Rebuilds the nested metadata from dotenv/INI's flattened keys
/// (`pgp__list_0__map_fp`), turning escaped `\n` back into line breaks.
pub(crate) fn unflatten(entries: Vec<(String, String)>) -> Branch {
    let mut root = Flat::Map(Vec::new());
    for (key, text) in entries {
        let value = Value::Str(text.replace("\\n", "\n"));
        match split_flat_key(&key) {
            Some(path) => insert_flat(&mut root, &path, value),
            None => insert_flat(&mut root, &[Ok(key)], value),
        }
    }
    match flat_to_value(root) {
        Value::Map(branch) => branch,
        _ => Branch::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unflatten_rebuilds_lists_of_maps() {
        let branch = unflatten(vec![
            ("pgp__list_1__map_fp".into(), "B".into()),
            ("pgp__list_0__map_fp".into(), "A".into()),
            ("pgp__list_0__map_enc".into(), "x\\ny".into()),
            ("version".into(), "3.11.0".into()),
        ]);
        let Some(Value::List(items)) = branch.get("pgp") else {
            panic!("pgp is a list");
        };
        let Value::Map(first) = &items[0] else {
            panic!("item is a map")
        };
        assert_eq!(first.get("fp"), Some(&Value::Str("A".into())));
        assert_eq!(first.get("enc"), Some(&Value::Str("x\ny".into())));
        assert_eq!(branch.get("version"), Some(&Value::Str("3.11.0".into())));
    }

    #[test]
    fn encrypted_comment_regex_skips_the_marker_itself() {
        let rules = Rules {
            encrypted_comment_regex: Pattern::new("sops:enc"),
            ..Rules::default()
        };
        let path = vec!["a".to_string()];
        let marker = vec![vec![" sops:enc".to_string()]];
        assert!(!rules.should_encrypt(&path, &marker, true));
        assert!(rules.should_encrypt(&path, &marker, false));
    }
}
