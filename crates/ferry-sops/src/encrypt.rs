//! Encrypting a plaintext document for age recipients, laid out as sops 3.11
//! writes it (so `sops decrypt` and ferry both open the result).

use std::time::{SystemTime, UNIX_EPOCH};

use zeroize::Zeroizing;

use crate::formats::{self, Format};
use crate::metadata::{Pattern, Rules};
use crate::tree::{Branch, Item, Value};
use crate::{Error, ErrorKind, cipher, keys, walk};

/// The sops file format version written into `sops.version` (the layout this
/// crate writes is sops 3.11.0's).
const SOPS_FORMAT_VERSION: &str = "3.11.0";

/// Which values to encrypt and for whom. At most one of the suffix/regex
/// rules may be set; with none, keys ending in `_unencrypted` stay clear.
#[derive(Debug, Clone, Default)]
pub struct EncryptOptions {
    /// age recipients (`age1…`, or `ssh-ed25519 …`/`ssh-rsa …` public keys).
    pub age_recipients: Vec<String>,
    pub unencrypted_suffix: Option<String>,
    pub encrypted_suffix: Option<String>,
    pub unencrypted_regex: Option<String>,
    pub encrypted_regex: Option<String>,
    /// Encrypt only the values after a comment matching this (YAML).
    pub encrypted_comment_regex: Option<String>,
    /// Leave clear the values after a comment matching this (YAML).
    pub unencrypted_comment_regex: Option<String>,
    /// Hash only the encrypted values into the MAC.
    pub mac_only_encrypted: bool,
    /// Named in errors.
    pub file_name: Option<String>,
}

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// The metadata entries, in the order sops 3.11 writes them.
fn metadata_items(
    recipients: &[(String, String)],
    last_modified: &str,
    mac: &str,
    rule: Option<(&str, &str)>,
    mac_only_encrypted: bool,
) -> Vec<Item> {
    let age = recipients
        .iter()
        .map(|(recipient, enc)| {
            Value::Map(Branch(vec![
                Item::new("recipient", Value::Str(recipient.clone())),
                Item::new("enc", Value::Str(enc.clone())),
            ]))
        })
        .collect();
    let mut items = vec![
        Item::new("age", Value::List(age)),
        Item::new("lastmodified", Value::Str(last_modified.to_string())),
        Item::new("mac", Value::Str(mac.to_string())),
    ];
    if let Some((name, value)) = rule {
        items.push(Item::new(name, Value::Str(value.to_string())));
    }
    if mac_only_encrypted {
        items.push(Item::new("mac_only_encrypted", Value::Bool(true)));
    }
    items.push(Item::new(
        "version",
        Value::Str(SOPS_FORMAT_VERSION.to_string()),
    ));
    items
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Map(branch) => {
            for item in &branch.0 {
                if let Some(key) = item.key_str() {
                    let name = if prefix.is_empty() {
                        key.to_string()
                    } else {
                        format!("{prefix}__map_{key}")
                    };
                    flatten(&name, &item.value, out);
                }
            }
        }
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}__list_{i}"), item, out);
            }
        }
        Value::Bool(b) => out.push((prefix.to_string(), b.to_string())),
        Value::Str(s) => out.push((prefix.to_string(), s.replace('\n', "\\n"))),
        other => out.push((prefix.to_string(), format!("{other:?}"))),
    }
}

