//! Broken values.yaml files fail with go-yaml's words: each message below is what the Helm
//! v4.2.3 SDK printed for the same values.yaml (after "cannot load values.yaml: cannot
//! unmarshal yaml document: error converting YAML to JSON: ").

use ferry_helm::Values;

const CASES: &[(&str, &str)] = &[
    (
        "a: [1, 2\n",
        "yaml: line 1: did not find expected ',' or ']'",
    ),
    (
        "a: {b: 1\n",
        "yaml: line 1: did not find expected ',' or '}'",
    ),
    ("a: [1, 2}\n", "yaml: did not find expected ',' or ']'"),
    ("a: ]\n", "yaml: did not find expected node content"),
    (
        "a: b: c\n",
        "yaml: mapping values are not allowed in this context",
    ),
    (
        "a: 1\n b: 2\n",
        "yaml: line 2: mapping values are not allowed in this context",
    ),
    (
        "a:\n  b: 1\n c: 2\n",
        "yaml: line 2: did not find expected key",
    ),
    (
        "a: \"unclosed\n",
        "yaml: line 2: found unexpected end of stream",
    ),
    (
        "a: 'unclosed\n",
        "yaml: line 2: found unexpected end of stream",
    ),
    (
        "a: @x\n",
        "yaml: found character that cannot start any token",
    ),
    (
        "a: `x\n",
        "yaml: found character that cannot start any token",
    ),
    (
        "a:\n\t- 1\n",
        "yaml: line 2: found character that cannot start any token",
    ),
    ("a: *nope\n", "yaml: unknown anchor 'nope' referenced"),
    ("a: !!int x\n", "yaml: cannot decode !!str `x` as a !!int"),
    ("a: &x\n  b: *x\n", "yaml: anchor 'x' value contains itself"),
    (
        "key: value\nother\n",
        "yaml: line 3: could not find expected ':'",
    ),
    (
        "a:\n  - 1\n  b: 2\n",
        "yaml: line 2: did not find expected '-' indicator",
    ),
];

#[test]
fn syntax_errors_are_worded_like_go_yaml() {
    let mut bad = vec![];
    for (text, want) in CASES {
        let want = format!("cannot unmarshal yaml document: error converting YAML to JSON: {want}");
        match Values::load(text) {
            Ok(v) => bad.push(format!("{text:?}: parsed as {:?}", v.0)),
            Err(e) if e != want => bad.push(format!("{text:?}:\n  got  {e}\n  want {want}")),
            Err(_) => {}
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn values_files_are_document_streams() {
    // Helm v4's LoadValues, checked with the SDK: documents merge in order, maps deeply;
    // `y` is a YAML 1.1 boolean key.
    let v = Values::load(
        "a: 1\nm: {x: 1, y: 2}\n---\nb: 2\nm: {y: 3}\n--- # comment\n# only comment\n---\na: 3\n",
    )
    .expect("loads");
    assert_eq!(
        v.to_json(),
        serde_json::json!({"a": 3.0, "b": 2.0, "m": {"true": 3.0, "x": 1.0}})
    );
    let v = Values::load("---\n---\nm: {x: 1}\n---\nm: null\n---\nm: 3\n...\n").expect("loads");
    assert_eq!(v.to_json(), serde_json::json!({"m": 3.0}));
    assert_eq!(
        Values::load("a: 1\n--- x: 1\n").expect_err("bad separator"),
        "error reading yaml document: invalid Yaml document separator: x: 1"
    );
    assert_eq!(
        Values::load("a: 1\n---\n- 1\n").expect_err("not a map"),
        "cannot unmarshal yaml document: error unmarshaling JSON: while decoding JSON: json: \
         cannot unmarshal array into Go value of type map[string]interface {}"
    );
    assert_eq!(
        Values::load("a: 1\n---\nnull\n---\n\"str\"\n").expect_err("not a map"),
        "cannot unmarshal yaml document: error unmarshaling JSON: while decoding JSON: json: \
         cannot unmarshal string into Go value of type map[string]interface {}"
    );
    assert_eq!(
        Values::load("a: &x 1\n---\nb: *x\n").expect_err("anchors are per document"),
        "cannot unmarshal yaml document: error converting YAML to JSON: yaml: unknown anchor \
         'x' referenced"
    );
}
