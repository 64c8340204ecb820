//! `ferry sops decrypt|encrypt`: sops-compatible decryption (age and PGP keys)
//! and encryption for age recipients, with sops' key locations and exit codes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use ferry_sops::{DecryptOptions, EncryptOptions, ErrorKind, Format, Keyring, MAX_INPUT_SIZE};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: SopsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SopsCommand {
    /// Decrypt a sops file and print the plaintext exactly as `sops decrypt` does.
    Decrypt(DecryptArgs),
    /// Encrypt a file for age recipients, as `sops encrypt --age` does.
    Encrypt(EncryptArgs),
}

#[derive(Debug, clap::Args)]
struct DecryptArgs {
    /// The encrypted file (`-` reads standard input; then give --input-type).
    file: PathBuf,
    /// age identity file, OpenSSH private key or passphrase-protected identity
    /// file (repeatable). Without any key option, sops' locations are used:
    /// SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_SSH_PRIVATE_KEY_FILE,
    /// $XDG_CONFIG_HOME/sops/age/keys.txt.
    #[arg(long = "age-key-file", value_name = "FILE")]
    age_key_files: Vec<PathBuf>,
    /// Armored OpenPGP private key file (repeatable).
    #[arg(long = "pgp-key-file", value_name = "FILE")]
    pgp_key_files: Vec<PathBuf>,
    /// File holding the passphrase of protected age identities, SSH or PGP keys.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// Input format: yaml, json, dotenv, ini or binary (default: from the file name).
    #[arg(long, value_name = "TYPE")]
    input_type: Option<String>,
    /// Output format (default: the input format).
    #[arg(long, value_name = "TYPE")]
    output_type: Option<String>,
    /// Decrypt even if the MAC is missing or does not match (unsafe).
    #[arg(long)]
    ignore_mac: bool,
}

#[derive(Debug, clap::Args)]
struct EncryptArgs {
    /// The plaintext file (`-` reads standard input; then give --input-type).
    file: PathBuf,
    /// age recipients, comma separated (age1… keys or ssh-ed25519/ssh-rsa public keys).
    #[arg(long, value_name = "RECIPIENTS", required = true)]
    age: String,
    /// Input format: yaml, json, dotenv, ini or binary (default: from the file name).
    #[arg(long, value_name = "TYPE")]
    input_type: Option<String>,
    /// Leave values clear whose key ends with this suffix (default `_unencrypted`).
    #[arg(long, value_name = "SUFFIX")]
    unencrypted_suffix: Option<String>,
    /// Encrypt only values whose key ends with this suffix.
    #[arg(long, value_name = "SUFFIX")]
    encrypted_suffix: Option<String>,
    /// Leave values clear whose key matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    unencrypted_regex: Option<String>,
    /// Encrypt only values whose key matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    encrypted_regex: Option<String>,
    /// Hash only the encrypted values into the MAC.
    #[arg(long)]
    mac_only_encrypted: bool,
}

/// sops' exit codes for the failures scripts check.
const EXIT_MAC_MISMATCH: u8 = 51;
const EXIT_NO_DATA_KEY: u8 = 128;

fn parse_format(name: Option<&str>, file: &Path) -> anyhow::Result<Format> {
    match name {
        Some(name) => Format::from_name(name).with_context(|| {
            format!("unknown format {name:?}: use yaml, json, dotenv, ini or binary")
        }),
        None if file == Path::new("-") => bail!("reading standard input needs --input-type"),
        None => Ok(Format::from_path(file)),
    }
}

/// Reads a file (or standard input for `-`), refusing more than the sops size limit.
fn read_bounded(path: &Path) -> anyhow::Result<Vec<u8>> {
    let mut data = Vec::new();
    let limit = MAX_INPUT_SIZE as u64 + 1;
    if path == Path::new("-") {
        std::io::stdin()
            .take(limit)
            .read_to_end(&mut data)
            .context("reading standard input")?;
    } else {
        std::fs::File::open(path)
            .with_context(|| format!("opening {}", path.display()))?
            .take(limit)
            .read_to_end(&mut data)
            .with_context(|| format!("reading {}", path.display()))?;
    }
    if data.len() > MAX_INPUT_SIZE {
        bail!(
            "{} is larger than {} MiB",
            path.display(),
            MAX_INPUT_SIZE >> 20
        );
    }
    Ok(data)
}

