//! `ferry build kustomize` against `kubectl kustomize`, in one run: wall time (median of several
//! runs) and peak memory (`/usr/bin/time -v`), on (a) the flux2-kustomize-helm-example overlays
//! and (b) a generated overlay of 400 apps × (Deployment, Service, ServiceAccount, generated
//! ConfigMap) with namespace, namePrefix, labels, images and a JSON patch over all Deployments.
//!
//! Run with `cargo bench -p ferry-kustomize --bench build`. The ferry side runs this same
//! program again as `build DIR`, which does exactly what `ferry build kustomize DIR` does (build
//! and print), so both sides are measured as separate processes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() >= 3 && args[1] == "build" {
        let objects = ferry_kustomize::build(
            Path::new(&args[2]),
            &ferry_kustomize::BuildOptions::default(),
        )
        .unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(1)
        });
        let text = ferry_kustomize::to_yaml(&objects);
        use std::io::Write;
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
        return;
    }
    if args.len() >= 3 && args[1] == "generate" {
        // Write the 400-app overlay to a directory, to profile or compare by hand.
        generate(Path::new(&args[2]), 400);
        return;
    }
    if args.iter().any(|a| a == "--test" || a == "--list") {
        // `cargo test --benches` smoke mode: nothing to time.
        return;
    }
    let me = std::env::current_exe().expect("own path");
    let kubectl = which("kubectl");
    let tmp = tempfile::tempdir().expect("tempdir");

    let example = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/gitops-repos/flux2-kustomize-helm-example");
    let overlays: Vec<PathBuf> = [
        "apps/production",
        "apps/staging",
        "infrastructure/controllers",
        "infrastructure/configs",
        "clusters/production/flux-system",
        "clusters/staging/flux-system",
    ]
    .iter()
    .map(|p| example.join(p))
    .collect();
    let big = tmp.path().join("bench400");
    generate(&big, 400);

    println!("benchmark: ferry build kustomize vs kubectl kustomize");
    for (label, dirs, runs) in [
        (
            "(a) flux2-kustomize-helm-example, 6 overlays",
            overlays.clone(),
            5,
        ),
        (
            "(b) 400 apps x 4 objects, one overlay",
            vec![big.join("overlay")],
            5,
        ),
    ] {
        // Same output first: the comparison is only meaningful if both agree.
        if let Some(k) = &kubectl {
            for d in &dirs {
                let ours = Command::new(&me)
                    .arg("build")
                    .arg(d)
                    .output()
                    .expect("run ferry");
                let theirs = Command::new(k)
                    .arg("kustomize")
                    .arg(d)
                    .output()
                    .expect("run kubectl");
                if ours.stdout != theirs.stdout {
                    println!("  WARNING: outputs differ for {}", d.display());
                }
            }
        }
        let ferry = measure(&dirs, runs, |d| {
            let mut c = Command::new(&me);
            c.arg("build").arg(d);
            c
        });
        println!("{label}");
        println!(
            "  ferry   : {:>9.1} ms  peak RSS {:>7} KiB",
            ms(ferry.0),
            ferry.1
        );
        match &kubectl {
            Some(k) => {
                let kube = measure(&dirs, runs.min(3), |d| {
                    let mut c = Command::new(k);
                    c.arg("kustomize").arg(d);
                    c
                });
                println!(
                    "  kubectl : {:>9.1} ms  peak RSS {:>7} KiB",
                    ms(kube.0),
                    kube.1
                );
                println!(
                    "  ratio   : ferry is {:.1}x faster, uses {:.1}x less memory",
                    kube.0.as_secs_f64() / ferry.0.as_secs_f64().max(1e-9),
                    kube.1 as f64 / ferry.1.max(1) as f64
                );
            }
            None => println!("  kubectl not found: no ratio"),
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|p| p.join(name))
        .find(|p| p.is_file())
}

/// Median wall time of building all `dirs` in sequence, and the largest peak RSS seen.
fn measure(dirs: &[PathBuf], runs: usize, cmd: impl Fn(&Path) -> Command) -> (Duration, u64) {
    let mut times = Vec::new();
    let mut peak = 0;
    for _ in 0..runs {
        let mut total = Duration::ZERO;
        for d in dirs {
            let c = cmd(d);
            let start = Instant::now();
            let mut timed = Command::new("/usr/bin/time");
            timed.arg("-v").arg(c.get_program()).args(c.get_args());
            let out = timed
                .output()
                .expect("run /usr/bin/time (Debian package `time`)");
            total += start.elapsed();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let err = String::from_utf8_lossy(&out.stderr);
            if let Some(kb) = err
                .lines()
                .find_map(|l| {
                    l.trim()
                        .strip_prefix("Maximum resident set size (kbytes): ")
                })
                .and_then(|v| v.trim().parse::<u64>().ok())
            {
                peak = peak.max(kb);
            }
        }
        times.push(total);
    }
    times.sort();
    (times[times.len() / 2], peak)
}

/// The 400-app overlay: each app a base with a Deployment (envFrom its ConfigMap, its service
/// account), a Service, a ServiceAccount and a generated ConfigMap.
fn generate(root: &Path, apps: usize) {
    let write = |p: PathBuf, s: String| {
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, s).expect("write");
    };
    let mut resources = String::new();
    for i in 0..apps {
        let name = format!("app-{i:03}");
        let dir = root.join("apps").join(&name);
        write(
            dir.join("kustomization.yaml"),
            format!(
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deployment.yaml\n- service.yaml\n- serviceaccount.yaml\nconfigMapGenerator:\n- name: {name}-config\n  literals:\n  - APP={name}\n  - LOG_LEVEL=info\n  - REPLICA_INDEX=\"{i}\"\n"
            ),
        );
        write(
            dir.join("deployment.yaml"),
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  labels:\n    app: {name}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      serviceAccountName: {name}\n      containers:\n      - name: web\n        image: nginx:1.25\n        ports:\n        - containerPort: 8080\n        envFrom:\n        - configMapRef:\n            name: {name}-config\n        resources:\n          requests:\n            cpu: 100m\n            memory: 64Mi\n"
            ),
        );
        write(
            dir.join("service.yaml"),
            format!(
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector:\n    app: {name}\n  ports:\n  - port: 80\n    targetPort: 8080\n"
            ),
        );
        write(
            dir.join("serviceaccount.yaml"),
            format!("apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n"),
        );
        resources.push_str(&format!("- ../apps/{name}\n"));
    }
    write(
        root.join("overlay/kustomization.yaml"),
        format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: bench\nnamePrefix: prod-\nlabels:\n- pairs:\n    env: prod\n    team: platform\n  includeSelectors: true\nimages:\n- name: nginx\n  newTag: \"1.27\"\npatches:\n- target:\n    kind: Deployment\n  patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 3\n    - op: add\n      path: /spec/template/metadata/annotations\n      value:\n        bench: \"yes\"\nresources:\n{resources}"
        ),
    );
}
