//! Every published SOPS test vector (tests/data/sops, see its SOURCE.txt and
//! INDEX.tsv) decrypts with its published key to exactly the bytes
//! `sops decrypt` 3.11.0 prints; tampered and MAC-less files are refused.

use std::path::{Path, PathBuf};

use ferry_sops::{DecryptOptions, ErrorKind, Format, Keyring, decrypt, decrypt_with, is_encrypted};

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sops")
        .join(path)
}

fn read(path: &str) -> Vec<u8> {
    std::fs::read(data(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn keyring(key_files: &[&str]) -> Keyring {
    let mut keyring = Keyring::new();
    for file in key_files {
        let bytes = read(file);
        if file.ends_with(".asc") {
            keyring.add_pgp_keys(&bytes, file).expect("pgp key loads");
        } else {
            keyring
                .add_age_identities(&bytes, file)
                .expect("age identities load");
        }
    }
    keyring
}

fn format_of(name: &str) -> Format {
    match name {
        "yaml" => Format::Yaml,
        "json" => Format::Json,
        "dotenv" => Format::Dotenv,
        "ini" => Format::Ini,
        "binary" => Format::Binary,
        other => panic!("unexpected format {other}"),
    }
}

/// `dir/name.ext` -> `dir/name.plain.ext`
fn plain_path(file: &str) -> String {
    let (stem, ext) = file.rsplit_once('.').expect("extension");
    format!("{stem}.plain.{ext}")
}

struct Row {
    file: String,
    format: String,
    key_file: String,
    plaintext: bool,
}

fn index() -> Vec<Row> {
    let text = String::from_utf8(read("INDEX.tsv")).expect("utf-8");
    text.lines()
        .skip(1)
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            Row {
                file: cols[0].to_string(),
                format: cols[1].to_string(),
                key_file: cols[3].to_string(),
                plaintext: cols[4] == "yes",
            }
        })
        .collect()
}

/// Files with special expectations, checked by their own tests below.
const SPECIAL: &[&str] = &[
    "getsops-sops/ft-no-mac.yaml",
    "sops-3.11.0-generated/tampered-unencrypted-regex.yaml",
];

#[test]
fn every_vector_decrypts_to_sops_output_byte_for_byte() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for row in index() {
        let known_format = matches!(
            row.format.as_str(),
            "yaml" | "json" | "dotenv" | "ini" | "binary"
        );
        if !known_format || !row.plaintext || SPECIAL.contains(&row.file.as_str()) {
            continue;
        }
        let format = format_of(&row.format);
        let input = read(&row.file);
        let want = read(&plain_path(&row.file));
        // "a | b" lists alternatives (each opens the file alone); "a + b"
        // lists key groups that are all needed.
        for alternative in row.key_file.split(" | ") {
            let files: Vec<&str> = alternative.split(" + ").collect();
            let keys = keyring(&files);
            assert!(
                is_encrypted(&input, format),
                "{} is recognised as encrypted",
                row.file
            );
            match decrypt(&input, format, &keys) {
                Ok(got) if *got == want => checked += 1,
                Ok(got) => failures.push(format!(
                    "{} with {alternative}: output differs\n--- want\n{}\n--- got\n{}",
                    row.file,
                    String::from_utf8_lossy(&want),
                    String::from_utf8_lossy(&got)
                )),
                Err(e) => failures.push(format!("{} with {alternative}: {e}", row.file)),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // 37 vectors, three of them opened with each of 3 alternative keys.
    assert_eq!(checked, 43, "number of vector/key combinations checked");
}

#[test]
fn a_file_without_mac_is_refused_unless_allowed() {
    let input = read("getsops-sops/ft-no-mac.yaml");
    let keys = keyring(&["getsops-sops/sops_functional_tests_key.asc"]);
    let options = DecryptOptions {
        file_name: Some("ft-no-mac.yaml"),
        ..DecryptOptions::default()
    };
    let err = decrypt_with(&input, Format::Yaml, &keys, &options).expect_err("refused");
    assert_eq!(err.kind, ErrorKind::MacMissing);
    assert!(
        err.to_string().contains("ft-no-mac.yaml"),
        "error names the file: {err}"
    );

    let allowed = DecryptOptions {
        ignore_mac: true,
        ..options
    };
    let got = decrypt_with(&input, Format::Yaml, &keys, &allowed).expect("decrypts when allowed");
    assert_eq!(*got, read("getsops-sops/ft-no-mac.plain-ignore-mac.yaml"));
}

#[test]
fn a_tampered_file_is_refused_naming_the_file() {
    let input = read("sops-3.11.0-generated/tampered-unencrypted-regex.yaml");
    let keys = keyring(&["sops-3.11.0-generated/keys.txt"]);
    let options = DecryptOptions {
        file_name: Some("secrets/tampered.yaml"),
        ..DecryptOptions::default()
    };
    let err = decrypt_with(&input, Format::Yaml, &keys, &options).expect_err("refused");
    assert_eq!(err.kind, ErrorKind::MacMismatch);
    let message = err.to_string();
    assert!(message.contains("secrets/tampered.yaml"), "{message}");
    assert!(message.contains("MAC mismatch"), "{message}");
}

#[test]
fn a_changed_ciphertext_is_refused_with_its_key_path() {
    let text =
        String::from_utf8(read("sops-3.11.0-generated/unencrypted-regex.yaml")).expect("utf-8");
    // Swap the iv of the first encrypted value for another value's: the
    // authentication tag no longer matches.
    let ivs: Vec<&str> = text
        .match_indices("iv:")
        .map(|(i, _)| &text[i..i + 47])
        .collect();
    let tampered = text.replacen(ivs[0], ivs[1], 1);
    let keys = keyring(&["sops-3.11.0-generated/keys.txt"]);
    let err = decrypt(tampered.as_bytes(), Format::Yaml, &keys).expect_err("refused");
    assert!(matches!(err.kind, ErrorKind::Walk(_)), "{err}");
    assert!(
        err.to_string().contains("data:key"),
        "names the key path: {err}"
    );
}

#[test]
fn shamir_needs_the_threshold_of_key_groups() {
    let input = read("sops-3.11.0-generated/shamir-2of3.yaml");
    let want = read("sops-3.11.0-generated/shamir-2of3.plain.yaml");
    let a = "sops-3.11.0-generated/keys.txt";
    let b = "sops-3.11.0-generated/keys-global.txt";
    let pgp = "sops-3.11.0-generated/sops_functional_tests_key.asc";
    for pair in [[a, b], [a, pgp], [b, pgp]] {
        let got = decrypt(&input, Format::Yaml, &keyring(&pair)).expect("two groups suffice");
        assert_eq!(*got, want, "{pair:?}");
    }
    for single in [a, b, pgp] {
        let err = decrypt(&input, Format::Yaml, &keyring(&[single]))
            .expect_err("one group is not enough");
        assert!(matches!(err.kind, ErrorKind::DataKey(_)), "{single}: {err}");
    }
    let input = read("sops-3.11.0-generated/key-groups-all.json");
    let err = decrypt(&input, Format::Json, &keyring(&[a])).expect_err("all groups needed");
    assert!(matches!(err.kind, ErrorKind::DataKey(_)), "{err}");
}

#[test]
fn files_whose_keys_are_not_published_fail_cleanly() {
    let keys = keyring(&["getsops-sops/sops_functional_tests_key.asc"]);
    for (file, format) in [
        (
            "getsops-sops/legacy-v1.13-config-example.yaml",
            Format::Yaml,
        ),
        (
            "getsops-sops/legacy-v1.13-kms-pgp-example.json",
            Format::Json,
        ),
    ] {
        let err = decrypt(&read(file), format, &keys).expect_err("no key");
        assert!(matches!(err.kind, ErrorKind::DataKey(_)), "{file}: {err}");
    }
}

#[test]
fn a_sops_file_inside_a_kubernetes_secret_decrypts() {
    // Flux decrypts sops files stored base64-encoded in a Secret's data.
    use base64::Engine as _;
    let secret =
        String::from_utf8(read("fluxcd-kustomize-controller/inside-secret.yaml")).expect("utf-8");
    let encoded = secret
        .lines()
        .find_map(|l| l.trim().strip_prefix("key: "))
        .expect("data.key");
    let nested = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .expect("base64");
    assert_eq!(
        nested,
        read("fluxcd-kustomize-controller/inside-secret-nested-binary.txt")
    );
    let format = Format::from_path("key");
    assert_eq!(format, Format::Binary);
    assert!(is_encrypted(&nested, format));
    let got = decrypt(
        &nested,
        format,
        &keyring(&["fluxcd-kustomize-controller/keys.txt"]),
    )
    .expect("decrypts");
    assert_eq!(got.as_slice(), b"value");
}

#[test]
fn wrong_key_names_every_key_it_tried() {
    let input = read("fluxcd-kustomize-controller/algorithms-age.yaml");
    let err = decrypt(
        &input,
        Format::Yaml,
        &keyring(&["getsops-sops/age-unit/keys-other.txt"]),
    )
    .expect_err("wrong key");
    let message = err.to_string();
    assert!(matches!(err.kind, ErrorKind::DataKey(_)), "{message}");
    assert!(
        message.contains("age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29"),
        "{message}"
    );
}

#[test]
fn plain_files_are_not_encrypted() {
    for (file, format) in [
        (
            "sops-3.11.0-generated/shamir-2of3.source.yaml",
            Format::Yaml,
        ),
        (
            "sops-3.11.0-generated/key-groups-all.source.json",
            Format::Json,
        ),
        (
            "sops-3.11.0-generated/mac-only-encrypted.source.env",
            Format::Dotenv,
        ),
        ("sops-3.11.0-generated/types.source.ini", Format::Ini),
        ("sops-3.11.0-generated/binary.source.txt", Format::Binary),
    ] {
        assert!(!is_encrypted(&read(file), format), "{file}");
    }
}

#[test]
fn format_follows_the_file_name_as_in_sops() {
    assert_eq!(Format::from_path("a/secret.enc.yaml"), Format::Yaml);
    assert_eq!(Format::from_path("x.YML"), Format::Yaml);
    assert_eq!(Format::from_path("x.json"), Format::Json);
    assert_eq!(Format::from_path(".env"), Format::Dotenv);
    assert_eq!(Format::from_path("app.env"), Format::Dotenv);
    assert_eq!(Format::from_path("x.ini"), Format::Ini);
    assert_eq!(Format::from_path("tls.crt"), Format::Binary);
}