fn add_age(
    keyring: &mut Keyring,
    data: &[u8],
    source: &str,
    passphrase: Option<&str>,
) -> anyhow::Result<()> {
    match passphrase {
        Some(p) => keyring.add_age_identities_with_passphrase(data, source, p)?,
        None => keyring.add_age_identities(data, source)?,
    };
    Ok(())
}

fn keyring(args: &DecryptArgs) -> anyhow::Result<Keyring> {
    let passphrase = match &args.passphrase_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            Some(text.trim_end_matches(['\r', '\n']).to_string())
        }
        None => None,
    };
    let passphrase = passphrase.as_deref();
    let mut keyring = Keyring::new();
    for path in &args.age_key_files {
        add_age(
            &mut keyring,
            &read_bounded(path)?,
            &path.display().to_string(),
            passphrase,
        )?;
    }
    for path in &args.pgp_key_files {
        let data = read_bounded(path)?;
        let source = path.display().to_string();
        match passphrase {
            Some(p) => keyring.add_pgp_keys_with_passphrase(&data, &source, p)?,
            None => keyring.add_pgp_keys(&data, &source)?,
        };
    }
    if args.age_key_files.is_empty() && args.pgp_key_files.is_empty() {
        // sops' default age key locations.
        if let Ok(key) = std::env::var("SOPS_AGE_KEY") {
            add_age(&mut keyring, key.as_bytes(), "SOPS_AGE_KEY", passphrase)?;
        }
        for var in ["SOPS_AGE_KEY_FILE", "SOPS_AGE_SSH_PRIVATE_KEY_FILE"] {
            if let Some(path) = std::env::var_os(var) {
                let path = PathBuf::from(path);
                add_age(
                    &mut keyring,
                    &read_bounded(&path)?,
                    &path.display().to_string(),
                    passphrase,
                )?;
            }
        }
        let config = std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
        if let Some(default) = config.map(|c| c.join("sops/age/keys.txt"))
            && keyring.is_empty()
            && default.is_file()
        {
            add_age(
                &mut keyring,
                &read_bounded(&default)?,
                &default.display().to_string(),
                passphrase,
            )?;
        }
    }
    if keyring.is_empty() {
        bail!(
            "no key to decrypt with: give --age-key-file or --pgp-key-file, or set SOPS_AGE_KEY_FILE"
        );
    }
    Ok(keyring)
}

#[allow(clippy::print_stderr)]
fn decrypt(args: DecryptArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let format = parse_format(args.input_type.as_deref(), &args.file)?;
    let output_format = match args.output_type.as_deref() {
        Some(name) => Some(parse_format(Some(name), &args.file)?),
        None => None,
    };
    let input = read_bounded(&args.file)?;
    let keyring = keyring(&args)?;
    let name = args.file.display().to_string();
    let options = DecryptOptions {
        file_name: Some(&name),
        output_format,
        ignore_mac: args.ignore_mac,
    };
    match ferry_sops::decrypt_with(&input, format, &keyring, &options) {
        Ok(plain) => {
            out.write_all(&plain).context("writing the plaintext")?;
            out.flush().context("writing the plaintext")?;
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("✗ {err}");
            let code = match err.kind {
                ErrorKind::MacMismatch | ErrorKind::MacMissing | ErrorKind::MacUnreadable(_) => {
                    EXIT_MAC_MISMATCH
                }
                ErrorKind::DataKey(_) => EXIT_NO_DATA_KEY,
                _ => 1,
            };
            Ok(ExitCode::from(code))
        }
    }
}

