//! Template snippets checked against outputs of the real Helm v4.2.3 SDK
//! (tests/data/oracle/snippets.expected.json, made by tests/oracle/gen_snippets.py): Go
//! template semantics, every Sprig family, Helm's functions, and error messages.

use std::collections::BTreeMap;

use ferry_helm::chart::ChartFile;
use ferry_helm::{Chart, RenderOptions};

mod common;

struct Snippet {
    name: String,
    values: String,
    template: String,
}

/// The format gen_snippets.py reads: `=== name`, `--- values`, `--- template` sections.
fn parse(text: &str) -> Vec<Snippet> {
    let mut out: Vec<Snippet> = vec![];
    let mut section: Option<&str> = None;
    let mut values: Vec<&str> = vec![];
    let mut template: Vec<&str> = vec![];
    let mut name: Option<String> = None;
    let flush = |name: &mut Option<String>,
                 values: &mut Vec<&str>,
                 template: &mut Vec<&str>,
                 out: &mut Vec<Snippet>| {
        if let Some(n) = name.take() {
            let mut t = template.join("\n");
            if t.ends_with('\n') {
                t.pop();
            }
            out.push(Snippet {
                name: n,
                values: values.join("\n"),
                template: t,
            });
        }
        values.clear();
        template.clear();
    };
    for line in text.split('\n') {
        if let Some(n) = line.strip_prefix("=== ") {
            flush(&mut name, &mut values, &mut template, &mut out);
            name = Some(n.trim().to_string());
            section = None;
        } else if let Some(s) = line
            .strip_prefix("--- ")
            .filter(|s| matches!(s.trim(), "values" | "template"))
        {
            section = Some(if s.trim() == "values" {
                "values"
            } else {
                "template"
            });
        } else if name.is_some() {
            match section {
                Some("values") => values.push(line),
                Some(_) => template.push(line),
                None => {}
            }
        }
    }
    flush(&mut name, &mut values, &mut template, &mut out);
    out
}

fn chart(snips: &[&Snippet], values: &str) -> Chart {
    let mut files = vec![
        ChartFile {
            name: "Chart.yaml".into(),
            data: b"apiVersion: v2\nname: c\nversion: 0.1.0\nappVersion: \"1.0\"\n".to_vec(),
        },
        ChartFile {
            name: "values.yaml".into(),
            data: values.as_bytes().to_vec(),
        },
    ];
    for s in snips {
        files.push(ChartFile {
            name: format!("templates/{}.yaml", s.name),
            data: s.template.as_bytes().to_vec(),
        });
    }
    Chart::load_files(files).expect("snippet chart loads")
}

fn options() -> RenderOptions {
    RenderOptions {
        release_name: "demo".into(),
        namespace: "apps".into(),
        ..RenderOptions::default()
    }
}

type Outcome = Result<String, String>;

fn render_all(snips: &[&Snippet], values: &str) -> Result<BTreeMap<String, String>, String> {
    let r = ferry_helm::render(&chart(snips, values), &options()).map_err(|e| e.to_string())?;
    Ok(r.manifests
        .into_iter()
        .filter_map(|(path, text)| {
            let name = path.strip_prefix("c/templates/")?.strip_suffix(".yaml")?;
            Some((name.to_string(), text))
        })
        .collect())
}

/// Random outputs of the oracle that only their shape pins down are generated so that they
/// are deterministic in the snippets; nothing needs masking here.
#[test]
fn snippets_render_like_helm() {
    let dir = common::data_dir().join("oracle");
    let text = std::fs::read_to_string(dir.join("snippets.txt")).expect("snippets.txt is readable");
    let expected: BTreeMap<String, serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("snippets.expected.json"))
            .expect("expected outputs are readable"),
    )
    .expect("expected outputs parse");
    let all = parse(&text);
    let shared = all
        .iter()
        .find(|s| s.name == "_values")
        .map(|s| s.values.clone())
        .unwrap_or_default();
    let snippets: Vec<&Snippet> = all.iter().filter(|s| s.name != "_values").collect();
    assert_eq!(
        snippets.len(),
        expected.len(),
        "snippets.expected.json is stale: rerun tests/oracle/gen_snippets.py"
    );

    let mut got: BTreeMap<String, Outcome> = BTreeMap::new();
    for s in snippets.iter().filter(|s| !s.values.trim().is_empty()) {
        got.insert(
            s.name.clone(),
            render_all(&[s], &s.values).map(|m| m.get(&s.name).cloned().unwrap_or_default()),
        );
    }
    let batch: Vec<&Snippet> = snippets
        .iter()
        .copied()
        .filter(|s| s.values.trim().is_empty())
        .collect();
    // the oracle rendered these together; those it could not render were rendered alone
    let batch_ok: Vec<&Snippet> = batch
        .iter()
        .copied()
        .filter(|s| {
            expected
                .get(&s.name)
                .is_some_and(|e| e.get("out").is_some())
        })
        .collect();
    match render_all(&batch_ok, &shared) {
        Ok(m) => {
            for s in &batch_ok {
                got.insert(
                    s.name.clone(),
                    Ok(m.get(&s.name).cloned().unwrap_or_default()),
                );
            }
        }
        Err(e) => {
            // find out which ones fail on their own, for a useful report
            for s in &batch_ok {
                let alone =
                    render_all(&[s], &shared).map(|m| m.get(&s.name).cloned().unwrap_or_default());
                got.insert(
                    s.name.clone(),
                    alone.map_err(|a| format!("{a} (batch: {e})")),
                );
            }
        }
    }
    for s in batch.iter().filter(|s| {
        expected
            .get(&s.name)
            .is_some_and(|e| e.get("err").is_some())
    }) {
        got.insert(
            s.name.clone(),
            render_all(&[s], &shared).map(|m| m.get(&s.name).cloned().unwrap_or_default()),
        );
    }

    let mut failures = vec![];
    for (name, exp) in &expected {
        let want: Outcome = match (exp.get("out"), exp.get("err")) {
            (Some(o), _) => Ok(o.as_str().unwrap_or_default().to_string()),
            (_, Some(e)) => Err(e.as_str().unwrap_or_default().to_string()),
            _ => continue,
        };
        let have = got
            .get(name)
            .cloned()
            .unwrap_or_else(|| Err("not rendered".into()));
        if have != want {
            let show = |o: &Outcome| match o {
                Ok(t) => format!("output {t:?}"),
                Err(e) => format!("error {e:?}"),
            };
            let detail = match (&want, &have) {
                (Ok(w), Ok(h)) => common::diff(w, h),
                _ => format!("want {}\n  got  {}", show(&want), show(&have)),
            };
            failures.push(format!("--- {name}:\n{detail}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} snippets differ from Helm:\n{}",
        failures.len(),
        expected.len(),
        failures.join("\n")
    );
}