/// Encrypts a plaintext document for the given age recipients and returns
/// the encrypted file.
pub fn encrypt(plain: &[u8], format: Format, options: &EncryptOptions) -> Result<Vec<u8>, Error> {
    let file = options.file_name.as_deref();
    let fail = |kind: ErrorKind| Error::new(file, kind);
    if plain.len() > crate::MAX_INPUT_SIZE {
        return Err(fail(ErrorKind::TooLarge));
    }
    if options.age_recipients.is_empty() {
        return Err(fail(ErrorKind::NoRecipients));
    }
    let branches =
        formats::load(format, plain).map_err(|source| fail(ErrorKind::Parse { format, source }))?;
    if crate::is_encrypted(plain, format) {
        return Err(fail(ErrorKind::AlreadyEncrypted));
    }
    let mut branches = crate::tree::Branches(branches);

    let rules_given = [
        ("unencrypted_suffix", &options.unencrypted_suffix),
        ("encrypted_suffix", &options.encrypted_suffix),
        ("unencrypted_regex", &options.unencrypted_regex),
        ("encrypted_regex", &options.encrypted_regex),
        (
            "unencrypted_comment_regex",
            &options.unencrypted_comment_regex,
        ),
        ("encrypted_comment_regex", &options.encrypted_comment_regex),
    ];
    let mut set: Vec<(&str, &str)> = rules_given
        .iter()
        .filter_map(|(name, v)| v.as_deref().map(|v| (*name, v)))
        .collect();
    let mut mac_only_encrypted = options.mac_only_encrypted;
    if format == Format::Binary && (!set.is_empty() || mac_only_encrypted) {
        // Like sops: a binary file is one value that is always encrypted.
        tracing::warn!(
            "sops encrypt: encryption rules do not apply to binary files; ignoring them"
        );
        set.clear();
        mac_only_encrypted = false;
    }
    if set.len() > 1 {
        return Err(fail(ErrorKind::Metadata(
            crate::MetadataError::ConflictingRules,
        )));
    }
    let rule = set
        .first()
        .copied()
        .unwrap_or(("unencrypted_suffix", "_unencrypted"));
    let mut rules = Rules {
        mac_only_encrypted,
        ..Rules::default()
    };
    let pattern = |source: &str| match Pattern::new(source) {
        Some(p) if p.is_valid() => Ok(Some(p)),
        _ => Err(fail(ErrorKind::InvalidRule(source.to_string()))),
    };
    match rule.0 {
        "unencrypted_suffix" => rules.unencrypted_suffix = rule.1.to_string(),
        "encrypted_suffix" => rules.encrypted_suffix = rule.1.to_string(),
        "unencrypted_regex" => rules.unencrypted_regex = pattern(rule.1)?,
        "encrypted_regex" => rules.encrypted_regex = pattern(rule.1)?,
        "unencrypted_comment_regex" => rules.unencrypted_comment_regex = pattern(rule.1)?,
        _ => rules.encrypted_comment_regex = pattern(rule.1)?,
    }

    let mut data_key = Zeroizing::new([0u8; 32]);
    cipher::random_bytes(data_key.as_mut_slice()).map_err(|e| fail(ErrorKind::Crypto(e)))?;
    let recipients = options
        .age_recipients
        .iter()
        .map(|r| {
            keys::age_encrypt_data_key(data_key.as_slice(), r)
                .map(|enc| (r.clone(), enc))
                .map_err(|e| fail(ErrorKind::Recipient(e)))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mac =
        walk::encrypt(&mut branches.0, &rules, &data_key).map_err(|e| fail(ErrorKind::Walk(e)))?;
    let last_modified = now_rfc3339();
    let encrypted_mac = cipher::encrypt(&Value::Str(mac), &data_key, &last_modified)
        .map_err(|e| fail(ErrorKind::Crypto(e)))?;
    let metadata = metadata_items(
        &recipients,
        &last_modified,
        &encrypted_mac,
        // sops records the rule in force (the default suffix included),
        // except for binary files, which carry none.
        (format != Format::Binary).then_some(rule),
        mac_only_encrypted,
    );

    let mut out_branches = std::mem::take(&mut branches.0);
    let emit_format = match format {
        Format::Yaml | Format::Json => {
            for branch in &mut out_branches {
                branch
                    .0
                    .push(Item::new("sops", Value::Map(Branch(metadata.clone()))));
            }
            format
        }
        Format::Binary => {
            if let Some(branch) = out_branches.first_mut() {
                branch
                    .0
                    .push(Item::new("sops", Value::Map(Branch(metadata.clone()))));
            }
            Format::Json
        }
        Format::Dotenv => {
            let mut flat = Vec::new();
            flatten("", &Value::Map(Branch(metadata)), &mut flat);
            flat.sort();
            if let Some(branch) = out_branches.first_mut() {
                for (k, v) in flat {
                    branch.0.push(Item::new(format!("sops_{k}"), Value::Str(v)));
                }
            }
            format
        }
        Format::Ini => {
            let mut flat = Vec::new();
            flatten("", &Value::Map(Branch(metadata)), &mut flat);
            flat.sort();
            let section = Branch(
                flat.into_iter()
                    .map(|(k, v)| Item::new(k, Value::Str(v)))
                    .collect(),
            );
            if let Some(branch) = out_branches.first_mut() {
                branch.0.push(Item::new("sops", Value::Map(section)));
            }
            format
        }
    };
    let encrypted = crate::tree::Branches(out_branches);
    formats::emit(emit_format, &encrypted.0).map_err(|source| {
        fail(ErrorKind::Emit {
            format: emit_format,
            source,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
