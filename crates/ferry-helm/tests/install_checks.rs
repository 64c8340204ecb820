//! What `helm template` / `helm install` check before the engine runs (pkg/action and
//! cmd/helm of Helm v4; the SDK's render call the oracle uses skips these, so the wording is
//! Helm's source text).

use ferry_helm::chart::ChartFile;
use ferry_helm::{Chart, RenderOptions};

fn chart(chart_yaml: &str, extra: &[(&str, &str)]) -> Chart {
    let mut files = vec![ChartFile {
        name: "Chart.yaml".into(),
        data: chart_yaml.as_bytes().to_vec(),
    }];
    files.extend(extra.iter().map(|(n, d)| ChartFile {
        name: (*n).into(),
        data: d.as_bytes().to_vec(),
    }));
    Chart::load_files(files).expect("chart loads")
}

fn check(c: &Chart, opts: &RenderOptions) -> Result<(), String> {
    ferry_helm::check_installable(c, opts).map_err(|e| e.to_string())
}

#[test]
fn library_charts_are_not_installable() {
    let c = chart(
        "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n",
        &[],
    );
    assert_eq!(
        check(&c, &RenderOptions::default()),
        Err("library charts are not installable".into())
    );
    let c = chart(
        "apiVersion: v2\nname: app\nversion: 0.1.0\ntype: application\n",
        &[],
    );
    assert_eq!(check(&c, &RenderOptions::default()), Ok(()));
}

#[test]
fn missing_dependencies_are_reported() {
    let c = chart(
        "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: absent\n    version: 1.0.0\n  - name: here\n    version: 1.0.0\n    alias: other\n  - name: gone\n    version: 2.0.0\n",
        &[(
            "charts/here/Chart.yaml",
            "apiVersion: v2\nname: here\nversion: 1.0.0\n",
        )],
    );
    assert_eq!(
        check(&c, &RenderOptions::default()),
        Err(
            "an error occurred while checking for chart dependencies. You may need to run \
             `helm dependency build` to fetch missing dependencies: found in Chart.yaml, but \
             missing in charts/ directory: absent, gone"
                .into()
        )
    );
}

#[test]
fn kube_version_constraints_are_checked() {
    let c = chart(
        "apiVersion: v2\nname: app\nversion: 0.1.0\nkubeVersion: \">=1.40.0-0\"\n",
        &[],
    );
    assert_eq!(
        check(&c, &RenderOptions::default()),
        Err(
            "chart requires kubeVersion: >=1.40.0-0 which is incompatible with Kubernetes v1.36.0"
                .into()
        )
    );
    let opts = RenderOptions {
        kube_version: Some("1.41".into()),
        ..RenderOptions::default()
    };
    assert_eq!(check(&c, &opts), Ok(()));
    let c = chart(
        "apiVersion: v2\nname: app\nversion: 0.1.0\nkubeVersion: \">= 1.20.0-0 < 1.37.0-0\"\n",
        &[],
    );
    assert_eq!(check(&c, &RenderOptions::default()), Ok(()));
}
