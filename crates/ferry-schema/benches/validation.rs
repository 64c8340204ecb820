//! Validation cost per write, with peers measured in the same run: kube-cel's own validator
//! (`compile_schema` + `Validator::validate_compiled`) for the CEL part, and the API server's
//! budget of 2,000 applies per second on 2 cores (500 µs per apply for everything, of which
//! validation must be a small part).
//! Run: `cargo bench -p ferry-schema --bench validation`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::{hint::black_box, path::Path, time::Instant};

use ferry_schema::{
    Gvk, Registry,
    validation::{self, builtin, prune, strict},
};
use serde_json::Value;

fn yaml(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_multiple::<Value>(&text)
        .unwrap()
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

fn time<T>(label: &str, n: u32, mut f: impl FnMut() -> T) -> f64 {
    for _ in 0..n / 10 {
        black_box(f());
    }
    let t = Instant::now();
    for _ in 0..n {
        black_box(f());
    }
    let per = t.elapsed().as_secs_f64() / f64::from(n);
    println!("{label:<58} {:>9.2} µs", per * 1e6);
    per
}

fn main() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let reg = Registry::builtin();
    let crd = yaml(&data.join("crds/helm.toolkit.fluxcd.io_helmreleases.yaml")).remove(0);
    let t = Instant::now();
    validation::crd::validate(&crd, None).unwrap();
    println!(
        "CRD validation of HelmRelease (once per CRD write): {:?}",
        t.elapsed()
    );
    reg.add_crd(&crd).unwrap();
    let ts = reg
        .get(&Gvk::new("helm.toolkit.fluxcd.io", "v2", "HelmRelease"))
        .unwrap();
    let hr = yaml(
        &data.join("gitops-repos/flux2-kustomize-helm-example/apps/base/podinfo/release.yaml"),
    )
    .into_iter()
    .find(|d| d["kind"] == "HelmRelease")
    .unwrap();
    let body = serde_json::to_vec(&hr).unwrap();
    let t = Instant::now();
    let mut first = hr.clone();
    validation::default_custom_resource(&mut first, &ts);
    validation::validate_custom_resource(&ts, &first, None).unwrap();
    println!(
        "first validation (compiles the schema's CEL programs once): {:?}\n",
        t.elapsed()
    );

    println!("HelmRelease ({} bytes of JSON):", body.len());
    let n = 20_000;
    let parse = time("  baseline: serde_json parse of the body", n, || {
        serde_json::from_slice::<Value>(&body).unwrap()
    });
    let clone = time("  baseline: clone of the object", n, || hr.clone());
    let scan = time("  strict scan of the request body", n, || {
        strict::check_body(&body, false, &ts)
    });
    let full = time("  prune + default + validate (schema, CEL)", n, || {
        let mut o = hr.clone();
        prune::prune(&mut o, &ts);
        validation::default_custom_resource(&mut o, &ts);
        validation::validate_custom_resource(&ts, &o, None).unwrap()
    });
    let update = time(
        "  the same as an update (ratcheting, transition rules)",
        n,
        || {
            let mut o = hr.clone();
            prune::prune(&mut o, &ts);
            validation::default_custom_resource(&mut o, &ts);
            validation::validate_custom_resource(&ts, &o, Some(&first)).unwrap()
        },
    );
    let read = time("  defaulting on read", n, || {
        let mut o = hr.clone();
        validation::default_custom_resource(&mut o, &ts);
        o
    });

    // The same CRD without its CEL rules: what the structural checks cost alone.
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("x-kubernetes-validations");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut plain = crd.clone();
    strip(&mut plain);
    let reg2 = Registry::builtin();
    reg2.add_crd(&plain).unwrap();
    let ts2 = reg2
        .get(&Gvk::new("helm.toolkit.fluxcd.io", "v2", "HelmRelease"))
        .unwrap();
    time(
        "  validate without CEL rules (same CRD, rules removed)",
        n,
        || validation::validate_custom_resource(&ts2, &first, None).unwrap(),
    );

    // Peer: kube-cel validating the same CEL rules with its compiled schema.
    let raw = ts.crd_schema().unwrap().clone();
    let compiled = kube_cel::compile_schema(&raw);
    let validator = kube_cel::Validator::new();
    let ours = time(
        "  CEL rules alone, ours (via validate on a valid object)",
        n,
        || validation::validate_custom_resource(&ts, &first, None).unwrap(),
    );
    let peer = time(
        "  CEL rules alone, kube-cel Validator::validate_compiled",
        n,
        || validator.validate_compiled(&compiled, &first, None).is_ok(),
    );
    println!(
        "  ours / kube-cel: {:.2} (ours also does schema, metadata, list and embedded checks)",
        ours / peer
    );

    let dep = yaml(&data.join("helm-renders/podinfo-default.yaml"))
        .into_iter()
        .find(|d| d["kind"] == "Deployment")
        .unwrap();
    let dts = reg.lookup("apps/v1", "Deployment").unwrap();
    let dbody = serde_json::to_vec(&dep).unwrap();
    let gvk = Gvk::of(&dep).unwrap();
    println!("\nDeployment ({} bytes of JSON):", dbody.len());
    let dparse = time("  baseline: serde_json parse of the body", n, || {
        serde_json::from_slice::<Value>(&dbody).unwrap()
    });
    let dscan = time("  strict scan of the request body", n, || {
        strict::check_body(&dbody, false, &dts)
    });
    let dfull = time("  prune + built-in validation", n, || {
        let mut o = dep.clone();
        prune::prune(&mut o, &dts);
        builtin::validate(&gvk, &o, None).unwrap()
    });

    let budget = 1.0 / 2000.0 * 2.0; // 2,000 applies/s over 2 cores: 1 ms of CPU per apply
    println!(
        "\nshare of the per-apply CPU budget (1 ms = 2,000/s on 2 cores): HelmRelease create {:.1}%, update {:.1}%, Deployment {:.1}%",
        (scan + full) / budget * 100.0,
        (scan + update) / budget * 100.0,
        (dscan + dfull) / budget * 100.0
    );
    println!(
        "relative to parsing the body: HelmRelease create {:.1}x, Deployment {:.1}x",
        (scan + full) / parse,
        (dscan + dfull) / dparse
    );
    let _ = (read, clone);
}
