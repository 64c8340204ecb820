//! Bounds: hostile or huge charts end in an error (Helm's, where Helm has one), never in a stack
//! overflow or unbounded memory. Limits and messages checked against the Helm v4.2.3 SDK.

use ferry_helm::chart::ChartFile;
use ferry_helm::{Chart, RenderError, RenderOptions, Rendered, Values};

fn chart(files: &[(&str, String)]) -> Result<Chart, ferry_helm::LoadError> {
    let mut all = vec![ChartFile {
        name: "Chart.yaml".into(),
        data: b"apiVersion: v2\nname: bounds\nversion: 0.1.0\n".to_vec(),
    }];
    all.extend(files.iter().map(|(n, d)| ChartFile {
        name: (*n).into(),
        data: d.as_bytes().to_vec(),
    }));
    Chart::load_files(all)
}

fn render_with(template: String, opts: &RenderOptions) -> Result<Rendered, RenderError> {
    let c = chart(&[("templates/a.yaml", template)]).expect("chart loads");
    ferry_helm::render(&c, opts)
}

fn render(template: String) -> Result<String, String> {
    render_with(template, &RenderOptions::default())
        .map(|r| r.manifests[0].1.clone())
        .map_err(|e| e.to_string())
}

/// Runs `f` on a thread with a small stack, as a controller worker might have: the renderer
/// must not rely on a big main-thread stack.
fn small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .expect("thread spawns")
        .join()
        .expect("no panic, no overflow")
}

