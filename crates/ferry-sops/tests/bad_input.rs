//! Hostile or broken input never panics, never overflows the stack and never
//! puts document text into an error message.

use std::path::Path;

use ferry_sops::{ErrorKind, Format, Keyring, decrypt, is_encrypted};
use proptest::prelude::*;

const FORMATS: [Format; 5] = [
    Format::Yaml,
    Format::Json,
    Format::Dotenv,
    Format::Ini,
    Format::Binary,
];

fn read(path: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/sops")
            .join(path),
    )
    .expect("fixture")
}

fn keyring() -> Keyring {
    let mut keyring = Keyring::new();
    keyring
        .add_age_identities(&read("sops-3.11.0-generated/keys.txt"), "keys.txt")
        .expect("key");
    keyring
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_refused_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let keys = Keyring::new();
        for format in FORMATS {
            let _ = is_encrypted(&bytes, format);
            prop_assert!(decrypt(&bytes, format, &keys).is_err());
        }
    }

    #[test]
    fn corrupted_sops_files_never_panic(
        which in 0usize..5,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
    ) {
        let (file, format) = [
            ("sops-3.11.0-generated/shamir-2of3.yaml", Format::Yaml),
            ("sops-3.11.0-generated/encrypted-suffix.json", Format::Json),
            ("sops-3.11.0-generated/mac-only-encrypted.env", Format::Dotenv),
            ("sops-3.11.0-generated/types.ini", Format::Ini),
            ("sops-3.11.0-generated/binary.txt", Format::Binary),
        ][which];
        let mut bytes = read(file);
        for (index, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = index.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes.insert(i, byte),
                _ => {
                    bytes.remove(i);
                }
            }
        }
        let _ = is_encrypted(&bytes, format);
        if let Err(e) = decrypt(&bytes, format, &keyring()) {
            // Errors describe, they do not quote: no ciphertext or value.
            prop_assert!(!e.to_string().contains("AES256_GCM,data:"), "{}", e);
        }
    }
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let keys = Keyring::new();
    let depth = 20_000;
    let inputs: Vec<(Format, String)> = vec![
        (Format::Yaml, "[".repeat(depth)),
        (Format::Yaml, "{a: ".repeat(depth)),
        // Block nesting costs one more space a level: 3000 levels.
        (
            Format::Yaml,
            (0..3000)
                .map(|i| format!("{}k:\n", " ".repeat(i)))
                .collect(),
        ),
        (
            Format::Yaml,
            (0..3000).map(|i| format!("{}-\n", " ".repeat(i))).collect(),
        ),
        (Format::Json, format!("{{\"a\": {}", "[".repeat(depth))),
    ];
    for (format, text) in inputs {
        let err = decrypt(text.as_bytes(), format, &keys).expect_err("refused");
        assert!(
            matches!(err.kind, ErrorKind::Parse { .. }),
            "{format}: {err}"
        );
    }
    // Just under the bound, documents are read (and then lack metadata).
    let depth = ferry_sops::MAX_NESTING - 8;
    let mut yaml: String = (0..depth)
        .map(|i| format!("{}k:\n", "  ".repeat(i)))
        .collect();
    yaml.push_str(&format!("{}v: 1\n", "  ".repeat(depth)));
    let json = format!("{{\"a\": {}1{}}}", "[".repeat(depth), "]".repeat(depth));
    for (format, text) in [(Format::Yaml, yaml), (Format::Json, json)] {
        let err = decrypt(text.as_bytes(), format, &keys).expect_err("no metadata");
        assert!(
            matches!(err.kind, ErrorKind::Metadata(_)),
            "{format}: {err}"
        );
    }
}

#[test]
fn alias_explosion_is_refused() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    text.push_str("sops: {}\n");
    let err = decrypt(text.as_bytes(), Format::Yaml, &Keyring::new()).expect_err("refused");
    assert!(err.to_string().contains("aliasing"), "{err}");
}

#[test]
fn errors_do_not_echo_secret_values() {
    // A value that should be encrypted but is plain text: the error names the
    // key path, never the value.
    let text = read("sops-3.11.0-generated/unencrypted-regex.yaml");
    let text = String::from_utf8(text).expect("utf-8");
    let start = text.find("key: ENC[").expect("encrypted value") + "key: ".len();
    let end = start + text[start..].find('\n').expect("line end");
    let tampered = format!("{}hunter2-secret{}", &text[..start], &text[end..]);
    let err = decrypt(tampered.as_bytes(), Format::Yaml, &keyring()).expect_err("refused");
    let message = err.to_string();
    assert!(!message.contains("hunter2"), "{message}");
    assert!(message.contains("data:key"), "{message}");
}

#[test]
fn a_document_without_metadata_is_not_sops() {
    let err = decrypt(b"a: 1\n", Format::Yaml, &keyring()).expect_err("refused");
    assert!(matches!(err.kind, ErrorKind::Metadata(_)), "{err}");
    assert!(!is_encrypted(b"a: 1\n", Format::Yaml));
    assert!(!is_encrypted(b"{\"sops\": 1", Format::Json));
}
