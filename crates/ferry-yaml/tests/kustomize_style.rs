//! ferry-yaml reads and writes scalars exactly as `kubectl kustomize` does.

use proptest::prelude::*;
use serde_json::Value;

fn roundtrip(name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let input = std::fs::read_to_string(dir.join(format!("{name}.in.yaml"))).expect("input");
    let expected =
        std::fs::read_to_string(dir.join(format!("{name}.kubectl.yaml"))).expect("golden");
    let docs = ferry_yaml::from_str_multi_with(&input, &ferry_yaml::Options::KUSTOMIZE_RESOURCES)
        .expect("parse");
    assert_eq!(ferry_yaml::to_string_multi(&docs), expected, "{name}");
}

#[test]
fn quoting_folding_and_block_scalars() {
    roundtrip("e1");
}

#[test]
fn complex_keys_and_long_quoted_lines() {
    roundtrip("e2");
}

#[test]
fn annotations_become_strings_timestamps_become_rfc3339() {
    roundtrip("e3");
}

#[test]
fn errors_carry_line_and_column() {
    let err = ferry_yaml::from_str_multi("a: b\nc: [d\n").expect_err("unclosed flow sequence");
    let text = err.to_string();
    assert!(text.starts_with("yaml: line "), "{text}");
    let err = ferry_yaml::from_str_multi("a: 1\na: 2\n").expect_err("duplicate key");
    assert!(err.to_string().contains("line 2"), "{err}");
}

#[test]
fn yaml11_booleans_for_kustomization_files() {
    let v = ferry_yaml::from_str_with("a: yes\nb: on\nc: 0644\n", &ferry_yaml::Options::YAML11)
        .expect("parse");
    assert_eq!(v, serde_json::json!({"a": true, "b": true, "c": 420}));
}

#[test]
fn anchors_and_merge_keys() {
    let v = ferry_yaml::from_str("base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  y: 3\n").expect("parse");
    assert_eq!(v["d"], serde_json::json!({"x": 1, "y": 3}));
}

#[test]
fn alias_bombs_are_refused() {
    let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let p = i - 1;
        src.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    assert!(matches!(
        ferry_yaml::from_str(&src),
        Err(ferry_yaml::Error::TooLarge { .. })
    ));
}

#[test]
fn deep_nesting_is_refused() {
    let src = "[".repeat(10_000);
    assert!(ferry_yaml::from_str(&src).is_err());
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| Value::Number(i.into())),
        ".*".prop_map(Value::String),
        "[a-z0-9 .:#'\"-]{0,120}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z0-9_./-]{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn what_is_written_reads_back(v in prop::collection::btree_map("[a-z]{1,8}", json_value(), 1..6)) {
        let v = Value::Object(v.into_iter().collect());
        let text = ferry_yaml::to_string(&v);
        let back = ferry_yaml::from_str(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(back, v, "{}", text);
    }
}