#[test]
fn include_recursion_stops_at_helms_limit() {
    let err = small_stack(|| {
        render(r#"{{ define "loop" }}{{ include "loop" . }}{{ end }}{{ include "loop" . }}"#.into())
    })
    .expect_err("self-include fails");
    assert!(
        err.ends_with(
            "error calling include: rendering template has a nested reference name: loop: \
             unable to execute template"
        ),
        "{}",
        &err[err.len().saturating_sub(300)..]
    );
    // Helm counts 1000 nested includes before giving up, and says so once per level.
    assert_eq!(err.matches("executing \"loop\"").count(), 1001);
}

#[test]
fn tpl_recursion_is_bounded() {
    // tpl re-entering itself through a value: Helm's include/tpl depth bound applies.
    let c = chart(&[
        ("values.yaml", "t: '{{ tpl .Values.t . }}'\n".into()),
        ("templates/a.yaml", "{{ tpl .Values.t . }}".into()),
    ])
    .expect("chart loads");
    let r = small_stack(move || ferry_helm::render(&c, &RenderOptions::default()));
    assert!(r.is_err(), "self-referencing tpl must fail");
}

#[test]
fn template_call_depth_is_bounded_like_go() {
    let deep = |n: u32| {
        format!(
            r#"{{{{ define "r" }}}}{{{{ if gt . 0 }}}}{{{{ template "r" (sub . 1) }}}}{{{{ end }}}}{{{{ end }}}}v: {{{{ template "r" {n} }}}}x"#
        )
    };
    let ok = small_stack(move || render(deep(99_990)));
    assert_eq!(ok.as_deref(), Ok("v: x"));
    let err = small_stack(move || render(deep(200_000))).expect_err("too deep");
    assert!(
        err.ends_with("exceeded maximum template depth (100000)"),
        "{err}"
    );
}

#[test]
fn deep_expressions_fail_to_parse_like_go() {
    let parens = |n: usize| format!("v: {{{{ {}1{} }}}}", "(".repeat(n), ")".repeat(n));
    let ok = small_stack(move || render(parens(9_990)));
    assert_eq!(ok.as_deref(), Ok("v: 1"));
    let err = small_stack(move || render(parens(10_001))).expect_err("too deep");
    assert_eq!(
        err,
        "parse error at (bounds/templates/a.yaml:1): max expression depth exceeded"
    );
}

#[test]
fn deeply_nested_control_structures_render() {
    // Go parses and runs 100000 nested ifs (goroutine stacks grow); so must we.
    let t = format!(
        "{}x{}",
        "{{ if true }}".repeat(100_000),
        "{{ end }}".repeat(100_000)
    );
    assert_eq!(small_stack(move || render(t)).as_deref(), Ok("x"));
    let t = format!(
        "{}x{}",
        "{{ range $i := until 1 }}".repeat(20_000),
        "{{ end }}".repeat(20_000)
    );
    assert_eq!(small_stack(move || render(t)).as_deref(), Ok("x"));
}

#[test]
fn output_size_is_bounded() {
    let opts = RenderOptions {
        max_output_bytes: 1 << 20,
        ..RenderOptions::default()
    };
    // 10 MB requested by a tiny template
    let r = render_with(
        r#"{{ range until 10000 }}{{ repeat 1000 "x" }}{{ end }}"#.into(),
        &opts,
    );
    let err = r.expect_err("over the limit").to_string();
    assert!(err.contains("output"), "{err}");
    // under the limit: fine
    let r = render_with(r#"{{ repeat 1000 "x" }}"#.into(), &opts).expect("renders");
    assert_eq!(r.manifests[0].1.len(), 1000);
}

#[test]
fn repeat_and_until_cannot_allocate_without_bound() {
    let opts = RenderOptions {
        max_output_bytes: 1 << 20,
        ..RenderOptions::default()
    };
    let err = render_with(r#"{{ repeat 100000000000 "x" | len }}"#.into(), &opts)
        .expect_err("huge repeat fails");
    assert!(!err.to_string().is_empty());
}

#[test]
fn yaml_alias_bomb_is_refused_like_go_yaml() {
    let mut values = vec![r#"a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]"#.to_string()];
    for i in 1..10 {
        values.push(format!(
            "a{i}: &a{i} [{}]",
            vec![format!("*a{}", i - 1); 10].join(",")
        ));
    }
    let err = chart(&[
        ("values.yaml", values.join("\n")),
        ("templates/a.yaml", "v: {{ len .Values.a9 }}".into()),
    ])
    .expect_err("refused");
    assert_eq!(
        err.to_string(),
        "cannot load values.yaml: cannot unmarshal yaml document: error converting YAML to \
         JSON: yaml: document contains excessive aliasing"
    );
    // the same through user values
    let e = Values::from_yaml(&values.join("\n")).expect_err("refused");
    assert!(e.to_string().contains("excessive aliasing"), "{e}");
}

#[test]
fn deeply_nested_values_load_render_and_drop_on_a_small_stack() {
    // go-yaml's limit is 10000 levels: 9999 load (and render), 10001 do not.
    let nested = |n: usize| format!("v: {}1{}", "[".repeat(n), "]".repeat(n));
    let err =
        small_stack(move || Values::from_yaml(&nested(10_001)).map(|_| ())).expect_err("too deep");
    assert_eq!(
        err,
        "error converting YAML to JSON: yaml: exceeded max depth of 10000"
    );
    let out = small_stack(move || {
        let c = chart(&[
            ("values.yaml", nested(9_999)),
            ("templates/a.yaml", "{{ .Values.v | toJson | len }}".into()),
        ])
        .expect("chart loads");
        let copy = c.clone();
        assert!(copy == c);
        let r = ferry_helm::render(&c, &RenderOptions::default()).map(|r| r.manifests[0].1.clone());
        drop(copy);
        r
    });
    assert_eq!(out, Ok("19999".to_string()));
    // the same depth through fromJson, and as user values
    let json = format!("{{\"a\":{}1{}}}", "[".repeat(9_998), "]".repeat(9_998));
    let want = json.len().to_string();
    let out = small_stack(move || render(format!("{{{{ `{json}` | fromJson | toJson | len }}}}")));
    assert_eq!(out, Ok(want));
    let out = small_stack(move || {
        let opts = RenderOptions {
            values: Values::from_yaml(&nested(9_999)).expect("user values"),
            ..RenderOptions::default()
        };
        render_with("{{ .Values.v | toYaml | len }}".into(), &opts)
            .map(|r| r.manifests[0].1.clone())
            .map_err(|e| e.to_string())
    });
    assert!(out.is_ok(), "{out:?}");
}

#[test]
fn block_nesting_is_bounded_like_go_yaml() {
    let seq = |n: usize| format!("v:\n{}1", "- ".repeat(n));
    let ok = small_stack(move || Values::from_yaml(&seq(9_998)).map(|_| ()));
    assert_eq!(ok, Ok(()));
    let err = small_stack(move || Values::load(&seq(10_001)).map(|_| ())).expect_err("too deep");
    assert_eq!(
        err,
        "cannot unmarshal yaml document: error converting YAML to JSON: yaml: line 2: exceeded \
         max depth of 10000"
    );
}