fn encrypt(args: EncryptArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let format = parse_format(args.input_type.as_deref(), &args.file)?;
    let input = read_bounded(&args.file)?;
    let options = EncryptOptions {
        age_recipients: args
            .age
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
            .collect(),
        unencrypted_suffix: args.unencrypted_suffix,
        encrypted_suffix: args.encrypted_suffix,
        unencrypted_regex: args.unencrypted_regex,
        encrypted_regex: args.encrypted_regex,
        mac_only_encrypted: args.mac_only_encrypted,
        file_name: Some(args.file.display().to_string()),
        ..EncryptOptions::default()
    };
    let encrypted = ferry_sops::encrypt(&input, format, &options)?;
    out.write_all(&encrypted)
        .context("writing the encrypted file")?;
    out.flush().context("writing the encrypted file")?;
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    match args.command {
        SopsCommand::Decrypt(args) => decrypt(args, &mut stdout),
        SopsCommand::Encrypt(args) => encrypt(args, &mut stdout),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: SopsCommand,
    }

    fn data(path: &str) -> String {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ferry-sops/tests/data/sops");
        root.join(path).display().to_string()
    }

    fn run_cli(args: &[&str]) -> (ExitCode, Vec<u8>) {
        let cli = Cli::try_parse_from(std::iter::once("sops").chain(args.iter().copied()))
            .expect("arguments parse");
        let mut out = Vec::new();
        let code = match cli.command {
            SopsCommand::Decrypt(a) => decrypt(a, &mut out),
            SopsCommand::Encrypt(a) => encrypt(a, &mut out),
        }
        .expect("runs");
        (code, out)
    }

    #[test]
    fn decrypts_with_age_and_pgp_key_files() {
        let file = data("sops-3.11.0-generated/multi-doc.yaml");
        let want =
            std::fs::read(data("sops-3.11.0-generated/multi-doc.plain.yaml")).expect("fixture");
        let age = data("sops-3.11.0-generated/keys.txt");
        let (code, out) = run_cli(&["decrypt", &file, "--age-key-file", &age]);
        assert_eq!(code, ExitCode::SUCCESS);
        assert_eq!(out, want);
        let pgp = data("sops-3.11.0-generated/sops_functional_tests_key.asc");
        let (code, out) = run_cli(&["decrypt", &file, "--pgp-key-file", &pgp]);
        assert_eq!(code, ExitCode::SUCCESS);
        assert_eq!(out, want);
    }

    #[test]
    fn converts_output_type_and_reports_sops_exit_codes() {
        let age = data("sops-3.11.0-generated/keys.txt");
        let file = data("sops-3.11.0-generated/encrypted-suffix.json");
        let (code, out) = run_cli(&[
            "decrypt",
            &file,
            "--age-key-file",
            &age,
            "--output-type",
            "yaml",
        ]);
        assert_eq!(code, ExitCode::SUCCESS);
        assert!(
            String::from_utf8_lossy(&out).contains("password_secret: hunter2\n"),
            "{}",
            String::from_utf8_lossy(&out)
        );

        let tampered = data("sops-3.11.0-generated/tampered-unencrypted-regex.yaml");
        let (code, out) = run_cli(&["decrypt", &tampered, "--age-key-file", &age]);
        assert_eq!(code, ExitCode::from(EXIT_MAC_MISMATCH));
        assert!(out.is_empty());

        let other = data("getsops-sops/age-unit/keys-other.txt");
        let (code, _) = run_cli(&["decrypt", &file, "--age-key-file", &other]);
        assert_eq!(code, ExitCode::from(EXIT_NO_DATA_KEY));
    }

    #[test]
    fn encrypts_for_age_recipients_and_decrypts_back() {
        let dir = std::env::temp_dir().join(format!("ferry-sops-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let plain = dir.join("app.env");
        std::fs::write(&plain, "USER=admin\nPASSWORD=hunter2\n").expect("write");
        let plain = plain.display().to_string();
        let recipient = "age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29";
        let (code, encrypted) = run_cli(&[
            "encrypt",
            &plain,
            "--age",
            recipient,
            "--encrypted-regex",
            "^PASSWORD$",
        ]);
        assert_eq!(code, ExitCode::SUCCESS);
        let text = String::from_utf8_lossy(&encrypted).into_owned();
        assert!(
            text.starts_with("USER=admin\nPASSWORD=ENC[AES256_GCM,"),
            "{text}"
        );
        assert!(!text.contains("hunter2"));
        let enc = dir.join("app.enc.env");
        std::fs::write(&enc, &encrypted).expect("write");
        let age = data("sops-3.11.0-generated/keys.txt");
        let (code, out) = run_cli(&[
            "decrypt",
            &enc.display().to_string(),
            "--age-key-file",
            &age,
        ]);
        assert_eq!(code, ExitCode::SUCCESS);
        assert_eq!(out, b"USER=admin\nPASSWORD=hunter2\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
